"""Start strace, stream the lines it writes, and stop it cleanly.

This is the only module that starts strace or sends it (or its tracees)
signals. :class:`StraceRunner` traces a command (run mode) or attaches to
running processes (attach mode), hands out the log lines as strace writes
them, and guarantees that neither strace nor a tracee is left behind, stopped
or half-traced, however the caller leaves the ``with`` block.

How the pieces fit:

- strace writes its log with ``-o`` into a FIFO in a private ``mkdtemp``
  folder; nothing goes to the traced command's stdout or stderr.
- In attach mode strace's own stderr is a pipe read by a thread: "Process N
  attached" confirms the attach, complaints become typed errors, the rest is
  dropped. In run mode the command inherits strace's stderr, so that pipe
  would also swallow the command's stderr: strace keeps the caller's stderr
  there, and a probe run (strace tracing ``strace -V`` with the same options,
  stderr captured) turns its complaints into typed errors before the command
  starts.
- A watcher thread reaps strace and carries out a pending :meth:`stop`.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType

from iomonitor.errors import (
    CaptureError,
    CommandNotFoundError,
    NoSuchProcessError,
    UsageError,
)
from iomonitor.logpipe import LogPipe
from iomonitor.processes import (
    alive,
    check_command,
    check_pids,
    from_terminal,
    kill_tree,
    send_signal,
    tracees,
)
from iomonitor.schema import TRACED_SYSCALLS
from iomonitor.strace.command import (
    ATTACH_FAILED,
    STRING_LIMIT,
    UNABBREVIATED_SYSCALLS,
    classify,
    decode_fds_option,
    find_strace,
    probe_features,
)

#: fds named in run mode unless the caller decides; see benchmarks/decode_fds_cost.py.
DEFAULT_DECODE_FDS = True

#: strace writes every line to the FIFO on its own, so a reader that wakes up
#: whenever the FIFO is readable gets a line or two per wake-up: on a program
#: doing nothing but small I/O that cost iomonitor's process more CPU than
#: strace's own. After a read smaller than _BATCH_BYTES the reader lets the
#: FIFO fill for the time strace at its fastest (_STRACE_RATE) takes to fill
#: _BATCH_FILL of it: strace never waits for the reader, and a live view is
#: late by some 20 ms at most (1 MiB FIFO). Every wake-up costs the reader CPU
#: (a fixed 5 ms wait woke it 1,000-1,900 times on 100k small writes + reads).
_BATCH_BYTES = 1 << 16
_STRACE_RATE = 20e6
_BATCH_FILL = 0.4

#: strace writes each line's time through glibc's localtime(), which stat()s
#: /etc/localtime at every call while TZ is unset: two stat()s per line, a
#: sixth of the system calls strace makes for a traced read or write. Named in
#: strace's own environment, the same zone (what an unset TZ means) is read
#: once; ``-E TZ`` takes it out of the command's environment again.
_STRACE_TZ = ":/etc/localtime"

_ATTACHED = re.compile(r"Process (\d+) attached")
_DETACHED = re.compile(r"Process (\d+) detached")
_EXEC_FAILED = re.compile(r"^\d+\s+(?:\S+\s+)?execve\(.*\)\s+=\s+-1\s+(E\w+)\s+\(([^)]*)\)")


class StraceRunner:
    """Run strace on a command or on running processes and stream its log.

    Use it as a context manager: entering starts strace, leaving always ends
    it (killing what it traces in run mode, detaching in attach mode) and
    removes the FIFO and its folder.

    Parameters
    ----------
    command : sequence of str, optional
        The command to trace with all its children and threads (run mode).
    pids : sequence of int, optional
        Processes to attach to, with all their threads and new children
        (attach mode). Exactly one of ``command`` and ``pids`` is given.
    strace : str, optional
        The strace executable; by default ``strace`` on PATH, else
        :data:`iomonitor.strace.command.FALLBACK_STRACE`.
    decode_fds : bool, optional
        Ask strace to name every fd (its path, a socket's endpoints, a
        pidfd's process: :data:`iomonitor.strace.command.DECODE_FDS`). By default
        :data:`DEFAULT_DECODE_FDS`; always on in attach mode, where it is the
        only way to name fds opened before the attach.
    seccomp : bool, optional
        Use ``--seccomp-bpf`` so untraced calls cost nothing. By default on in
        run mode when strace supports it; strace refuses it with ``-p``.
    timestamps : bool, default True
        ``-ttt``: seconds since the epoch, microseconds.
    durations : bool, default True
        ``-T``: time spent in each call.
    extra_args : sequence of str, default ()
        More strace options, placed before the command or the ``-p`` list.

    Attributes
    ----------
    argv : list of str
        The exact strace command line. Until the runner is entered, ``-o`` is
        followed by the placeholder ``<fifo>``.
    env : dict of str to str or None
        strace's environment: None for the caller's own, or the caller's
        with ``TZ`` named when it has none (see ``_STRACE_TZ``; ``-E TZ`` in
        :attr:`argv` keeps the command's environment the caller's).
    strace_version : str
        strace's version, e.g. ``"6.1"``.
    exit_status : int or None
        Once :meth:`lines` has ended, the traced command's exit status
        (128+N when it was killed by signal N); None in attach mode.
    stop_grace : float
        Seconds :meth:`stop` waits in run mode for the trace to end after
        signalling the command before it kills every process still traced.

    Examples
    --------
    >>> with StraceRunner(["sh", "-c", "echo hi > /dev/null"]) as runner:  # doctest: +SKIP
    ...     lines = list(runner.lines())
    >>> runner.exit_status  # doctest: +SKIP
    0
    """

    #: Seconds __enter__ waits for strace to show it has started tracing.
    start_timeout: float = 10.0
    #: Seconds after a stop before strace itself is killed if it is not blocked
    #: on a full FIFO (a stuck detach, a tracee that never dies).
    kill_timeout: float = 10.0
    #: Seconds __exit__ waits for an abandoned strace before killing it.
    exit_timeout: float = 5.0

    def __init__(
        self,
        command: Sequence[str] | None = None,
        pids: Sequence[int] | None = None,
        *,
        strace: str | None = None,
        decode_fds: bool | None = None,
        seccomp: bool | None = None,
        timestamps: bool = True,
        durations: bool = True,
        extra_args: Sequence[str] = (),
    ) -> None:
        if (command is None) == (pids is None):
            raise UsageError("give either a command to trace or pids to attach to, not both")
        self.command: list[str] | None = None
        self.pids: list[int] | None = None
        if command is not None:
            if isinstance(command, str) or not command:
                raise UsageError("the command is a non-empty sequence of strings")
            self.command = [os.fspath(part) for part in command]
            if decode_fds is None:
                decode_fds = DEFAULT_DECODE_FDS
        else:
            assert pids is not None
            self.pids = check_pids(pids)
            if decode_fds is False:
                raise UsageError("attaching always names fds: decode_fds=False is not possible")
            if seccomp:
                raise UsageError("strace cannot use --seccomp-bpf when attaching (-p)")
            decode_fds = True
        self.mode = "run" if self.command is not None else "attach"
        self.strace = find_strace(strace)
        self.strace_version, features = probe_features(self.strace)
        if self.mode == "run":
            supported = "--seccomp-bpf" in features
            if seccomp and not supported:
                raise UsageError(f"strace {self.strace_version} does not support --seccomp-bpf")
            seccomp = supported if seccomp is None else seccomp
        self.decode_fds = bool(decode_fds)
        self._decode_fds_option = decode_fds_option(features)
        self.seccomp = bool(seccomp)
        self.timestamps = timestamps
        self.durations = durations
        self.extra_args = [str(a) for a in extra_args]
        # Newer strace can kill its tracees when it dies itself; in run mode that
        # is wanted: a tracee left under a --seccomp-bpf filter without a tracer
        # gets ENOSYS from every traced call.
        self._kill_on_exit = self.mode == "run" and "--kill-on-exit" in features
        # strace's environment: the caller's, with TZ named when it is not.
        self.env: dict[str, str] | None = None
        if "TZ" not in os.environ:
            self.env = {**os.environ, "TZ": _STRACE_TZ}
        self.argv: list[str] = self._build_argv("<fifo>")
        self.exit_status: int | None = None
        self.stop_grace = 3.0

        self._proc: subprocess.Popen[bytes] | None = None
        self._tmpdir: str | None = None
        self._pipe: LogPipe | None = None
        self._buf = b""
        self._early: list[str] = []
        self._reading = False
        self._finished = False
        self._command_pid: int | None = None
        self._exited = threading.Event()
        self._stderr_done = threading.Event()
        self._attach_cond = threading.Condition()
        self._attached: set[int] = set()
        self._complaints: list[str] = []
        self._threads: list[threading.Thread] = []
        # Written by stop() (maybe from a signal handler: no locks), read by the watcher.
        self._stop_at: float | None = None
        self._stop_signal = signal.SIGTERM
        self._forward = True
        self._signalled = False

    # -- command line ---------------------------------------------------------

    def _build_argv(self, output: str) -> list[str]:
        argv = [self.strace, "-f", "-o", output]
        if self.timestamps:
            argv.append("-ttt")
        if self.durations:
            argv.append("-T")
        if self.decode_fds:
            argv.append(self._decode_fds_option)
        argv += ["-s", str(STRING_LIMIT)]
        argv += ["-e", "abbrev=!" + ",".join("?" + n for n in UNABBREVIATED_SYSCALLS)]
        argv += ["-e", "trace=" + ",".join("?" + n for n in TRACED_SYSCALLS)]
        if self.mode == "run":
            # Fatal signals never stop strace (its default for -o FILE PROG,
            # made explicit): a terminal's Ctrl-C reaches the command, which
            # decides what to do, and strace records it until it exits.
            argv += ["-I", "3"]
            if self.seccomp:
                argv.append("--seccomp-bpf")
            if self._kill_on_exit:
                argv.append("--kill-on-exit")
            if self.env is not None:
                argv += ["-E", "TZ"]
        argv += self.extra_args
        if self.command is not None:
            argv += ["--", *self.command]
        else:
            assert self.pids is not None
            for pid in self.pids:
                argv += ["-p", str(pid)]
        return argv

    # -- starting ---------------------------------------------------------------

    def __enter__(self) -> StraceRunner:
        if self._proc is not None or self._finished:
            raise UsageError("a StraceRunner can be started only once")
        if self.command is not None:
            check_command(self.command[0])
            self._probe()
        else:
            assert self.pids is not None
            for pid in self.pids:
                if not os.path.exists(f"/proc/{pid}"):
                    raise NoSuchProcessError(pid)
        try:
            self._start()
            self._confirm_start()
            if self._stop_at is not None:
                self._signal_stop()
        except BaseException:
            self._shutdown()
            raise
        return self

    def _probe(self) -> None:
        """Trace ``strace -V`` with the real options; turn complaints into errors.

        In run mode the command shares strace's stderr, so strace's own
        messages cannot be captured there. This run shows, with stderr
        captured, whether ptrace is allowed and every option is accepted.
        """
        argv = self._build_argv(os.devnull)
        argv = [*argv[: argv.index("--") + 1], self.strace, "-V"]
        try:
            proc = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=self.env,
                timeout=60,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise CaptureError("strace did not finish tracing a trivial command") from None
        if proc.returncode != 0:
            said = proc.stderr.decode(errors="replace").splitlines()
            raise classify(said, self.strace, self.command, None, proc.returncode)

    def _start(self) -> None:
        self._tmpdir = tempfile.mkdtemp(prefix="iomonitor-")
        fifo = os.path.join(self._tmpdir, "strace.fifo")
        self._pipe = LogPipe.fifo(fifo)
        self._batch_wait = _BATCH_FILL * self._pipe.size / _STRACE_RATE
        self.argv = self._build_argv(fifo)
        if self.mode == "run":
            # Same process group and terminal as the caller: the command stays
            # in the foreground job (it can read the terminal, gets Ctrl-C and
            # Ctrl-Z), and it inherits stdin/stdout/stderr untouched.
            self._proc = subprocess.Popen(self.argv, close_fds=True, env=self.env)
        else:
            # Own session: a terminal's Ctrl-C or Ctrl-Z never reaches strace;
            # a stopped strace would freeze the traced service. iomonitor
            # decides when to detach (stop()).
            self._proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                close_fds=True,
                start_new_session=True,
                env=self.env,
            )
            self._spawn(self._read_stderr, "stderr")
        self._spawn(self._watch, "watcher")

    def _spawn(self, target: Callable[[], None], what: str) -> None:
        thread = threading.Thread(target=target, name=f"strace-{what}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _confirm_start(self) -> None:
        """Wait until strace traces (or fails); raise its failure as a typed error."""
        deadline = time.monotonic() + self.start_timeout
        if self.mode == "attach":
            assert self.pids is not None
            wanted = set(self.pids)
            with self._attach_cond:
                while (
                    not wanted <= self._attached
                    and not self._exited.is_set()
                    and not self._attach_failure()
                    and time.monotonic() < deadline
                ):
                    self._attach_cond.wait(0.05)
            if self._attach_failure() or self._exited.is_set():
                if self._exited.is_set():
                    self._stderr_done.wait(1.0)
                rc = self._proc.returncode if self._proc else None
                raise classify(self._complaints, self.strace, None, self.pids, rc, attach=True)
            return
        # Run mode: the first line is the command's execve (strace shows
        # nothing before it); a failed one means the command never ran.
        while not self._early and time.monotonic() < deadline:
            exited = self._exited.is_set()
            self._early.extend(self._read_lines())
            if self._early or exited:
                break
            self._pipe.wait(0.05)
        if self._early:
            first = self._early[0]
            self._command_pid = _leading_int(first)
            failed = _EXEC_FAILED.match(first)
            if failed:
                self._exited.wait(self.exit_timeout)
                assert self.command is not None
                raise CommandNotFoundError(self.command[0], f"cannot execute: {failed.group(2)}")
        elif self._exited.is_set():
            assert self._proc is not None
            raise CaptureError(
                f"strace exited with status {self._proc.returncode} before the command started"
            )

    def _attach_failure(self) -> bool:
        return any(ATTACH_FAILED.search(c) for c in self._complaints)

    # -- threads ----------------------------------------------------------------

    def _read_stderr(self) -> None:
        """Attach mode: keep attach confirmations and complaints, drop the rest."""
        assert self._proc is not None and self._proc.stderr is not None
        try:
            for raw in self._proc.stderr:
                line = raw.decode(errors="replace").rstrip("\n")
                m = _ATTACHED.search(line)
                with self._attach_cond:
                    if m:
                        self._attached.add(int(m.group(1)))
                    elif not _DETACHED.search(line) and len(self._complaints) < 100:
                        self._complaints.append(line)
                    self._attach_cond.notify_all()
        finally:
            self._stderr_done.set()

    def _watch(self) -> None:
        """Reap strace; carry out a pending stop; wake the reader when strace is gone."""
        proc = self._proc
        assert proc is not None
        try:
            # Readable when strace exits: no polling while the trace runs.
            pidfd = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):
            pidfd = -1
        try:
            while True:
                if pidfd >= 0:
                    ready, _, _ = select.select([pidfd], [], [], 0.25)
                    if ready:
                        proc.wait()
                        break
                else:
                    try:
                        proc.wait(timeout=0.25)
                        break
                    except subprocess.TimeoutExpired:
                        pass
                if self._stop_at is not None:
                    self._escalate()
        finally:
            if pidfd >= 0:
                os.close(pidfd)
        self._exited.set()
        with self._attach_cond:
            self._attach_cond.notify_all()
        if self._pipe is not None:
            self._pipe.wake()

    def _escalate(self) -> None:
        assert self._stop_at is not None and self._proc is not None
        waited = time.monotonic() - self._stop_at
        if self.mode == "run" and waited >= self.stop_grace:
            # The command did not end on its signal (or children live on):
            # kill everything strace still traces. strace records each death
            # and exits on its own, having written every line. Repeated, for
            # children forked meanwhile.
            for pid, _ in tracees(self._proc.pid):
                send_signal(pid, signal.SIGKILL)
        if waited >= self.kill_timeout and not self._pipe.backed_up():
            # strace is not waiting for the consumer, yet still runs: stuck
            # (a detach waiting on a process in uninterruptible sleep). Killing
            # it is safe: the kernel detaches its tracees.
            send_signal(self._proc.pid, signal.SIGKILL)

    # -- reading ----------------------------------------------------------------

    def lines(self) -> Iterator[str]:
        """Yield strace's log lines as it writes them, until strace exits.

        Lines come without their newline; bytes that are not UTF-8 are kept as
        surrogate escapes (``str.encode("utf-8", "surrogateescape")`` gives them
        back). A last line strace left unterminated (``<detached ...>``) is
        yielded too. Afterwards :attr:`exit_status` is set.

        Returns
        -------
        iterator of str
            Can be taken once per runner, inside the ``with`` block.

        Raises
        ------
        CaptureError
            When strace fails while attached.
        """
        self._claim()
        return self._iter_lines()

    def blocks(self, idle: float = 1.0) -> Iterator[bytes]:
        """The bytes strace writes, each time the FIFO is read, until strace exits.

        The converter's core takes them as they are: a line may be cut
        between two blocks (the last one may lack its newline).

        Parameters
        ----------
        idle : float, default 1.0
            When strace writes nothing for this many seconds, an empty block
            is yielded, so that a caller can flush what it holds while the
            traced program is quiet.

        Returns
        -------
        iterator of bytes
            Can be taken once per runner (or :meth:`lines`),
            inside the ``with`` block.
        """
        self._claim()
        return self._iter_blocks(idle)

    def _claim(self) -> None:
        if self._proc is None or self._pipe is None or self._pipe.closed:
            raise UsageError("read the lines inside the runner's with block")
        if self._reading:
            raise UsageError("the lines of a StraceRunner can be read only once")
        self._reading = True

    def _iter_lines(self) -> Iterator[str]:
        rest = b""
        for block in self._iter_blocks(1.0):
            buf = rest + block
            cut = buf.rfind(b"\n")
            if cut < 0:
                rest = buf
                continue
            rest = buf[cut + 1 :]
            yield from buf[:cut].decode("utf-8", "surrogateescape").split("\n")
        if rest:
            yield rest.decode("utf-8", "surrogateescape")

    def _iter_blocks(self, idle: float) -> Iterator[bytes]:
        # The lines read while waiting for the command's execve come first.
        early, self._early = self._early, []
        head = "".join(line + "\n" for line in early).encode("utf-8", "surrogateescape")
        head += self._buf
        self._buf = b""
        if head:
            yield head
        while True:
            if self._pipe.closed:  # the with block was left
                return
            # Check before draining: once strace is reaped, all it wrote is in
            # the FIFO, so a drain that follows sees the whole log.
            exited = self._exited.is_set()
            got = self._pipe.read(drain=exited)
            if got:
                yield got
            if exited:
                break
            if got and len(got) < _BATCH_BYTES:
                time.sleep(self._batch_wait)
            if not got:
                before = time.monotonic()
                self._pipe.wait(idle)
                if time.monotonic() - before >= idle:
                    yield b""
        self._finish()

    def _read_lines(self) -> list[str]:
        """Read what the FIFO holds now; return the complete lines (the rest waits)."""
        buf = self._buf + self._pipe.read()
        cut = buf.rfind(b"\n")
        if cut < 0:
            self._buf = buf
            return []
        self._buf = buf[cut + 1 :]
        return buf[:cut].decode("utf-8", "surrogateescape").split("\n")

    def _finish(self) -> None:
        assert self._proc is not None
        rc = self._proc.wait()
        self._finished = True
        if self.mode == "run":
            # strace exits with the command's status and re-raises the signal
            # that killed it (with core dumps off): -N here means signal N.
            self.exit_status = rc if rc >= 0 else 128 - rc
            if self._stop_at is None and self._command_pid is not None and alive(self._command_pid):
                # strace itself died (killed, crashed) while the command runs
                # on: untraced, and under a seccomp filter with no tracer its
                # traced calls now fail with ENOSYS. strace >= 6.2 ends such
                # orphans itself (--kill-on-exit); do the same, then say so.
                killed = kill_tree(self._command_pid)
                how = f"killed by signal {-rc}" if rc < 0 else f"exit status {rc}"
                self.exit_status = None
                raise CaptureError(
                    f"strace died ({how}) while the command was running; "
                    f"the command was stopped ({killed} processes)"
                )
            return
        self._stderr_done.wait(1.0)
        if self._stop_at is None and rc > 0 and self._complaints:
            raise classify(self._complaints, self.strace, None, self.pids, rc)

    # -- stopping -----------------------------------------------------------------

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Ask strace to stop; :meth:`lines` then ends soon after.

        Safe to call from a signal handler or another thread, and more than
        once (only the first call counts). Every line strace writes until it
        exits is still delivered.

        Parameters
        ----------
        signum : int, default SIGTERM
            Attach mode: ignored; strace detaches (SIGINT) and the targets keep
            running. Run mode: the signal to send the traced command, as strace
            itself does on SIGINT/SIGTERM; pass the signal the caller received.
            A SIGINT or SIGQUIT is not sent again when it came from the
            terminal (Ctrl-C, Ctrl-\\): the terminal sent it to the whole
            foreground job, the command included, and a second one would hit
            the command's own clean-up. If the trace has not ended
            :attr:`stop_grace` seconds later, every process strace still
            traces is killed (SIGKILL).
        """
        if self._stop_at is not None:
            return
        self._stop_signal = signum
        self._forward = not (self.mode == "run" and from_terminal(signum))
        self._stop_at = time.monotonic()
        if self._proc is not None and not self._exited.is_set():
            self._signal_stop()

    def _signal_stop(self) -> None:
        proc = self._proc
        if proc is None or proc.returncode is not None or self._signalled:
            return
        # A stopped strace (Ctrl-Z) could neither detach nor trace to the end.
        send_signal(proc.pid, signal.SIGCONT)
        if self.mode == "attach":
            # strace detaches from every thread on SIGINT (tracees in a
            # syscall are interrupted, stopped ones stay stopped) and exits.
            send_signal(proc.pid, signal.SIGINT)
            self._signalled = True
            return
        # Run mode: strace blocks fatal signals (-I 3), so do what it does on
        # them itself: SIGCONT and the signal to the command it started.
        if not self._forward:
            return
        pid = self._command_pid
        if pid is None:
            pid = next((p for p, ppid in tracees(proc.pid) if ppid == proc.pid), None)
        if pid is not None:
            send_signal(pid, signal.SIGCONT)
            send_signal(pid, self._stop_signal)
            self._signalled = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._shutdown()

    def _shutdown(self) -> None:
        """End strace if it still runs (draining its log), then remove the FIFO."""
        try:
            proc = self._proc
            if proc is not None and not self._exited.is_set():
                # Abandoned: the caller left before the log ended.
                if self._stop_at is None:
                    self.stop()
                if self.mode == "run":
                    self.stop_grace = min(self.stop_grace, 1.0)
                deadline = time.monotonic() + self.exit_timeout
                while not self._exited.is_set() and time.monotonic() < deadline:
                    # Keep reading: strace blocked on a full FIFO never exits.
                    self._pipe.discard()
                    self._pipe.wait(0.1)
                if not self._exited.is_set():
                    if self.mode == "run":
                        for pid, _ in tracees(proc.pid):
                            send_signal(pid, signal.SIGKILL)
                    send_signal(proc.pid, signal.SIGKILL)
                proc.wait()
            left_early = self._reading and self.exit_status is None
            if proc is not None and self.mode == "run" and left_early:
                rc = proc.returncode
                self.exit_status = rc if rc >= 0 else 128 - rc
            for thread in self._threads:
                thread.join(5.0)
            if proc is not None and proc.stderr is not None:
                proc.stderr.close()
        finally:
            if self._pipe is not None:
                self._pipe.close()
            if self._tmpdir is not None:
                shutil.rmtree(self._tmpdir, ignore_errors=True)
                self._tmpdir = None
            self._finished = True


# -- helpers --------------------------------------------------------------------


def _leading_int(line: str) -> int | None:
    head = line.split(None, 1)[0] if line.strip() else ""
    return int(head) if head.isdigit() else None
