# Included by _core.pyx (one extension module; see its docstring).

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


cdef inline bint is_digit(char c) noexcept nogil:
    return b'0' <= c <= b'9'


cdef inline bint is_name_start(char c) noexcept nogil:
    return (b'a' <= c <= b'z') or (b'A' <= c <= b'Z') or c == b'_'


cdef inline bint is_name(char c) noexcept nogil:
    return is_name_start(c) or is_digit(c)


cdef double POW10[23]
cdef long double LPOW10[19]  # exact up to 10**27 with a 64-bit mantissa
POW10[0] = 1.0
LPOW10[0] = 1.0
for _i in range(1, 23):
    POW10[_i] = POW10[_i - 1] * 10.0
for _i in range(1, 19):
    LPOW10[_i] = LPOW10[_i - 1] * 10


cdef double parse_float(const char* p, Py_ssize_t n) noexcept nogil:
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


cdef inline bint is_double_midpoint(long double q, double d) noexcept nogil:
    """``q`` lies exactly halfway between ``d`` (its rounding) and a neighbouring double."""
    cdef long double gap = <long double>d - q
    if gap == 0:
        return False
    if gap < 0:
        gap = -gap
    # Half the distance from d to its neighbour on q's side.
    return gap * 2 == fabsl(<long double>nextafter(d, INFINITY if q > d else -INFINITY) - d)


cdef Py_ssize_t digits(const char* p, Py_ssize_t i, Py_ssize_t e) noexcept nogil:
    while i < e and is_digit(p[i]):
        i += 1
    return i


cdef Py_ssize_t number(const char* p, Py_ssize_t i, Py_ssize_t e) noexcept nogil:
    """End of ``\\d+\\.\\d+`` at i, or -1."""
    cdef Py_ssize_t j = digits(p, i, e)
    if j == i or j >= e or p[j] != b'.':
        return -1
    i = j + 1
    j = digits(p, i, e)
    return j if j > i else -1


cdef Py_ssize_t lex_head(const char* p, Py_ssize_t e, Lexed* x) noexcept nogil:
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


cdef int lex_call(const char* p, Py_ssize_t i, Py_ssize_t e, Lexed* x) noexcept nogil:
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


cdef bint lex_resumed(const char* p, Py_ssize_t i, Py_ssize_t e, Lexed* x) noexcept nogil:
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


cdef bint lex_return(const char* p, Py_ssize_t i, Py_ssize_t e, Lexed* x) noexcept nogil:
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


cdef Py_ssize_t deco_end(const char* p, Py_ssize_t i, Py_ssize_t e) noexcept nogil:
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


cdef Py_ssize_t find(const char* p, Py_ssize_t n, const char* what, Py_ssize_t m) noexcept nogil:
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
                    Py_ssize_t m) noexcept nogil:
    return i + m <= n and memcmp(p + i, what, m) == 0


cdef bint inet_peer(const char* a, Py_ssize_t n, Py_ssize_t i, Py_ssize_t* host,
                    Py_ssize_t* host_len, int64_t* port) noexcept nogil:
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




cdef bint ends_with(const char* p, Py_ssize_t n, const char* what, Py_ssize_t m) noexcept nogil:
    return n >= m and memcmp(p + n - m, what, m) == 0


cdef bint ret_count(Lexed* x, int64_t* out) noexcept nogil:
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


cdef bint ret_fd(Lexed* x, int64_t* out) noexcept nogil:
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


cpdef str path_kind(object path, object device=None):
    """The ``kind`` of a path: ``tty``, ``dev`` or ``file`` (a device by its type and major)."""
    if device is not None:
        # A terminal's path names it as well as its major does: a serial port
        # (/dev/ttyUSB0, a major not listed) is a tty whether strace printed
        # its numbers (-yy) or only its path (--decode-fds=path).
        if device[0] == "char" and (device[1] in _TTY_MAJORS or _tty_path(path)):
            return "tty"
        return "dev"
    if path.startswith("/dev/"):
        return "tty" if _tty_path(path) else "dev"
    return "file"


cdef bint _tty_path(str path):
    return path.startswith(("/dev/pts/", "/dev/tty")) or path in ("/dev/console", "/dev/ptmx")


_TTY_MAJORS = frozenset({4, 5, 136, 137, 138, 139, 140, 141, 142, 143})


cdef object resolve(object proc, str path):
    # Process.resolve's own answer for a clean absolute path, without the call.
    if path.startswith("/") and "/." not in path and "//" not in path:
        return path
    return proc.resolve(path)
