# Included by _core.pyx (one extension module; see its docstring).

# --- the footer's tables as JSON ------------------------------------------------

from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.unicode cimport PyUnicode_AsUTF8AndSize

cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object o)
    int _PyBytes_Resize(PyObject** bytes, Py_ssize_t size) except -1


# The text is written straight into a bytes object, grown as it goes and cut
# to size at the end: no copy of tens of megabytes at the end.
cdef struct JBuf:
    PyObject* out  # the bytes object (owned)
    char* data
    Py_ssize_t size
    Py_ssize_t cap


cdef int json_reserve(JBuf* b, Py_ssize_t extra) except -1:
    cdef Py_ssize_t cap = b.cap * 2 if b.cap > 1024 else 1 << 16
    while cap < b.size + extra:
        cap *= 2
    _PyBytes_Resize(&b.out, cap)
    b.data = PyBytes_AS_STRING(<object>b.out)
    b.cap = cap
    return 0


cdef inline int put_text(JBuf* b, const char* p, Py_ssize_t n) except -1:
    if b.size + n > b.cap:
        json_reserve(b, n)
    memcpy(b.data + b.size, p, n)
    b.size += n
    return 0


cdef int put_int(JBuf* b, long long v) except -1:
    # Digits from the end: what int.__repr__ prints, without a str object.
    cdef char digits[24]
    cdef int i = 24
    cdef unsigned long long u = <unsigned long long>(-(v + 1)) + 1 if v < 0 else <unsigned long long>v
    while True:
        i -= 1
        digits[i] = <char>(48 + u % 10)
        u //= 10
        if u == 0:
            break
    if v < 0:
        i -= 1
        digits[i] = b'-'
    return put_text(b, digits + i, 24 - i)


cdef int put_json_str(JBuf* b, str s, object escape) except -1:
    """``s`` as the json module writes it with ``ensure_ascii``."""
    cdef Py_ssize_t n, i
    cdef const char* p
    cdef unsigned char c
    if PyUnicode_IS_ASCII(s):
        p = PyUnicode_AsUTF8AndSize(s, &n)
        for i in range(n):
            c = <unsigned char>p[i]
            if c < 32 or c > 126 or c == 34 or c == 92:
                break
        else:
            if b.size + n + 2 > b.cap:
                json_reserve(b, n + 2)
            b.data[b.size] = b'"'
            memcpy(b.data + b.size + 1, p, n)
            b.data[b.size + n + 1] = b'"'
            b.size += n + 2
            return 0
    # Escapes, non-ASCII text, lone surrogates: the json module's own C encoder.
    text = escape(s)
    p = PyUnicode_AsUTF8AndSize(text, &n)
    return put_text(b, p, n)


cdef int put_json_value(JBuf* b, object v, object escape, object other) except -1:
    cdef int overflow = 0
    cdef long long n
    cdef bint first = True
    if v is None:
        return put_text(b, b"null", 4)
    if v is True:
        return put_text(b, b"true", 4)
    if v is False:
        return put_text(b, b"false", 5)
    if isinstance(v, str):
        return put_json_str(b, <str>v, escape)
    if isinstance(v, int):
        n = PyLong_AsLongLongAndOverflow(v, &overflow)
        if not overflow:
            return put_int(b, n)
    elif type(v) is list:
        put_text(b, b"[", 1)
        for item in <list>v:
            if not first:
                put_text(b, b", ", 2)
            first = False
            put_json_value(b, item, escape, other)
        return put_text(b, b"]", 1)
    elif type(v) is dict and all(type(key) is str for key in <dict>v):
        # (Other keys, which the json module turns into strings, go to it whole.)
        put_text(b, b"{", 1)
        for key, item in (<dict>v).items():
            if not first:
                put_text(b, b", ", 2)
            first = False
            put_json_str(b, <str>key, escape)
            put_text(b, b": ", 2)
            put_json_value(b, item, escape, other)
        return put_text(b, b"}", 1)
    text = other(v)
    return put_text(b, PyUnicode_AsUTF8(text), len(text))


def dumps_json(value, default=None):
    """``json.dumps(value, default=default).encode()``, the lists and dicts walked in C.

    The Parquet footer holds the processes, failed calls and execs as
    columns of hundreds of thousands of ints, strings and None on a
    process-heavy log: written here, the same bytes as the json module's,
    in a fraction of its time, and as one bytes object.

    Parameters
    ----------
    value : object
        Plain lists and dicts (str keys) of None, bool, int, float and str;
        any other value (a float, a tuple, a datetime) goes through the json
        module, with ``default``.
    default : callable, optional
        As for :func:`json.dumps`.

    Returns
    -------
    bytes
        The JSON text (ASCII: every other character escaped).
    """
    import json
    from json.encoder import encode_basestring_ascii

    def other(item):
        return json.dumps(item, default=default)

    cdef JBuf b
    cdef bytes out = PyBytes_FromStringAndSize(NULL, 1 << 16)
    b.out = <PyObject*>out
    Py_XINCREF(b.out)
    out = None
    b.data = PyBytes_AS_STRING(<object>b.out)
    b.size = 0
    b.cap = 1 << 16
    try:
        put_json_value(&b, value, encode_basestring_ascii, other)
        _PyBytes_Resize(&b.out, b.size)
        out = <bytes>b.out
        return out
    finally:
        Py_XDECREF(b.out)
