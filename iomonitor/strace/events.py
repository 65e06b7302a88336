"""Whole calls + the fd table -> I/O events, process records and counters.

:class:`EventBuilder` is the state machine of a whole trace: it keeps every
process with its fd table and applies each call that the compiled core
(:mod:`iomonitor.strace._core`) hands to the Python side: fd-changing calls,
process markers, and the rarer byte movers (``sendfile``/``splice``/``tee``/
``copy_file_range`` give two events, the mmsg calls, ``vmsplice``, ``mmap``).
The read/write-like calls have one handler, the core's ``Core.on_mover``.
Every event goes into the core's column buffers (:class:`~iomonitor.strace._core.Columns`),
which hand out Arrow tables.

Naming rules (PRODUCT.md section 3): a ``-y``/``-yy`` decoration is the truth
and corrects the table; without a decoration the table alone names the fd; an
fd of unknown origin gets an honest ``unknown:N`` label and is counted.

The std streams: fds 0, 1 and 2 that the traced command inherited and nobody
reopened keep their ``stdin``/``stdout``/``stderr`` labels. What each of them
is (its decoration) is fixed once per trace, from the first decoration seen
on it while the table can vouch that it was never reopened: the log records
the calls that reopen fds (iomonitor's own capture does; a log shows it by
its ``close`` calls). A decoration naming something else means a reopen the
log did not show (a syscall filter): the decoration wins. A process whose
start the log does not show gets the label where its fd 0/1/2 names that same
stream, so one stream has one name in every process.
"""

from __future__ import annotations

import shlex
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from iomonitor import schema
from iomonitor.schema import (
    AIO,
    ANON_FDS,
    CLONES,
    IO_URING,
    MMSG,
    READS,
    TRANSFERS,
    WRITES,
)
from iomonitor.strace import parser as p
from iomonitor.strace._core import (
    CALL_HANDLERS,
    Columns,
    Core,
    ErrorTally,
    call_handlers,
    spawn,
)
from iomonitor.strace.argtext import (
    _MAX_INT32,
    _MAX_INT64,
    _MSG_LEN,
    _SOCKET_KINDS,
    _STD_FDS,
    Deco,
    _clean,
    _peek,
    _requested,
    parse_deco,
    to_name,
)
from iomonitor.strace.decode import (
    parse_int,
    quoted_string,
    split_args,
    split_fd,
)
from iomonitor.strace.fdtable import STD_NAMES, Cwd, FdTable, OpenFile, Process
from iomonitor.strace.parser import Record
from iomonitor.strace.sockets import SocketCalls

if TYPE_CHECKING:
    import pyarrow as pa


class EventBuilder(SocketCalls):
    """The state machine of one trace: processes, fd tables, events, counters.

    Parameters
    ----------
    cwd : str, optional
        The working directory of the first process, when known (run mode).
    pending : dict, optional
        The joiner's open halves, read to adopt a child that prints before its
        parent's ``clone`` returns.
    tracks_fds : bool
        The lines record every call that reopens an fd (iomonitor's own
        capture): the table then vouches for the std streams from the start.
    attached : bool
        The processes were attached to: none of them inherited its std streams
        from the trace's caller, so no fd gets a std label.
    command : sequence of str, optional
        The command iomonitor started (run mode): the whole argv of the
        trace's first exec when strace's ``-s`` cut it.
    exec_source : callable, optional
        ``pid -> (program path, argv)`` as bytes, read from the live process
        (or None): the whole argv of an exec that ``-s`` cut, when it still
        agrees with the line.

    Attributes
    ----------
    columns : iomonitor.strace._core.Columns
        Buffered event columns (see :data:`iomonitor.schema.EVENT_COLUMNS`);
        :meth:`take` hands them out as an Arrow table.
    """

    def __init__(
        self,
        cwd: str | None = None,
        pending: dict[int | None, Record] | None = None,
        tracks_fds: bool = False,
        attached: bool = False,
        command: Sequence[str] | None = None,
        exec_source: Callable[[int], tuple[bytes | None, list[bytes]] | None] | None = None,
    ) -> None:
        self.procs: dict[int, Process] = {}
        self.command = [_clean(w) or "" for w in command] if command is not None else None
        self.exec_source = exec_source
        #: Every successful exec, in order, as columns (:data:`iomonitor.schema.EXEC_SCHEMA`,
        #: times in whole microseconds), as the Parquet metadata stores them:
        #: appended by the core's exec handler (``record_exec``, ``_proccalls.pxi``).
        self.execs: dict[str, list] = {name: [] for name in schema.EXEC_COLUMNS}
        # tgid -> its threads, so that an execve finds its siblings without
        # walking every process of the trace (quadratic on fork-heavy logs).
        self._groups: dict[int, list[Process]] = {}
        self.cwd = cwd
        self.pending = pending if pending is not None else {}
        self._deco_cache: dict[str, Deco] = {}
        #: Failed calls by (pid, tgid, syscall, target, kind, errno).
        self.tally = ErrorTally()
        self._scm: dict[str, deque[OpenFile]] = {}
        # sendmsg calls (pid, start time) whose fds a receiver took while the
        # send was still printing (see _scm_in_flight).
        self._scm_early: set[tuple[int, float | None]] = set()
        # Leaders whose thread's execve succeeded and has yet to resume under them.
        self._superseded: set[int] = set()
        self._next_id = 0
        self._std: dict[int, OpenFile] = {
            fd: OpenFile(name, "other", std=True) for fd, name in STD_NAMES.items()
        }
        # (fd, decoration name) -> the inherited std stream seen so named.
        self._std_seen: dict[tuple[int, str], OpenFile] = {}
        self.tracks_fds = tracks_fds
        self.attached = attached
        self._exec_seen = False
        self.unknown_fds = 0
        #: Byte movers whose result could not be seen, and the bytes they asked for.
        self.unseen_calls = 0
        self.unseen_bytes = 0
        self.io_uring_calls = 0
        self.aio_calls = 0
        #: Calls whose numbers no real call has (an fd or pid beyond int32,
        #: a byte count beyond int64): corrupt lines, with a few examples.
        self.malformed = 0
        self.malformed_examples: list[str] = []
        self.events = 0
        self.first_time: float | None = None
        self.last_time: float | None = None
        self._handlers: dict[str, Callable[[Process, Record], None]] = self._make_handlers()
        #: The event columns (C buffers of the compiled core), which every
        #: handler appends to through :meth:`_emit`.
        self.columns = Columns()

    # --- processes ----------------------------------------------------------

    def _proc(self, pid: int, rec: Record) -> Process:
        proc = self.procs.get(pid)
        if proc is not None:
            if proc.start is None:  # adopted before its first line
                proc.start = rec.time
            return proc
        parent = self._pending_parent(pid)
        if parent is not None:
            half = self.pending[parent.pid]
            proc = spawn(self, parent, pid, half.syscall, half.args)
        else:
            fdt = FdTable()
            # A process whose first line is its execve started inside the
            # trace: it inherited the three std streams. One seen mid-flight
            # (attach, a cut log) may have anything there: its decorations say.
            execs = rec.syscall in ("execve", "execveat")
            if not self.attached and (execs or not self.procs):
                for fd, name in STD_NAMES.items():
                    fdt.install(fd, OpenFile(name, "other", std=True, vouched=execs))
            proc = Process(pid, pid, None, fdt, Cwd(self.cwd))
            self._add(proc)
        if rec.comm and not proc.comm:
            proc.comm = _clean(rec.comm) or ""
        proc.start = rec.time
        return proc

    def adopt(self, pid: int, tgid: int, ppid: int | None, comm: bytes, argv: list[bytes]) -> None:
        """Know a thread before its first line: a process attached to, as ``/proc`` shows it.

        Threads of one group share one fd table and one working directory,
        as they do in the kernel; their fds are named by their decorations.
        """
        if pid in self.procs:
            return
        group = self._groups.get(tgid)
        if group:
            fdt, cwd = group[0].fdt, group[0].cwd
        else:
            fdt, cwd = FdTable(), Cwd(None)
        words = [to_name(a) for a in argv]
        proc = Process(pid, tgid, ppid, fdt, cwd, comm=to_name(comm), argv=shlex.join(words))
        self._add(proc)

    def _add(self, proc: Process) -> None:
        self.procs[proc.pid] = proc
        self._groups.setdefault(proc.tgid, []).append(proc)

    def _pending_parent(self, pid: int) -> Process | None:
        # Children of vfork/clone can print before the parent's call returns;
        # the parent is then parked in that call, its table still as it was.
        best = None
        for ppid, half in self.pending.items():
            if half.syscall in CLONES and ppid in self.procs and ppid != pid:
                best = self.procs[ppid]
        return best

    # --- naming -------------------------------------------------------------

    def _deco(self, text: str) -> Deco:
        d = self._deco_cache.get(text)
        if d is None:
            d = self._deco_cache[text] = parse_deco(text)
        return d

    def _fd(self, proc: Process, arg: str) -> tuple[int | None, OpenFile | None]:
        """Resolve an fd argument to its open file, letting a decoration correct the table."""
        fd, deco = split_fd(arg)
        if fd is None or fd < 0:
            return fd, None
        of = proc.fdt.get(fd)
        if deco:  # strace never prints an empty `3<>`: only a damaged line does
            d = self._deco(deco)
            if of is None or not of.known:
                if of is None and (fd, d.name) in self._std_seen:
                    # The inherited stream, in a process seen mid-flight.
                    of = self._std_seen[(fd, d.name)]
                else:
                    of = OpenFile(d.name, d.kind, d.port, d.local, path=d.name)
                proc.fdt.install(fd, of)
            elif of.std:
                of = self._std_stream(proc, fd, of, d)
            elif d.vague:
                pass
            elif d.kind in _SOCKET_KINDS:
                # A table entry that is no socket at all (named from a damaged
                # line, or an fd reused where the log does not show it) takes
                # the decoration's name whole.
                was_socket = of.kind in _SOCKET_KINDS
                of.kind = d.kind
                if d.local:
                    of.local = d.local
                # strace caches socket details: a UDP socket bound before its
                # connect keeps printing no peer. Keep the peer the table knows;
                # a UNIX path learned from connect/bind beats a bare inode.
                if not was_socket or (
                    d.peer_known and not (of.kind == "unix" and of.path and not d.unix_path)
                ):
                    of.name, of.port = d.name, d.port
            elif of.name != d.name:
                of.name, of.kind = d.name, d.kind
            return fd, of
        if of is None:
            self.unknown_fds += 1
            if fd in STD_NAMES:
                of = self._std[fd]
            else:
                of = OpenFile(f"unknown:{fd}", "other", known=False)
            proc.fdt.install(fd, of)
        return fd, of

    def _std_stream(self, proc: Process, fd: int, of: OpenFile, d: Deco) -> OpenFile:
        """A decorated fd that the table holds as an inherited std stream."""
        if of.seen_as is None and (of.vouched or self.tracks_fds):
            of.seen_as = d.name
            # After `2>&1` fd 2 holds the stdout stream: keyed by the stream's fd.
            self._std_seen.setdefault((_STD_FDS[of.name], d.name), of)
        if of.seen_as == d.name:
            if of.kind == "other" and d.kind != "other":
                of.kind = d.kind
            return of
        # Reopened where the log does not show it (or the log cannot vouch for
        # the table): the decoration names the fd.
        of = OpenFile(d.name, d.kind, d.port, d.local, path=d.name)
        proc.fdt.install(fd, of)
        return of

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # --- events ---------------------------------------------------------------

    def _emit(
        self,
        rec: Record,
        proc: Process,
        fd: int,
        of: OpenFile,
        direction: str,
        nbytes: int,
        peer: tuple[str | None, int | None] | None = None,
    ) -> None:
        if fd > _MAX_INT32 or not 0 <= nbytes <= _MAX_INT64 or proc.pid > _MAX_INT32:
            self._malformed(rec)
            return
        if peer is not None and peer[0] is not None:
            name, port = peer
        else:
            name, port = of.name, of.port
        self.columns.emit(
            rec.time,
            rec.dt,
            proc.pid,
            fd,
            direction,
            nbytes,
            name,
            port,
            rec.syscall,
            of.kind,
            proc.tgid,
            proc.comm,
            of.local,
        )
        self.events += 1

    def _malformed(self, rec: Record) -> None:
        self.malformed_line(rec.line)

    def malformed_line(self, line: str) -> None:
        """Count a call whose numbers no real call has, keeping a few lines as examples."""
        self.malformed += 1
        if len(self.malformed_examples) < 5:
            self.malformed_examples.append(line.rstrip("\n"))

    def _failed(self, rec: Record, proc: Process, of: OpenFile | None) -> bool:
        """Count a failed or unfinished byte mover; True when there is no event to make."""
        if rec.ret is not None and rec.ret >= 0:
            return False
        if rec.errno is None:
            self.unseen(rec)  # `= ?`: the thread died inside the call
            return True
        if rec.errno.startswith("ERESTART"):
            return True  # the call is restarted and prints again
        self._error(rec, proc, of.name if of else None, of.kind if of else None)
        return True

    def _error(self, rec: Record, proc: Process, target: str | None, kind: str | None) -> None:
        """Count one failed call against its target (fd name, path or address)."""
        self.count_error(proc, rec.syscall, rec.errno, target, kind)  # type: ignore[arg-type]

    def count_error(
        self, proc: Process, syscall: str, errno: str, target: str | None, kind: str | None
    ) -> None:
        """Count one failed ``syscall`` of ``proc`` with ``errno`` against its target.

        Into :attr:`tally`, the one tally of failed calls, which the compiled
        core adds to directly.
        """
        self.tally.count(proc, syscall, errno, target, kind)

    @property
    def failed_calls(self) -> int:
        """How many calls failed (see :meth:`count_error`)."""
        return self.tally.failed

    def unseen(self, rec: Record, shown: int | None = None) -> None:
        """Count a byte mover whose result was never seen, with the bytes it asked for.

        ``rec`` is the call as far as it was printed: a whole ``= ?`` line, or
        the start of a call that never resumed (:class:`Joiner`). ``shown``
        overrides the count read from the arguments.
        """
        self.unseen_calls += 1
        self.unseen_bytes += shown if shown is not None else _requested(rec)

    def feed(self, rec: Record) -> None:
        """Apply one whole call or process marker (time already in epoch seconds)."""
        pid = rec.pid if rec.pid is not None else 0
        if rec.time is not None:
            if self.first_time is None:
                self.first_time = rec.time
            self.last_time = rec.time
        kind = rec.kind
        if kind == p.CALL:
            proc = self._proc(pid, rec)
            proc.end = rec.time
            handler = self._handlers.get(rec.syscall)
            if handler is not None:
                handler(proc, rec)
        elif kind == p.EXITED:
            if rec.status is not None and abs(rec.status) > _MAX_INT32:
                self._malformed(rec)
                return
            proc = self._proc(pid, rec)
            proc.exit_code, proc.end = rec.status, rec.time
        elif kind == p.KILLED:
            proc = self._proc(pid, rec)
            proc.signal, proc.end = rec.syscall, rec.time
        elif kind == p.SUPERSEDED:
            gone = self.procs.get(rec.status or -1)
            if gone is not None:
                gone.end = rec.time
            # A thread's execve succeeded: it resumes under this (the leader's) pid.
            self._superseded.add(pid)

    # --- handlers -------------------------------------------------------------

    def _make_handlers(self) -> dict[str, Callable[[Process, Record], None]]:
        h: dict[str, Callable[[Process, Record], None]] = {}
        for name in READS | WRITES:
            # The compiled core's Core.on_mover, registered by use_core().
            h[name] = self._no_core
        for name in TRANSFERS:
            h[name] = self._on_transfer
        for name in MMSG:
            h[name] = self._on_mmsg
        for name in CALL_HANDLERS:
            # The compiled core's handlers (_calls.pxi), registered by use_core().
            h[name] = self._no_core
        for name in ANON_FDS:
            h[name] = self._on_anon
        for name in IO_URING:
            h[name] = self._on_io_uring
        for name in AIO:
            h[name] = self._on_aio
        h.update(
            {
                "vmsplice": self._on_vmsplice,
                # The compiled core's Core.on_close, registered by use_core().
                "close": self._no_core,
                "accept": self._on_accept,
                "accept4": self._on_accept,
                "connect": self._on_connect,
                "bind": self._on_bind,
                "getpeername": self._on_connect,
                "getsockname": self._on_bind,
                "unshare": self._on_unshare,
                "memfd_create": self._on_memfd,
                "pidfd_open": self._on_pidfd_open,
                "pidfd_getfd": self._on_pidfd_getfd,
            }
        )
        # signalfd(fd, ...) on an existing fd changes it, only -1 makes a new one.
        h["signalfd"] = h["signalfd4"] = self._on_signalfd
        return h

    def use_core(self, core: Core) -> None:
        """Make the compiled core's handlers the one handlers of its calls.

        ``Core.on_mover`` handles the read/write-like calls, ``Core.on_close``
        ``close``, the core's call handlers (:data:`CALL_HANDLERS`: opens,
        ``mmap``, ``dup``) theirs, whichever side (C lexer or Python parser)
        read the line.
        """
        for name in READS | WRITES:
            self._handlers[name] = core.on_mover
        self._handlers["close"] = core.on_close
        self._handlers.update(call_handlers(core))
        self._core = core

    def _no_core(self, proc: Process, rec: Record) -> None:
        raise RuntimeError("this call is the compiled core's: register it (use_core)")

    def _first_arg(self, args: str) -> str:
        # Fast path: most byte movers only need the fd, which has no comma.
        i = args.find(",")
        if i < 0:
            return args
        first = args[:i]
        if "<" in first and first.count("<") != first.count(">") + first.count("->"):
            return split_args(args)[0]
        return first

    def _on_transfer(self, proc: Process, rec: Record) -> None:
        src_i, dst_i = TRANSFERS[rec.syscall]
        args = split_args(rec.args)
        if len(args) <= max(src_i, dst_i):
            return
        sfd, src = self._fd(proc, args[src_i])
        dfd, dst = self._fd(proc, args[dst_i])
        if sfd is None or dfd is None or src is None or dst is None:
            return
        if self._failed(rec, proc, src):
            return
        n = rec.ret or 0
        self._emit(rec, proc, sfd, src, "R", n)
        self._emit(rec, proc, dfd, dst, "W", n)

    def _on_vmsplice(self, proc: Process, rec: Record) -> None:
        fd, of = self._fd(proc, self._first_arg(rec.args))
        if fd is None or of is None or self._failed(rec, proc, of):
            return
        # vmsplice fills a pipe from memory through its write end and drains
        # it through its read end; the fd's end tells the direction.
        self._emit(rec, proc, fd, of, "R" if of.readable_end else "W", rec.ret or 0)

    def _on_mmsg(self, proc: Process, rec: Record) -> None:
        fd, of = self._fd(proc, self._first_arg(rec.args))
        if fd is None or of is None or self._failed(rec, proc, of):
            return
        count = rec.ret or 0
        lens = [int(x) for x in _MSG_LEN.findall(rec.args)]
        if len(lens) < count:
            # strace's -s also caps array elements: some msg_len were not printed.
            self.unseen(rec, sum(lens))
            return
        direction = "W" if rec.syscall.startswith("send") else "P" if _peek(rec) else "R"
        # One event per call: an unconnected socket's peer is the first message's.
        peer = self._msg_name(rec.args) if of.kind in ("udp", "tcp", "unix", "other") else None
        self._emit(rec, proc, fd, of, direction, sum(lens[:count]), peer)

    # --- fd creation ----------------------------------------------------------

    def _on_anon(self, proc: Process, rec: Record) -> None:
        if rec.ret is None or rec.ret < 0:
            return
        name = self._deco(rec.ret_deco).name if rec.ret_deco else ANON_FDS[rec.syscall]
        proc.fdt.install(rec.ret, OpenFile(name, "other"), "CLOEXEC" in rec.args)

    def _on_signalfd(self, proc: Process, rec: Record) -> None:
        if split_fd(self._first_arg(rec.args))[0] == -1:
            self._on_anon(proc, rec)

    def _on_memfd(self, proc: Process, rec: Record) -> None:
        if rec.ret is None or rec.ret < 0:
            return
        if rec.ret_deco:
            name = self._deco(rec.ret_deco).name
        else:
            label = _clean(quoted_string(split_args(rec.args)[0])[0]) or ""
            name = f"/memfd:{label}"
        proc.fdt.install(rec.ret, OpenFile(name, "file"), "MFD_CLOEXEC" in rec.args)

    def _on_pidfd_open(self, proc: Process, rec: Record) -> None:
        if rec.ret is None or rec.ret < 0:
            return
        name = self._deco(rec.ret_deco).name if rec.ret_deco else "anon_inode:[pidfd]"
        target = parse_int(split_args(rec.args)[0])
        proc.fdt.install(rec.ret, OpenFile(name, "other", pidfd_pid=target), True)

    def _on_pidfd_getfd(self, proc: Process, rec: Record) -> None:
        if rec.ret is None or rec.ret < 0:
            return
        args = split_args(rec.args)
        _, pidfd = self._fd(proc, args[0])
        target = self.procs.get(pidfd.pidfd_pid) if pidfd and pidfd.pidfd_pid else None
        tfd = parse_int(args[1]) if len(args) > 1 else None
        of = target.fdt.get(tfd) if target is not None and tfd is not None else None
        if rec.ret_deco:
            d = self._deco(rec.ret_deco)
            of = OpenFile(d.name, d.kind, d.port, d.local)
        if of is None:
            of = OpenFile(f"unknown:{rec.ret}", "other", known=False)
        proc.fdt.install(rec.ret, of, True)  # pidfd_getfd always sets O_CLOEXEC

    # --- processes ----------------------------------------------------------------

    def _whole_exec(
        self,
        proc: Process,
        path: str,
        path_cut: bool,
        words: list[tuple[str, bool]],
        array_cut: bool,
    ) -> tuple[str, bool, list[str], bool]:
        """The whole program path and argv of an execve that strace's ``-s`` cut.

        Candidates: the command iomonitor started (the trace's first exec),
        then what the capture reads of the running process. One is taken only
        if it agrees with everything the line shows, since the process may
        have moved on (exec'd again, exited) by the time it is read. The path
        is whole again when argv[0] or the process's program path extends it.

        Returns
        -------
        (path, path still cut, argv, argv still cut)
        """
        candidates: list[tuple[str | None, list[str]]] = []
        if self.command is not None and not self._exec_seen:
            candidates.append((None, self.command))
        if self.exec_source is not None:
            found = self.exec_source(proc.pid)
            if found is not None:
                exe, raw = found
                candidates.append((to_name(exe) if exe else None, [to_name(a) for a in raw]))
        shown = [w for w, _ in words]
        for exe, argv in candidates:
            if len(argv) < len(words) or (not array_cut and len(argv) != len(words)):
                continue
            if not all(
                whole.startswith(text) if cut else whole == text
                for (text, cut), whole in zip(words, argv, strict=False)
            ):
                continue
            if path_cut:
                for whole in (argv[0] if argv else None, exe):
                    if whole is not None and whole.startswith(path) and "/" in whole:
                        return whole, False, argv, False
            return path, path_cut, argv, False
        argv_cut = array_cut or any(c for _, c in words)
        return path, path_cut, shown, argv_cut

    def _on_unshare(self, proc: Process, rec: Record) -> None:
        if rec.ret != 0:
            return
        if "CLONE_FILES" in rec.args:
            proc.fdt = proc.fdt.copy()
        if "CLONE_FS" in rec.args:
            proc.cwd = Cwd(proc.cwd.path)

    def _on_io_uring(self, proc: Process, rec: Record) -> None:
        self.io_uring_calls += 1
        if rec.syscall == "io_uring_setup":
            self._on_anon(proc, rec)

    def _on_aio(self, proc: Process, rec: Record) -> None:
        self.aio_calls += 1

    # --- results ------------------------------------------------------------------

    def take(self, limit: int = -1) -> pa.Table:
        """Hand over the first ``limit`` buffered events (all by default) as an Arrow table."""
        return self.columns.take(limit)

    def process_records(self) -> dict[str, list]:
        """The processes table as the Parquet metadata stores it: column name -> values.

        In :data:`~iomonitor.schema.PROCESS_SCHEMA`'s order; times as whole
        microseconds since the epoch, missing values as None. Read column by
        column from the processes: a dict per process first cost twice as long
        on a log of 45,000 processes.
        """
        procs = list(self.procs.values())
        return {
            "pid": [pr.pid for pr in procs],
            "ppid": [pr.ppid for pr in procs],
            "tgid": [pr.tgid for pr in procs],
            "comm": [pr.comm for pr in procs],
            "argv": [pr.argv for pr in procs],
            "argv_cut": [pr.argv_cut for pr in procs],
            "start": [_micros(pr.start) for pr in procs],
            "end": [_micros(pr.end) for pr in procs],
            "exit_code": [pr.exit_code for pr in procs],
            "signal": [pr.signal for pr in procs],
        }


def _micros(t: float | None) -> int | None:
    """Epoch seconds -> whole microseconds (half to even, as the event times round)."""
    return None if t is None or t != t else round(t * 1e6)
