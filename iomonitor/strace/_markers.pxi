# Included by _core.pyx (one extension module; see its docstring).

# --- process markers ---------------------------------------------------------

cdef bint own_marker(Core core, const char* p, Py_ssize_t i, Py_ssize_t e, Lexed* x) except -1:
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
        if status > MAX_INT32 or pid < 0 or core.held_find(pid) != NULL:
            return False
        if core.pending and pid in core.pending:
            return False
        th = core.thread(pid)
        if th is None:
            return False
    else:
        return False
    if x.style != NO_TIME:
        t = core.clock.peek(x.tvalue, x.style)
        if not 0.0 <= t <= MAX_TIME:
            return False  # corrupt: the Python side counts the line
    if th is not None:
        th.proc.exit_code = -status if neg else status
        thread_ended(core, th, t)
    core._took(x, t)
    return True

cdef inline int thread_ended(Core core, Thread th, double t) except -1:
    th.end = t
    if th.nostart and not isnan(t):
        th.proc.start = t
        th.nostart = False
    if not th.dirty:
        th.dirty = True
        core.dirty.append(th)
    return 0
