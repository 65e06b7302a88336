"""StraceRunner with real strace: real programs, real signals, nothing left behind.

Every test that runs strace checks afterwards that strace was reaped and that
the runner's private folder (with the FIFO) is gone.
"""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from strace_log import whole_calls

from iomonitor.errors import (
    CaptureError,
    CommandNotFoundError,
    NoSuchProcessError,
    PtraceError,
    StraceNotFoundError,
    UsageError,
)
from iomonitor.schema import TRACED_SYSCALLS
from iomonitor.strace import runner as runner_module
from iomonitor.strace.command import decode_fds_option
from iomonitor.strace.runner import StraceRunner

STRACE = "/usr/bin/strace"

needs_strace = [
    pytest.mark.strace,
    pytest.mark.skipif(
        not os.access(STRACE, os.X_OK),
        reason=f"{STRACE} is absent: these tests run real strace",
    ),
]

PY = sys.executable

#: Generous bound for "promptly" on a loaded two-core machine.
PROMPT = 8.0


def check_clean(runner: StraceRunner, strace_pid: int, tmpdir: str) -> None:
    """strace reaped, no FIFO or folder left."""
    assert runner._proc is not None and runner._proc.returncode is not None
    assert not os.path.exists(f"/proc/{strace_pid}"), "strace is still there"
    assert not os.path.exists(tmpdir), "the runner's folder was left behind"


@contextlib.contextmanager
def started(runner: StraceRunner) -> Iterator[StraceRunner]:
    """Enter the runner; on leaving, check that nothing was left behind."""
    with runner:
        assert runner._proc is not None and runner._tmpdir is not None
        pid, tmpdir = runner._proc.pid, runner._tmpdir
        assert os.path.exists(os.path.join(tmpdir, "strace.fifo"))
        yield runner
    check_clean(runner, pid, tmpdir)


def traced(command: list[str], **kw: object) -> tuple[list[str], StraceRunner]:
    runner = StraceRunner(command, **kw)  # type: ignore[arg-type]
    with started(runner):
        lines = list(runner.lines())
    return lines, runner


def alive(pid: int) -> bool:
    """Exists, not a zombie, not stopped, not traced."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    return fields["State"][0] not in "ZXTt" and fields["TracerPid"].strip() == "0"


def gone(pid: int, timeout: float = PROMPT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in "ZX":
            return True
        time.sleep(0.02)
    return False


def free_pid() -> int:
    """A pid that no process has (one just reaped)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    assert not os.path.exists(f"/proc/{proc.pid}")
    return proc.pid


# -- run mode ---------------------------------------------------------------------


class TestRunMode:
    pytestmark = needs_strace

    def test_lines_include_the_programs_writes(self, tmp_path: Path) -> None:
        out = tmp_path / "out.bin"
        prog = f"import os\nfd = os.open({str(out)!r}, os.O_WRONLY | os.O_CREAT)\n"
        prog += "os.write(fd, b'x' * 4321)\nos.close(fd)\n"
        lines, runner = traced([PY, "-c", prog], decode_fds=True)
        assert runner.exit_status == 0
        writes = [ln for ln in whole_calls(lines) if " write(" in ln]
        mine = [ln for ln in writes if f"<{out}>" in ln and "= 4321" in ln]
        assert len(mine) == 1, writes
        # -f -o: every line starts with the pid, then the -ttt time.
        assert all(re.match(r"\d+ +\d+\.\d{6} ", ln) for ln in lines), lines[:3]
        assert lines[0].split()[2].startswith("execve(")
        assert lines[-1].endswith("+++ exited with 0 +++")

    def test_reader_takes_many_lines_per_wake_up(self) -> None:
        # strace writes each line to the FIFO on its own: a reader woken by
        # every write took a line or two each time and spent more CPU than
        # strace. It now lets the FIFO fill between reads. How many lines a
        # wait gathers depends on how fast strace runs (on an idle machine each
        # ptrace stop is slower: 723 reads were seen here, against 11,062 with
        # no wait), so the bound is ten lines a read on average.
        n = 20_000
        prog = "import os\nfd = os.open('/dev/null', os.O_WRONLY)\n"
        prog += f"for _ in range({n}): os.write(fd, b'x')\n"
        runner = StraceRunner([PY, "-c", prog])
        with started(runner):
            blocks = [b for b in runner.blocks() if b]
        data = b"".join(blocks)
        # Named by its path alone: no device numbers (no stat() per fd).
        assert data.count(b'</dev/null>, "x", 1) = 1') == n
        assert len(blocks) < n / 10, len(blocks)

    @pytest.mark.parametrize("tz", [None, "Europe/Paris"])
    def test_command_gets_the_callers_tz(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tz: str | None
    ) -> None:
        # strace itself runs with TZ named (one read of the zone instead of two
        # stat()s per line); the command's environment is the caller's.
        if tz is None:
            monkeypatch.delenv("TZ", raising=False)
        else:
            monkeypatch.setenv("TZ", tz)
        seen = tmp_path / "tz"
        prog = "import os, sys; open(sys.argv[1], 'w').write(os.environ.get('TZ', '(unset)'))"
        _, runner = traced([PY, "-c", prog, str(seen)])
        assert runner.exit_status == 0
        assert seen.read_text() == (tz or "(unset)")

    @pytest.mark.parametrize(
        ("script", "status"),
        [("exit 3", 3), ("kill -KILL $$", 137), ("kill -TERM $$", 143), ("exit 0", 0)],
    )
    def test_exit_status_is_the_commands(self, script: str, status: int) -> None:
        _, runner = traced(["sh", "-c", script])
        assert runner.exit_status == status

    def test_command_not_found(self) -> None:
        with pytest.raises(CommandNotFoundError) as err:
            traced(["iomonitor-no-such-command"])
        assert err.value.exit_code == 127
        assert "iomonitor-no-such-command" in str(err.value)

    def test_not_executable_and_directory(self, tmp_path: Path) -> None:
        plain = tmp_path / "plain.txt"
        plain.write_text("echo hi\n")
        with pytest.raises(CommandNotFoundError, match="not executable"):
            traced([str(plain)])
        with pytest.raises(CommandNotFoundError, match="directory"):
            traced([str(tmp_path)])

    def test_bad_interpreter_is_command_not_found(self, tmp_path: Path) -> None:
        # Executable, so it passes the PATH check; only the execve strace runs fails.
        script = tmp_path / "script"
        script.write_text("#!/iomonitor/no/such/interpreter\n")
        script.chmod(0o755)
        runner = StraceRunner([str(script)])
        with pytest.raises(CommandNotFoundError, match="cannot execute"):
            runner.__enter__()
        assert runner._proc is not None and runner._proc.returncode is not None
        assert runner._tmpdir is None

    def test_argv(self) -> None:
        runner = StraceRunner(["true", "a b"], extra_args=["-X", "abbrev"])
        with started(runner):
            argv = runner.argv
            fifo = argv[argv.index("-o") + 1]
            assert fifo == os.path.join(runner._tmpdir or "", "strace.fifo")
            list(runner.lines())
        assert argv[:2] == [runner.strace, "-f"]
        for flag in ("-ttt", "-T", "--decode-fds=path,socket,pidfd", "--seccomp-bpf"):
            assert flag in argv
        assert argv[argv.index("-I") + 1] == "3"
        assert argv[argv.index("-s") + 1].isdigit()
        trace = next(a for a in argv if a.startswith("trace="))
        names = trace.removeprefix("trace=").split(",")
        assert "?close_range" in names and "?write" in names and "?chdir" in names
        assert argv[-5:] == ["-X", "abbrev", "--", "true", "a b"]
        assert runner.strace_version[0].isdigit()

    def test_stop_ends_promptly(self) -> None:
        runner = StraceRunner([PY, "-c", "import time; time.sleep(60)"])
        with started(runner):
            lines = runner.lines()
            first = next(lines)
            command = int(first.split()[0])
            started_at = time.monotonic()
            runner.stop()
            rest = list(lines)
            took = time.monotonic() - started_at
        assert took < PROMPT
        assert runner.exit_status == 128 + signal.SIGTERM
        assert rest[-1].endswith("+++ killed by SIGTERM +++")
        assert gone(command)

    def test_stop_before_start(self) -> None:
        # A signal can come while the runner is still being set up.
        runner = StraceRunner(["sleep", "60"])
        runner.stop()
        started_at = time.monotonic()
        with started(runner):
            lines = list(runner.lines())
        assert time.monotonic() - started_at < PROMPT
        assert runner.exit_status == 128 + signal.SIGTERM
        assert lines[-1].endswith("+++ killed by SIGTERM +++")

    def test_stop_with_sigint_lets_the_command_clean_up(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # As if iomonitor got a SIGINT that did not come from a terminal: the
        # runner forwards it, and the command's own clean-up is traced.
        monkeypatch.setattr(runner_module, "from_terminal", lambda signum: False)
        runner = StraceRunner([PY, "-c", ARMED])
        with started(runner):
            lines = runner.lines()
            for line in lines:
                if '"armed"' in line:
                    break
            runner.stop(signal.SIGINT)
            rest = list(lines)
        assert any('"cleanup"' in ln for ln in rest)
        assert rest[-1].endswith("+++ exited with 5 +++")
        assert runner.exit_status == 5

    def test_stop_kills_a_command_that_ignores_the_signal(self) -> None:
        prog = textwrap.dedent(
            """
            import os, signal, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            os.write(os.open(os.devnull, os.O_WRONLY), b"ignored")
            time.sleep(60)
            """
        )
        runner = StraceRunner([PY, "-c", prog])
        runner.stop_grace = 0.5
        with started(runner):
            lines = runner.lines()
            for line in lines:
                if '"ignored"' in line:
                    break
            started_at = time.monotonic()
            runner.stop()
            rest = list(lines)
            took = time.monotonic() - started_at
        assert took < runner.stop_grace + PROMPT
        assert runner.exit_status == 128 + signal.SIGKILL
        assert rest[-1].endswith("+++ killed by SIGKILL +++")

    def test_stop_reaches_children_that_outlive_the_command(self) -> None:
        # The command exits at once; its background child would keep strace
        # (and the trace) going for a minute.
        runner = StraceRunner(["sh", "-c", "sleep 60 & echo started > /dev/null"])
        runner.stop_grace = 0.5
        with started(runner):
            lines = runner.lines()
            for line in lines:
                if "+++ exited with 0 +++" in line:
                    break
            started_at = time.monotonic()
            runner.stop()
            rest = list(lines)
            took = time.monotonic() - started_at
        assert took < runner.stop_grace + PROMPT
        assert any("+++ killed by SIGKILL +++" in ln for ln in rest)
        assert runner.exit_status == 0  # the command's own

    def test_abandoned_iterator_kills_strace_and_command(self) -> None:
        runner = StraceRunner([PY, "-c", "import time; time.sleep(60)"])
        started_at = time.monotonic()
        with started(runner):
            first = next(runner.lines())
        assert time.monotonic() - started_at < PROMPT
        assert gone(int(first.split()[0]))

    def test_exception_inside_with_cleans_up(self) -> None:
        runner = StraceRunner(["sleep", "60"])
        with pytest.raises(RuntimeError), started(runner):
            first = next(runner.lines())
            raise RuntimeError("the consumer failed")
        assert gone(int(first.split()[0]))

    def test_commands_own_streams_are_untouched(self, tmp_path: Path) -> None:
        # A separate Python process plays iomonitor, so that its stdin,
        # stdout and stderr are files this test can read back exactly.
        driver = textwrap.dedent(
            """
            import sys
            from iomonitor.strace.runner import StraceRunner
            cmd = ["sh", "-c", "echo out; echo err >&2; read x; echo got $x"]
            with StraceRunner(cmd) as runner:
                n = sum(1 for _ in runner.lines())
            sys.exit(0 if n > 0 and runner.exit_status == 0 else 1)
            """
        )
        stdin = tmp_path / "stdin"
        stdin.write_text("line\n")
        with stdin.open() as f:
            proc = subprocess.run([PY, "-c", driver], stdin=f, capture_output=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == b"out\ngot line\n"
        assert proc.stderr == b"err\n"

    def test_unabbreviated_arrays(self) -> None:
        # 40 fds through SCM_RIGHTS and a pipe: arrays longer than -s (32) or,
        # for pipe2, any -s: strace prints them whole.
        prog = textwrap.dedent(
            """
            import os, socket
            os.pipe()
            a, b = socket.socketpair()
            fds = [os.open(os.devnull, os.O_RDONLY) for _ in range(40)]
            socket.send_fds(a, [b"x"], fds)
            socket.recv_fds(b, 10, 40)
            """
        )
        lines, _ = traced([PY, "-c", prog])
        lines = whole_calls(lines)
        recv = next(ln for ln in lines if " recvmsg(" in ln and "SCM_RIGHTS" in ln)
        data = re.search(r"cmsg_data=\[([^\]]*)\]", recv)
        assert data is not None and data.group(1).count("</dev/null") == 40, recv
        pipe = next(ln for ln in lines if " pipe2(" in ln)
        assert pipe.count("<pipe:") == 2, pipe

    def test_sendmmsg_of_1024_messages_shows_every_msg_len(self) -> None:
        n = 1024
        lines = whole_calls(traced([PY, "-c", MMSG, str(n)])[0])
        sent = next(ln for ln in lines if " sendmmsg(" in ln)
        got = next(ln for ln in lines if " recvmmsg(" in ln)
        expect = sum(1 + i % 7 for i in range(n))
        for line in (sent, got):
            lens = [int(x) for x in re.findall(r"msg_len=(\d+)", line)]
            assert len(lens) == n and sum(lens) == expect, line[-200:]
            assert line.rstrip().split(" = ")[-1].split()[0] == str(n)

    def test_traced_names_are_known_to_strace(self) -> None:
        # Catches typos: every name must be known, except those of other
        # architectures (i386 socketcall and 32-bit names) or legacy calls
        # that newer architectures lack.
        may_be_unknown = {
            "recv", "send", "fcntl64", "sendfile64", "mmap2",
            "open", "creat", "pipe", "dup2", "fork", "vfork", "epoll_create",
            "eventfd", "signalfd", "inotify_init",
        }  # fmt: skip
        unknown = []
        for name in TRACED_SYSCALLS:
            proc = subprocess.run(
                [STRACE, "-e", f"trace={name}", "-o", os.devnull, "true"],
                capture_output=True,
                timeout=30,
            )
            if proc.returncode != 0:
                unknown.append(name)
        assert set(unknown) <= may_be_unknown, unknown


MMSG = textwrap.dedent(
    """
    import ctypes, socket, sys
    n = int(sys.argv[1])
    libc = ctypes.CDLL(None, use_errno=True)
    class iovec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
    class msghdr(ctypes.Structure):
        _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                    ("iov", ctypes.POINTER(iovec)), ("iovlen", ctypes.c_size_t),
                    ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                    ("flags", ctypes.c_int)]
    class mmsghdr(ctypes.Structure):
        _fields_ = [("hdr", msghdr), ("len", ctypes.c_uint)]
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
    b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    bufs = [ctypes.create_string_buffer(16) for _ in range(n)]
    iovs = (iovec * n)()
    msgs = (mmsghdr * n)()
    for i in range(n):
        iovs[i].base = ctypes.addressof(bufs[i])
        iovs[i].len = 1 + i % 7
        msgs[i].hdr.iov = ctypes.pointer(iovs[i])
        msgs[i].hdr.iovlen = 1
    if libc.sendmmsg(a.fileno(), msgs, n, 0) != n:
        sys.exit("sendmmsg: %d" % ctypes.get_errno())
    for i in range(n):
        iovs[i].len = 16
    if libc.recvmmsg(b.fileno(), msgs, n, socket.MSG_DONTWAIT, None) != n:
        sys.exit("recvmmsg: %d" % ctypes.get_errno())
    """
)


# -- a terminal's Ctrl-C --------------------------------------------------------

#: Writes "armed" to /dev/null, sleeps; on Ctrl-C writes "cleanup" and exits 5.
ARMED = textwrap.dedent(
    """
    import os, time
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.write(null, b"armed")  # in the try: the signal may come right after it
        time.sleep(60)
    except KeyboardInterrupt:
        os.write(null, b"cleanup")
        raise SystemExit(5)
    """
)

CTRL_C_DRIVER = textwrap.dedent(
    """
    import signal, sys
    from iomonitor.strace import runner as runner_module
    from iomonitor.strace.runner import StraceRunner
    runner = StraceRunner([sys.executable, "-c", sys.argv[1]])
    signal.signal(signal.SIGINT, lambda *_: runner.stop(signal.SIGINT))
    seen = []
    with runner:
        for line in runner.lines():
            if '"armed"' in line:
                print("ready", flush=True)
            seen.append(line)
    print("cleanup-traced", any('"cleanup"' in ln for ln in seen))
    print("from-terminal", runner_module.from_terminal(signal.SIGINT))
    print("status", runner.exit_status, flush=True)
    """
)


@pytest.mark.strace
@pytest.mark.skipif(not os.access(STRACE, os.X_OK), reason=f"{STRACE} is absent")
def test_ctrl_c_in_a_terminal_reaches_the_command_once() -> None:
    # The driver (iomonitor's place) runs on a pseudo-terminal. Ctrl-C there
    # signals the whole foreground job: driver, strace and command. strace
    # ignores it (-I 3); the command cleans up in its own way and the runner
    # does not send it a second SIGINT in the middle of that.
    pid, master = pty.fork()
    if pid == 0:  # pragma: no cover - the child execs at once
        os.execv(PY, [PY, "-c", CTRL_C_DRIVER, ARMED])
    output = b""
    try:
        output = _read_until(master, b"ready", 60)
        os.write(master, b"\x03")
        output += _read_until(master, b"status", 60)
        output += _read_until(master, b"\n", 5)
    finally:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(master)
    text = output.decode(errors="replace")
    assert "from-terminal True" in text, text
    assert "cleanup-traced True" in text, text
    assert re.search(r"status 5\b", text), text


def _read_until(fd: int, marker: bytes, timeout: float) -> bytes:
    got = b""
    deadline = time.monotonic() + timeout
    while marker not in got:
        left = deadline - time.monotonic()
        assert left > 0, f"no {marker!r} in {got!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child is gone
                break
            if not chunk:
                break
            got += chunk
    return got


# -- attach mode ------------------------------------------------------------------

LOOP = textwrap.dedent(
    """
    import sys, time
    f = open(sys.argv[1], "w")
    while True:
        f.write("x")
        f.flush()
        time.sleep(0.01)
    """
)


@pytest.fixture
def target(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """A Python loop that appends to a file every 10 ms (opened before any attach)."""
    out = tmp_path / "loop.out"
    proc = subprocess.Popen([PY, "-c", LOOP, str(out)])
    deadline = time.monotonic() + 30
    while not (out.exists() and out.stat().st_size > 0):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.01)
    yield proc, out
    proc.kill()
    proc.wait()


class TestAttachMode:
    pytestmark = needs_strace

    def test_attach_stop_detaches_and_target_runs_on(
        self, target: tuple[subprocess.Popen[bytes], Path]
    ) -> None:
        proc, out = target
        runner = StraceRunner(pids=[proc.pid])
        assert "--decode-fds=path,socket,pidfd" in runner.argv
        assert "--seccomp-bpf" not in runner.argv
        assert runner.argv[-2:] == ["-p", str(proc.pid)]
        with started(runner):
            assert runner._proc is not None
            # Own session: a terminal's Ctrl-C or Ctrl-Z never reaches strace.
            assert os.getsid(runner._proc.pid) == runner._proc.pid
            lines = runner.lines()
            for line in lines:
                # The file was opened before the attach: strace still names it.
                if " write(" in line and f"<{out}>" in line:
                    break
            started_at = time.monotonic()
            runner.stop()
            list(lines)
            assert time.monotonic() - started_at < PROMPT
        assert runner.exit_status is None
        assert proc.poll() is None and alive(proc.pid)
        size = out.stat().st_size
        deadline = time.monotonic() + PROMPT
        while out.stat().st_size == size:
            assert time.monotonic() < deadline, "the target stopped writing after the detach"
            time.sleep(0.02)

    def test_abandoned_attach_detaches(self, target: tuple[subprocess.Popen[bytes], Path]) -> None:
        proc, _ = target
        with started(StraceRunner(pids=[proc.pid])) as runner:
            next(runner.lines())
        assert proc.poll() is None and alive(proc.pid)

    def test_no_such_pid(self) -> None:
        pid = free_pid()
        with pytest.raises(NoSuchProcessError) as err:
            StraceRunner(pids=[pid]).__enter__()
        assert err.value.pid == pid and err.value.exit_code == 7

    def test_already_traced_is_ptrace_error(
        self, target: tuple[subprocess.Popen[bytes], Path]
    ) -> None:
        proc, _ = target
        other = subprocess.Popen(
            [STRACE, "-o", os.devnull, "-p", str(proc.pid)], stderr=subprocess.PIPE
        )
        try:
            assert other.stderr is not None
            assert b"attached" in other.stderr.readline()
            runner = StraceRunner(pids=[proc.pid])
            with pytest.raises(PtraceError, match="Operation not permitted"):
                runner.__enter__()
            assert runner._proc is not None and runner._proc.returncode is not None
            assert runner._tmpdir is None
        finally:
            other.send_signal(signal.SIGINT)
            other.wait(30)
        assert alive(proc.pid)

    def test_one_bad_pid_detaches_from_the_others(
        self, target: tuple[subprocess.Popen[bytes], Path]
    ) -> None:
        proc, _ = target
        with pytest.raises(NoSuchProcessError):
            StraceRunner(pids=[proc.pid, free_pid()]).__enter__()
        assert alive(proc.pid)


# -- errors found before strace runs ------------------------------------------------


@pytest.mark.strace
@pytest.mark.skipif(not os.access(STRACE, os.X_OK), reason=f"{STRACE} is absent")
def test_strace_complaint_is_capture_error() -> None:
    with pytest.raises(CaptureError, match="iomonitor-no-such-option"):
        traced(["true"], extra_args=["--iomonitor-no-such-option"])


def test_strace_not_found() -> None:
    with pytest.raises(StraceNotFoundError):
        StraceRunner(["true"], strace="/iomonitor/no/such/strace")


@pytest.mark.skipif(not os.access(STRACE, os.X_OK), reason=f"{STRACE} is absent")
def test_usage_errors() -> None:
    with pytest.raises(UsageError):
        StraceRunner()
    with pytest.raises(UsageError):
        StraceRunner(["true"], [1])
    with pytest.raises(UsageError):
        StraceRunner([])
    with pytest.raises(UsageError):
        StraceRunner(pids=[1], seccomp=True)
    with pytest.raises(UsageError):
        StraceRunner(pids=[1], decode_fds=False)
    with pytest.raises(UsageError):
        StraceRunner(pids=[os.getpid()])
    with pytest.raises(UsageError):
        StraceRunner(["true"]).lines()


def test_fds_are_named_without_device_numbers_when_strace_can() -> None:
    # A strace that lists the kinds of --decode-fds is asked for the ones the
    # core reads; -yy would also stat() the path of every fd it prints.
    kinds = "--decode-fds=SET\n  dev (device numbers)\n  path\n  pidfd\n  socket\n"
    assert decode_fds_option(kinds) == "--decode-fds=path,socket,pidfd"
    # One without them (or without pidfd among them) names fds with -yy.
    assert decode_fds_option("-y print paths\n-yy print all\n") == "-yy"
    assert decode_fds_option("--decode-fds=SET\n  dev\n  path\n  socket\n") == "-yy"
