# Included by _calls.pxi (see there): reading a call's argument text and its return value in C.

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
    PyObject* th         # a Thread holding ``fds`` (agreed_fd reads it)
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


# What split_args_c must look at (bit 1): every other byte is skipped with
# one table read, as most argument text is plain (flags, numbers, paths);
# bit 2: the bytes that give text structure (after which comments count).
cdef unsigned char SPLIT_CLASS[256]


cdef int split_class_init() except -1:
    cdef int i
    for i in range(256):
        SPLIT_CLASS[i] = 0
    for i in b'/<->)]},':
        SPLIT_CLASS[i] = 1
    for i in b'"<([{\\':
        SPLIT_CLASS[i] = 3
    return 0


split_class_init()


cdef inline bint has_structure(const char* a, Py_ssize_t n, int* known) noexcept nogil:
    """Whether the text holds a quote, ``<``, an opening bracket or a backslash (cached in ``known``)."""
    cdef Py_ssize_t j
    if known[0] < 0:
        known[0] = 0
        for j in range(n):
            if SPLIT_CLASS[<unsigned char>a[j]] & 2:
                known[0] = 1
                break
    return known[0] == 1


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
    cdef int comments = -1  # whether ``/* */`` is a token: read at the first "/*"
    out.a = a
    out.n = n
    out.more = <PyObject*>more if more is not None else NULL
    out.count = 0
    while i < n:
        c = a[i]
        if not SPLIT_CLASS[<unsigned char>c]:
            i += 1
            continue
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
        elif c == b'/' and i + 1 < n and a[i + 1] == b'*' and has_structure(a, n, &comments):
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


cdef inline bint arg_has(Args* g, int k, const char* what, Py_ssize_t m) noexcept nogil:
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
    from iomonitor.strace.argtext import _clean

    text, was_cut = quoted_string(PyUnicode_DecodeUTF8(a, n, "surrogateescape"))
    cut[0] = was_cut
    return _clean(text)


cdef object arg_path(Args* g, int k):
    """A string argument as the handlers name paths (None when it is not one string)."""
    cdef bint cut
    return string_at(g.a + g.start[k], g.end[k] - g.start[k], &cut)


cdef inline bint ret_failed(Ret* r) noexcept nogil:
    """Failed with an errno, not restarted after a signal (``_failed_call``)."""
    return r.err != NULL and not (r.err_len >= 8 and memcmp(r.err, b"ERESTART", 8) == 0)


cdef bint lexed_ret(Lexed* x, Ret* r) noexcept nogil:
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


cdef inline bint call_is(Call* c, const char* name, Py_ssize_t m) noexcept nogil:
    return c.name_len == m and memcmp(c.name, name, m) == 0


cdef object file_of(Core core, Call* c, Args* g, int k, int64_t* fd):
    """The open file of fd argument ``k``, through ``EventBuilder._fd`` unless the table agrees."""
    cdef Py_ssize_t at = g.start[k]
    cdef OpenFile of = agreed_fd(core, g.a, g.end[k], &at, <Thread>c.th, fd)
    if of is not None and at == g.end[k]:
        return of
    found, of = core.builder._fd(<object>c.proc, arg_text(g, k))
    core.fdgen += 1  # _fd may have put a new file in the table
    if found is None:
        return None
    # A number no fd has: kept beyond int32 (malformed at an event), or negative.
    fd[0] = -1 if found < 0 else min(found, 1 << 62)
    return of


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
