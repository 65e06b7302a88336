# The handlers of the fd-changing calls that the core reads itself, included
# by _core.pyx. Each call has one handler here, whoever cut the line: the C
# lexer (Core._own, for a whole call on one line) or the Python parser and
# joiner (a call split into halves, an odd prefix), whose records come in
# through CallHandler. A handler reads the argument text in C; the rare
# spelling it cannot read in C (a string with escapes, a number in another
# base) goes to the same decoders the parser uses, never to another handler.

from cpython.unicode cimport PyUnicode_DecodeUTF8

from shlex import join as _shlex_join

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
#: The calls whose one handler is in the core (whole lines and joined halves alike).
CALL_HANDLERS = frozenset(_CALL_KINDS)

cdef enum:
    # split_args keeps this many arguments' places (the count goes on).
    MAX_ARGS = 8


# The top-level arguments of a call's argument text, stripped, as split_args cuts them.
cdef struct Args:
    const char* a
    Py_ssize_t n
    PyObject* more       # a list for the places of arguments beyond MAX_ARGS, or NULL
    int count
    Py_ssize_t start[8]
    Py_ssize_t end[8]


# A call's return value as the parser's Record holds it.
cdef struct Ret:
    bint has             # Record.ret is not None
    bint big             # beyond int64: no real call returns that
    int64_t value        # when big: +-2**62, the sign kept
    const char* err      # the errno's name, NULL: none
    Py_ssize_t err_len
    const char* deco     # the -y decoration of the return value, NULL: none
    Py_ssize_t deco_len


# One whole call for a handler: who made it, its arguments and return.
cdef struct Call:
    PyObject* proc       # the Process
    PyObject* fds        # its FdTable.fds
    PyObject* th         # a Thread holding ``fds`` (Core._agreed_fd reads it)
    PyObject* rec        # the parser's Record, NULL when the C lexer read the line
    int32_t pid, tgid, comm
    int32_t code         # the syscall's code in Columns
    const char* name
    Py_ssize_t name_len
    double t, dt         # NaN: none
    Ret ret


cdef inline Py_ssize_t space_at(const char* p, Py_ssize_t i, Py_ssize_t e) noexcept nogil:
    """The length of the whitespace character (``str.isspace``) at ``i`` in UTF-8, or 0."""
    cdef unsigned char c = <unsigned char>p[i], c1, c2
    if c == 32 or 9 <= c <= 13 or 28 <= c <= 31:
        return 1
    if c < 0xC2 or i + 1 >= e:
        return 0
    c1 = <unsigned char>p[i + 1]
    if c == 0xC2:
        return 2 if c1 == 0x85 or c1 == 0xA0 else 0
    if i + 2 >= e:
        return 0
    c2 = <unsigned char>p[i + 2]
    if c == 0xE1 and c1 == 0x9A and c2 == 0x80:
        return 3
    if c == 0xE2 and c1 == 0x80 and (c2 <= 0x8A or c2 == 0xA8 or c2 == 0xA9 or c2 == 0xAF):
        return 3 if c2 >= 0x80 else 0
    if c == 0xE2 and c1 == 0x81 and c2 == 0x9F:
        return 3
    if c == 0xE3 and c1 == 0x80 and c2 == 0x80:
        return 3
    return 0


cdef inline Py_ssize_t space_before(const char* p, Py_ssize_t s, Py_ssize_t e) noexcept nogil:
    """The length of the whitespace character that ends at ``e`` (not before ``s``), or 0."""
    cdef Py_ssize_t k
    for k in range(1, 4):
        if e - k < s:
            return 0
        if (<unsigned char>p[e - k]) & 0xC0 != 0x80:
            return k if space_at(p, e - k, e) == k else 0
    return 0


cdef int add_arg(const char* a, Py_ssize_t s, Py_ssize_t e, Args* out) except -1:
    cdef Py_ssize_t k
    while s < e:
        k = space_at(a, s, e)
        if k == 0:
            break
        s += k
    while e > s:
        k = space_before(a, s, e)
        if k == 0:
            break
        e -= k
    if out.count < MAX_ARGS:
        out.start[out.count] = s
        out.end[out.count] = e
    elif out.more != NULL:
        (<list>out.more).append((s, e))
    out.count += 1
    return 0


cdef int split_args_c(const char* a, Py_ssize_t n, Args* out, list more=None) except -1:
    """Cut argument text at its top-level commas: :func:`~iomonitor.strace.decode.split_args`.

    The same tokens as there: strings, escape pairs, ``/* */`` comments,
    ``<<``, a ``->`` before a digit or ``[`` (socket details), brackets. A
    ``<`` always opens a decoration, inside which brackets are plain text,
    so the open brackets are always some of ``([{`` with some ``<`` on top:
    two counts hold them. Text without a quote, ``<``, an opening bracket or
    a backslash is cut at every comma, comments included, as split_args
    cuts it. The places of arguments beyond MAX_ARGS go to ``more`` when
    given, as (start, end).
    """
    cdef Py_ssize_t i = 0, start = 0, j, brackets = 0, decos = 0
    cdef char c
    cdef bint comments = False
    out.a = a
    out.n = n
    out.more = <PyObject*>more if more is not None else NULL
    out.count = 0
    for j in range(n):
        c = a[j]
        if c == b'"' or c == b'<' or c == b'(' or c == b'[' or c == b'{' or c == b'\\':
            comments = True
            break
    while i < n:
        c = a[i]
        if c == b'"':
            j = i + 1
            while j < n and a[j] != b'"':
                j += 2 if a[j] == b'\\' else 1
            if j < n:
                i = j + 1
                continue
        elif c == b'\\':
            i += 2
            continue
        elif c == b'/' and comments and i + 1 < n and a[i + 1] == b'*':
            j = find(a + i + 2, n - i - 2, b"*/", 2)
            if j >= 0:
                i += j + 4
                continue
        elif c == b'<':
            if i + 1 < n and a[i + 1] == b'<':
                i += 2
                continue
            decos += 1
        elif c == b'-' and i + 2 < n and a[i + 1] == b'>' and (is_digit(a[i + 2])
                                                                 or a[i + 2] == b'['):
            i += 2
            continue
        elif c == b'>':
            if decos:
                decos -= 1
        elif c == b'(' or c == b'[' or c == b'{':
            if not decos:
                brackets += 1
        elif c == b')' or c == b']' or c == b'}':
            if not decos and brackets:
                brackets -= 1
        elif c == b',' and not decos and not brackets:
            add_arg(a, start, i, out)
            start = i + 1
        i += 1
    if out.count or start < n:
        add_arg(a, start, n, out)
        if out.count == 1 and out.start[0] == out.end[0]:
            out.count = 0  # blank text: no argument
    return 0


cdef inline object arg_text(Args* g, int k):
    """Argument ``k`` as the parser's ``str``."""
    return PyUnicode_DecodeUTF8(g.a + g.start[k], g.end[k] - g.start[k], "surrogateescape")


cdef inline bint arg_has(Args* g, int k, const char* what, Py_ssize_t m) nogil:
    return k < g.count and k < MAX_ARGS and find(g.a + g.start[k], g.end[k] - g.start[k], what, m) >= 0


cdef object arg_fd(Args* g, int k, int64_t* fd, Py_ssize_t* deco, Py_ssize_t* deco_len):
    """Argument ``k`` read as :func:`~iomonitor.strace.decode.split_fd` reads it.

    The number (``AT_FDCWD`` is -100) or None; ``deco`` is the offset of its
    raw decoration in the argument text (-1: none), ``deco_len`` its length.
    """
    cdef const char* a = g.a + g.start[k]
    cdef Py_ssize_t n = g.end[k] - g.start[k], i = 0, j, s = 0
    cdef int64_t v = 0
    cdef Py_ssize_t numend = 0
    deco[0] = -1
    deco_len[0] = 0
    if k >= g.count or k >= MAX_ARGS:
        return None
    if starts_at(a, n, 0, b"AT_FDCWD", 8):
        i = 8
        v = -100
    else:
        if n and a[0] == b'-':
            i = 1
        j = digits(a, i, n)
        if j == i:
            return None
        for s in range(i, j if j - i <= 18 else i):
            v = v * 10 + (a[s] - 48)
        if a[0] == b'-':
            v = -v
        s = j - i
        numend = j
        i = j
    if starts_at(a, n, i, b" /*", 3):
        j = i + 3
        while j < n and a[j] != b'*':
            j += 1
        if not starts_at(a, n, j, b"*/", 2):
            return None
        i = j + 2
    if i < n:
        # `<(.*)>` to the last ">", or `<(.*)>(deleted)` (kept whole, as split_fd keeps it).
        if a[i] != b'<' or n - i < 2:
            return None
        if a[n - 1] == b'>':
            deco_len[0] = n - i - 2
        elif ends_with(a + i + 1, n - i - 1, b">(deleted)", 10):
            deco_len[0] = n - i - 1
        else:
            return None
        deco[0] = g.start[k] + i + 1
    if s > 18:
        # No fd has such a number (a damaged line): Python's int, as split_fd reads it.
        value = int(a[:numend])
        fd[0] = -1 if value < 0 else 1 << 62
        return value
    fd[0] = v
    return v


cdef inline object deco_text(Args* g, Py_ssize_t at, Py_ssize_t n):
    return PyUnicode_DecodeUTF8(g.a + at, n, "surrogateescape")


cdef object string_at(const char* a, Py_ssize_t n, bint* cut):
    """A string argument [a, a+n) as the handlers name paths and argv words.

    None when it is not one string (``NULL``, an address); ``cut`` tells
    whether strace's ``-s`` cut it (``"..."...``). What ``quoted_string``
    then ``_clean`` give.
    """
    cdef Py_ssize_t j
    cdef bint ascii = True
    cut[0] = False
    if n < 2 or a[0] != b'"':
        return None
    j = 1
    while j < n and a[j] != b'"' and a[j] != b'\\':
        if <unsigned char>a[j] >= 128:
            ascii = False
        j += 1
    if j < n and a[j] == b'"' and (j + 1 == n or (j + 4 == n and a[j + 1] == b'.'
                                                 and a[j + 2] == b'.' and a[j + 3] == b'.')):
        cut[0] = j + 1 < n
        if ascii:
            return PyUnicode_DecodeASCII(a + 1, j - 1, NULL)
        return a[1:j].decode("utf-8", "backslashreplace")
    from iomonitor.strace.events import _clean

    text, was_cut = quoted_string(PyUnicode_DecodeUTF8(a, n, "surrogateescape"))
    cut[0] = was_cut
    return _clean(text)


cdef object arg_path(Args* g, int k):
    """A string argument as the handlers name paths (None when it is not one string)."""
    cdef bint cut
    return string_at(g.a + g.start[k], g.end[k] - g.start[k], &cut)


cdef inline bint ret_failed(Ret* r) nogil:
    """Failed with an errno, not restarted after a signal (``_failed_call``)."""
    return r.err != NULL and not (r.err_len >= 8 and memcmp(r.err, b"ERESTART", 8) == 0)


cdef bint lexed_ret(Lexed* x, Ret* r) nogil:
    """The return value of a lexed line as the parser's ``_RET`` reads it (False: another shape)."""
    cdef const char* s = x.ret
    cdef Py_ssize_t n = x.ret_len, i = 0, j, k
    cdef int64_t v = 0
    cdef bint neg = False
    r.has = r.big = False
    r.value = 0
    r.err = NULL
    r.err_len = 0
    r.deco = x.ret_deco
    r.deco_len = x.ret_deco_len
    if n and s[0] == b'?':
        i = 1
    elif n >= 3 and s[0] == b'0' and s[1] == b'x':
        r.has = True
        i = 2
        while i < n and s[i] != b' ' and s[i] != b'<':
            if i >= 18:
                r.big = True
            elif is_digit(s[i]):
                v = v * 16 + (s[i] - 48)
            elif b'a' <= s[i] <= b'f':
                v = v * 16 + (s[i] - 87)
            elif b'A' <= s[i] <= b'F':
                v = v * 16 + (s[i] - 55)
            else:
                return False
            i += 1
        if i == 18 and v < 0:
            r.big = True
        if r.big:
            v = 1LL << 62
    else:
        r.has = True
        if n and s[0] == b'-':
            neg = True
            i = 1
        j = digits(s, i, n)
        if j == i:
            return False
        if j - i > 18:
            r.big = True
            v = 1LL << 62
        else:
            for k in range(i, j):
                v = v * 10 + (s[k] - 48)
        i = j
        if neg:
            v = -v
    r.value = v
    if x.ret_deco != NULL:
        i = x.ret_deco - s + x.ret_deco_len + 1
    # ` +E[A-Z0-9_]+ \([^)]*\)`, then the end or a space; else no errno.
    j = i
    while j < n and s[j] == b' ':
        j += 1
    if j > i and j < n and s[j] == b'E':
        k = j + 1
        while k < n and (b'A' <= s[k] <= b'Z' or is_digit(s[k]) or s[k] == b'_'):
            k += 1
        if starts_at(s, n, k, b" (", 2):
            i = k + 2
            while i < n and s[i] != b')':
                i += 1
            if i < n and (i + 1 == n or s[i + 1] == b' '):
                r.err = s + j
                r.err_len = k - j
    return True


cdef int record_ret(object rec, Ret* r, list keep) except -1:
    """The return value of a parsed record (``keep`` holds the bytes pointed at)."""
    ret = rec.ret
    r.has = ret is not None
    r.big = r.has and not (-(1 << 63) <= ret < (1 << 63))
    r.value = ret if r.has and not r.big else 0 if not r.has else (1 << 62 if ret > 0 else -(1 << 62))
    r.err = r.deco = NULL
    r.err_len = r.deco_len = 0
    if rec.errno is not None:
        b = rec.errno.encode("utf-8", "surrogateescape")
        keep.append(b)
        r.err = PyBytes_AS_STRING(b)
        r.err_len = PyBytes_GET_SIZE(b)
    if rec.ret_deco is not None:
        b = rec.ret_deco.encode("utf-8", "surrogateescape")
        keep.append(b)
        r.deco = PyBytes_AS_STRING(b)
        r.deco_len = PyBytes_GET_SIZE(b)
    return 0


cdef inline bint call_is(Call* c, const char* name, Py_ssize_t m) nogil:
    return c.name_len == m and memcmp(c.name, name, m) == 0


cdef object file_of(Core core, Call* c, Args* g, int k, int64_t* fd):
    """The open file of fd argument ``k``, through ``EventBuilder._fd`` unless the table agrees."""
    cdef Py_ssize_t at = g.start[k]
    cdef OpenFile of = core._agreed_fd(g.a, g.end[k], &at, <Thread>c.th, fd)
    if of is not None and at == g.end[k]:
        return of
    found, of = core.builder._fd(<object>c.proc, arg_text(g, k))
    core.fdgen += 1  # _fd may have put a new file in the table
    if found is None:
        return None
    # A number no fd has: kept beyond int32 (malformed at an event), or negative.
    fd[0] = -1 if found < 0 else min(found, 1 << 62)
    return of


cdef int on_open(Core core, Call* c, Args* g) except -1:
    """``open``/``creat``/``openat``/``openat2``: the new fd names its file (:meth:`Core.opened`).

    A failed open counts against the path it named, resolved.
    """
    cdef object proc = <object>c.proc
    cdef int64_t dirfd_v = 0
    cdef Py_ssize_t deco = -1, deco_len = 0
    cdef int pk = 0
    dirfd = None
    if call_is(c, b"open", 4) or call_is(c, b"creat", 5):
        path = arg_path(g, 0) if g.count else None
        cloexec = not call_is(c, b"creat", 5) and arg_has(g, 1, b"O_CLOEXEC", 9)
    else:
        if g.count < 2:
            return 0
        pk = 1
        dirfd = arg_fd(g, 0, &dirfd_v, &deco, &deco_len)
        if dirfd == -100:  # AT_FDCWD
            if deco >= 0 and proc.cwd.path is None:
                proc.cwd.path = core.builder._deco(deco_text(g, deco, deco_len)).name
            dirfd = None
        elif dirfd is not None and deco >= 0:
            file_of(core, c, g, 0, &dirfd_v)
        path = arg_path(g, 1)
        cloexec = arg_has(g, 2, b"O_CLOEXEC", 9)
    if not c.ret.has or c.ret.value < 0 or c.ret.big:
        if ret_failed(&c.ret) and not c.ret.big:
            name = None
            if path is not None:
                name = resolve(proc, path) if dirfd is None else proc.resolve(path, dirfd)
            core.builder.count_error(
                proc, PyUnicode_DecodeASCII(c.name, c.name_len, NULL),
                PyUnicode_DecodeASCII(c.ret.err, c.ret.err_len, NULL),
                name, path_kind(name) if name else None)
        return 0
    if c.ret.deco != NULL:
        opened(core, <dict>c.fds, c.ret.value,
                    PyUnicode_DecodeUTF8(c.ret.deco, c.ret.deco_len, "surrogateescape"),
                    None, cloexec)
        return 0
    name = None
    if path is not None:
        name = resolve(proc, path) if dirfd is None else proc.resolve(path, dirfd)
    opened(core, <dict>c.fds, c.ret.value, None, name, cloexec)
    return 0


cdef int on_mmap(Core core, Call* c, Args* g) except -1:
    """``mmap`` of a file: an ``M`` event of its length; anonymous maps touch no fd."""
    cdef int64_t fd = 0, length = 0
    cdef const char* a
    cdef Py_ssize_t n, i
    cdef OpenFile of
    if g.count < 5 or arg_has(g, 3, b"MAP_ANONYMOUS", 13):
        return 0
    of = file_of(core, c, g, 4, &fd)
    if of is None or fd < 0 or not c.ret.has or c.ret.err != NULL:
        return 0
    a = g.a + g.start[1]
    n = g.end[1] - g.start[1]
    if 0 < n <= 18 and (a[0] != b'0' or n == 1) and digits(a, 0, n) == n:
        for i in range(n):
            length = length * 10 + (a[i] - 48)
    else:
        value = parse_int(arg_text(g, 1))
        if value is None:
            return 0
        if not 0 <= value <= 0x7FFFFFFFFFFFFFFF:
            return malformed(core, c)
        length = value
    if fd > MAX_INT32 or c.pid < 0:
        return malformed(core, c)
    cols = core.columns
    cols.file_codes(of)
    cols.add(c.t, c.dt, c.pid, <int32_t>fd, DIR_M, length, of.c_name,
             -1 if of._port is None else of._port, c.code, of.c_kind, c.tgid, c.comm,
             of.c_local)
    core.events += 1
    return 0


cdef int malformed(Core core, Call* c) except -1:
    """A call whose numbers no real call has: counted, with the line as an example."""
    if c.rec != NULL:
        line = (<object>c.rec).line
    else:
        line = core.line_p[:core.line_n].decode("utf-8", "surrogateescape")
    core.builder.malformed_line(line)
    return 0


cdef int on_dup(Core core, Call* c, Args* g) except -1:
    """``dup``/``dup2``/``dup3`` = NEW: NEW names old's open file.

    ``2>&1`` makes a std stream of its own, under the stream's name.
    """
    cdef int64_t fd = 0, new = c.ret.value
    cdef OpenFile of
    if not c.ret.has or new < 0 or c.ret.big:
        return 0
    if g.count == 0:
        return 0
    of = file_of(core, c, g, 0, &fd)
    if of is None:
        return 0
    cloexec = call_is(c, b"dup3", 4) and arg_has(g, 2, b"O_CLOEXEC", 9)
    if 0 <= new <= 2 and of._std and new != fd:
        of = OpenFile(of._name, of._kind, std=True, vouched=of._vouched, seen_as=of._seen_as)
    (<dict>c.fds)[new] = (of, cloexec)
    core.fdgen += 1
    return 0


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


cdef int on_socket(Core core, Call* c, Args* g) except -1:
    """``socket(DOMAIN, TYPE, PROTO)``: a new socket, named by its decoration when it has one.

    Without one: ``tcp:unconnected``/``udp:unconnected`` until connect
    names the peer, a label of the trace's own for a UNIX socket.
    """
    cdef object b = core.builder
    cdef Py_ssize_t n
    if not c.ret.has or c.ret.value < 0 or c.ret.big:
        return 0
    if arg_has(g, 0, b"AF_INET", 7):
        kind = ("udp" if arg_has(g, 1, b"SOCK_DGRAM", 10)
                else "tcp" if arg_has(g, 1, b"SOCK_STREAM", 11) else "other")
        name = f"{kind}:unconnected"
    elif arg_has(g, 0, b"AF_UNIX", 7) or arg_has(g, 0, b"AF_LOCAL", 8):
        kind, name = "unix", f"unix:[#{b._new_id()}]"
    elif arg_has(g, 0, b"AF_NETLINK", 10):
        proto = arg_text(g, 2) if g.count > 2 else ""
        kind, name = "netlink", _clean_name("netlink:" + proto.removeprefix("NETLINK_")) or "netlink:"
    else:
        domain = arg_text(g, 0) if g.count else ""
        kind, name = "other", _clean_name(f"socket:{domain}") or "socket:"
    if c.ret.deco != NULL and c.ret.deco_len:
        d = b._deco(PyUnicode_DecodeUTF8(c.ret.deco, c.ret.deco_len, "surrogateescape"))
        if not d.vague:
            if d.kind == "netlink" or (d.peer_known and d.kind != "unix"):
                name = d.name
            kind = d.kind if d.kind != "other" else kind
    (<dict>c.fds)[c.ret.value] = (OpenFile(name, kind), arg_has(g, 1, b"SOCK_CLOEXEC", 12))
    core.fdgen += 1
    return 0


cdef int on_socketpair(Core core, Call* c, Args* g) except -1:
    """``socketpair``: two connected UNIX sockets, both ends under one name.

    The smaller inode of the two, as ``-yy``'s ``UNIX-STREAM:[a->b]`` gives
    on both ends, so that the processes at the ends join up.
    """
    cdef object b = core.builder
    cdef Args pair
    cdef Py_ssize_t n, deco, deco_len
    cdef int64_t fd = 0
    cdef int k
    if not ret_zero(&c.ret) or g.count < 4:
        return 0
    n = g.end[3] - g.start[3]
    if n == 0 or g.a[g.start[3]] != b'[':
        return 0
    split_args_c(g.a + g.start[3] + 1, max(n - 2, 0), &pair)
    ends = []
    for k in range(min(pair.count, MAX_ARGS)):
        value = arg_fd(&pair, k, &fd, &deco, &deco_len)
        if value is not None:
            ends.append((value, deco_text(&pair, deco, deco_len) if deco >= 0 else None))
            if len(ends) == 2:
                break
    if len(ends) < 2:
        return 0
    first, second = ends[0][1], ends[1][1]
    if first and second and b._deco(first).vague:
        inodes = [int(d[d.index("[") + 1 : len(d) - 1]) for d in (first, second)]
        name = f"unix:[{min(inodes)}]"
    elif first:
        name = b._deco(first).name
    else:
        name = f"unix:[#{b._new_id()}]"
    cloexec = find(g.a, g.n, b"SOCK_CLOEXEC", 12) >= 0
    for k in range(2):
        (<dict>c.fds)[ends[k][0]] = (OpenFile(name, "unix"), cloexec)
    core.fdgen += 1
    return 0


cdef object _clean_name(text):
    from iomonitor.strace.events import _clean

    return _clean(text)


cdef int on_exec(Core core, Call* c, Args* g) except -1:
    """``execve``/``execveat``: the program and argv, close-on-exec fds closed.

    ``+++ superseded`` (a thread's exec) proves it succeeded whatever the
    return value says: with --seccomp-bpf strace 6.1 prints ``= -1 (errno
    1844...)``. A path or argv cut by ``-s`` is made whole where the command
    iomonitor started or the live process agree with it
    (``EventBuilder._whole_exec``).
    """
    cdef object proc = <object>c.proc
    cdef object b = core.builder
    cdef Args words_at
    cdef int i = 1 if call_is(c, b"execveat", 8) else 0, k
    cdef bint path_cut = False, cut = False, array_cut = False
    cdef Py_ssize_t n, s, e
    cdef Thread th
    superseded = proc.pid in b._superseded
    b._superseded.discard(proc.pid)
    if not ret_zero(&c.ret) and not superseded:
        return 0
    if c.rec == NULL:
        # Other threads' ends are the Python side's to read (below): hand them over.
        core.sync()
    path = None
    if g.count > i and i < MAX_ARGS:
        path = string_at(g.a + g.start[i], g.end[i] - g.start[i], &path_cut)
    words = []
    if (g.count > i + 1 and i + 1 < MAX_ARGS and g.end[i + 1] > g.start[i + 1]
            and g.a[g.start[i + 1]] == b'['):
        n = g.end[i + 1] - g.start[i + 1]
        more = []
        split_args_c(g.a + g.start[i + 1] + 1, max(n - 2, 0), &words_at, more)
        for k in range(words_at.count):
            if k < MAX_ARGS:
                s, e = words_at.start[k], words_at.end[k]
            else:
                s, e = more[k - MAX_ARGS]
            if e - s == 3 and memcmp(words_at.a + s, b"...", 3) == 0:
                array_cut = True  # -s caps arrays too: more arguments followed
                continue
            text = string_at(words_at.a + s, e - s, &cut)
            words.append((text or PyUnicode_DecodeUTF8(words_at.a + s, e - s,
                                                       "surrogateescape"), cut))
    argv = [w for w, _ in words]
    argv_cut = array_cut or any(x for _, x in words)
    if argv_cut or path_cut:
        path, path_cut, argv, argv_cut = b._whole_exec(proc, path or "", path_cut, words,
                                                       array_cut)
    cut = path_cut or argv_cut
    if path:
        proc.comm = path.rpartition("/")[2]
        if path_cut:
            # The tail of the path is missing: argv[0] names the program
            # when it is whole, else the name is marked as cut.
            if argv and not (words and words[0][1] and argv_cut):
                proc.comm = argv[0].rpartition("/")[2]
            else:
                proc.comm += "..."
    if words or not cut:
        proc.argv = _shlex_join(argv)
    proc.argv_cut = cut
    b._exec_seen = True
    t = None if isnan(c.t) else c.t
    b.exec_rows.append({"pid": proc.pid, "tgid": proc.tgid, "time": t, "path": path,
                        "argv": proc.argv, "argv_cut": cut})
    # execve gives the process its own table (unshare_files) before
    # closing the close-on-exec fds.
    proc.fdt = proc.fdt.copy()
    proc.fdt.exec()
    core.fdgen += 1
    th = <Thread>c.th
    th.fds = proc.fdt.fds
    th.comm = core.columns.word(proc.comm)
    for other in b._groups[proc.tgid]:
        if other is not proc and other.end is None:
            other.end = t
    return 0


cdef int on_clone(Core core, Call* c, Args* g) except -1:
    """``clone``/``fork``/``vfork`` = PID: the new process, unless its own lines came first.

    ``EventBuilder._spawn`` makes it (sharing or copying the fd table and
    cwd as the flags say), as it does for a child that prints before its
    parent's call returns.
    """
    if not c.ret.has or c.ret.value <= 0:
        return 0
    if c.ret.value > MAX_INT32:
        return malformed(core, c)
    pid = c.ret.value
    if pid not in core.procs:
        child = core.builder._spawn(
            <object>c.proc, pid, PyUnicode_DecodeASCII(c.name, c.name_len, NULL),
            PyUnicode_DecodeUTF8(g.a, g.n, "surrogateescape"))
        child.start = None if isnan(c.t) else c.t
    return 0


cdef inline bint ret_zero(Ret* r) nogil:
    return r.has and not r.big and r.value == 0


cdef int on_fcntl(Core core, Call* c, Args* g) except -1:
    """``fcntl``: ``F_DUPFD*`` gives a new fd on the same file, ``F_SETFD`` sets close-on-exec."""
    cdef const char* cmd
    cdef Py_ssize_t n, deco, deco_len
    cdef int64_t fd = 0
    cdef OpenFile of
    cdef dict fds = <dict>c.fds
    if not c.ret.has or c.ret.value < 0 or c.ret.big or g.count < 2:
        return 0
    cmd = g.a + g.start[1]
    n = g.end[1] - g.start[1]
    if starts_at(cmd, n, 0, b"F_DUPFD", 7):
        of = file_of(core, c, g, 0, &fd)
        if of is not None:
            fds[c.ret.value] = (of, n == 15 and memcmp(cmd, b"F_DUPFD_CLOEXEC", 15) == 0)
            core.fdgen += 1
    elif n == 7 and memcmp(cmd, b"F_SETFD", 7) == 0:
        value = arg_fd(g, 0, &fd, &deco, &deco_len)
        entry = fds.get(value) if value is not None else None
        if entry is not None:
            fds[value] = (entry[0], arg_has(g, 2, b"FD_CLOEXEC", 10))
            core.fdgen += 1
    return 0


cdef int on_pipe(Core core, Call* c, Args* g) except -1:
    """``pipe``/``pipe2``: two fds on one new pipe, the first its read end.

    Named by the decoration (``pipe:[inode]``) when there is one, else by a
    label of the trace's own.
    """
    cdef Args pair
    cdef Py_ssize_t n, deco, deco_len, k
    cdef int64_t fd = 0
    cdef int found = 0
    cdef OpenFile of
    cdef dict fds = <dict>c.fds
    if not ret_zero(&c.ret) or g.count == 0:
        return 0
    n = g.end[0] - g.start[0]
    if n == 0 or g.a[g.start[0]] != b'[':
        return 0
    # The array's items, its last character dropped (``[3, 4]``).
    split_args_c(g.a + g.start[0] + 1, max(n - 2, 0), &pair)
    ends = []
    for k in range(min(pair.count, MAX_ARGS)):
        value = arg_fd(&pair, k, &fd, &deco, &deco_len)
        if value is not None:
            ends.append((value, deco_text(&pair, deco, deco_len) if deco >= 0 else None))
            if len(ends) == 2:
                break
    if len(ends) < 2:
        return 0
    cloexec = find(g.a, g.n, b"O_CLOEXEC", 9) >= 0
    label = ends[0][1] and core.builder._deco(ends[0][1]).name
    name = label or f"pipe:[#{core.builder._new_id()}]"
    for k in range(2):
        value, text = ends[k]
        of = OpenFile(name, "pipe", readable_end=(k == 0))
        if text:
            d = core.builder._deco(text)
            if d.name == name and d.kind == "pipe":
                # Named as its decoration says: _fd would change nothing for
                # it, which the core may take as checked.
                of.seen = text.encode("utf-8", "surrogateescape")
        fds[value] = (of, cloexec)
    core.fdgen += 1
    return 0


cdef int on_close_range(Core core, Call* c, Args* g) except -1:
    """``close_range(first, last, flags)``: the fds in the range close, or get close-on-exec.

    ``CLOSE_RANGE_UNSHARE`` first gives the process a table of its own.
    """
    cdef int64_t fd = 0
    cdef Py_ssize_t deco, deco_len, n
    cdef object proc = <object>c.proc
    if not ret_zero(&c.ret) or g.count < 2:
        return 0
    first = arg_fd(g, 0, &fd, &deco, &deco_len)
    n = find(g.a + g.start[1], g.end[1] - g.start[1], b"<", 1)
    text = PyUnicode_DecodeUTF8(g.a + g.start[1],
                                n if n >= 0 else g.end[1] - g.start[1], "surrogateescape")
    last = parse_int(text)
    if first is None or last is None:
        return 0
    if arg_has(g, 2, b"CLOSE_RANGE_UNSHARE", 19):
        proc.fdt = proc.fdt.copy()
        fds = proc.fdt.fds
        c.fds = <PyObject*>fds
        (<Thread>c.th).fds = fds
    proc.fdt.close_range(first, last, arg_has(g, 2, b"CLOSE_RANGE_CLOEXEC", 19))
    core.fdgen += 1
    return 0


cdef int on_chdir(Core core, Call* c, Args* g) except -1:
    """``chdir(path)``: the new working directory (relative to the old one)."""
    cdef object proc = <object>c.proc
    if not ret_zero(&c.ret) or g.count != 1:
        return 0
    path = arg_path(g, 0)
    if path is not None:
        proc.cwd.path = proc.resolve(path) if (path.startswith("/") or proc.cwd.path) else None
    return 0


cdef int on_fchdir(Core core, Call* c, Args* g) except -1:
    """``fchdir(fd)``: the working directory is the fd's directory, when its path is known."""
    cdef int64_t fd = 0
    cdef OpenFile of
    if not ret_zero(&c.ret):
        return 0
    if g.count == 1:
        of = file_of(core, c, g, 0, &fd)
    else:
        # Not one argument: the fd reader reads the whole text (a damaged line).
        of = core.builder._fd(<object>c.proc, PyUnicode_DecodeUTF8(g.a, g.n, "surrogateescape"))[1]
        core.fdgen += 1
    if of is not None and of._path:
        (<object>c.proc).cwd.path = of._path
    return 0


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


cdef int opened(Core core, dict fds, int64_t fd, str deco, str name, bint cloexec) except -1:
    """A new fd from a successful open call: what the table holds from now on.

    The return value's decoration (``deco``, raw) names the file; without
    one, the path argument as the caller resolved it (``name``, None when it
    was not a plain string).
    """
    cdef OpenFile of
    cdef bint agrees = False
    if deco is not None:
        d = core.builder._deco(deco)
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
    core.fdgen += 1
    return 0


def _split_args(bytes text):
    """The core's cut of argument text (every argument), for the tests."""
    cdef Args g
    more = []
    split_args_c(PyBytes_AS_STRING(text), PyBytes_GET_SIZE(text), &g, more)
    out = [arg_text(&g, k) for k in range(min(g.count, MAX_ARGS))]
    out += [text[s:e].decode("utf-8", "surrogateescape") for s, e in more]
    assert len(out) == g.count
    return out


def _split_fd(bytes text):
    """The core's reading of an fd argument (``arg_fd``), for the tests."""
    cdef Args g
    cdef int64_t fd = 0
    cdef Py_ssize_t deco, deco_len
    split_args_c(PyBytes_AS_STRING(text), PyBytes_GET_SIZE(text), &g)
    if g.count != 1:
        return None
    value = arg_fd(&g, 0, &fd, &deco, &deco_len)
    return value, deco_text(&g, deco, deco_len) if deco >= 0 else None
