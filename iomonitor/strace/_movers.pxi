# Included by _core.pyx (one extension module; see its docstring).

# --- the byte movers and close, on the core's own lines -------------------

cdef OpenFile agreed_fd(Core core, const char* a, Py_ssize_t n, Py_ssize_t* at, Thread th,
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
        if th.fdgen != core.fdgen:
            th.forget_fds()
            th.fdgen = core.fdgen
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

cdef bint own_mover(Core core, Lexed* x, Thread th, int32_t code, int kind, double t) except -1:
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
    of = agreed_fd(core, a, n, &i, th, &fd)
    if of is None or (i < n and a[i] != b','):
        return False
    cols = core.columns
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
    core.events += 1
    return True

cdef bint own_close(Core core, Lexed* x, Thread th) except -1:
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
    if not core.tracks_fds:
        # A log that records close records the reopening of fds.
        core.builder.tracks_fds = True
        core.tracks_fds = True
    close_fd(core, th.fds, fd, ebadf)
    return True

cdef int close_fd(Core core, dict fds, int64_t fd, bint ebadf) except -1:
    # close() releases the fd even when it reports EINTR/EIO; EBADF says
    # there was none.
    if not ebadf:
        fds.pop(fd, None)
        core.fdgen += 1
    return 0
