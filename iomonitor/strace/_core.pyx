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
- the fd-changing calls of :data:`CALL_HANDLERS` (``_calls.pxi``), one
  handler each, for the lines lexed here and the calls the Python side
  joined from halves alike (:class:`CallHandler`);
- split calls of these and of the byte movers, held per thread until their
  end and joined here (``_joins.pxi``), but for clone and exec;
- the tally of failed calls (:class:`ErrorTally`);
- new processes at clone and the exec records (``_proccalls.pxi``).

The parts live in the ``_*.pxi`` files included below, by subject.

Every other line (clone/exec halves, some process markers, the remaining
fd-changing calls, odd shapes) is handed, decoded, to the Python side (``fallback``),
which parses it, joins halves per thread and applies it to the same state:
the processes and fd tables of :class:`iomonitor.strace.events.EventBuilder`,
whose :class:`OpenFile` objects are defined here so that C reads their
fields directly.
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


include "_openfile.pxi"
include "_clock.pxi"
include "_columns.pxi"
include "_errors.pxi"
include "_lexer.pxi"


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
    # Handlers in _calls.pxi (held when split, but for clone and exec, whose
    # halves the Python joiner takes and hands whole to the same handler):
    K_OPEN = 8        # open, creat, openat, openat2
    K_MMAP = 9
    K_DUP = 10        # dup, dup2, dup3
    K_FCNTL = 11      # fcntl, fcntl64
    K_PIPE = 12       # pipe, pipe2
    K_CLOSE_RANGE = 13
    K_CHDIR = 14
    K_FCHDIR = 15
    K_CLONE = 16      # clone, clone2, clone3, fork, vfork
    K_EXEC = 17       # execve, execveat
    K_SOCKET = 18
    K_SOCKETPAIR = 19


include "_threads.pxi"


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
    # core's, see _joins.pxi) and the joiner's ``pending``; any
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
    # The line being read ([line_p, line_p+line_n), with its newline if it
    # had one), for a handler that must show it (a malformed call).
    cdef const char* line_p
    cdef Py_ssize_t line_n
    cdef bint tracks_fds       # builder.tracks_fds is set (it is only ever set)
    cdef dict deco_cache       # builder._deco_cache (read by deco_of)
    cdef ErrorTally tally      # builder.tally

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
        self.deco_cache = builder._deco_cache
        self.tally = builder.tally
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
        self.kinds.update(_CALL_KINDS)
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
        self.line_p = p
        self.line_n = n + 1 if newline else n
        if e > 0 and p[e - 1] == b'\r':
            e -= 1
        i = -1 if self.verbose else lex_head(p, e, &x)
        if i >= 0 and i < e:
            if p[i] == b'<':
                done = lex_resumed(p, i, e, &x) and join_resumed(self, &x)
            elif p[i] == b'+' or p[i] == b'-':
                done = own_marker(self, p, i, e, &x)
            else:
                shape = lex_call(p, i, e, &x)
                if shape == 1:
                    done = self._own(&x)
                elif shape == 2:
                    done = hold_half(self, &x, p, n, newline)
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
            if not own_close(self, x, th):
                return False
        elif kind >= K_OPEN:
            if not own_call(self, x, th, kind, code, t):
                return False
        elif kind != K_QUIET:
            if not own_mover(self, x, th, code, kind, t):
                return False
        # From here on the line is the core's: take its time.
        self._took(x, t)
        thread_ended(self, th, t)
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

    def on_close(self, proc, rec):
        """Apply a whole ``close`` that the Python side parsed or joined."""
        # A log that records close records the reopening of fds.
        self.builder.tracks_fds = True
        fd = split_fd(rec.args)[0]
        if fd is not None:
            close_fd(self, proc.fdt.fds, fd, rec.errno == "EBADF")

    def sync(self):
        """Hand the core's state to the Python side (before it runs, and at the end).

        The last time seen goes to the builder, each thread's to its process;
        the thread cache is dropped, as the Python side may change processes.
        """
        if self.has_last:
            self.builder.last_time = self.last_time
            self.has_last = False
        self.write_ends()
        self.forget_threads()
        self.cut_clear = False

    cdef int write_ends(self) except -1:
        """Each thread's last time seen to its process (the threads stay cached)."""
        cdef Thread th
        for th in self.dirty:
            th.proc.end = None if isnan(th.end) else th.end
            th.dirty = False
        self.dirty.clear()
        return 0

    def time_styles(self):
        """The timestamp styles of the lines the core handled."""
        return {name for bit, name in _STYLE_NAMES.items() if self.styles & (1 << bit)}

    # --- the one handler of read/write-like calls ------------------------------------

    def on_mover(self, proc, rec):
        """Apply a whole read/write-like call that the Python side parsed or joined.

        The only code that turns these calls into events: the core's own
        lines take the same route through ``own_mover`` once the table
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
        from iomonitor.strace.argtext import _peek

        b._emit(rec, proc, fd, of, ("P" if _peek(rec) else "R") if reading else "W",
                rec.ret or 0, peer)


cdef inline const void* memchr_(const char* p, Py_ssize_t n) noexcept nogil:
    return memchr(p, 10, n)


include "_joins.pxi"
include "_markers.pxi"
include "_movers.pxi"
include "_calls.pxi"
