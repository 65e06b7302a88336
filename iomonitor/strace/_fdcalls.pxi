# Included by _calls.pxi (see there): the handlers of the fd-changing calls (opens, mmap, dup,
# fcntl, pipes, close_range, chdir).

cdef inline object deco_of(Core core, str text):
    """``EventBuilder._deco(text)``, its cache read in C first (most opens name a known file)."""
    cdef PyObject* found = PyDict_GetItem(core.deco_cache, text)
    if found != NULL:
        return <object>found
    return core.builder._deco(text)


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
                proc.cwd.path = deco_of(core, deco_text(g, deco, deco_len)).name
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
            core.tally.add(
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


cdef inline bint ret_zero(Ret* r) noexcept nogil:
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
    label = ends[0][1] and deco_of(core, ends[0][1]).name
    name = label or f"pipe:[#{core.builder._new_id()}]"
    for k in range(2):
        value, text = ends[k]
        of = OpenFile(name, "pipe", readable_end=(k == 0))
        if text:
            d = deco_of(core, text)
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


cdef int opened(Core core, dict fds, int64_t fd, str deco, str name, bint cloexec) except -1:
    """A new fd from a successful open call: what the table holds from now on.

    The return value's decoration (``deco``, raw) names the file; without
    one, the path argument as the caller resolved it (``name``, None when it
    was not a plain string).
    """
    cdef OpenFile of
    cdef bint agrees = False
    if deco is not None:
        d = deco_of(core, deco)
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
