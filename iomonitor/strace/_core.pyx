# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The compiled event core: strace output bytes -> Arrow event columns.

One extension module with a narrow face: :class:`Core` takes bytes as strace
wrote them (a log read block by block, or the live FIFO) and hands out Arrow
tables of events. It owns the hot path end to end:

- cutting the bytes into lines (no Python ``str`` per line), with a bound on
  a line's length;
- lexing the common line shape of every log style iomonitor reads: an
  optional pid prefix (``1234 ``, ``1234<comm> ``, ``[pid 1234] ``), any
  timestamp (``-t``, ``-tt``, ``-ttt``, nanoseconds, ``-r``), a whole call
  ``name(args) = ret`` and ``-T``'s `` <dt>``;
- the clock that turns every style of stamp into epoch seconds
  (:class:`Clock`, shared with the lines the Python side reads);
- the byte movers of :data:`iomonitor.strace.events.READS` and ``WRITES``
  (:meth:`Core.on_mover` is their one handler, for whole lines lexed here and
  for calls the Python side joined from halves alike);
- calls without a handler (``lseek``, ``futex``, ...), which only mark their
  process as alive;
- the event columns, in C buffers, turned into Arrow arrays with
  dictionary-encoded strings chunk by chunk (:class:`Columns`), which every
  other handler appends to as well.

Every other line (split halves, process markers, fd-changing calls, odd
shapes) is handed, decoded, to the Python side (``fallback``), which parses
it, joins halves per thread and applies it to the same state: the processes
and fd tables of :class:`iomonitor.strace.events.EventBuilder`, whose
:class:`OpenFile` objects are defined here so that C reads their fields
directly.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_GetItem
from cpython.object cimport PyObject
from cpython.ref cimport Py_XDECREF, Py_XINCREF
from cpython.unicode cimport PyUnicode_AsUTF8, PyUnicode_DecodeASCII
from libc.float cimport LDBL_MANT_DIG
from libc.math cimport INFINITY, NAN, fabsl, isnan, nearbyint, nextafter
from libc.stdint cimport INT64_MIN, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, realloc, strtod
from libc.string cimport memchr, memcmp, memcpy, memmove

import datetime as _dt

from iomonitor import schema
from iomonitor.strace.decode import split_fd
from iomonitor.timeutil import DAY, EPOCH, RELATIVE, TOD, first_date, local_midnight

#: The longest line the core takes (bytes, without the newline). strace's
#: lines are as long as its -s lets strings be; a longer line can only be
#: damage (a log with a missing newline in binary garbage): it is counted
#: (``overlong_lines``) and skipped up to the next newline.
MAX_LINE = 1 << 24
cdef Py_ssize_t C_MAX_LINE = MAX_LINE

#: The last second a timestamp can hold (9999-12-31): later stamps are corrupt.
cdef double MAX_TIME = 253402300799.0
cdef int64_t MAX_INT32 = 2147483647

cdef enum:
    NO_TIME = 0
    S_TOD = 1
    S_EPOCH = 2
    S_REL = 3

_STYLES = {TOD: S_TOD, EPOCH: S_EPOCH, RELATIVE: S_REL}
_STYLE_NAMES = {S_TOD: TOD, S_EPOCH: EPOCH, S_REL: RELATIVE}

_SOCKET_KINDS = frozenset({"udp", "tcp", "unix", "other"})

# The C path writes the dir codes of R, W and M as 0, 1 and 2.
assert schema.DIRECTIONS[:3] == ("R", "W", "M"), schema.DIRECTIONS
cdef enum:
    DIR_M = 2


# --- the open file ----------------------------------------------------------


cdef class OpenFile:
    """What one open file description refers to (a kernel ``struct file``).

    ``dup``, ``fork`` and SCM_RIGHTS give new fds that point at the same
    object, so a ``connect`` seen through one fd names all of them.

    Attributes
    ----------
    name : str
        The value of the ``file`` column: path, std label, peer IP, socket path
        or a stable label.
    kind : str
        One of :data:`iomonitor.schema.KINDS`.
    port : int or None
        Peer port of a TCP/UDP socket.
    local : str or None
        Local ``address:port`` of a socket.
    std : bool
        An inherited std stream that nobody in the trace reopened.
    known : bool
        False when the fd's origin was never seen.
    readable_end : bool or None
        For pipes: True for the read end (``vmsplice`` direction).
    pidfd_pid : int or None
        For pidfds: the process it refers to (``pidfd_getfd``).
    path : str or None
        The path of a directory or file, for ``fchdir`` and ``openat`` dirfds.
    vouched : bool
        For std streams: the log shows every reopen of this fd since the
        process started, so the first decoration seen on it is the stream.
    seen_as : str or None
        For std streams: the decoration's name of the stream, once seen.
    """

    # Invariant the core relies on: ``seen`` is the raw decoration (bytes)
    # last found to agree with the fields below, and ``codes_of`` the Columns
    # whose dictionary codes ``c_name``/``c_kind``/``c_local`` are; every
    # setter that changes a field clears both, so a stale agreement or code
    # is never used. (A setter that stores an equal value changes nothing.)
    cdef object _name, _kind, _port, _local, _path, _seen_as
    cdef bint _std, _known, _vouched
    cdef public object readable_end, pidfd_pid
    cdef object seen
    cdef object codes_of
    cdef int32_t c_name, c_kind, c_local

    def __init__(self, name, kind, port=None, local=None, std=False, known=True,
                 readable_end=None, pidfd_pid=None, path=None, vouched=False, seen_as=None):
        self._name = name
        self._kind = kind
        self._port = port
        self._local = local
        self._std = std
        self._known = known
        self.readable_end = readable_end
        self.pidfd_pid = pidfd_pid
        self._path = path
        self._vouched = vouched
        self._seen_as = seen_as
        self.seen = None
        self.codes_of = None

    cdef inline void _changed(self):
        self.seen = None
        self.codes_of = None

    @property
    def name(self):
        return self._name

    @name.setter
    def name(self, value):
        if value is not self._name and value != self._name:
            self._name = value
            self._changed()

    @property
    def kind(self):
        return self._kind

    @kind.setter
    def kind(self, value):
        if value is not self._kind and value != self._kind:
            self._kind = value
            self._changed()

    @property
    def port(self):
        return self._port

    @port.setter
    def port(self, value):
        if value is not self._port and value != self._port:
            self._port = value
            self._changed()

    @property
    def local(self):
        return self._local

    @local.setter
    def local(self, value):
        if value is not self._local and value != self._local:
            self._local = value
            self._changed()

    @property
    def path(self):
        return self._path

    @path.setter
    def path(self, value):
        if value is not self._path and value != self._path:
            self._path = value
            self._changed()

    @property
    def seen_as(self):
        return self._seen_as

    @seen_as.setter
    def seen_as(self, value):
        if value is not self._seen_as and value != self._seen_as:
            self._seen_as = value
            self._changed()

    @property
    def vouched(self):
        return self._vouched

    @vouched.setter
    def vouched(self, value):
        if value != self._vouched:
            self._vouched = value
            self._changed()

    @property
    def std(self):
        return self._std

    @std.setter
    def std(self, value):
        if value != self._std:
            self._std = value
            self._changed()

    @property
    def known(self):
        return self._known

    @known.setter
    def known(self, value):
        if value != self._known:
            self._known = value
            self._changed()

    def agreed(self, deco):
        """Note that the raw decoration ``deco`` (str) agrees with this file now."""
        self.seen = deco.encode("utf-8", "surrogateescape")

    def __repr__(self):
        return (
            f"OpenFile(name={self._name!r}, kind={self._kind!r}, port={self._port!r}, "
            f"local={self._local!r}, std={self._std!r}, known={self._known!r}, "
            f"readable_end={self.readable_end!r}, pidfd_pid={self.pidfd_pid!r}, "
            f"path={self._path!r}, vouched={self._vouched!r}, seen_as={self._seen_as!r})"
        )

    def __eq__(self, other):
        if not isinstance(other, OpenFile):
            return NotImplemented
        o = <OpenFile>other
        return (
            self._name == o._name and self._kind == o._kind and self._port == o._port
            and self._local == o._local and self._std == o._std and self._known == o._known
            and self.readable_end == o.readable_end and self.pidfd_pid == o.pidfd_pid
            and self._path == o._path and self._vouched == o._vouched
            and self._seen_as == o._seen_as
        )

    __hash__ = None


# --- the clock --------------------------------------------------------------


cdef class Clock:
    """Turn strace timestamps of any style into seconds since the epoch.

    Parameters
    ----------
    date : datetime.date, optional
        The local date of the first line, for time-of-day stamps.
    mtime : float, optional
        The log's modification time; used for the date when ``date`` is None.
    """

    cdef public object date
    cdef public object mtime
    cdef bint has_midnight, has_last_tod, has_last
    cdef double midnight, last_tod, last

    def __init__(self, date=None, mtime=None):
        self.date = date
        self.mtime = mtime
        self.has_midnight = self.has_last_tod = self.has_last = False

    cdef double peek(self, double value, int style) except? -1.0:
        """The epoch seconds of a stamp, without taking it (see :meth:`take`)."""
        cdef double midnight
        if style == S_EPOCH:
            return value
        if style == S_TOD:
            if not self.has_midnight:
                if self.date is None:
                    self.date = first_date(value, self.mtime)
                self.midnight = local_midnight(self.date)
                self.has_midnight = True
                return self.midnight + value
            midnight = self.midnight
            # A time of day far below the previous one means the log crossed
            # midnight; lines out of completion order differ by far less.
            if self.has_last_tod and value < self.last_tod - DAY / 2:
                midnight += DAY
            return midnight + value
        if not self.has_last:
            self.last = local_midnight(self.date or _dt.date.today())
            self.has_last = True
        return self.last + value

    cdef void take(self, double value, int style, double result):
        """Advance the state past a stamp whose time :meth:`peek` gave as ``result``."""
        if style == S_TOD:
            if self.has_last_tod and value < self.last_tod - DAY / 2:
                self.midnight += DAY
            self.last_tod = value
            self.has_last_tod = True
        self.last = result
        self.has_last = True

    def __call__(self, value, style):
        cdef int s = _STYLES[style]
        cdef double v = value
        cdef double t = self.peek(v, s)
        self.take(v, s, t)
        return t


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





# --- lexing -----------------------------------------------------------------


cdef struct Lexed:
    int64_t pid        # -1: no pid prefix
    const char* comm   # the -Y name, NULL when none
    Py_ssize_t comm_len
    int style
    double tvalue      # the stamp as printed (seconds of its style)
    const char* name
    Py_ssize_t name_len
    const char* args   # between the call's "(" and ")"
    Py_ssize_t args_len
    const char* ret    # after "= ", up to the line's end (without -T's " <dt>")
    Py_ssize_t ret_len
    const char* ret_deco  # a -y decoration of a decimal return value (an fd), NULL when none
    Py_ssize_t ret_deco_len
    double dt          # NaN without -T


cdef inline bint is_digit(char c) nogil:
    return b'0' <= c <= b'9'


cdef inline bint is_name_start(char c) nogil:
    return (b'a' <= c <= b'z') or (b'A' <= c <= b'Z') or c == b'_'


cdef inline bint is_name(char c) nogil:
    return is_name_start(c) or is_digit(c)


cdef double POW10[23]
cdef long double LPOW10[19]  # exact up to 10**27 with a 64-bit mantissa
POW10[0] = 1.0
LPOW10[0] = 1.0
for _i in range(1, 23):
    POW10[_i] = POW10[_i - 1] * 10.0
for _i in range(1, 19):
    LPOW10[_i] = LPOW10[_i - 1] * 10


cdef double parse_float(const char* p, Py_ssize_t n) nogil:
    """The double nearest the decimal [p, p+n): digits with at most one '.'.

    Must equal Python's ``float()`` of the same text. Up to 15 digits the
    digits as an integer and the power of ten are exact doubles, and IEEE
    division rounds correctly, so one division gives the nearest double.
    Up to 18 digits (epoch microseconds have 16) the integer and the power
    of ten are exact in x87 extended precision (64-bit mantissa), whose
    division rounds correctly too; rounding that to a double gives the
    nearest double unless the extended result lies exactly halfway between
    two doubles (the only case where rounding twice can differ from rounding
    once), which goes to glibc's strtod, as do longer numbers (nanosecond
    stamps). strtod stops at the first character that is not part of the
    number; the callers checked that [p, p+n) is such a number followed by
    a space or ">".
    """
    cdef int64_t v = 0
    cdef Py_ssize_t i = 0, ndig, frac = -1
    cdef long double q
    cdef double d
    # Integer digits, then (after the one '.') fraction digits: two tight loops.
    while i < n and p[i] != b'.':
        v = v * 10 + (p[i] - 48)
        i += 1
    ndig = i
    if i < n:
        i += 1
        frac = n - i
        while i < n:
            v = v * 10 + (p[i] - 48)
            i += 1
        ndig += frac
    if ndig <= 15:
        if frac <= 0:
            return <double>v
        return <double>v / POW10[frac]
    if ndig <= 18 and LDBL_MANT_DIG >= 64:
        q = <long double>v / LPOW10[frac if frac > 0 else 0]
        d = <double>q
        if not is_double_midpoint(q, d):
            return d
    return strtod(p, NULL)


def _read_number(bytes text):
    """The lexer's reading of a stamp or duration (``parse_float``), for the tests."""
    return parse_float(PyBytes_AS_STRING(text), PyBytes_GET_SIZE(text))


cdef inline bint is_double_midpoint(long double q, double d) nogil:
    """``q`` lies exactly halfway between ``d`` (its rounding) and a neighbouring double."""
    cdef long double gap = <long double>d - q
    if gap == 0:
        return False
    if gap < 0:
        gap = -gap
    # Half the distance from d to its neighbour on q's side.
    return gap * 2 == fabsl(<long double>nextafter(d, INFINITY if q > d else -INFINITY) - d)


cdef Py_ssize_t digits(const char* p, Py_ssize_t i, Py_ssize_t e) nogil:
    while i < e and is_digit(p[i]):
        i += 1
    return i


cdef Py_ssize_t number(const char* p, Py_ssize_t i, Py_ssize_t e) nogil:
    """End of ``\\d+\\.\\d+`` at i, or -1."""
    cdef Py_ssize_t j = digits(p, i, e)
    if j == i or j >= e or p[j] != b'.':
        return -1
    i = j + 1
    j = digits(p, i, e)
    return j if j > i else -1


cdef Py_ssize_t lex_head(const char* p, Py_ssize_t e, Lexed* x) nogil:
    """Lex a line's pid prefix and timestamp; the position of its body, or -1.

    Reads what the general parser's prefix expression
    (:data:`iomonitor.strace.parser._PREFIX`) reads; -1 for the shapes it
    would read differently or that the core leaves to it ("(+ rel)", "[nr]").
    """
    cdef Py_ssize_t i = 0, j, k, n
    cdef int64_t v
    x.pid = -1
    x.comm = NULL
    x.comm_len = 0
    x.style = NO_TIME
    x.dt = NAN
    # pid prefix: `\d{1,7}(<comm>)? +` or `\[pid +\d+(<comm>)?\] +`.
    if e > 0 and is_digit(p[0]):
        j = digits(p, 0, e)
        if j <= 7 and j < e and (p[j] == b' ' or p[j] == b'<'):
            k = j
            if p[k] == b'<':
                k += 1
                while k < e and p[k] != b'>':
                    k += 1
                if k >= e:
                    return -1
                x.comm = p + j + 1
                x.comm_len = k - j - 1
                k += 1
            if k < e and p[k] == b' ':
                v = 0
                for n in range(j):
                    v = v * 10 + (p[n] - 48)
                x.pid = v
                i = k
                while i < e and p[i] == b' ':
                    i += 1
            else:
                return -1
    elif e > 5 and memcmp(p, b"[pid ", 5) == 0:
        i = 5
        while i < e and p[i] == b' ':
            i += 1
        j = digits(p, i, e)
        if j == i or j - i > 18:
            return -1
        v = 0
        for n in range(i, j):
            v = v * 10 + (p[n] - 48)
        k = j
        if k < e and p[k] == b'<':
            while k < e and p[k] != b'>':
                k += 1
            if k >= e:
                return -1
            x.comm = p + j + 1
            x.comm_len = k - j - 1
            k += 1
        if k + 1 >= e or p[k] != b']' or p[k + 1] != b' ':
            return -1
        x.pid = v
        i = k + 1
        while i < e and p[i] == b' ':
            i += 1
    # time: `HH:MM:SS(.f)? +`, ` *\d+\.\d+ +` or `\d{9,} +`.
    if (i + 8 <= e and is_digit(p[i]) and is_digit(p[i + 1]) and p[i + 2] == b':'
            and is_digit(p[i + 3]) and is_digit(p[i + 4]) and p[i + 5] == b':'
            and is_digit(p[i + 6]) and is_digit(p[i + 7])):
        j = i + 8
        if j < e and p[j] == b'.':
            k = digits(p, j + 1, e)
            if k == j + 1:
                return -1
            j = k
        if j >= e or p[j] != b' ':
            return -1
        x.tvalue = ((p[i] - 48) * 10 + (p[i + 1] - 48)) * 3600 + (
            (p[i + 3] - 48) * 10 + (p[i + 4] - 48)) * 60 + parse_float(p + i + 6, j - i - 6)
        x.style = S_TOD
        i = j
    else:
        k = i
        while k < e and p[k] == b' ':
            k += 1
        j = number(p, k, e)
        if j < 0 and k == i:
            j = digits(p, i, e)
            if j - i < 9:
                j = -1
        if j > 0 and j < e and p[j] == b' ':
            x.tvalue = parse_float(p + k, j - k)
            x.style = S_EPOCH if x.tvalue > 1e8 else S_REL
            i = j
        elif j > 0:
            return -1
    while i < e and p[i] == b' ':
        i += 1
    while i < e and p[i] == b' ':
        i += 1
    return i


cdef int lex_call(const char* p, Py_ssize_t i, Py_ssize_t e, Lexed* x) nogil:
    """Lex a call's body at ``i``: 1 for a whole call, 2 for an unfinished half, 0 otherwise.

    1 only when the general parser (:func:`iomonitor.strace.parser.parse_line`)
    reads the line as a ``CALL`` record with exactly these parts, 2 only when
    it reads an ``UNFINISHED`` half (``args`` then holds its argument text);
    every other line goes to the Python side, which decides.
    """
    cdef Py_ssize_t j
    if i >= e or not is_name_start(p[i]):
        return 0
    j = i + 1
    while j < e and is_name(p[j]):
        j += 1
    if j >= e or p[j] != b'(':
        return 0
    x.name = p + i
    x.name_len = j - i
    i = j + 1
    if ends_with(p + i, e - i, b" <unfinished ...>", 17):
        x.args = p + i
        x.args_len = e - 17 - i
        return 2
    return 1 if lex_return(p, i, e, x) else 0


cdef bint lex_resumed(const char* p, Py_ssize_t i, Py_ssize_t e, Lexed* x) nogil:
    """Lex ``<... name resumed>rest) = ret`` at ``i`` as the general parser reads it."""
    cdef Py_ssize_t j
    if e - i < 5 or memcmp(p + i, b"<... ", 5) != 0:
        return False
    i += 5
    j = i
    while j < e and (is_name(p[j]) or p[j] == b'?'):
        j += 1
    if j == i or e - j < 9 or memcmp(p + j, b" resumed>", 9) != 0:
        return False
    x.name = p + i
    x.name_len = j - i
    i = j + 9
    # strace < 5.0 printed a space after "resumed>"; " = ret" right after the
    # marker (no argument left to print) is read differently: the Python side.
    if i < e and p[i] == b' ':
        i += 1
        if i < e and p[i] == b'=':
            return False
    return lex_return(p, i, e, x)


cdef bint lex_return(const char* p, Py_ssize_t i, Py_ssize_t e, Lexed* x) nogil:
    """From ``i`` (after ``name(`` or ``resumed>``): the arguments, ``= ret`` and ``<dt>``."""
    cdef Py_ssize_t j, k, n
    x.ret_deco = NULL
    x.ret_deco_len = 0
    # -T: " <\d+(\.\d+)?>" at the very end.
    if e - i >= 4 and p[e - 1] == b'>':
        k = e - 2
        while k > i and (is_digit(p[k]) or p[k] == b'.'):
            k -= 1
        if p[k] == b'<' and p[k - 1] == b' ' and k + 1 < e - 1 and is_digit(p[k + 1]):
            # \d+(\.\d+)?: one dot at most, with digits on both sides.
            n = 0
            for j in range(k + 1, e - 1):
                if p[j] == b'.':
                    n += 1
            if n == 0 or (n == 1 and p[e - 2] != b'.' and p[k + 1] != b'.'):
                x.dt = parse_float(p + k + 1, e - 2 - k)
                e = k - 1
            else:
                return False
    # The parser's halves and cut lines end with "...>".
    if e - i >= 4 and memcmp(p + e - 4, b"...>", 4) == 0:
        return False
    # `) = ret`: the rightmost "= ", spaces and ")" before it.
    k = e - 2
    while k >= i and not (p[k] == b'=' and p[k + 1] == b' '):
        k -= 1
    if k < i:
        return False
    j = k - 1
    while j >= i and p[j] == b' ':
        j -= 1
    if j < i or p[j] != b')':
        return False
    x.args = p + i
    x.args_len = j - i
    x.ret = p + k + 2
    x.ret_len = e - k - 2
    # The return value must read as one: -?\d+, 0x[0-9a-f]+ or ?, then the
    # end or a space (an errno, its text, strace's remarks).
    n = 0
    if n < x.ret_len and x.ret[0] == b'?':
        n = 1
    elif x.ret_len >= 3 and x.ret[0] == b'0' and x.ret[1] == b'x':
        n = 2
        while n < x.ret_len and (is_digit(x.ret[n]) or b'a' <= x.ret[n] <= b'f'
                                 or b'A' <= x.ret[n] <= b'F'):
            n += 1
        if n == 2:
            return False
    else:
        if n < x.ret_len and x.ret[0] == b'-':
            n = 1
        k = digits(x.ret, n, x.ret_len)
        if k == n:
            return False
        n = k
    if n < x.ret_len and x.ret[n] == b'<':
        # An fd's decoration (`= 3</etc/passwd>`), taken only when it is
        # the whole rest: the parser's lazy match reads the same text then.
        k = deco_end(x.ret, n, x.ret_len)
        if k != x.ret_len or k - n < 3:
            return False
        x.ret_deco = x.ret + n + 1
        x.ret_deco_len = k - n - 2
        n = k
    if n < x.ret_len and x.ret[n] != b' ':
        return False
    # A call that strace -p left with `<detached ...>` inside is not whole.
    if find(x.args, x.args_len, b" <detached ...>", 15) >= 0:
        return False
    return True


cdef Py_ssize_t deco_end(const char* p, Py_ssize_t i, Py_ssize_t e) nogil:
    """The position after the ``>`` that closes the ``<`` at ``i``, or -1.

    Decorations nest (``/dev/null<char 1:3>``) and hold socket arrows
    (``->``, never a closing bracket): strace escapes ``<`` and ``>`` inside
    names, so counting brackets finds the end.
    """
    cdef int depth = 1
    i += 1
    while i < e and depth:
        if p[i] == b'<':
            depth += 1
        elif p[i] == b'>' and p[i - 1] != b'-':
            depth -= 1
        i += 1
    return -1 if depth else i


cdef Py_ssize_t find(const char* p, Py_ssize_t n, const char* what, Py_ssize_t m) nogil:
    # memchr (vector code) skips to each candidate for the needle's first
    # byte that is not a space (spaces are everywhere in argument text),
    # instead of a byte loop over the whole arguments of every line.
    cdef Py_ssize_t k = 0
    cdef const char* q
    cdef const char* end
    if m > n:
        return -1
    while k < m - 1 and what[k] == b' ':
        k += 1
    q = p + k
    end = p + n - m + 1 + k
    while q < end:
        q = <const char*>memchr(q, what[k], end - q)
        if q == NULL:
            return -1
        if memcmp(q - k, what, m) == 0:
            return q - k - p
        q += 1
    return -1


cdef bint starts_at(const char* p, Py_ssize_t n, Py_ssize_t i, const char* what,
                    Py_ssize_t m) nogil:
    return i + m <= n and memcmp(p + i, what, m) == 0


cdef bint inet_peer(const char* a, Py_ssize_t n, Py_ssize_t i, Py_ssize_t* host,
                    Py_ssize_t* host_len, int64_t* port) nogil:
    """The IPv4 peer of ``sendto``/``recvfrom`` arguments, read from the ``,`` at ``i``.

    Only the one shape ``FD, "buf"[...], LEN, FLAGS, {sa_family=AF_INET,
    sin_port=htons(P), sin_addr=inet_addr("A")}, ADDRLEN`` is taken, the one
    whose fifth argument (``EventBuilder._peer_arg``) is that address for
    certain; anything else is the Python side's.
    """
    cdef Py_ssize_t j
    cdef int64_t v = 0
    if not starts_at(a, n, i, b', "', 3):
        return False
    i += 3
    while i < n and a[i] != b'"':
        if a[i] == b'\\':
            i += 1
        i += 1
    if i >= n:
        return False
    i += 1
    if starts_at(a, n, i, b"...", 3):
        i += 3
    if not starts_at(a, n, i, b", ", 2):
        return False
    j = digits(a, i + 2, n)
    if j == i + 2 or not starts_at(a, n, j, b", ", 2):
        return False
    i = j + 2
    while i < n and (is_digit(a[i]) or b'A' <= a[i] <= b'Z' or a[i] == b'_' or a[i] == b'|'):
        i += 1
    if not starts_at(a, n, i, b", {sa_family=AF_INET, sin_port=htons(", 37):
        return False
    i += 37
    j = digits(a, i, n)
    if j == i or j - i > 9:
        return False
    for i in range(i, j):
        v = v * 10 + (a[i] - 48)
    i = j
    if not starts_at(a, n, i, b'), sin_addr=inet_addr("', 23):
        return False
    i += 23
    j = i
    while j < n and (is_digit(a[j]) or a[j] == b'.'):
        j += 1
    if j == i or not starts_at(a, n, j, b'")}, ', 5):
        return False
    host[0] = i
    host_len[0] = j - i
    port[0] = v
    # The address length: 16, [16], [128 => 16] or [128->16].
    for i in range(j + 5, n):
        if not (is_digit(a[i]) or a[i] == b'[' or a[i] == b']' or a[i] == b' '
                or a[i] == b'=' or a[i] == b'>' or a[i] == b'-'):
            return False
    return True




cdef bint ends_with(const char* p, Py_ssize_t n, const char* what, Py_ssize_t m) nogil:
    return n >= m and memcmp(p + n - m, what, m) == 0


cdef bint ret_count(Lexed* x, int64_t* out) nogil:
    """The return value as a byte count: plain digits, nothing after them."""
    cdef Py_ssize_t i
    cdef int64_t v = 0
    if x.ret_len == 0 or x.ret_len > 18:
        return False
    for i in range(x.ret_len):
        if not is_digit(x.ret[i]):
            return False
        v = v * 10 + (x.ret[i] - 48)
    out[0] = v
    return True


cdef bint ret_fd(Lexed* x, int64_t* out) nogil:
    """The return value as a new fd: digits, maybe its decoration, nothing else."""
    cdef Py_ssize_t i = 0, end = x.ret_len
    cdef int64_t v = 0
    if x.ret_deco != NULL:
        end = x.ret_deco - 1 - x.ret
    while i < end and is_digit(x.ret[i]) and i < 10:
        v = v * 10 + (x.ret[i] - 48)
        i += 1
    if i == 0 or i != end or v > MAX_INT32:
        return False
    out[0] = v
    return True


def path_kind(path, device=None):
    """The ``kind`` of a path: ``tty``, ``dev`` or ``file`` (a device by its type and major)."""
    if device is not None:
        return "tty" if device[0] == "char" and device[1] in _TTY_MAJORS else "dev"
    if path.startswith("/dev/"):
        if path.startswith(("/dev/pts/", "/dev/tty")) or path in ("/dev/console", "/dev/ptmx"):
            return "tty"
        return "dev"
    return "file"


_TTY_MAJORS = frozenset({4, 5, 136, 137, 138, 139, 140, 141, 142, 143})


cdef object resolve(object proc, str path):
    # Process.resolve's own answer for a clean absolute path, without the call.
    if path.startswith("/") and "/." not in path and "//" not in path:
        return path
    return proc.resolve(path)


# --- the core ---------------------------------------------------------------

# What the core does with a call's name (Core.kinds).
cdef enum:
    K_QUIET = 0      # no handler: the call only marks its process alive
    K_PYTHON = 1     # a Python handler: the line goes to the Python side
    K_READ = 2
    K_WRITE = 3
    K_PEER_READ = 4  # recvfrom: the peer argument may name the source
    K_PEER_WRITE = 5  # sendto
    K_CLOSE = 6
    K_RECV = 7        # recv: a flags argument that may hold MSG_PEEK
    # Not held when split (the Python joiner takes their halves):
    K_OPENAT = 8
    K_MMAP = 9
    K_DUP = 10        # dup, dup2


cdef enum:
    H_EMPTY = -1  # Held.pid of a slot never used
    H_GONE = -2   # of a slot whose half ended (its line buffer kept for reuse)


# The start of a read/write-like call that the core holds until its end.
cdef struct Held:
    int64_t pid
    int kind              # Core.kinds of its name
    int32_t code          # its syscall code in Core.columns
    double t              # its time in epoch seconds (NaN: no stamp)
    uint64_t seq          # the order halves came in (release_all keeps it)
    char* line            # the line as printed, for the Python joiner if it must take it
    Py_ssize_t line_len
    Py_ssize_t line_cap
    Py_ssize_t name_at    # the call's name and argument text so far, inside ``line``
    Py_ssize_t name_len
    Py_ssize_t args_at
    Py_ssize_t args_len


cdef enum:
    FD_CACHE = 64  # fds below this have a slot in Thread.fdc
    THREAD_SLOTS = 256


cdef class Thread:
    """What the core reads of one traced thread, cached between two Python-side lines.

    Invariant: only the Python side changes a process (its fd table, name,
    thread group), and the core drops every Thread before the Python side
    runs (:meth:`Core.sync`), so a Thread never outlives what it copied.
    ``end`` is the thread's last time seen, written to ``proc.end`` by ``sync``.
    The one exception: a process first seen on a line without a timestamp has
    no start yet, and the first stamped line the core reads for it gives it one
    (``nostart``), as the Python side's ``EventBuilder._proc`` does.

    ``fdc`` holds the open file of each low fd as the table held it at fd
    generation ``fdgen`` (:attr:`Core.fdgen`, which every change the core
    makes to any fd table moves on): a byte mover's fd costs an array read,
    not a dict lookup with a Python int.
    """

    cdef object proc
    cdef object fds        # proc.fdt.fds
    cdef int32_t pid, tgid, comm
    cdef double end
    cdef bint dirty
    cdef bint nostart
    cdef uint64_t fdgen
    cdef PyObject* fdc[64]  # strong references (OpenFile) or NULL

    def __cinit__(self):
        cdef int i
        for i in range(FD_CACHE):
            self.fdc[i] = NULL

    def __dealloc__(self):
        self.forget_fds()

    cdef inline void forget_fds(self):
        cdef int i
        for i in range(FD_CACHE):
            Py_XDECREF(self.fdc[i])
            self.fdc[i] = NULL


cdef enum:
    NAME_SLOTS = 512
    NAME_MAX = 31


cdef class Core:
    """Strace output bytes in, events out: the hot path of every conversion.

    Parameters
    ----------
    builder : iomonitor.strace.events.EventBuilder
        The state of the trace (processes, fd tables, counters), shared with
        the Python handlers.
    clock : Clock
        The converter's clock.
    joiner : iomonitor.strace.joiner.Joiner
        The Python side's joiner of split calls.
    fallback : callable
        Takes one decoded line (``str``, with its newline if it had one) that
        the core does not handle itself.
    released : callable
        Takes the decoded start of a split call that the core held, and its
        time (epoch seconds or None): the Python joiner keeps it from then on.
    reads, writes : iterable of str
        The byte movers whose one handler is :meth:`on_mover`.
    """

    cdef object builder
    cdef object joiner
    cdef dict pending          # the Python joiner's open halves
    cdef object released
    # Invariant: a thread has an open half in at most one of ``held`` (the
    # core's, read/write-like calls only) and the joiner's ``pending``; any
    # line the core hands to the Python side first hands it the held halves
    # it may touch (release, release_all), so the Python side sees the state
    # the reference would. ``held`` is an open-addressing table by pid.
    cdef Held* held
    cdef Py_ssize_t held_cap   # slots (a power of two)
    cdef Py_ssize_t held_n     # halves held
    cdef Py_ssize_t held_used  # slots not H_EMPTY
    cdef uint64_t held_seq
    cdef Buf joined            # a held half's arguments and its end's, joined
    cdef bint cut_clear        # the joiner's cut-line owner is None since the Python side ran
    cdef dict procs
    cdef dict threads          # pid -> Thread (the references behind ``thread_at``)
    cdef list dirty            # Threads whose end is not written yet
    # A direct-mapped cache of ``threads`` by pid (borrowed: ``threads`` holds them).
    cdef int64_t thread_pid[256]
    cdef PyObject* thread_at[256]
    #: Moves on at every change the core makes to any fd table (see Thread.fdc).
    cdef uint64_t fdgen
    # A cache of call names: slot by a hash of the name; the text, its str,
    # what the core does with it, its syscall code in ``columns``.
    cdef char slot_text[512][32]
    cdef int slot_len[512]
    cdef int slot_kind[512]
    cdef int32_t slot_code[512]
    cdef list slot_name
    cdef Clock clock
    cdef object fallback
    cdef public Columns columns
    cdef dict kinds            # call name (str) -> K_*
    cdef object handled        # builder._handlers
    cdef bytearray carry       # the start of a line whose newline has not come yet
    cdef bint skipping         # inside an overlong line, up to its newline
    cdef public bint verbose   # -v: every line through the Python side, which shows it
    #: Lines seen, lines the core handled itself, lines over MAX_LINE.
    cdef public long long lines, own_lines, overlong_lines
    cdef public long long events
    cdef int styles            # bit per style seen on the core's own lines
    cdef bint has_last
    cdef double last_time
    cdef frozenset reads
    cdef bint tracks_fds       # builder.tracks_fds is set (it is only ever set)

    def __cinit__(self):
        self.held = NULL
        self.held_cap = self.held_n = self.held_used = 0
        self.held_seq = 0
        self.joined.data = NULL
        self.joined.size = self.joined.cap = 0
        self.held_resize(16)

    def __dealloc__(self):
        cdef Py_ssize_t i
        if self.held != NULL:
            for i in range(self.held_cap):
                free(self.held[i].line)
            free(self.held)
        free(self.joined.data)

    def __init__(self, builder, joiner, Clock clock, fallback, released, reads, writes):
        self.builder = builder
        self.joiner = joiner
        self.pending = joiner.pending
        self.released = released
        self.threads = {}
        self.dirty = []
        self.forget_threads()
        self.fdgen = 0
        self.cut_clear = False
        self.slot_name = [None] * NAME_SLOTS
        for i in range(NAME_SLOTS):
            self.slot_len[i] = -1
        self.procs = builder.procs
        self.clock = clock
        self.fallback = fallback
        self.columns = builder.columns
        self.handled = builder._handlers
        self.kinds = {}
        self.reads = frozenset(reads)
        for name in reads:
            self.kinds[name] = K_READ
        for name in writes:
            self.kinds[name] = K_WRITE
        self.kinds["recvfrom"] = K_PEER_READ
        self.kinds["sendto"] = K_PEER_WRITE
        # recvmsg/sendmsg carry msg_name and SCM_RIGHTS: always through the
        # Python side's parse (their handler is on_mover all the same).
        self.kinds["recvmsg"] = K_PYTHON
        self.kinds["sendmsg"] = K_PYTHON
        self.kinds["close"] = K_CLOSE
        self.kinds["recv"] = K_RECV
        self.kinds["openat"] = K_OPENAT
        self.kinds["mmap"] = K_MMAP
        self.kinds["dup"] = K_DUP
        self.kinds["dup2"] = K_DUP
        self.carry = bytearray()
        self.skipping = False
        self.verbose = False
        self.lines = self.own_lines = self.overlong_lines = self.events = 0
        self.styles = 0
        self.has_last = False
        self.tracks_fds = False

    # --- bytes in ---------------------------------------------------------------

    def feed(self, data):
        """Take bytes as strace wrote them (any cut: lines may span calls).

        Parameters
        ----------
        data : bytes-like
            The next bytes of the log or the FIFO.
        """
        cdef const unsigned char[::1] view = memoryview(data).cast("B") if not isinstance(
            data, bytes) else data
        cdef const char* p = <const char*>&view[0] if view.shape[0] else NULL
        cdef Py_ssize_t n = view.shape[0]
        cdef Py_ssize_t start = 0, i
        cdef const char* nl
        cdef bytes joined
        if n == 0:
            return
        while start < n:
            nl = <const char*>memchr_(p + start, n - start)
            if nl == NULL:
                self._keep(p + start, n - start)
                return
            i = nl - p
            if self.skipping:
                self.skipping = False
            elif len(self.carry):
                # With its newline: _line reads the byte after the line.
                self._keep(p + start, i + 1 - start)
                if not self.skipping:
                    joined = bytes(self.carry)
                    self.carry.clear()
                    self._line(PyBytes_AS_STRING(joined), PyBytes_GET_SIZE(joined) - 1, True)
                else:
                    self.skipping = False
            elif i - start > C_MAX_LINE:
                self.overlong_lines += 1
                self.lines += 1
            else:
                self._line(p + start, i - start, True)
            start = i + 1

    def finish(self):
        """End of input: a last line without its newline is a line too."""
        cdef bytes rest
        if self.skipping:
            self.skipping = False
        elif len(self.carry):
            rest = bytes(self.carry)
            self.carry.clear()
            self._line(PyBytes_AS_STRING(rest), PyBytes_GET_SIZE(rest), False)
        self.release_all()
        self.sync()

    # --- the held halves ------------------------------------------------------

    cdef int held_resize(self, Py_ssize_t cap) except -1:
        """Rehash ``held`` into ``cap`` slots (a power of two), dropping H_GONE slots."""
        cdef Held* old = self.held
        cdef Py_ssize_t old_cap = self.held_cap, i
        cdef Held* slot
        cdef Held* fresh = <Held*>calloc(cap, sizeof(Held))
        if fresh == NULL:
            raise MemoryError()
        for i in range(cap):
            fresh[i].pid = H_EMPTY
        self.held = fresh
        self.held_cap = cap
        self.held_used = 0
        for i in range(old_cap):
            if old[i].pid >= 0:
                slot = self.held_slot(old[i].pid, True)
                slot[0] = old[i]
                self.held_used += 1
            else:
                free(old[i].line)
        free(old)
        return 0

    cdef inline Held* held_slot(self, int64_t pid, bint free_slot) noexcept:
        """The slot holding ``pid``'s half (NULL: none), or, with ``free_slot``, one to put it in."""
        cdef Py_ssize_t mask = self.held_cap - 1
        cdef Py_ssize_t i = <Py_ssize_t>((<uint64_t>pid * 0x9E3779B97F4A7C15u) >> 40) & mask
        cdef Held* h
        while True:
            h = &self.held[i]
            if h.pid == H_EMPTY or (free_slot and h.pid == H_GONE):
                return h if free_slot else NULL
            if h.pid == pid and not free_slot:
                return h
            i = (i + 1) & mask

    cdef inline Held* held_find(self, int64_t pid) noexcept:
        if self.held_n == 0:
            return NULL
        return self.held_slot(pid, False)

    cdef inline void held_drop(self, Held* h) noexcept:
        h.pid = H_GONE
        self.held_n -= 1

    cdef object held_line(self, Held* h):
        return h.line[:h.line_len].decode("utf-8", "surrogateescape")

    cdef int release(self, int64_t pid) except -1:
        cdef Held* h = self.held_find(pid)
        cdef double t
        if h != NULL:
            line = self.held_line(h)
            t = h.t
            self.held_drop(h)
            self.cut_clear = False
            self.released(line, None if isnan(t) else t)
        return 0

    def release_all(self):
        """Hand every held half to the Python joiner, in the order they came."""
        cdef Py_ssize_t i
        cdef Held* h
        if self.held_n == 0:
            return
        halves = []
        for i in range(self.held_cap):
            h = &self.held[i]
            if h.pid >= 0:
                halves.append((h.seq, self.held_line(h), None if isnan(h.t) else h.t))
                self.held_drop(h)
        halves.sort()
        self.cut_clear = False
        for _, line, t in halves:
            self.released(line, t)

    cdef int _keep(self, const char* p, Py_ssize_t n) except -1:
        if self.skipping:
            return 0
        if len(self.carry) + n > C_MAX_LINE:
            # Count it once, now; drop what was kept and the rest up to its newline.
            self.overlong_lines += 1
            self.lines += 1
            self.carry.clear()
            self.skipping = True
            return 0
        self.carry += (<const char*>p)[:n]
        return 0

    def feed_line(self, line):
        """Take one decoded line (with or without its newline), as the ``-ff`` merge gives them."""
        cdef bytes raw = line.encode("utf-8", "surrogateescape")
        cdef Py_ssize_t n = PyBytes_GET_SIZE(raw)
        cdef bint newline = n > 0 and raw[n - 1] == 10
        if newline:
            n -= 1
        self._line(PyBytes_AS_STRING(raw), n, newline)

    # --- one line ---------------------------------------------------------------

    cdef int _line(self, const char* p, Py_ssize_t n, bint newline) except -1:
        # [p, p+n) is the line; p[n] is its newline when ``newline``.
        cdef Lexed x
        cdef Py_ssize_t e = n, i
        cdef int shape
        cdef bint done = False
        self.lines += 1
        if e > 0 and p[e - 1] == b'\r':
            e -= 1
        i = -1 if self.verbose else lex_head(p, e, &x)
        if i >= 0 and i < e:
            if p[i] == b'<':
                done = lex_resumed(p, i, e, &x) and self._resumed(&x)
            elif p[i] == b'+' or p[i] == b'-':
                done = self._marker(p, i, e, &x)
            else:
                shape = lex_call(p, i, e, &x)
                if shape == 1:
                    done = self._own(&x)
                elif shape == 2:
                    done = self._hold(&x, p, n, newline)
        if not done:
            # The Python side gets the state the reference joiner would have:
            # this thread's held half (a line of another thread changes
            # nothing of it), or every half when the line names no thread or
            # moves a half to another one (superseded).
            if (i < 0 or x.pid < 0 or self.held_n == 0
                    or find(p, e, b"+++ superseded", 14) >= 0):
                self.release_all()
            else:
                self.release(x.pid)
            self.sync()
            self.fallback((p[:n + 1] if newline else p[:n]).decode("utf-8", "surrogateescape"))
        return 0

    cdef bint _hold(self, Lexed* x, const char* p, Py_ssize_t n, bint newline) except -1:
        """Keep the start of a read/write-like call of a known thread until its end."""
        cdef int64_t pid = x.pid
        cdef double t
        cdef Held* h
        cdef int kind
        cdef int32_t code
        cdef Py_ssize_t size
        cdef char* line
        if pid < 0 or pid > MAX_INT32 or self.held_find(pid) != NULL:
            return False
        if self.pending and pid in self.pending:
            return False
        if self.thread(pid) is None:
            return False
        kind = self.name_kind(x, &code)
        if kind == K_PYTHON or kind == K_QUIET or kind >= K_OPENAT:
            return False
        t = NAN
        if x.style != NO_TIME:
            t = self.clock.peek(x.tvalue, x.style)
            if not 0.0 <= t <= MAX_TIME:
                return False
        if (self.held_used + 1) * 2 > self.held_cap:
            self.held_resize(self.held_cap * 2 if self.held_n * 4 > self.held_cap
                             else self.held_cap)
        h = self.held_slot(pid, True)
        size = n + 1 if newline else n
        if h.line_cap < size:
            line = <char*>realloc(h.line, size)
            if line == NULL:
                raise MemoryError()
            h.line = line
            h.line_cap = size
        if x.style != NO_TIME:
            self.clock.take(x.tvalue, x.style, t)
            self.styles |= 1 << x.style
        if h.pid == H_EMPTY:
            self.held_used += 1
        memcpy(h.line, p, size)
        h.pid = pid
        h.kind = kind
        h.code = code
        h.t = t
        h.seq = self.held_seq
        self.held_seq += 1
        h.line_len = size
        h.name_at = x.name - p
        h.name_len = x.name_len
        h.args_at = x.args - p
        h.args_len = x.args_len
        self.held_n += 1
        if not self.cut_clear:
            # The joiner forgets a cut line's owner at every half it sees.
            self.joiner._cut = None
            self.cut_clear = True
        self.own_lines += 1
        return True

    cdef bint _resumed(self, Lexed* x) except -1:
        """The end of a held call: the whole call's event (False: the Python side joins)."""
        cdef int64_t pid = x.pid if x.pid >= 0 else 0
        cdef Held* h = self.held_find(pid)
        cdef Thread th
        cdef Lexed y
        cdef double t = NAN, start
        cdef Buf* joined = &self.joined
        if h == NULL:
            return False
        if x.name_len != h.name_len or memcmp(x.name, h.line + h.name_at, x.name_len):
            return False
        th = self.thread(pid)
        if th is None:
            return False
        if x.style != NO_TIME:
            t = self.clock.peek(x.tvalue, x.style)
            if not 0.0 <= t <= MAX_TIME:
                return False
        joined.size = 0
        buf_reserve(joined, h.args_len + x.args_len)
        memcpy(joined.data, h.line + h.args_at, h.args_len)
        memcpy(joined.data + h.args_len, x.args, x.args_len)
        y = x[0]
        y.args = joined.data
        y.args_len = h.args_len + x.args_len
        if h.kind == K_CLOSE:
            if not self._close(&y, th):
                return False
        elif not self._mover(&y, th, h.code, h.kind, h.t):
            return False
        start = h.t
        self.held_drop(h)
        if x.style != NO_TIME:
            self.clock.take(x.tvalue, x.style, t)
            self.styles |= 1 << x.style
        if not isnan(start):
            if not self.has_last and self.builder.first_time is None:
                self.builder.first_time = start
            self.last_time = start
            self.has_last = True
        self._ended(th, start)
        self.own_lines += 1
        return True

    cdef Thread thread(self, int64_t pid):
        """The thread ``pid`` (None when the trace has not seen it: the Python side adds it)."""
        cdef Py_ssize_t slot = pid & (THREAD_SLOTS - 1)
        cdef PyObject* found
        cdef Thread th
        if self.thread_pid[slot] == pid:
            return <Thread>self.thread_at[slot]
        found = PyDict_GetItem(self.threads, pid)
        if found != NULL:
            th = <Thread>found
        else:
            if pid > MAX_INT32:
                return None
            found = PyDict_GetItem(self.procs, pid)
            if found == NULL:
                return None
            th = Thread()
            th.proc = <object>found
            th.fds = th.proc.fdt.fds
            th.pid = th.proc.pid
            th.tgid = th.proc.tgid
            th.comm = self.columns.word(th.proc.comm)
            th.dirty = False
            th.nostart = th.proc.start is None
            th.fdgen = self.fdgen
            self.threads[pid] = th
        self.thread_pid[slot] = pid
        self.thread_at[slot] = <PyObject*>th
        return th

    cdef void forget_threads(self):
        cdef int i
        for i in range(THREAD_SLOTS):
            self.thread_pid[i] = -1
            self.thread_at[i] = NULL
        self.threads.clear()

    cdef int name_kind(self, Lexed* x, int32_t* code) except -2:
        """What the core does with the call ``x.name`` (K_*), and its syscall code."""
        cdef uint32_t h = 2166136261u
        cdef Py_ssize_t i
        cdef int slot, kind
        cdef PyObject* found
        for i in range(x.name_len):
            h = (h ^ <uint8_t>x.name[i]) * 16777619u
        slot = h & (NAME_SLOTS - 1)
        if self.slot_len[slot] == x.name_len and memcmp(self.slot_text[slot], x.name,
                                                         x.name_len) == 0:
            code[0] = self.slot_code[slot]
            return self.slot_kind[slot]
        name = PyUnicode_DecodeASCII(x.name, x.name_len, NULL)
        found = PyDict_GetItem(self.kinds, name)
        if found != NULL:
            kind = <int><object>found
        elif name in self.handled:
            kind = K_PYTHON
        else:
            kind = K_QUIET
        code[0] = self.columns.word(name)
        if x.name_len <= NAME_MAX:
            memcpy(self.slot_text[slot], x.name, x.name_len)
            self.slot_len[slot] = x.name_len
            self.slot_kind[slot] = kind
            self.slot_code[slot] = code[0]
        return kind

    cdef bint _own(self, Lexed* x) except -1:
        """Handle a lexed whole call here; False when the Python side must."""
        cdef int64_t pid = x.pid if x.pid >= 0 else 0
        cdef Thread th
        cdef int kind
        cdef int32_t code
        cdef double t
        th = self.thread(pid)
        if th is None:
            return False  # a new process: the Python side creates it
        kind = self.name_kind(x, &code)
        if kind == K_PYTHON:
            return False
        t = NAN
        if x.style != NO_TIME:
            t = self.clock.peek(x.tvalue, x.style)
            if not 0.0 <= t <= MAX_TIME:
                return False  # corrupt: the Python side counts the line
        if kind == K_CLOSE:
            if not self._close(x, th):
                return False
        elif kind == K_OPENAT:
            if not self._openat(x, th):
                return False
        elif kind == K_MMAP:
            if not self._mmap(x, th, code, t):
                return False
        elif kind == K_DUP:
            if not self._dup(x, th):
                return False
        elif kind != K_QUIET:
            if not self._mover(x, th, code, kind, t):
                return False
        # From here on the line is the core's: take its time.
        self._took(x, t)
        self._ended(th, t)
        return True

    cdef inline int _took(self, Lexed* x, double t) except -1:
        """The line is the core's: its stamp moves the clock and the trace's first/last time."""
        if x.style != NO_TIME:
            self.clock.take(x.tvalue, x.style, t)
            self.styles |= 1 << x.style
            if not self.has_last and self.builder.first_time is None:
                self.builder.first_time = t
            self.last_time = t
            self.has_last = True
        self.own_lines += 1
        return 0

    cdef bint _marker(self, const char* p, Py_ssize_t i, Py_ssize_t e, Lexed* x) except -1:
        """``+++ exited with N +++`` of a known thread, ``--- SIGNAL ...`` (False: the Python side).

        A signal line changes nothing but the clock (``EventBuilder.feed``
        does not even make its process). An exit sets the thread's exit code
        and end; a thread with an open half goes to the Python side, whose
        joiner counts the half as lost.
        """
        cdef int64_t pid = x.pid, status = 0
        cdef Py_ssize_t j, k
        cdef bint neg = False
        cdef Thread th = None
        cdef double t = NAN
        if starts_at(p, e, i, b"--- ", 4):
            j = i + 4
            if starts_at(p, e, j, b"stopped by ", 11):
                j += 11
            # --- SIG[A-Z0-9_+]+ (a number: the Python side)
            if not (starts_at(p, e, j, b"SIG", 3) and j + 3 < e
                    and (b'A' <= p[j + 3] <= b'Z' or is_digit(p[j + 3])
                         or p[j + 3] == b'_' or p[j + 3] == b'+')):
                return False
        elif starts_at(p, e, i, b"+++ exited with ", 16):
            j = i + 16
            if j < e and p[j] == b'-':
                neg = True
                j += 1
            k = digits(p, j, e)
            if k == j or k - j > 10 or not starts_at(p, e, k, b" +++", 4):
                return False
            for j in range(j, k):
                status = status * 10 + (p[j] - 48)
            if status > MAX_INT32 or pid < 0 or self.held_find(pid) != NULL:
                return False
            if self.pending and pid in self.pending:
                return False
            th = self.thread(pid)
            if th is None:
                return False
        else:
            return False
        if x.style != NO_TIME:
            t = self.clock.peek(x.tvalue, x.style)
            if not 0.0 <= t <= MAX_TIME:
                return False  # corrupt: the Python side counts the line
        if th is not None:
            th.proc.exit_code = -status if neg else status
            self._ended(th, t)
        self._took(x, t)
        return True

    cdef inline int _ended(self, Thread th, double t) except -1:
        th.end = t
        if th.nostart and not isnan(t):
            th.proc.start = t
            th.nostart = False
        if not th.dirty:
            th.dirty = True
            self.dirty.append(th)
        return 0

    cdef OpenFile _agreed_fd(self, const char* a, Py_ssize_t n, Py_ssize_t* at, Thread th,
                             int64_t* fd):
        """The open file of the fd argument at ``at[0]`` when the table already agrees.

        Reads ``N`` or ``N<decoration>`` and moves ``at[0]`` past it. None
        (nothing changed) when the argument is not that, the table does not
        hold the fd, or its decoration has not been checked against the table:
        ``EventBuilder._fd``, the one decoration-correction path, must see it.
        """
        cdef Py_ssize_t i = at[0], j, k
        cdef int64_t v = 0
        cdef PyObject* entry
        cdef OpenFile of
        cdef object seen
        j = i
        while j < n and is_digit(a[j]) and j - i < 10:
            v = v * 10 + (a[j] - 48)
            j += 1
        if j == i or v > MAX_INT32:
            return None
        if v < FD_CACHE:
            if th.fdgen != self.fdgen:
                th.forget_fds()
                th.fdgen = self.fdgen
            if th.fdc[v] == NULL:
                entry = PyDict_GetItem(th.fds, v)
                if entry == NULL:
                    return None
                of = <OpenFile?>(<tuple?>(<object>entry))[0]
                Py_XINCREF(<PyObject*>of)
                th.fdc[v] = <PyObject*>of
            else:
                of = <OpenFile>th.fdc[v]
        else:
            entry = PyDict_GetItem(th.fds, v)
            if entry == NULL:
                return None
            of = <OpenFile?>(<tuple?>(<object>entry))[0]
        if j < n and a[j] == b'<':
            k = deco_end(a, j, n)
            if k < 0 or k - j < 3:
                return None  # strace never prints an empty `3<>`: a damaged line
            seen = of.seen
            if (seen is None or PyBytes_GET_SIZE(seen) != k - j - 2
                    or memcmp(PyBytes_AS_STRING(seen), a + j + 1, k - j - 2) != 0):
                return None
            j = k
        at[0] = j
        fd[0] = v
        return of

    cdef bint _mover(self, Lexed* x, Thread th, int32_t code, int kind, double t) except -1:
        """A successful read/write-like call whose fd the table names: its event.

        False (nothing changed) when the line needs the Python side: a failed
        or odd call, an fd the table does not hold, a decoration not yet
        checked against the table (``EventBuilder._fd`` checks it, once), a
        peer argument to read.
        """
        cdef const char* a = x.args
        cdef Py_ssize_t n = x.args_len, i = 0
        cdef int64_t fd = 0, nbytes = 0
        cdef OpenFile of
        cdef Py_ssize_t host = 0, host_len = 0
        cdef int64_t peer_port = 0
        cdef int32_t file, port
        if not ret_count(x, &nbytes):
            return False
        if (kind == K_RECV or kind == K_PEER_READ) and find(a, n, b"MSG_PEEK", 8) >= 0:
            return False  # a peek ("P"): the Python side reads the flags
        of = self._agreed_fd(a, n, &i, th, &fd)
        if of is None or (i < n and a[i] != b','):
            return False
        cols = self.columns
        cols.file_codes(of)
        file = of.c_name
        port = -1 if of._port is None else of._port
        if (kind == K_PEER_READ or kind == K_PEER_WRITE) and of._kind in _SOCKET_KINDS:
            # The address argument names the peer of an unconnected socket;
            # send()/recv() print as sendto(..., NULL, 0)/recvfrom(..., NULL, NULL).
            if not (ends_with(a, n, b", NULL, 0", 9) if kind == K_PEER_WRITE
                    else ends_with(a, n, b", NULL, NULL", 12)):
                if not inet_peer(a, n, i, &host, &host_len, &peer_port):
                    return False
                file = cols.word(PyUnicode_DecodeASCII(a + host, host_len, NULL))
                port = peer_port if peer_port <= 65535 else -1
        cols.add(t, x.dt, th.pid, <int32_t>fd,
                 0 if kind == K_READ or kind == K_PEER_READ or kind == K_RECV else 1,
                 nbytes, file, port, code, of.c_kind, th.tgid, th.comm, of.c_local)
        self.events += 1
        return True

    cdef bint _mmap(self, Lexed* x, Thread th, int32_t code, double t) except -1:
        """``mmap`` of a file: an ``M`` event of its length (False: the Python side's shape).

        ``mmap(ADDR, LENGTH, PROT, FLAGS, FD, OFFSET)``: the first four
        arguments never hold a comma. Anonymous maps make no event and touch
        no fd; a file map is taken only when it succeeded (a hex address) and
        the table agrees with the fd (see :meth:`_agreed_fd`).
        """
        cdef const char* a = x.args
        cdef Py_ssize_t n = x.args_len, i = 0, j, k
        cdef int comma
        cdef int64_t fd = 0, length = 0
        cdef OpenFile of
        for comma in range(4):
            j = find(a + i, n - i, b", ", 2)
            if j < 0:
                return False
            if comma == 1:
                # The length, plain decimal (any other spelling: the Python side).
                if j == 0 or j > 18:
                    return False
                for k in range(i, i + j):
                    if not is_digit(a[k]):
                        return False
                    length = length * 10 + (a[k] - 48)
            elif comma == 3:
                if find(a + i, j, b"MAP_ANONYMOUS", 13) >= 0:
                    return True
            i += j + 2
        if starts_at(a, n, i, b"-1,", 3):
            return True  # no fd: nothing to name, no event
        if x.ret_len < 3 or x.ret[0] != b'0' or x.ret[1] != b'x':
            return False
        for j in range(2, x.ret_len):
            if not (is_digit(x.ret[j]) or b'a' <= x.ret[j] <= b'f'):
                return False
        of = self._agreed_fd(a, n, &i, th, &fd)
        if of is None or not starts_at(a, n, i, b", ", 2):
            return False
        cols = self.columns
        cols.file_codes(of)
        cols.add(t, x.dt, th.pid, <int32_t>fd, DIR_M, length, of.c_name,
                 -1 if of._port is None else of._port, code, of.c_kind, th.tgid, th.comm,
                 of.c_local)
        self.events += 1
        return True

    cdef bint _dup(self, Lexed* x, Thread th) except -1:
        """``dup(old)``/``dup2(old, new)`` = NEW: NEW names old's file (False: the Python side).

        A failed or unseen call changes nothing and names nothing. Taken only
        when the table agrees with ``old`` and it is not an inherited std
        stream (``2>&1`` makes a std stream of its own: ``EventBuilder._on_dup``).
        """
        cdef const char* a = x.args
        cdef Py_ssize_t n = x.args_len, i = 0
        cdef int64_t fd = 0, new = 0
        cdef OpenFile of
        if x.ret_len == 0 or x.ret[0] == b'-' or x.ret[0] == b'?':
            return True
        if not ret_fd(x, &new):
            return False
        of = self._agreed_fd(a, n, &i, th, &fd)
        if of is None or of._std or (i < n and a[i] != b','):
            return False
        th.fds[new] = (of, False)
        self.fdgen += 1
        return True

    cdef bint _openat(self, Lexed* x, Thread th) except -1:
        """``openat(AT_FDCWD[<cwd>], "path", FLAGS[, MODE])`` (False: the Python side's shape).

        Only a path without escapes relative to the cwd; its meaning is
        :meth:`opened`'s, the one for every open call.
        """
        cdef const char* a = x.args
        cdef Py_ssize_t n = x.args_len, i = 8, j, k
        cdef int64_t fd = -1
        cdef bint ascii = True
        cdef object proc = th.proc
        if not starts_at(a, n, 0, b"AT_FDCWD", 8):
            return False
        if i < n and a[i] == b'<':
            i = deco_end(a, 8, n)
            if i < 0 or i < 11:
                return False
        if not starts_at(a, n, i, b', "', 3):
            return False
        j = i + 3
        while j < n and a[j] != b'"':
            if a[j] == b'\\':
                return False
            if <unsigned char>a[j] >= 128:
                ascii = False
            j += 1
        if j >= n or not (j + 1 == n or starts_at(a, n, j + 1, b", ", 2)):
            return False
        if x.ret_len == 0 or x.ret[0] == b'?':
            pass
        elif x.ret[0] == b'-':
            # `-1 ENOENT (No such file or directory)`: the errno as the parser reads it.
            k = find(x.ret, x.ret_len, b" ", 1)
            if k < 0 or not starts_at(x.ret, x.ret_len, k + 1, b"E", 1):
                return False
            k = find(x.ret + k + 1, x.ret_len - k - 1, b" (", 2)
            if k < 0 or x.ret[x.ret_len - 1] != b')':
                return False
        elif not ret_fd(x, &fd):
            return False
        if i > 8 and proc.cwd.path is None:
            proc.cwd.path = self.builder._deco(
                a[9:i - 1].decode("utf-8", "surrogateescape")).name
        if x.ret_len == 0 or x.ret[0] == b'?':
            return True
        path = (PyUnicode_DecodeASCII(a + i + 3, j - i - 3, NULL) if ascii
                else a[i + 3:j].decode("utf-8", "backslashreplace"))
        if fd < 0:
            k = find(x.ret, x.ret_len, b" ", 1) + 1
            j = k
            while j < x.ret_len and x.ret[j] != b' ':
                j += 1
            errno = PyUnicode_DecodeASCII(x.ret + k, j - k, NULL)
            if not errno.startswith("ERESTART"):
                name = resolve(proc, path)
                self.builder.count_error(proc, "openat", errno, name, path_kind(name))
            return True
        if x.ret_deco != NULL:
            self.opened(th.fds, fd, x.ret_deco[:x.ret_deco_len].decode(
                "utf-8", "surrogateescape"), None, find(a + j, n - j, b"O_CLOEXEC", 9) >= 0)
        else:
            self.opened(th.fds, fd, None, resolve(proc, path),
                        find(a + j, n - j, b"O_CLOEXEC", 9) >= 0)
        return True

    cpdef opened(self, dict fds, int64_t fd, str deco, str name, bint cloexec):
        """A new fd from a successful open call: what the table holds from now on.

        The one meaning of ``open``/``openat``/``openat2``/``creat``, whoever
        read the line. The return value's decoration names the file; without
        one, the path argument does.

        Parameters
        ----------
        fds : dict
            The process's fd table (``FdTable.fds``).
        fd : int
            The call's return value.
        deco : str or None
            Its raw ``-y`` decoration.
        name : str or None
            The path argument as the caller resolves it (None when it was not
            a plain string); read only without ``deco``.
        cloexec : bool
            ``O_CLOEXEC`` was among the flags.
        """
        cdef OpenFile of
        cdef bint agrees = False
        if deco is not None:
            d = self.builder._deco(deco)
            name, kind = d.name, d.kind
            # A file named as its decoration says: _fd would change nothing
            # for that decoration, which the core may take as checked.
            agrees = kind == "file" or kind == "dev" or kind == "tty"
        elif name is not None:
            kind = path_kind(name)
        else:
            name, kind = f"unknown:{fd}", "other"
        of = OpenFile(name, kind, path=name)
        if agrees:
            of.seen = deco.encode("utf-8", "surrogateescape")
        fds[fd] = (of, cloexec)
        self.fdgen += 1

    cdef bint _close(self, Lexed* x, Thread th) except -1:
        """``close(fd)``, whole: the fd leaves the table (False: the Python side's shape)."""
        cdef const char* a = x.args
        cdef Py_ssize_t n = x.args_len, i = 0, j
        cdef int64_t fd = 0
        cdef bint ebadf = False
        while i < n and is_digit(a[i]) and i < 10:
            fd = fd * 10 + (a[i] - 48)
            i += 1
        if i == 0 or fd > MAX_INT32:
            return False
        if i < n:
            # Only `N<decoration>`: the decoration runs to the end.
            if a[i] != b'<' or a[n - 1] != b'>':
                return False
        # The errno after the return value, if any.
        j = 0
        while j < x.ret_len and x.ret[j] != b' ':
            j += 1
        while j < x.ret_len and x.ret[j] == b' ':
            j += 1
        if starts_at(x.ret, x.ret_len, j, b"EBADF", 5):
            if not (starts_at(x.ret, x.ret_len, j, b"EBADF (", 7)
                    and find(x.ret + j, x.ret_len - j, b")", 1) >= 0):
                return False
            ebadf = True
        if not self.tracks_fds:
            # A log that records close records the reopening of fds.
            self.builder.tracks_fds = True
            self.tracks_fds = True
        self.close_fd(th.fds, fd, ebadf)
        return True

    cdef int close_fd(self, dict fds, int64_t fd, bint ebadf) except -1:
        # close() releases the fd even when it reports EINTR/EIO; EBADF says
        # there was none.
        if not ebadf:
            fds.pop(fd, None)
            self.fdgen += 1
        return 0

    def on_close(self, proc, rec):
        """Apply a whole ``close`` that the Python side parsed or joined."""
        # A log that records close records the reopening of fds.
        self.builder.tracks_fds = True
        fd = split_fd(rec.args)[0]
        if fd is not None:
            self.close_fd(proc.fdt.fds, fd, rec.errno == "EBADF")

    def sync(self):
        """Hand the core's state to the Python side (before it runs, and at the end).

        The last time seen goes to the builder, each thread's to its process;
        the thread cache is dropped, as the Python side may change processes.
        """
        cdef Thread th
        if self.has_last:
            self.builder.last_time = self.last_time
            self.has_last = False
        for th in self.dirty:
            th.proc.end = None if isnan(th.end) else th.end
            th.dirty = False
        self.dirty.clear()
        self.forget_threads()
        self.cut_clear = False

    def time_styles(self):
        """The timestamp styles of the lines the core handled."""
        return {name for bit, name in _STYLE_NAMES.items() if self.styles & (1 << bit)}

    # --- the one handler of read/write-like calls ------------------------------------

    def on_mover(self, proc, rec):
        """Apply a whole read/write-like call that the Python side parsed or joined.

        The only code that turns these calls into events: the core's own
        lines take the same route through :meth:`_mover` once the table
        agrees with their decoration, which this method records.
        """
        b = self.builder
        arg = b._first_arg(rec.args)
        fd, of = b._fd(proc, arg)
        if fd is None or of is None:
            return
        if fd >= 0:
            i = arg.find("<")
            if i > 0:
                deco = arg[i + 1:]
                if deco.endswith(">"):
                    (<OpenFile>of).agreed(deco[:len(deco) - 1])
        syscall = rec.syscall
        reading = syscall in self.reads
        if not reading and syscall == "sendmsg" and "SCM_RIGHTS" in rec.args and (rec.ret or 0) >= 0:
            b._scm_send(proc, rec.args, of, (proc.pid, rec.time))
        if b._failed(rec, proc, of):
            return
        peer = None
        if of.kind in _SOCKET_KINDS:
            if syscall == "recvfrom" or syscall == "sendto":
                peer = b._peer_arg(rec, 4)
            elif syscall == "recvmsg" or syscall == "sendmsg":
                peer = b._msg_name(rec.args)
                if syscall == "recvmsg":
                    b._scm_recv(proc, rec.args, of)
        from iomonitor.strace.events import _peek

        b._emit(rec, proc, fd, of, ("P" if _peek(rec) else "R") if reading else "W",
                rec.ret or 0, peer)


cdef inline const void* memchr_(const char* p, Py_ssize_t n) nogil:
    return memchr(p, 10, n)
