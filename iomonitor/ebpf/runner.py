"""Start the eBPF loader, stream the lines it writes, and stop it cleanly.

The eBPF sibling of :class:`iomonitor.strace.runner.StraceRunner`, with the
same face: a context manager that starts the capture, :meth:`EbpfRunner.batches`
of strace-format lines, :meth:`EbpfRunner.stop`, and ``exit_status``. This is
the only module that starts the loader.

How the pieces fit:

- The loader (``loader.c``, built at install) writes its log to a pipe given
  as ``--out-fd``, in strace's own ``-f -ttt -T -yy`` line format, and its own
  news (started, the command's pid, lost records, the exit status) to a second
  pipe, ``--status-fd``. Nothing goes to the traced command's streams.
- In run mode the loader starts the command itself, in iomonitor's process
  group and with its stdin, stdout and stderr, as strace does.
- The loader dies with iomonitor (``PR_SET_PDEATHSIG``), and it closes the log
  and says ``done`` before it detaches from the kernel, which takes seconds
  (each syscall tracepoint waits for the kernel's grace periods): the runner
  does not wait for that. The loader is reaped in the background, and if
  iomonitor ends first, the loader detaches and ends on its own.
"""

from __future__ import annotations

import contextlib
import os
import resource
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType

from iomonitor.errors import (
    CommandNotFoundError,
    EbpfError,
    NoSuchProcessError,
    UsageError,
)
from iomonitor.logpipe import LogPipe
from iomonitor.processes import (
    ProcessInfo,
    check_command,
    check_pids,
    from_terminal,
    read_process,
    send_signal,
)

#: The loader built at install (see :mod:`iomonitor.ebpf.build`).
LOADER = Path(__file__).resolve().parent / "_build" / "iomonitor-ebpf-loader"

#: Ring buffer size in MiB (a power of two). A record takes ~232 bytes, so 64 MiB
#: hold ~290,000 calls: ~0.2 s of the loader without a CPU while a program makes
#: 400,000 back-to-back small calls, where 16 MiB held ~56 ms and lost records beside
#: two CPU hogs (see the README). The cost: 64 MiB of kernel memory, which cannot be
#: swapped out, for as long as the capture runs.
RING_MB = 64


# Capability bits (linux/capability.h): CAP_SYS_NICE, CAP_SYS_ADMIN, CAP_PERFMON, CAP_BPF.
_CAP_SYS_NICE, _CAP_SYS_ADMIN, _CAP_PERFMON, _CAP_BPF = 23, 21, 38, 39


def _capabilities() -> int:
    """This process's effective capability bits (0 when /proc cannot say)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return 0


def unavailable_reason() -> str | None:
    """Why the eBPF backend cannot run on this machine, or None when it can.

    Returns
    -------
    str or None
        One line for the user: the loader was not built, the kernel has no
        BTF, or this process lacks the privilege to load BPF programs.
    """
    if not os.access(LOADER, os.X_OK):
        return (
            "the eBPF loader is not built (install clang, bpftool and libbpf-dev, "
            "then reinstall iomonitor)"
        )
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        return "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
    caps = _capabilities()
    bpf_ok = caps >> _CAP_BPF & 1 and caps >> _CAP_PERFMON & 1
    if not (caps >> _CAP_SYS_ADMIN & 1 or bpf_ok):
        return "loading BPF programs needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)"
    return None


class _Background:
    """The log's reader at ``SCHED_IDLE`` while it keeps up: off the traced programs' CPUs.

    The traced programs never stop, so whatever CPU the reader (the converter,
    which runs in the same thread) takes while they run can be theirs: woken
    by the loader's writes, it preempted them. At ``SCHED_IDLE`` it runs on CPU
    time nothing else wants. That never costs a record: the loader drains the
    ring buffer at its own priority and holds what the pipe does not take yet.
    When the pipe stays backed up for :attr:`lag` seconds (a busy machine
    starves the reader: a burst of the traced programs fills it for less),
    the reader takes its own priority back until it has caught up.

    Only a thread that can leave ``SCHED_IDLE`` again goes there (root,
    ``CAP_SYS_NICE``, or a nice limit that allows its nice value), and only
    from the normal policies: a real-time policy is the user's choice.
    """

    #: Seconds the pipe stays backed up before the reader takes its priority back.
    lag = 1.0

    def __init__(self) -> None:
        self._tid = threading.get_native_id()
        self._saved: tuple[int, os.sched_param] | None = None
        self._idle = False
        self._behind_since: float | None = None
        try:
            policy = os.sched_getscheduler(self._tid)
            if policy not in (os.SCHED_OTHER, os.SCHED_BATCH) or not self._can_return():
                return
            self._saved = (policy, os.sched_getparam(self._tid))
        except OSError:
            return

    @staticmethod
    def _can_return() -> bool:
        if _capabilities() >> _CAP_SYS_NICE & 1:
            return True
        nice = os.getpriority(os.PRIO_PROCESS, 0)
        return 20 - nice <= resource.getrlimit(resource.RLIMIT_NICE)[0]

    def keep_up(self, behind: bool) -> None:
        """Say whether the pipe was backed up at this read."""
        if not behind:
            self._behind_since = None
            self.idle(True)
        elif self._behind_since is None:
            self._behind_since = time.monotonic()
        elif time.monotonic() - self._behind_since >= self.lag:
            self.idle(False)

    def idle(self, on: bool) -> None:
        """Run the reader at SCHED_IDLE (``on``) or at its own policy again."""
        if self._saved is None or on == self._idle:
            return
        policy, param = (os.SCHED_IDLE, os.sched_param(0)) if on else self._saved
        try:
            os.sched_setscheduler(self._tid, policy, param)
        except OSError:
            self._saved = None  # stays where it is; never tried again
            return
        self._idle = on


class EbpfRunner:
    """Run the eBPF loader on a command or on running processes and stream its log.

    Parameters
    ----------
    command : sequence of str, optional
        The command to trace with all its children and threads (run mode).
    pids : sequence of int, optional
        Processes to attach to, with all their threads and new children
        (attach mode). Exactly one of ``command`` and ``pids`` is given.
    ring_mb : int, optional
        The ring buffer's size in MiB (a power of two); by default
        :data:`RING_MB` as it is when the runner is made (a benchmark sets it
        for a whole ``iomonitor`` run).
    warm_up : callable, optional
        Called on entry while the kernel verifies and attaches the programs,
        before anything is traced: the caller loads its libraries there, so
        that their import does not compete for the CPUs with the traced
        programs (their CPU time is what tracing costs them).

    Attributes
    ----------
    argv : list of str
        The loader's command line.
    exit_status : int or None
        Once the lines have ended, the command's exit status (128+N when it was
        killed by signal N); None in attach mode.
    drops : int
        Records the kernel side could not hand over: a full ring buffer, no
        room to hold a call in flight, or runs of its programs the kernel
        skipped (a program is not run again on a CPU where it is running).
    drops_per_cpu : dict of int to int
        The first two, by CPU, where any were lost.
    targets : list of ProcessInfo
        In attach mode, once entered: what ``/proc`` said about each process
        attached to (its threads, parent, program and arguments).
    """

    backend = "ebpf"
    strace_version = None
    #: Seconds __enter__ waits for the loader to start.
    start_timeout: float = 20.0
    #: Seconds __exit__ waits for the loader to end before killing it.
    exit_timeout: float = 5.0

    def __init__(
        self,
        command: Sequence[str] | None = None,
        pids: Sequence[int] | None = None,
        *,
        ring_mb: int | None = None,
        warm_up: Callable[[], object] | None = None,
    ) -> None:
        if (command is None) == (pids is None):
            raise UsageError("give either a command to trace or pids to attach to, not both")
        self.command: list[str] | None = None
        self.pids: list[int] | None = None
        if command is not None:
            if isinstance(command, str) or not command:
                raise UsageError("the command is a non-empty sequence of strings")
            self.command = [os.fspath(part) for part in command]
        else:
            self.pids = check_pids(pids or [])
        if ring_mb is None:
            ring_mb = RING_MB
        if ring_mb < 1 or ring_mb & (ring_mb - 1):
            raise UsageError(f"the ring buffer size must be a power of two MiB, not {ring_mb}")
        self.mode = "run" if self.command is not None else "attach"
        self.ring_mb = ring_mb
        self.warm_up = warm_up
        self.argv = self._build_argv(-1, -1)
        self.exit_status: int | None = None
        self.drops = 0
        self.drops_per_cpu: dict[int, int] = {}
        self.targets: list[ProcessInfo] = []
        self.stop_grace = 3.0
        self._proc: subprocess.Popen[bytes] | None = None
        self._pipe: LogPipe | None = None
        self._sfd = -1
        self._gofd = -1
        self._status_buf = b""
        self._reading = False
        self._finished = False
        self._done = False
        self._command_pid: int | None = None
        self._stop_at: float | None = None
        self._stop_signal = signal.SIGTERM
        self._escalated = False
        self._lock = threading.Lock()

    @property
    def loader_pid(self) -> int | None:
        """The loader's process id while it runs."""
        return self._proc.pid if self._proc is not None else None

    def _build_argv(self, out_fd: int, status_fd: int, go_fd: int = -1) -> list[str]:
        argv = [str(LOADER), "--out-fd", str(out_fd), "--status-fd", str(status_fd)]
        if go_fd >= 0:
            argv += ["--go-fd", str(go_fd)]
        argv += ["--ring", str(self.ring_mb)]
        if self.command is not None:
            return [*argv, "--", *self.command]
        assert self.pids is not None
        for pid in self.pids:
            argv += ["--pid", str(pid)]
        return argv

    # -- starting ---------------------------------------------------------------

    def __enter__(self) -> EbpfRunner:
        if self._proc is not None or self._finished:
            raise UsageError("an EbpfRunner can be started only once")
        reason = unavailable_reason()
        if reason is not None:
            raise EbpfError(f"eBPF backend unavailable: {reason}")
        if self.command is not None:
            check_command(self.command[0])
        else:
            assert self.pids is not None
            for pid in self.pids:
                if not os.path.exists(f"/proc/{pid}"):
                    raise NoSuchProcessError(pid)
        try:
            self._start()
            if self.warm_up is not None:
                self.warm_up()
            self._go()
            self._confirm_start()
        except BaseException:
            self._shutdown()
            raise
        return self

    def _start(self) -> None:
        self._pipe, out_w = LogPipe.pipe()
        self._sfd, status_w = os.pipe2(os.O_CLOEXEC)
        go_r, self._gofd = os.pipe2(os.O_CLOEXEC)
        self.argv = self._build_argv(out_w, status_w, go_r)
        try:
            if self.mode == "run":
                # The command runs in the caller's process group and terminal,
                # with its streams, as under strace.
                self._proc = subprocess.Popen(
                    self.argv, pass_fds=(out_w, status_w, go_r), close_fds=True
                )
            else:
                # Own session: a terminal's Ctrl-C reaches iomonitor, which
                # decides when to stop; the targets are left alone.
                self._proc = subprocess.Popen(
                    self.argv,
                    pass_fds=(out_w, status_w, go_r),
                    stdin=subprocess.DEVNULL,
                    close_fds=True,
                    start_new_session=True,
                )
        finally:
            os.close(out_w)
            os.close(status_w)
            os.close(go_r)
        os.set_blocking(self._sfd, False)

    def _go(self) -> None:
        # The loader traces from here on; if it already failed, it says why
        # on its status pipe, which _confirm_start reads.
        with contextlib.suppress(OSError):
            os.write(self._gofd, b"g")
        os.close(self._gofd)
        self._gofd = -1

    def _confirm_start(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            for word, rest in self._status_lines(0.05):
                if word == "ready":
                    if self.pids is not None:
                        found = (read_process(pid) for pid in self.pids)
                        self.targets = [info for info in found if info is not None]
                    return
                if word == "child":
                    self._command_pid = int(rest)
                elif word == "execfail":
                    assert self.command is not None
                    raise CommandNotFoundError(
                        self.command[0], f"cannot execute: {os.strerror(int(rest))}"
                    )
                elif word == "nosuchpid":
                    raise NoSuchProcessError(int(rest))
                elif word == "error":
                    raise EbpfError(f"eBPF backend failed: {rest}")
            assert self._proc is not None
            if self._proc.poll() is not None and not self._status_pending():
                raise EbpfError(
                    f"the eBPF loader exited with status {self._proc.returncode} before tracing"
                )
        raise EbpfError("the eBPF loader did not start in time")

    def _status_pending(self) -> bool:
        ready, _, _ = select.select([self._sfd], [], [], 0)
        return bool(ready) and not self._done

    def _status_lines(self, timeout: float) -> list[tuple[str, str]]:
        """Read what the loader said on its status pipe (waiting up to ``timeout``)."""
        if self._sfd < 0:
            return []
        ready, _, _ = select.select([self._sfd], [], [], timeout)
        if not ready:
            return []
        chunks = []
        while True:
            try:
                data = os.read(self._sfd, 4096)
            except BlockingIOError:
                break
            if not data:
                self._done = True
                break
            chunks.append(data)
        buf = self._status_buf + b"".join(chunks)
        *lines, self._status_buf = buf.split(b"\n")
        out = []
        for raw in lines:
            word, _, rest = raw.decode(errors="replace").partition(" ")
            self._note(word, rest)
            out.append((word, rest))
        return out

    def _note(self, word: str, rest: str) -> None:
        if word == "drops":
            self.drops = int(rest)
        elif word == "drops-cpu":
            cpu, n = rest.split()
            self.drops_per_cpu[int(cpu)] = int(n)
        elif word == "exit":
            self.exit_status = int(rest)
        elif word == "signal":
            self.exit_status = 128 + int(rest)
        elif word == "done":
            self._done = True

    # -- lines --------------------------------------------------------------------

    def blocks(self, idle: float = 0.25) -> Iterator[bytes]:
        """The log's bytes as the loader writes them, until it closes the log.

        As :meth:`iomonitor.strace.runner.StraceRunner.blocks`: a line may be
        cut between two blocks; an empty block comes after ``idle`` seconds
        without a byte, so that a caller can flush what it holds.

        Parameters
        ----------
        idle : float, default 0.25
            Seconds without a byte after which an empty block is yielded.
        """
        if self._proc is None or self._pipe is None or self._pipe.closed:
            raise UsageError("read the log inside the runner's with block")
        if self._reading:
            raise UsageError("the log of an EbpfRunner can be read only once")
        self._reading = True
        return self._iter_blocks(idle)

    def _iter_blocks(self, idle: float) -> Iterator[bytes]:
        quiet = time.monotonic()
        pipe = self._pipe
        assert pipe is not None
        background = _Background()
        try:
            background.idle(True)
            while not pipe.closed:
                ready = pipe.wait(min(idle, 0.1))
                if self._stop_at is not None:
                    self._escalate()
                if not ready:
                    if time.monotonic() - quiet >= idle:
                        quiet = time.monotonic()
                        yield b""
                    continue
                background.keep_up(pipe.backed_up())
                got = pipe.read()
                if got:
                    quiet = time.monotonic()
                    yield got
                if pipe.eof:
                    break
        finally:
            # What follows (the last events, the file's footer) waits for nobody.
            background.idle(False)
        self._finish()

    def _finish(self) -> None:
        # The loader wrote its counts and the command's status before it
        # closed the log; what is left to come is "done".
        deadline = time.monotonic() + self.exit_timeout
        while not self._done and time.monotonic() < deadline:
            self._status_lines(0.05)
            if self._proc is not None and self._proc.poll() is not None:
                self._status_lines(0)
                break
        self._finished = True

    # -- stopping -----------------------------------------------------------------

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """End the capture soon; safe from signal handlers and other threads.

        Parameters
        ----------
        signum : int, default SIGTERM
            Run mode: the signal the command gets, as under strace (not sent
            again when it came from the terminal, which sent it to the whole
            job); if the command has not ended :attr:`stop_grace` seconds
            later, the loader stops tracing and the command is killed.
            Attach mode: the loader stops at once; the targets run on.
        """
        if self._stop_at is not None:
            return
        self._stop_signal = signum
        self._stop_at = time.monotonic()
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        if self.mode == "attach":
            send_signal(proc.pid, signal.SIGTERM)
            return
        if self._command_pid is not None and not from_terminal(signum):
            send_signal(self._command_pid, signal.SIGCONT)
            send_signal(self._command_pid, signum)

    def _escalate(self) -> None:
        assert self._stop_at is not None
        if self._escalated or time.monotonic() - self._stop_at < self.stop_grace:
            return
        self._escalated = True
        if self.mode == "run" and self._command_pid is not None:
            send_signal(self._command_pid, signal.SIGKILL)
        if self._proc is not None:
            send_signal(self._proc.pid, signal.SIGTERM)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._shutdown()

    def _shutdown(self) -> None:
        try:
            released = self._gofd < 0
            if not released:
                # Not started yet (the warm-up failed): the end of the go pipe
                # tells the loader to give up once attached, and to detach
                # itself, which a SIGTERM before its handler would not let it do.
                os.close(self._gofd)
                self._gofd = -1
            proc = self._proc
            if proc is not None and proc.poll() is None:
                if released and not self._finished and not self._done:
                    # Abandoned before the log ended: stop tracing now.
                    if self.mode == "run" and self._command_pid is not None:
                        send_signal(self._command_pid, signal.SIGKILL)
                    send_signal(proc.pid, signal.SIGTERM)
                deadline = time.monotonic() + self.exit_timeout
                while not self._done and proc.poll() is None and time.monotonic() < deadline:
                    self._status_lines(0.05)
                if self._done:
                    # What is left is the detach: reaped when it ends.
                    threading.Thread(target=proc.wait, daemon=True).start()
                else:
                    send_signal(proc.pid, signal.SIGKILL)
                    proc.wait()
        finally:
            if self._pipe is not None:
                self._pipe.close()
            for name in ("_sfd", "_gofd"):
                fd = getattr(self, name)
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
                    setattr(self, name, -1)
            self._finished = True
