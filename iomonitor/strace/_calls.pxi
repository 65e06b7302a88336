# The handlers of the fd-changing calls that the core reads itself, included
# by _core.pyx. Each call has one handler here, whoever cut the line: the C
# lexer (Core._own, for a whole call on one line) or the Python parser and
# joiner (a call split into halves, an odd prefix), whose records come in
# through CallHandler. A handler reads the argument text in C; the rare
# spelling it cannot read in C (a string with escapes, a number in another
# base) goes to the same decoders the parser uses, never to another handler.

from cpython.unicode cimport PyUnicode_DecodeUTF8

from shlex import quote as _shlex_quote

from iomonitor.strace.decode import parse_int, quoted_string

# What a call-handler kind is (Core.kinds): K_OPEN .. K_DUP.
_CALL_KINDS = {
    "open": K_OPEN, "creat": K_OPEN, "openat": K_OPEN, "openat2": K_OPEN,
    "mmap": K_MMAP, "mmap2": K_MMAP,
    "dup": K_DUP, "dup2": K_DUP, "dup3": K_DUP,
    "fcntl": K_FCNTL, "fcntl64": K_FCNTL,
    "pipe": K_PIPE, "pipe2": K_PIPE,
    "close_range": K_CLOSE_RANGE,
    "chdir": K_CHDIR, "fchdir": K_FCHDIR,
    "clone": K_CLONE, "clone2": K_CLONE, "clone3": K_CLONE, "fork": K_CLONE, "vfork": K_CLONE,
    "execve": K_EXEC, "execveat": K_EXEC,
    "socket": K_SOCKET, "socketpair": K_SOCKETPAIR,
}
# Each argv word as a shell would quote it (shlex's quoting), kept: the
# execs of a process-heavy log repeat the same few words, and quoting each
# anew took a third of the Python time spent on an exec. Bounded, as a
# trace of unique arguments would otherwise keep all of them.
cdef dict _quoted = {}
cdef Py_ssize_t _QUOTED_MAX = 4096


cdef str _shlex_join(object argv):
    cdef list out = []
    cdef PyObject* found
    for word in argv:
        found = PyDict_GetItem(_quoted, word)
        if found == NULL:
            if len(_quoted) >= _QUOTED_MAX:
                _quoted.clear()
            q = _quoted[word] = _shlex_quote(word)
            out.append(q)
        else:
            out.append(<object>found)
    return " ".join(out)


#: The calls whose one handler is in the core (whole lines and joined halves alike).
CALL_HANDLERS = frozenset(_CALL_KINDS)

include "_args.pxi"
include "_fdcalls.pxi"
include "_proccalls.pxi"
include "_sockcalls.pxi"


cdef int on_call(Core core, int kind, Call* c, const char* a, Py_ssize_t n) except -1:
    """Run the handler of ``kind`` on the argument text [a, a+n)."""
    cdef Args g
    split_args_c(a, n, &g)
    if kind == K_OPEN:
        return on_open(core, c, &g)
    if kind == K_MMAP:
        return on_mmap(core, c, &g)
    if kind == K_DUP:
        return on_dup(core, c, &g)
    if kind == K_FCNTL:
        return on_fcntl(core, c, &g)
    if kind == K_PIPE:
        return on_pipe(core, c, &g)
    if kind == K_CLOSE_RANGE:
        return on_close_range(core, c, &g)
    if kind == K_CHDIR:
        return on_chdir(core, c, &g)
    if kind == K_FCHDIR:
        return on_fchdir(core, c, &g)
    if kind == K_CLONE:
        return on_clone(core, c, &g)
    if kind == K_EXEC:
        return on_exec(core, c, &g)
    if kind == K_SOCKET:
        return on_socket(core, c, &g)
    return on_socketpair(core, c, &g)


cdef class CallHandler:
    """The handler of one call for a record the Python side parsed or joined."""

    cdef Core core
    cdef int kind

    def __call__(self, proc, rec):
        cdef Call c
        cdef list keep = []
        cdef bytes args = rec.args.encode("utf-8", "surrogateescape")
        cdef bytes name = rec.syscall.encode("ascii")
        cdef Columns cols = self.core.columns
        c.proc = <PyObject*>proc
        fds = proc.fdt.fds
        c.fds = <PyObject*>fds
        c.rec = <PyObject*>rec
        th = Thread()
        th.fds = fds
        c.th = <PyObject*>th
        c.pid = proc.pid if proc.pid <= MAX_INT32 else -1
        c.tgid = proc.tgid if proc.tgid <= MAX_INT32 else -1
        c.comm = cols.word(proc.comm)
        c.code = cols.word(rec.syscall)
        c.name = PyBytes_AS_STRING(name)
        c.name_len = PyBytes_GET_SIZE(name)
        c.t = NAN if rec.time is None else rec.time
        c.dt = NAN if rec.dt is None else rec.dt
        record_ret(rec, &c.ret, keep)
        on_call(self.core, self.kind, &c, PyBytes_AS_STRING(args), PyBytes_GET_SIZE(args))


def call_handlers(Core core):
    """The handlers of the calls in :data:`_CALL_KINDS`, for ``EventBuilder._handlers``."""
    cdef CallHandler h
    out = {}
    for name, kind in _CALL_KINDS.items():
        h = CallHandler()
        h.core = core
        h.kind = kind
        out[name] = h
    return out


cdef bint own_call(Core core, Lexed* x, Thread th, int kind, int32_t code, double t) except -1:
    """A whole call the C lexer read (False: the Python side parses it and calls back)."""
    cdef Call c
    if not lexed_ret(x, &c.ret):
        return False
    c.proc = <PyObject*>th.proc
    c.fds = <PyObject*>th.fds
    c.rec = NULL
    c.th = <PyObject*>th
    c.pid = th.pid
    c.tgid = th.tgid
    c.comm = th.comm
    c.code = code
    c.name = x.name
    c.name_len = x.name_len
    c.t = t
    c.dt = x.dt
    on_call(core, kind, &c, x.args, x.args_len)
    return True
