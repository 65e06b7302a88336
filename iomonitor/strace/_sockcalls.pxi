# Included by _calls.pxi (see there): the handlers of the socket-making calls.

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
        d = deco_of(core, PyUnicode_DecodeUTF8(c.ret.deco, c.ret.deco_len, "surrogateescape"))
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
    if first and second and deco_of(core, first).vague:
        inodes = [int(d[d.index("[") + 1 : len(d) - 1]) for d in (first, second)]
        name = f"unix:[{min(inodes)}]"
    elif first:
        name = deco_of(core, first).name
    else:
        name = f"unix:[#{b._new_id()}]"
    cloexec = find(g.a, g.n, b"SOCK_CLOEXEC", 12) >= 0
    for k in range(2):
        (<dict>c.fds)[ends[k][0]] = (OpenFile(name, "unix"), cloexec)
    core.fdgen += 1
    return 0
