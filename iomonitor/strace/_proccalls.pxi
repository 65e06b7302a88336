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


# What a clone's flags say about the child (spawn_child).
cdef enum:
    SHARE_FILES = 1    # CLONE_FILES: the parent's fd table itself
    SHARE_FS = 2       # CLONE_FS: the parent's working directory itself
    SAME_GROUP = 4     # CLONE_THREAD: a thread of the parent's group
    SAME_PARENT = 8    # CLONE_PARENT: the parent's parent


cdef inline bint flag_char(char ch) noexcept:
    return b'A' <= ch <= b'Z' or b'0' <= ch <= b'9' or ch == b'_' or ch == b'|'


cdef int clone_flags(const char* a, Py_ssize_t n) noexcept:
    """The SHARE_* bits of the ``flags=A|B|...`` argument text (whole flag names)."""
    cdef Py_ssize_t i = 0, j = 0, k
    cdef int bits = 0
    while i == j:  # the first "flags=" followed by at least one flag character
        k = find(a + j, n - j, b"flags=", 6)
        if k < 0:
            return 0
        i = j = j + k + 6
        while j < n and flag_char(a[j]):
            j += 1
    while i < j:
        k = i
        while k < j and a[k] != b'|':
            k += 1
        if k - i == 11 and memcmp(a + i, b"CLONE_FILES", 11) == 0:
            bits |= SHARE_FILES
        elif k - i == 8 and memcmp(a + i, b"CLONE_FS", 8) == 0:
            bits |= SHARE_FS
        elif k - i == 12 and memcmp(a + i, b"CLONE_THREAD", 12) == 0:
            bits |= SAME_GROUP
        elif k - i == 12 and memcmp(a + i, b"CLONE_PARENT", 12) == 0:
            bits |= SAME_PARENT
        i = k + 1
    return bits


cdef object spawn_child(object b, object parent, object pid, const char* call,
                        Py_ssize_t call_len, const char* a, Py_ssize_t n):
    """The process that ``parent``'s ``call`` (clone, fork, ...) with argument text [a, a+n) made.

    It shares or copies the parent's fd table and cwd as the flags say; a
    thread (CLONE_THREAD) joins the parent's group. Only clone, clone2 and
    clone3 have flags: fork and vfork copy both.
    """
    cdef int bits = 0
    know_process_types()
    if call_len >= 5 and memcmp(call, b"clone", 5) == 0:
        bits = clone_flags(a, n)
    fdt = parent.fdt if bits & SHARE_FILES else parent.fdt.copy()
    cwd = parent.cwd
    if not bits & SHARE_FS:
        cwd = _Cwd(cwd.path)
    tgid = parent.tgid if bits & SAME_GROUP else pid
    ppid = parent.ppid if bits & (SAME_GROUP | SAME_PARENT) else parent.tgid
    child = _Process(pid, tgid, ppid, fdt, cwd, parent.comm, parent.argv, parent.argv_cut)
    b._add(child)
    (<list>parent.children).append(pid)
    return child


def spawn(builder, parent, pid, str call, str args):
    """The child ``pid`` of ``parent``'s ``call``: see ``spawn_child``.

    For the Python side: a child that prints before its parent's call returns
    is made from the parent's open half, as the core makes it at the return.
    """
    cdef bytes name = call.encode("ascii", "replace")
    cdef bytes text = args.encode("utf-8", "surrogateescape")
    return spawn_child(builder, parent, pid, name, len(name), text, len(text))


cdef object _Cwd = None, _Process = None


cdef int know_process_types() except -1:
    global _Cwd, _Process
    if _Process is None:
        # fdtable imports this module (OpenFile): its classes come in late.
        from iomonitor.strace.fdtable import Cwd, Process
        _Cwd, _Process = Cwd, Process
    return 0


cdef int on_clone(Core core, Call* c, Args* g) except -1:
    """``clone``/``fork``/``vfork`` = PID: the new process, unless its own lines came first.

    ``spawn_child`` makes it (sharing or copying the fd table and cwd as the
    flags say), as it does for a child that prints before its parent's call
    returns (``spawn``).
    """
    if not c.ret.has or c.ret.value <= 0:
        return 0
    if c.ret.value > MAX_INT32:
        return malformed(core, c)
    pid = c.ret.value
    if pid not in core.procs:
        child = spawn_child(core.builder, <object>c.proc, pid, c.name, c.name_len, g.a, g.n)
        child.start = None if isnan(c.t) else c.t
    return 0
