"""The pure-Python converter the tests run beside the compiled core.

Every line goes through the parser, the joiner and
:class:`~iomonitor.strace.events.EventBuilder`'s handlers, and the calls the
compiled core owns (read/write-like calls, ``close``, the opens, ``mmap``,
``dup``, ``fcntl``, pipes, ``close_range``, ``chdir``, ``clone``, ``execve``, ``socket``, ``socketpair``) are handled by the plain Python handlers below: the semantics as they were written before the
core existed. The compiled path must give the same events, processes, failed
calls and counters on every input; this module is never a runtime path.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
from iomonitor.strace._core import path_kind as _path_kind
from iomonitor.strace._core import spawn

from iomonitor.schema import CLONES, MMAPS, READS, WRITES
from iomonitor.strace.argtext import _clean, _failed_call, _peek
from iomonitor.strace.convert import Converter
from iomonitor.strace.decode import parse_int, quoted_string, split_args, split_fd
from iomonitor.strace.events import EventBuilder
from iomonitor.strace.fdtable import STD_NAMES, OpenFile, Process
from iomonitor.strace.parser import Record


def _fd_array(arg: str) -> list[tuple[int, str | None]]:
    """``[3<pipe:[7]>, 4<pipe:[7]>]`` -> [(3, "pipe:[7]"), (4, "pipe:[7]")]."""
    if not arg.startswith("["):
        return []
    out = []
    for item in split_args(arg[1:-1]):
        fd, deco = split_fd(item)
        if fd is not None:
            out.append((fd, deco))
    return out


def _on_read(b: EventBuilder, proc: Process, rec: Record) -> None:
    fd, of = b._fd(proc, b._first_arg(rec.args))
    if fd is None or of is None or b._failed(rec, proc, of):
        return
    peer = None
    if of.kind in ("udp", "tcp", "unix", "other"):
        if rec.syscall == "recvfrom":
            peer = b._peer_arg(rec, 4)
        elif rec.syscall == "recvmsg":
            peer = b._msg_name(rec.args)
            b._scm_recv(proc, rec.args, of)
    b._emit(rec, proc, fd, of, "P" if _peek(rec) else "R", rec.ret or 0, peer)


def _on_write(b: EventBuilder, proc: Process, rec: Record) -> None:
    fd, of = b._fd(proc, b._first_arg(rec.args))
    if fd is None or of is None:
        return
    if rec.syscall == "sendmsg" and "SCM_RIGHTS" in rec.args and (rec.ret or 0) >= 0:
        b._scm_send(proc, rec.args, of, (proc.pid, rec.time))
    if b._failed(rec, proc, of):
        return
    peer = None
    if of.kind in ("udp", "tcp", "unix", "other"):
        if rec.syscall == "sendto":
            peer = b._peer_arg(rec, 4)
        elif rec.syscall == "sendmsg":
            peer = b._msg_name(rec.args)
    b._emit(rec, proc, fd, of, "W", rec.ret or 0, peer)


def _on_close(b: EventBuilder, proc: Process, rec: Record) -> None:
    # A log that records close records the reopening of fds.
    b.tracks_fds = True
    # close() releases the fd even when it reports EINTR/EIO.
    fd = split_fd(rec.args)[0]
    if fd is not None and rec.errno != "EBADF":
        proc.fdt.close(fd)


def _on_mmap(b: EventBuilder, proc: Process, rec: Record) -> None:
    args = split_args(rec.args)
    if len(args) < 5 or "MAP_ANONYMOUS" in args[3]:
        return
    fd, of = b._fd(proc, args[4])
    if fd is None or fd < 0 or of is None or rec.ret is None or rec.errno is not None:
        return
    length = parse_int(args[1])
    if length is not None:
        b._emit(rec, proc, fd, of, "M", length)


def _opened(
    b: EventBuilder, proc: Process, rec: Record, path: str | None, dirfd: int | None, flags: str
) -> None:
    if rec.ret is None or rec.ret < 0:
        if _failed_call(rec):
            name = proc.resolve(path, dirfd) if path is not None else None
            b._error(rec, proc, name, _path_kind(name) if name else None)
        return
    if rec.ret_deco is not None:
        d = b._deco(rec.ret_deco)
        of = OpenFile(d.name, d.kind, path=d.name)
        if d.kind in ("file", "dev", "tty"):
            of.agreed(rec.ret_deco)
    elif path is not None:
        name = proc.resolve(path, dirfd)
        of = OpenFile(name, _path_kind(name), path=name)
    else:
        of = OpenFile(f"unknown:{rec.ret}", "other", path=f"unknown:{rec.ret}")
    proc.fdt.install(rec.ret, of, "O_CLOEXEC" in flags)


def _on_open(b: EventBuilder, proc: Process, rec: Record) -> None:
    args = split_args(rec.args)
    path = _clean(quoted_string(args[0])[0]) if args else None
    flags = (
        "O_CREAT|O_WRONLY|O_TRUNC" if rec.syscall == "creat" else (args[1] if len(args) > 1 else "")
    )
    _opened(b, proc, rec, path, None, flags)


def _on_openat(b: EventBuilder, proc: Process, rec: Record) -> None:
    args = split_args(rec.args)
    if len(args) < 2:
        return
    dirfd, deco = split_fd(args[0])
    if dirfd == -100:  # AT_FDCWD
        if deco is not None and proc.cwd.path is None:
            proc.cwd.path = b._deco(deco).name
        dirfd = None
    elif dirfd is not None and deco is not None:
        b._fd(proc, args[0])
    path = _clean(quoted_string(args[1])[0])
    flags = args[2] if len(args) > 2 else ""
    _opened(b, proc, rec, path, dirfd, flags)


def _on_dup(b: EventBuilder, proc: Process, rec: Record) -> None:
    if rec.ret is None or rec.ret < 0:
        return
    args = split_args(rec.args)
    if not args:
        return
    fd, of = b._fd(proc, args[0])
    if of is None:
        return
    cloexec = rec.syscall == "dup3" and "O_CLOEXEC" in (args[2] if len(args) > 2 else "")
    if rec.ret in STD_NAMES and of.std and rec.ret != fd:
        # e.g. 2>&1: fd 2 now holds the stdout stream, under its name.
        of = OpenFile(of.name, of.kind, std=True, vouched=of.vouched, seen_as=of.seen_as)
    proc.fdt.install(rec.ret, of, cloexec)


def _on_pipe(b: EventBuilder, proc: Process, rec: Record) -> None:
    if rec.ret != 0:
        return
    args = split_args(rec.args)
    pair = _fd_array(args[0]) if args else []
    if len(pair) < 2:
        return
    cloexec = "O_CLOEXEC" in rec.args
    label = pair[0][1] and b._deco(pair[0][1]).name
    name = label or f"pipe:[#{b._new_id()}]"
    for i, (fd, deco) in enumerate(pair[:2]):
        of = OpenFile(name, "pipe", readable_end=(i == 0))
        if deco and b._deco(deco).name == name and b._deco(deco).kind == "pipe":
            of.agreed(deco)
        proc.fdt.install(fd, of, cloexec)


def _on_close_range(b: EventBuilder, proc: Process, rec: Record) -> None:
    if rec.ret != 0:
        return
    args = split_args(rec.args)
    if len(args) < 2:
        return
    first, last = split_fd(args[0])[0], parse_int(args[1].split("<", 1)[0])
    flags = args[2] if len(args) > 2 else "0"
    if first is None or last is None:
        return
    if "CLOSE_RANGE_UNSHARE" in flags:
        proc.fdt = proc.fdt.copy()
    proc.fdt.close_range(first, last, "CLOSE_RANGE_CLOEXEC" in flags)


def _on_fcntl(b: EventBuilder, proc: Process, rec: Record) -> None:
    if rec.ret is None or rec.ret < 0:
        return
    args = split_args(rec.args)
    if len(args) < 2:
        return
    cmd = args[1]
    if cmd.startswith("F_DUPFD"):
        _, of = b._fd(proc, args[0])
        if of is not None:
            proc.fdt.install(rec.ret, of, cmd == "F_DUPFD_CLOEXEC")
    elif cmd == "F_SETFD":
        fd = split_fd(args[0])[0]
        if fd is not None:
            proc.fdt.set_cloexec(fd, "FD_CLOEXEC" in (args[2] if len(args) > 2 else ""))


def _on_chdir(b: EventBuilder, proc: Process, rec: Record) -> None:
    if rec.ret != 0:
        return
    path = _clean(quoted_string(rec.args)[0])
    if path is not None:
        proc.cwd.path = proc.resolve(path) if (path.startswith("/") or proc.cwd.path) else None


def _on_fchdir(b: EventBuilder, proc: Process, rec: Record) -> None:
    if rec.ret != 0:
        return
    _, of = b._fd(proc, rec.args)
    if of is not None and of.path:
        proc.cwd.path = of.path


def _on_clone(b: EventBuilder, proc: Process, rec: Record) -> None:
    if rec.ret is None or rec.ret <= 0:
        return
    if rec.ret > 2**31 - 1:
        b._malformed(rec)
        return
    if rec.ret not in b.procs:
        child = spawn(b, proc, rec.ret, rec.syscall, rec.args)
        child.start = rec.time


def _record_exec(
    b: EventBuilder, proc: Process, time: float | None, path: str | None, argv: str, cut: bool
) -> None:
    # The core's record_exec (_proccalls.pxi), in plain Python.
    ex = b.execs
    ex["pid"].append(proc.pid)
    ex["tgid"].append(proc.tgid)
    ex["time"].append(None if time is None or time != time else round(time * 1e6))
    ex["path"].append(path)
    ex["argv"].append(argv)
    ex["argv_cut"].append(cut)


def _on_execve(b: EventBuilder, proc: Process, rec: Record) -> None:
    # `superseded` proves a thread's exec succeeded, whatever the return
    # value: with --seccomp-bpf strace 6.1 prints `= -1 (errno 1844...)`.
    superseded = proc.pid in b._superseded
    b._superseded.discard(proc.pid)
    if rec.ret != 0 and not superseded:
        return
    args = split_args(rec.args)
    i = 1 if rec.syscall == "execveat" else 0
    path, path_cut = quoted_string(args[i]) if len(args) > i else (None, False)
    path = _clean(path)
    words: list[tuple[str, bool]] = []
    array_cut = False
    if len(args) > i + 1 and args[i + 1].startswith("["):
        for item in split_args(args[i + 1][1:-1]):
            if item == "...":  # -s caps arrays too: more arguments followed
                array_cut = True
                continue
            text, cut = quoted_string(item)
            words.append((_clean(text) or item, cut))
    argv = [w for w, _ in words]
    argv_cut = array_cut or any(c for _, c in words)
    if argv_cut or path_cut:
        path, path_cut, argv, argv_cut = b._whole_exec(proc, path or "", path_cut, words, array_cut)
    cut = path_cut or argv_cut
    if path:
        proc.comm = path.rsplit("/", 1)[-1]
        if path_cut:
            # The tail of the path is missing: argv[0] names the program
            # when it is whole, else the name is marked as cut.
            if argv and not (words and words[0][1] and argv_cut):
                proc.comm = argv[0].rsplit("/", 1)[-1]
            else:
                proc.comm += "..."
    if words or not cut:
        proc.argv = shlex.join(argv)
    proc.argv_cut = cut
    b._exec_seen = True
    _record_exec(b, proc, rec.time, path, proc.argv, cut)
    # execve gives the process its own table (unshare_files) before
    # closing the close-on-exec fds.
    proc.fdt = proc.fdt.exec()
    for other in b._groups[proc.tgid]:
        if other is not proc and other.end is None:
            other.end = rec.time


def _on_socket(b: EventBuilder, proc: Process, rec: Record) -> None:
    if rec.ret is None or rec.ret < 0:
        return
    args = split_args(rec.args)
    domain = args[0] if args else ""
    stype = args[1] if len(args) > 1 else ""
    proto = args[2] if len(args) > 2 else ""
    if "AF_INET" in domain:
        kind = "udp" if "SOCK_DGRAM" in stype else "tcp" if "SOCK_STREAM" in stype else "other"
        name = f"{kind}:unconnected"
    elif "AF_UNIX" in domain or "AF_LOCAL" in domain:
        kind, name = "unix", f"unix:[#{b._new_id()}]"
    elif "AF_NETLINK" in domain:
        kind, name = (
            "netlink",
            _clean("netlink:" + proto.removeprefix("NETLINK_")) or "netlink:",
        )
    else:
        kind, name = "other", _clean(f"socket:{domain}") or "socket:"
    if rec.ret_deco and not b._deco(rec.ret_deco).vague:
        d = b._deco(rec.ret_deco)
        if d.kind == "netlink" or (d.peer_known and d.kind != "unix"):
            name = d.name
        kind = d.kind if d.kind != "other" else kind
    proc.fdt.install(rec.ret, OpenFile(name, kind), "SOCK_CLOEXEC" in stype)


def _on_socketpair(b: EventBuilder, proc: Process, rec: Record) -> None:
    if rec.ret != 0:
        return
    args = split_args(rec.args)
    pair = _fd_array(args[3]) if len(args) > 3 else []
    if len(pair) < 2:
        return
    # Both ends get one name so that the two processes at the ends join up:
    # the smaller inode, as -yy's `UNIX-STREAM:[a->b]` gives on both ends.
    first, second = pair[0][1], pair[1][1]
    if first and second and b._deco(first).vague:
        inodes = [int(d[d.index("[") + 1 : -1]) for d in (first, second)]
        name = f"unix:[{min(inodes)}]"
    elif first:
        name = b._deco(first).name
    else:
        name = f"unix:[#{b._new_id()}]"
    cloexec = "SOCK_CLOEXEC" in rec.args
    for fd, _ in pair[:2]:
        proc.fdt.install(fd, OpenFile(name, "unix"), cloexec)


_CALLS = {
    "socket": _on_socket,
    "socketpair": _on_socketpair,
    "execve": _on_execve,
    "execveat": _on_execve,
    **dict.fromkeys(CLONES, _on_clone),
    **dict.fromkeys(MMAPS, _on_mmap),
    "open": _on_open,
    "creat": _on_open,
    "openat": _on_openat,
    "openat2": _on_openat,
    "dup": _on_dup,
    "dup2": _on_dup,
    "dup3": _on_dup,
    "fcntl": _on_fcntl,
    "fcntl64": _on_fcntl,
    "pipe": _on_pipe,
    "pipe2": _on_pipe,
    "close_range": _on_close_range,
    "chdir": _on_chdir,
    "fchdir": _on_fchdir,
}


class Oracle(Converter):
    """A :class:`Converter` whose every line takes the pure-Python route."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # The core hands every line over (as it does for -v).
        self.core.verbose = True
        b = self.builder
        for name in READS:
            b._handlers[name] = lambda proc, rec: _on_read(b, proc, rec)
        for name in WRITES:
            b._handlers[name] = lambda proc, rec: _on_write(b, proc, rec)
        b._handlers["close"] = lambda proc, rec: _on_close(b, proc, rec)
        for name, handler in _CALLS.items():
            b._handlers[name] = lambda proc, rec, handler=handler: handler(b, proc, rec)


def convert(converter: Converter, data: bytes, cuts: Iterable[int] = ()) -> dict[str, Any]:
    """Feed ``data`` (cut at the offsets ``cuts``) and collect everything the trace holds."""
    tables = []
    start = 0
    for cut in [*sorted(cuts), len(data)]:
        tables += converter.feed_bytes(data[start:cut])
        start = cut
    tables.append(converter.finish())
    events = pa.concat_tables(tables).unify_dictionaries() if tables else None
    return {
        "events": events.to_pydict() if events is not None else {},
        "processes": converter.processes().to_dict("list"),
        "errors": converter.errors().to_dict("list"),
        "counters": converter.counters(),
    }


def table_converter(cls: type[Converter] = Converter, **kwargs: Any) -> Converter:
    """A converter of ``cls`` whose chunks are the core's Arrow tables."""
    return cls(chunk=lambda table: table, **kwargs)
