# Included by _calls.pxi (see there): the handlers of the process calls (exec, clone and fork).

cdef object _clean_name(text):
    from iomonitor.strace.argtext import _clean

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
        # Other threads' ends are read below: write the core's to their processes.
        core.write_ends()
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
    record_exec(b.execs, proc, c.t, path, proc.argv, cut)
    proc.fdt = proc.fdt.exec()
    core.fdgen += 1
    th = <Thread>c.th
    th.fds = proc.fdt.fds
    th.comm = core.columns.word(proc.comm)
    for other in b._groups[proc.tgid]:
        if other is not proc and other.end is None:
            other.end = t
    return 0


cdef int record_exec(dict execs, object proc, double t, object path, object argv,
                     bint cut) except -1:
    """Append one successful exec to ``EventBuilder.execs`` (columns; whole microseconds)."""
    (<list>execs["pid"]).append(proc.pid)
    (<list>execs["tgid"]).append(proc.tgid)
    # Half to even, as the event times round.
    (<list>execs["time"]).append(None if isnan(t) else <int64_t>nearbyint(t * 1e6))
    (<list>execs["path"]).append(path)
    (<list>execs["argv"]).append(argv)
    (<list>execs["argv_cut"]).append(cut)
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
