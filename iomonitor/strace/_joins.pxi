# Included by _core.pyx (one extension module; see its docstring).

# --- split calls held and joined per thread ---------------------------------
#
# Read/write-like calls, close and the fd calls of _fdcalls/_sockcalls.pxi.
# Not clone/fork and exec: a child may print before its parent's clone
# returns (EventBuilder._pending_parent finds the parent by its half in the
# Python joiner), and an exec may end in another thread than the one that
# started it (the leader, after de-threading).

cdef bint hold_half(Core core, Lexed* x, const char* p, Py_ssize_t n, bint newline) except -1:
    """Keep the start of a call of a known thread until its end (False: the Python joiner)."""
    cdef int64_t pid = x.pid
    cdef double t
    cdef Held* h
    cdef int kind
    cdef int32_t code
    cdef Py_ssize_t size
    cdef char* line
    if pid < 0 or pid > MAX_INT32 or core.held_find(pid) != NULL:
        return False
    if core.pending and pid in core.pending:
        return False
    if core.thread(pid) is None:
        return False
    kind = core.name_kind(x, &code)
    if kind == K_PYTHON or kind == K_QUIET or kind == K_CLONE or kind == K_EXEC:
        return False
    t = NAN
    if x.style != NO_TIME:
        t = core.clock.peek(x.tvalue, x.style)
        if not 0.0 <= t <= MAX_TIME:
            return False
    if (core.held_used + 1) * 2 > core.held_cap:
        core.held_resize(core.held_cap * 2 if core.held_n * 4 > core.held_cap
                         else core.held_cap)
    h = core.held_slot(pid, True)
    size = n + 1 if newline else n
    if h.line_cap < size:
        line = <char*>realloc(h.line, size)
        if line == NULL:
            raise MemoryError()
        h.line = line
        h.line_cap = size
    if x.style != NO_TIME:
        core.clock.take(x.tvalue, x.style, t)
        core.styles |= 1 << x.style
    if h.pid == H_EMPTY:
        core.held_used += 1
    memcpy(h.line, p, size)
    h.pid = pid
    h.kind = kind
    h.code = code
    h.t = t
    h.seq = core.held_seq
    core.held_seq += 1
    h.line_len = size
    h.name_at = x.name - p
    h.name_len = x.name_len
    h.args_at = x.args - p
    h.args_len = x.args_len
    core.held_n += 1
    if not core.cut_clear:
        # The joiner forgets a cut line's owner at every half it sees.
        core.joiner._cut = None
        core.cut_clear = True
    core.own_lines += 1
    return True

cdef bint join_resumed(Core core, Lexed* x) except -1:
    """The end of a held call, applied whole (False: the Python side joins)."""
    cdef int64_t pid = x.pid if x.pid >= 0 else 0
    cdef Held* h = core.held_find(pid)
    cdef Thread th
    cdef Lexed y
    cdef double t = NAN, start
    cdef Buf* joined = &core.joined
    if h == NULL:
        return False
    if x.name_len != h.name_len or memcmp(x.name, h.line + h.name_at, x.name_len):
        return False
    th = core.thread(pid)
    if th is None:
        return False
    if x.style != NO_TIME:
        t = core.clock.peek(x.tvalue, x.style)
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
        if not own_close(core, &y, th):
            return False
    elif h.kind >= K_OPEN:
        if not own_call(core, &y, th, h.kind, h.code, h.t):
            return False
    elif not own_mover(core, &y, th, h.code, h.kind, h.t):
        return False
    start = h.t
    core.held_drop(h)
    if x.style != NO_TIME:
        core.clock.take(x.tvalue, x.style, t)
        core.styles |= 1 << x.style
    if not isnan(start):
        if not core.has_last and core.builder.first_time is None:
            core.builder.first_time = start
        core.last_time = start
        core.has_last = True
    thread_ended(core, th, start)
    core.own_lines += 1
    return True
