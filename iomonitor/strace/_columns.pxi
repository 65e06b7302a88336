# Included by _core.pyx (one extension module; see its docstring).

# --- the event columns ------------------------------------------------------


cdef struct Buf:
    char* data
    Py_ssize_t size  # bytes used
    Py_ssize_t cap   # bytes allocated


cdef int buf_reserve(Buf* b, Py_ssize_t extra) except -1:
    cdef Py_ssize_t want = b.size + extra
    cdef Py_ssize_t cap
    cdef char* data
    if want <= b.cap:
        return 0
    cap = b.cap * 2 if b.cap else 4096
    while cap < want:
        cap *= 2
    data = <char*>realloc(b.data, cap)
    if data == NULL:
        raise MemoryError()
    b.data = data
    b.cap = cap
    return 0


cdef inline int put_i32(Buf* b, int32_t v) except -1:
    if b.size + 4 > b.cap:
        buf_reserve(b, 4)
    (<int32_t*>(b.data + b.size))[0] = v
    b.size += 4
    return 0


cdef inline int put_i64(Buf* b, int64_t v) except -1:
    if b.size + 8 > b.cap:
        buf_reserve(b, 8)
    (<int64_t*>(b.data + b.size))[0] = v
    b.size += 8
    return 0


cdef inline int put_f64(Buf* b, double v) except -1:
    if b.size + 8 > b.cap:
        buf_reserve(b, 8)
    (<double*>(b.data + b.size))[0] = v
    b.size += 8
    return 0


# Column indexes into Columns.bufs.
cdef enum:
    C_TIME = 0
    C_DT = 1
    C_PID = 2
    C_FD = 3
    C_DIR = 4
    C_BYTES = 5
    C_FILE = 6
    C_PORT = 7   # int32: -1 for none, else the port
    C_SYSCALL = 8
    C_KIND = 9
    C_TGID = 10
    C_COMM = 11
    C_LOCAL = 12  # int32: -1 for none, else a word code
    NCOLS = 13


cdef class Columns:
    """Event columns in C buffers; :meth:`take` makes the Arrow table.

    Strings are interned once (``words``) and stored as int32 codes; the
    closed ``dir`` and ``kind`` columns store their index in the schema's
    categories. Times are whole microseconds (``INT64_MIN`` when unknown),
    rounded half to even as :func:`iomonitor.columns.events_table` rounds.
    """

    cdef Buf bufs[13]
    cdef public Py_ssize_t rows
    cdef dict codes
    cdef list words
    cdef dict dir_codes
    cdef dict kind_codes

    def __cinit__(self):
        cdef int i
        for i in range(NCOLS):
            self.bufs[i].data = NULL
            self.bufs[i].size = 0
            self.bufs[i].cap = 0
        self.rows = 0
        self.codes = {}
        self.words = []
        self.dir_codes = {d: i for i, d in enumerate(schema.DIRECTIONS)}
        self.kind_codes = {k: i for i, k in enumerate(schema.KINDS)}

    def __dealloc__(self):
        cdef int i
        for i in range(NCOLS):
            free(self.bufs[i].data)

    cdef inline int32_t word(self, object text) except -2:
        cdef PyObject* found = PyDict_GetItem(self.codes, text)
        cdef int32_t code
        if found != NULL:
            return <int32_t><object>found
        code = len(self.words)
        self.words.append(text)
        self.codes[text] = code
        return code

    cdef int32_t kind_code(self, object kind) except -2:
        cdef PyObject* found = PyDict_GetItem(self.kind_codes, kind)
        if found == NULL:
            raise ValueError(f"kind: values outside the schema: [{kind!r}]")
        return <int32_t><object>found

    cdef int file_codes(self, OpenFile of) except -1:
        if of.codes_of is not self:
            of.c_name = self.word(of._name)
            of.c_kind = self.kind_code(of._kind)
            of.c_local = -1 if of._local is None else self.word(of._local)
            of.codes_of = self
        return 0

    cdef int add(self, double t, double dt, int32_t pid, int32_t fd, int32_t direction,
                 int64_t nbytes, int32_t file, int32_t port, int32_t syscall, int32_t kind,
                 int32_t tgid, int32_t comm, int32_t local) except -1:
        if isnan(t):
            put_i64(&self.bufs[C_TIME], INT64_MIN)
        else:
            put_i64(&self.bufs[C_TIME], <int64_t>nearbyint(t * 1e6))
        put_f64(&self.bufs[C_DT], dt)
        put_i32(&self.bufs[C_PID], pid)
        put_i32(&self.bufs[C_FD], fd)
        put_i32(&self.bufs[C_DIR], direction)
        put_i64(&self.bufs[C_BYTES], nbytes)
        put_i32(&self.bufs[C_FILE], file)
        put_i32(&self.bufs[C_PORT], port)
        put_i32(&self.bufs[C_SYSCALL], syscall)
        put_i32(&self.bufs[C_KIND], kind)
        put_i32(&self.bufs[C_TGID], tgid)
        put_i32(&self.bufs[C_COMM], comm)
        put_i32(&self.bufs[C_LOCAL], local)
        self.rows += 1
        return 0

    def emit(self, time, dt, int pid, int fd, direction, nbytes, file, port, syscall,
             kind, int tgid, comm, local):
        """Append one event (the Python handlers' way in; same columns as the C path).

        ``time`` in epoch seconds or None, ``dt`` in seconds or None, ``port``
        and ``local`` None when missing.
        """
        cdef PyObject* d = PyDict_GetItem(self.dir_codes, direction)
        if d == NULL:
            raise ValueError(f"dir: values outside the schema: [{direction!r}]")
        self.add(
            float("nan") if time is None else time,
            float("nan") if dt is None else dt,
            pid, fd, <int32_t><object>d, nbytes, self.word(file),
            -1 if port is None else port, self.word(syscall), self.kind_code(kind), tgid,
            self.word(comm), -1 if local is None else self.word(local),
        )

    cdef object _dictionary(self, int col, list words, bint closed, Py_ssize_t n):
        """A dictionary array of column ``col``'s codes (-1: null).

        Laid out as pandas lays out categories, so that a table and the frame
        made from it agree: a closed column (``dir``, ``kind``) lists all its
        values in schema order; an open one the values it uses, sorted.
        """
        import pyarrow as pa

        from iomonitor.columns import strings_array

        cdef Py_ssize_t i, nulls = 0
        cdef int32_t* codes = <int32_t*>self.bufs[col].data
        cdef Py_ssize_t nwords = len(words)
        cdef bytes out = PyBytes_FromStringAndSize(NULL, n * 4)
        cdef int32_t* dst = <int32_t*>PyBytes_AS_STRING(out)
        cdef bytearray bits = bytearray((n + 7) // 8)
        cdef unsigned char* vb = bits
        cdef bytearray used_map
        cdef unsigned char* used
        cdef bytes remap_b
        cdef int32_t* remap
        cdef int32_t c
        if closed:
            chosen = words
            memcpy(dst, codes, n * 4)
        else:
            # Invariant: every code in the buffer indexes self.words (word()
            # hands out codes only after appending the word).
            used_map = bytearray(nwords)
            used = used_map
            for i in range(n):
                if codes[i] >= 0:
                    used[codes[i]] = 1
            chosen = sorted(words[i] for i in range(nwords) if used[i])
            remap_b = PyBytes_FromStringAndSize(NULL, max(nwords, 1) * 4)
            remap = <int32_t*>PyBytes_AS_STRING(remap_b)
            for i, w in enumerate(chosen):
                remap[<int32_t>self.codes[w]] = i
            for i in range(n):
                c = codes[i]
                dst[i] = remap[c] if c >= 0 else 0
        for i in range(n):
            if codes[i] >= 0:
                vb[i >> 3] |= 1 << (i & 7)
            else:
                nulls += 1
        indices = pa.Array.from_buffers(
            pa.int32(), n, [pa.py_buffer(bits) if nulls else None, pa.py_buffer(out)],
            null_count=nulls,
        )
        return pa.DictionaryArray.from_arrays(indices, strings_array(chosen))

    def take(self, Py_ssize_t limit=-1):
        """The first ``limit`` buffered events (all by default) as an Arrow table.

        The table has :data:`iomonitor.columns.ARROW_EVENTS`; the events
        after the first ``limit`` stay buffered.
        """
        import pyarrow as pa

        from iomonitor.columns import ARROW_EVENTS

        cdef Py_ssize_t n = self.rows if limit < 0 or limit > self.rows else limit
        cdef Py_ssize_t i, width
        cdef int64_t* times = <int64_t*>self.bufs[C_TIME].data
        cdef double* dts = <double*>self.bufs[C_DT].data
        cdef int32_t* ports = <int32_t*>self.bufs[C_PORT].data
        cdef int32_t* locals_ = <int32_t*>self.bufs[C_LOCAL].data
        cdef bytearray tbits = bytearray((n + 7) // 8)
        cdef bytearray dbits = bytearray((n + 7) // 8)
        cdef bytearray pbits = bytearray((n + 7) // 8)
        cdef Py_ssize_t tnull = 0, dnull = 0, pnull = 0
        cdef bytes port_data = PyBytes_FromStringAndSize(NULL, n * 2)
        cdef uint16_t* pout = <uint16_t*>PyBytes_AS_STRING(port_data)
        cdef unsigned char* tb = tbits
        cdef unsigned char* db = dbits
        cdef unsigned char* pb = pbits
        for i in range(n):
            if times[i] == INT64_MIN:
                times[i] = 0
                tnull += 1
            else:
                tb[i >> 3] |= 1 << (i & 7)
            if isnan(dts[i]):
                dts[i] = 0.0
                dnull += 1
            else:
                db[i >> 3] |= 1 << (i & 7)
            if ports[i] < 0:
                pout[i] = 0
                pnull += 1
            else:
                pout[i] = <uint16_t>ports[i]
                pb[i >> 3] |= 1 << (i & 7)

        def fixed(int col, type_, bits=None, Py_ssize_t nulls=0):
            data = PyBytes_FromStringAndSize(
                self.bufs[col].data, n * (8 if col in (C_TIME, C_DT, C_BYTES) else 4)
            )
            validity = pa.py_buffer(bits) if nulls else None
            return pa.Array.from_buffers(
                type_, n, [validity, pa.py_buffer(data)], null_count=nulls
            )

        words = self.words
        arrays = {
            "time": fixed(C_TIME, pa.int64(), tbits, tnull).view(pa.timestamp("us", tz="UTC")),
            "dt": fixed(C_DT, pa.float64(), dbits, dnull),
            "pid": fixed(C_PID, pa.int32()),
            "fd": fixed(C_FD, pa.int32()),
            "dir": self._dictionary(C_DIR, list(schema.DIRECTIONS), True, n),
            "bytes": fixed(C_BYTES, pa.int64()),
            "file": self._dictionary(C_FILE, words, False, n),
            "port": pa.Array.from_buffers(
                pa.uint16(), n,
                [pa.py_buffer(pbits) if pnull else None, pa.py_buffer(port_data)],
                null_count=pnull,
            ),
            "syscall": self._dictionary(C_SYSCALL, words, False, n),
            "kind": self._dictionary(C_KIND, list(schema.KINDS), True, n),
            "tgid": fixed(C_TGID, pa.int32()),
            "comm": self._dictionary(C_COMM, words, False, n),
            "local": self._dictionary(C_LOCAL, words, False, n),
        }
        # The rest moves to the front of each buffer.
        for i in range(NCOLS):
            width = 8 if i in (C_TIME, C_DT, C_BYTES) else 4
            memmove(self.bufs[i].data, self.bufs[i].data + n * width, (self.rows - n) * width)
            self.bufs[i].size = (self.rows - n) * width
        self.rows -= n
        return pa.Table.from_arrays([arrays[f.name] for f in ARROW_EVENTS], schema=ARROW_EVENTS)
