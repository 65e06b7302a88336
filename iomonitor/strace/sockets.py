"""The socket side of :class:`iomonitor.strace.events.EventBuilder`.

The handlers of the calls that name a socket's ends (``accept``/``accept4``,
``connect``, ``bind``, and their failures counted against the address) and
of the fds passed over unix sockets (``SCM_RIGHTS`` in ``sendmsg``/``recvmsg``),
as a base class of the builder: they act on its processes, fd tables and
counters (``_fd``, ``_deco``, ``_error``, ``pending``, ``procs``).
"""

from __future__ import annotations

from collections import deque

from iomonitor.strace.argtext import _FD_LIST, _SCM, _failed_call, _sockaddr
from iomonitor.strace.decode import split_args, split_fd
from iomonitor.strace.fdtable import OpenFile, Process
from iomonitor.strace.parser import Record


class SocketCalls:
    """Socket naming and fd passing, for :class:`~iomonitor.strace.events.EventBuilder`."""

    def _peer_arg(self, rec: Record, index: int) -> tuple[str | None, int | None] | None:
        args = split_args(rec.args)
        if len(args) <= index or not args[index].startswith("{"):
            return None
        host, port, _ = _sockaddr(args[index])
        return (host, port) if host is not None else None

    def _msg_name(self, args: str) -> tuple[str | None, int | None] | None:
        i = args.find("msg_name={")
        if i < 0:
            return None
        host, port, _ = _sockaddr(args[i : args.find("}", i) + 1])
        return (host, port) if host is not None else None

    def _on_accept(self, proc: Process, rec: Record) -> None:
        if rec.ret is None or rec.ret < 0:
            if _failed_call(rec):
                _, listener = self._fd(proc, self._first_arg(rec.args))
                target = listener and (listener.local or listener.name)
                self._error(rec, proc, target, listener.kind if listener else None)
            return
        args = split_args(rec.args)
        _, listener = self._fd(proc, args[0]) if args else (None, None)
        kind = listener.kind if listener is not None else "other"
        of = OpenFile(f"{kind}:unknown-peer", kind)
        if listener is not None:
            of.local = listener.local
            if kind == "unix":
                of.name = listener.name
        if len(args) > 1 and args[1].startswith("{"):
            host, port, _ = _sockaddr(args[1])
            if host is not None and host != "":
                of.name, of.port = host, port
        if rec.ret_deco and not self._deco(rec.ret_deco).vague:
            d = self._deco(rec.ret_deco)
            of.kind = d.kind
            if d.local:
                of.local = d.local
            if d.peer_known and not (d.kind == "unix" and listener and listener.path):
                of.name, of.port = d.name, d.port
        if of.kind == "unix" and listener is not None and listener.path:
            of.path = listener.path
        cloexec = rec.syscall == "accept4" and "SOCK_CLOEXEC" in (args[3] if len(args) > 3 else "")
        proc.fdt.install(rec.ret, of, cloexec)

    def _address(
        self, proc: Process, rec: Record
    ) -> tuple[OpenFile, str, int | None, str | None] | None:
        """The socket and the address of a connect/bind-like call, when both are known."""
        args = split_args(rec.args)
        if len(args) < 2:
            return None
        _, of = self._fd(proc, args[0])
        if of is None:
            return None
        host, port, family = _sockaddr(args[1])
        if host is None:
            return None
        return of, host, port, family

    def _on_connect(self, proc: Process, rec: Record) -> None:
        found = self._address(proc, rec)
        # A non-blocking connect fails with EINPROGRESS but has its peer.
        if rec.ret is not None and rec.ret < 0 and rec.errno != "EINPROGRESS":
            if rec.syscall == "connect" and _failed_call(rec):
                self._address_error(proc, rec, found)
            return
        if found is None:
            return
        of, host, port, family = found
        if family == "unix":
            if host:
                of.name, of.path, of.kind = host, host, "unix"
        else:
            of.name, of.port = host, port

    def _on_bind(self, proc: Process, rec: Record) -> None:
        found = self._address(proc, rec)
        if rec.ret != 0:
            if rec.syscall == "bind" and _failed_call(rec):
                self._address_error(proc, rec, found)
            return
        if found is None:
            return
        of, host, port, family = found
        if family == "unix":
            if host and not of.path:
                of.name, of.path = host, host
        else:
            of.local = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def _address_error(
        self,
        proc: Process,
        rec: Record,
        found: tuple[OpenFile, str, int | None, str | None] | None,
    ) -> None:
        """Count a failed connect/bind against the address it named."""
        if found is None:
            _, of = self._fd(proc, self._first_arg(rec.args))
            self._error(rec, proc, None, of.kind if of else None)
            return
        of, host, port, family = found
        if family == "unix":
            self._error(rec, proc, host or None, "unix")
            return
        where = f"[{host}]" if ":" in host else host
        self._error(rec, proc, f"{where}:{port}" if port is not None else where, of.kind)

    def _scm_send(
        self, proc: Process, args: str, sock: OpenFile, call: tuple[int, float | None]
    ) -> None:
        m = _SCM.search(args)
        if m is None:
            return
        if call in self._scm_early:
            self._scm_early.discard(call)  # a receiver already took these fds
            return
        queue = self._scm.setdefault(sock.name, deque())
        for fd_s, _ in _FD_LIST.findall(m.group(1)):
            of = proc.fdt.get(int(fd_s))
            queue.append(
                of if of is not None else OpenFile(f"unknown:{fd_s}", "other", known=False)
            )

    def _scm_recv(self, proc: Process, args: str, sock: OpenFile) -> None:
        m = _SCM.search(args)
        if m is None:
            return
        queue = self._scm.get(sock.name) or self._scm_in_flight(sock.name)
        for fd_s, deco in _FD_LIST.findall(m.group(1)):
            sent = queue.popleft() if queue else None
            if deco:
                d = self._deco(deco)
                of = OpenFile(d.name, d.kind, d.port, d.local, path=d.name)
            elif sent is not None:
                of = sent
            else:
                # Received, but no sendmsg line names it: as unknown as an fd
                # never opened, and counted the same way.
                self.unknown_fds += 1
                of = OpenFile(f"unknown:{fd_s}", "other", known=False)
            proc.fdt.install(int(fd_s), of, "MSG_CMSG_CLOEXEC" in args)

    def _scm_in_flight(self, name: str) -> deque[OpenFile]:
        """The fds of a sendmsg on socket ``name`` that has not finished printing.

        Whole calls come in completion order, but strace may print the
        receiver's ``recvmsg`` end before the sender's ``sendmsg`` end: the
        sender is then still parked in its half, whose arguments (printed at
        entry) name the fds, and its table still holds them.
        """
        for pid, half in self.pending.items():
            if half.syscall != "sendmsg" or "SCM_RIGHTS" not in half.args or pid is None:
                continue
            sender = self.procs.get(pid)
            fd = split_fd(self._first_arg(half.args))[0]
            sock = sender.fdt.get(fd) if sender is not None and fd is not None else None
            call = (pid, half.time)
            if sock is None or sock.name != name or call in self._scm_early:
                continue
            m = _SCM.search(half.args)
            if m is None:
                continue
            self._scm_early.add(call)
            return deque(
                sender.fdt.get(int(fd_s)) or OpenFile(f"unknown:{fd_s}", "other", known=False)
                for fd_s, _ in _FD_LIST.findall(m.group(1))
            )
        return deque()
