"""The eBPF backend against ground truth, and its behaviour as a capture.

The ground-truth scenarios also run under ``--backend ebpf`` in
``test_convert_ground_truth.py`` (flag set ``live-ebpf``, whose totals must
agree with strace's). Here: the torture program, TCP at both ends, the
kernel's own counters for real programs, attach, every one of 400,000 calls,
interruption, and the loader never outliving iomonitor.

Skipped only on a machine that cannot run the backend at all (no BTF, no
privilege, loader not built), with the reason.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import iomonitor
from iomonitor.ebpf.runner import LOADER, EbpfRunner, unavailable_reason
from iomonitor.processes import children

pytestmark = pytest.mark.strace

IOMONITOR = [sys.executable, "-m", "iomonitor"]

_REASON = unavailable_reason()
needs_ebpf = pytest.mark.skipif(
    _REASON is not None, reason=f"this machine cannot run the eBPF backend: {_REASON}"
)


def per_file(trace: iomonitor.Trace, under: Path) -> dict[tuple[str, str], int]:
    ev = trace.events
    mine = ev[ev["file"].astype(str).str.startswith(f"{under}/")]
    sums = mine.groupby(["file", "dir"], observed=True)["bytes"].sum()
    return {(str(f), str(d)): int(n) for (f, d), n in sums.items()}


def torture_under(backend: str, programs, tmp_path: Path, seed: int, ops: int):
    from conftest import parse_notes

    out = tmp_path / backend / "out"
    out.mkdir(parents=True)
    stdout = tmp_path / backend / "stdout"
    cmd = [
        "/bin/sh",
        "-c",
        f'exec "$0" "$@" > {stdout}',
        str(programs["torture"]),
        str(out),
        str(seed),
        str(ops),
    ]
    trace = iomonitor.run(cmd, backend=backend)
    assert trace.meta["exit_status"] == 0
    assert trace.meta["backend"] == backend
    return trace, parse_notes(stdout.read_bytes()), out


@needs_ebpf
@pytest.mark.parametrize("seed", [1, 2])
def test_torture_same_totals_under_both_backends(programs, tmp_path, seed) -> None:
    """Fork, vfork+exec, clone, threads, dup*, close_range, SCM_RIGHTS: exact bytes per file."""
    results = {}
    for backend in ("ebpf", "strace"):
        trace, notes, out = torture_under(backend, programs, tmp_path, seed, 300)
        expected = {
            (str(out / k[5:]), "W"): int(v) for k, v in notes.items() if k.startswith("file.")
        }
        # First what was lost where it is counted, then bytes written through
        # an fd the converter could not name: a total that differs after
        # both are zero is a silent loss.
        assert trace.meta["lost_records"] == 0, (backend, trace.meta)
        unnamed = trace.events[trace.events["file"].astype(str).str.startswith("unknown:")]
        assert unnamed.empty, (backend, unnamed.to_string())
        got = per_file(trace, out)
        assert got == expected, (backend, got, expected)
        assert trace.meta["unparsed_lines"] == 0, trace.meta
        assert trace.meta["unknown_fds"] == 0, trace.meta
        assert len(trace.processes) >= int(notes["processes"]) + 1
        # Per process: the bytes each program wrote, as a multiset (pids differ).
        ev = trace.events[trace.events["file"].astype(str).str.startswith(f"{out}/")]
        results[backend] = sorted(ev.groupby("pid", observed=True)["bytes"].sum().tolist())
    assert results["ebpf"] == results["strace"]


PASS_FD = textwrap.dedent(
    """
    import os, socket, sys
    a, b = socket.socketpair()
    for i in range(int(sys.argv[2])):
        pid = os.fork()
        if pid == 0:
            fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            socket.send_fds(b, [b"f"], [fd])
            os._exit(0)
        _, fds, _, _ = socket.recv_fds(a, 1, 1)
        os.waitpid(pid, 0)
        os.write(fds[0], b"p" * 100)
        os.close(fds[0])
    """
)


def receives_first(log: bytes) -> tuple[bytes, int]:
    """Put each SCM_RIGHTS recvmsg line before the sendmsg line it received from.

    The k-th receive pairs with the k-th send (the script passes one fd at a
    time). A receive already before its send (the order the kernel can give
    by itself) stays where it is: moving it before an earlier send would
    put it before the previous round's close of the same fd number.

    Returns the new log and how many receives precede their sends in it.
    """
    lines = log.split(b"\n")

    def positions(call: bytes) -> list[int]:
        return [i for i, line in enumerate(lines) if call in line and b"SCM_RIGHTS" in line]

    for k in range(len(positions(b" recvmsg("))):
        send, receive = positions(b" sendmsg(")[k], positions(b" recvmsg(")[k]
        if receive > send:
            lines.insert(send, lines.pop(receive))
    first = sum(
        r < s for s, r in zip(positions(b" sendmsg("), positions(b" recvmsg("), strict=True)
    )
    return b"\n".join(lines), first


@needs_ebpf
def test_scm_rights_fds_are_named_whatever_the_line_order_under_ebpf(tmp_path) -> None:
    """A received fd is named at the receiver, as strace's -yy does.

    Each line is written at its call's exit, and the receiver's recvmsg can
    end before the sender's sendmsg does (the sender preempted between the
    two): the torture test lost one write that way under load. Here the log
    is reordered so, and the bytes still go to the file.
    """
    script = tmp_path / "pass_fd.py"
    script.write_text(PASS_FD)
    target = tmp_path / "passed.out"
    runner = EbpfRunner([sys.executable, str(script), str(target), "5"])
    with runner:
        log = b"".join(runner.blocks())
    assert runner.exit_status == 0 and runner.drops == 0
    received = [line for line in log.split(b"\n") if b" recvmsg(" in line and b"SCM_RIGHTS" in line]
    assert len(received) == 5
    for line in received:
        assert b"cmsg_data=[" in line and f"<{target}>]".encode() in line, line
    swapped, first = receives_first(log)
    assert first == 5
    for name, text in (("in_order", log), ("swapped", swapped)):
        (tmp_path / f"{name}.log").write_bytes(text)
        trace = iomonitor.convert_log(tmp_path / f"{name}.log")
        ev = trace.events
        assert not ev["file"].astype(str).str.startswith("unknown:").any(), name
        written = ev[(ev["file"].astype(str) == str(target)) & (ev["dir"] == "W")]
        assert int(written["bytes"].sum()) == 500, (name, written.to_string())


PASS_MANY = textwrap.dedent(
    """
    import os, socket, sys
    out, n = sys.argv[1], int(sys.argv[2])
    a, b = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        fds = [os.open(f"{out}/f{k}", os.O_WRONLY | os.O_CREAT) for k in range(n)]
        socket.send_fds(b, [b"f"], fds)
        os._exit(0)
    _, fds, _, _ = socket.recv_fds(a, 1, n)
    os.waitpid(pid, 0)
    for k, fd in enumerate(fds):
        os.write(fd, b"m" * (10 + k))
    """
)


def pass_many(tmp_path: Path, n: int) -> tuple[iomonitor.Trace, Path]:
    script = tmp_path / "pass_many.py"
    script.write_text(PASS_MANY)
    out = tmp_path / "out"
    out.mkdir()
    # The log alone, converted with no sender line: every name comes from
    # the receiver's own line.
    runner = EbpfRunner([sys.executable, str(script), str(out), str(n)])
    with runner:
        log = b"".join(runner.blocks())
    assert runner.exit_status == 0 and runner.drops == 0
    alone = [line for line in log.split(b"\n") if b" sendmsg(" not in line]
    (tmp_path / "receiver.log").write_bytes(b"\n".join(alone))
    return iomonitor.convert_log(tmp_path / "receiver.log"), out


@needs_ebpf
def test_scm_rights_every_fd_of_a_message_is_named_under_ebpf(tmp_path) -> None:
    """All 16 fds of one message are named at the receiver (only 4 were before)."""
    trace, out = pass_many(tmp_path, 16)
    assert per_file(trace, out) == {(str(out / f"f{k}"), "W"): 10 + k for k in range(16)}
    assert trace.meta["unknown_fds"] == 0


@needs_ebpf
def test_scm_rights_fds_past_the_bound_are_counted_unknown_under_ebpf(tmp_path) -> None:
    """A message of 20 fds: the first 16 named, the 4 past the bound counted, not silent."""
    trace, out = pass_many(tmp_path, 20)
    got = per_file(trace, out)
    assert got == {(str(out / f"f{k}"), "W"): 10 + k for k in range(16)}
    ev = trace.events
    unknown = ev[ev["file"].astype(str).str.startswith("unknown:")]
    assert sorted(unknown["bytes"].astype(int)) == [26, 27, 28, 29]
    assert trace.meta["unknown_fds"] == 4


@needs_ebpf
def test_tcp_both_ends_exact_under_ebpf(programs, live_run, tmp_path) -> None:
    from test_kernel_truth import check_tcp_pairs

    run, trace = live_run(tmp_path, [str(programs["tcp_pairs"]), "5"], tmp_path, backend="ebpf")
    check_tcp_pairs(trace, run.notes, 5)
    assert trace.meta["lost_records"] == 0


@needs_ebpf
@pytest.mark.parametrize("tool", ["tar", "gzip"])
def test_kernel_counters_agree_under_ebpf(programs, tmp_path, tool) -> None:
    """A real program's reads and writes against the kernel's /proc/PID/io."""
    import test_kernel_truth as kt

    tree = tmp_path / "tree"
    kt.make_tree(tree)
    if tool == "tar":
        argv = [kt.tool("tar"), "-cf", "arch.tar", "tree"]
    else:
        (tmp_path / "data.txt").write_bytes((tree / "sub" / "d.txt").read_bytes())
        argv = [kt.tool("gzip"), "-k", "data.txt"]
    m = kt.measure(programs, tmp_path, argv, tmp_path, backend="ebpf")
    kt.check_kernel(m)


WRITER = textwrap.dedent(
    """
    import socket, sys, time
    log = open(sys.argv[1], "w")
    peer = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
    print("ready", flush=True)
    for i in range(int(sys.argv[3])):
        log.write("x" * 100); log.flush()
        peer.sendall(b"y" * 10)
        time.sleep(0.01)
    """
)


@needs_ebpf
def test_attach_names_fds_opened_before_under_ebpf(tmp_path) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    log = tmp_path / "target.log"
    target = subprocess.Popen(
        [sys.executable, str(script), str(log), str(port), "100000"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        conn, _ = server.accept()
        assert target.stdout.readline() == "ready\n"
        out = tmp_path / "attach.parquet"
        res = subprocess.run(
            [
                *IOMONITOR,
                "--backend",
                "ebpf",
                "-p",
                str(target.pid),
                "--duration",
                "2",
                "-o",
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert res.returncode == 0, res.stderr
        size = log.stat().st_size
        time.sleep(0.3)
        assert target.poll() is None and log.stat().st_size > size  # left running
        trace = iomonitor.load(out)
        assert trace.meta["mode"] == "attach" and trace.meta["backend"] == "ebpf"
        ev = trace.events
        mine = ev[ev["file"].astype(str) == str(log)]
        assert len(mine) > 50 and set(mine["dir"].astype(str)) == {"W"}
        assert int(mine["bytes"].sum()) == 100 * len(mine)
        # The socket, connected before the attach: peer and both ports exact.
        net = ev[(ev["file"] == "127.0.0.1") & (ev["port"] == port)]
        assert len(net) == len(mine) and int(net["bytes"].sum()) == 10 * len(net)
        local = f"127.0.0.1:{conn.getpeername()[1]}"
        assert set(net["local"].astype(str)) == {local}
        assert trace.meta["unknown_fds"] == 0
        conn.close()
    finally:
        target.kill()
        target.wait()
        server.close()


def capture_cli(tmp_path: Path, args: list[str]) -> tuple[iomonitor.Trace, str]:
    out = tmp_path / "trace.parquet"
    res = subprocess.run(
        [*IOMONITOR, "--backend", "ebpf", "-o", str(out), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    return iomonitor.load(out), res.stderr


@needs_ebpf
def test_400000_small_calls_every_one_recorded(programs, tmp_path) -> None:
    n = 200_000
    path = tmp_path / "data"
    trace, stderr = capture_cli(tmp_path, [str(programs["load"]), "events", str(path), str(n)])
    ev = trace.events
    mine = ev[ev["file"].astype(str) == str(path)]
    for direction in ("W", "R"):
        part = mine[mine["dir"] == direction]
        assert len(part) == n, (direction, len(part), trace.meta.get("lost_records"))
        sizes = 1 + (part["bytes"].index.to_series().reset_index(drop=True).index % 13)
        assert (part["bytes"].astype("int64").to_numpy() == sizes.to_numpy()).all()
    assert trace.meta["lost_records"] == 0 and "lost" not in stderr


@needs_ebpf
def test_lost_records_are_counted_and_said(programs, tmp_path) -> None:
    """A stalled loader and a small ring: every lost record is counted, per CPU."""
    n = 100_000
    path = tmp_path / "data"
    argv = [str(programs["load"]), "events", str(path), str(n)]
    runner = EbpfRunner(argv, ring_mb=1)
    seen = 0
    with runner:
        # The loader stops draining while the program makes its 200,000 calls.
        os.kill(runner.loader_pid, signal.SIGSTOP)
        time.sleep(2)
        os.kill(runner.loader_pid, signal.SIGCONT)
        log = b"".join(runner.blocks())
    for line in log.decode().splitlines():
        seen += " write(3" in line or " read(3" in line
    assert runner.exit_status == 0
    assert 0 < seen < 2 * n and runner.drops > 0
    assert sum(runner.drops_per_cpu.values()) == runner.drops
    # The counter is exact: the calls seen and the records lost make up the
    # program's calls (a few more records lost: its other calls, its exit).
    assert 2 * n <= seen + runner.drops <= 2 * n + 200


def test_ring_size_defaults_to_ring_mb_when_the_runner_is_made(monkeypatch) -> None:
    """RING_MB is read when a runner is made (ebpf_losses.py sets it); ring_mb overrides it."""
    from iomonitor.ebpf import runner as ebpf_runner

    def ring(r: EbpfRunner) -> str:
        return r.argv[r.argv.index("--ring") + 1]

    assert ring(EbpfRunner(["true"])) == str(ebpf_runner.RING_MB)
    monkeypatch.setattr(ebpf_runner, "RING_MB", 128)
    assert ring(EbpfRunner(["true"])) == "128"
    assert ring(EbpfRunner(["true"], ring_mb=2)) == "2"


@needs_ebpf
def test_capture_that_lost_records_says_so(programs, tmp_path) -> None:
    from iomonitor.cli.capture import _warn_blind_spots

    meta = {"lost_records": 12}
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        _warn_blind_spots(meta)
    assert err.getvalue() == ("iomonitor: warning: 12 records lost by the eBPF capture\n")


LOOPER = textwrap.dedent(
    """
    import sys, time
    out = open(sys.argv[1], "w")
    print("started", flush=True)
    while True:
        out.write("z" * 7); out.flush()
        time.sleep(0.002)
    """
)


def start_capture(tmp_path: Path, new_group: bool) -> tuple[subprocess.Popen, Path, Path]:
    script = tmp_path / "looper.py"
    script.write_text(LOOPER)
    target = tmp_path / "loop.out"
    out = tmp_path / "cap.parquet"
    proc = subprocess.Popen(
        [*IOMONITOR, "--backend", "ebpf", "-o", str(out), sys.executable, str(script), str(target)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=new_group,
    )
    assert proc.stdout.readline() == "started\n"
    deadline = time.time() + 30
    while (not target.exists() or target.stat().st_size < 700) and time.time() < deadline:
        time.sleep(0.05)
    return proc, target, out


def check_interrupted(proc: subprocess.Popen, target: Path, out: Path, status: int) -> None:
    assert proc.wait(timeout=60) == status
    table = pq.read_table(out)
    trace = iomonitor.load(out)
    assert len(table) == len(trace.events)
    got = per_file(trace, target.parent)
    assert got[(str(target), "W")] == target.stat().st_size


@needs_ebpf
def test_sigint_to_the_group_keeps_a_valid_parquet_under_ebpf(tmp_path) -> None:
    proc, target, out = start_capture(tmp_path, new_group=True)
    os.killpg(proc.pid, signal.SIGINT)
    check_interrupted(proc, target, out, 128 + signal.SIGINT)


@needs_ebpf
def test_sigterm_keeps_a_valid_parquet_under_ebpf(tmp_path) -> None:
    proc, target, out = start_capture(tmp_path, new_group=False)
    proc.send_signal(signal.SIGTERM)
    check_interrupted(proc, target, out, 128 + signal.SIGTERM)


@needs_ebpf
def test_bad_interpreter_is_command_not_found_under_ebpf(tmp_path) -> None:
    """The execve the loader runs fails after the attach: one clear error."""
    from iomonitor.errors import CommandNotFoundError

    script = tmp_path / "script"
    script.write_text("#!/iomonitor/no/such/interpreter\n")
    script.chmod(0o755)
    runner = EbpfRunner([str(script)])
    with pytest.raises(CommandNotFoundError, match="cannot execute"), runner:
        pass
    assert runner.exit_status is None


@needs_ebpf
def test_warm_up_runs_before_the_command_starts(tmp_path) -> None:
    """The command starts only once the warm-up has ended, and a failed warm-up runs nothing."""
    mark = tmp_path / "started"
    cmd = ["/bin/sh", "-c", f"echo -n x > {mark}"]
    seen = []

    def warm_up() -> None:
        time.sleep(0.5)  # the loader has attached and would have started the command by now
        seen.append(mark.exists())

    runner = EbpfRunner(cmd, warm_up=warm_up)
    with runner:
        log = b"".join(runner.blocks())
    assert seen == [False]
    assert mark.read_bytes() == b"x" and runner.exit_status == 0
    assert b"write(1" in log

    def failing() -> None:
        time.sleep(0.5)  # the loader waits for the go by now
        raise RuntimeError("no warm-up")

    mark.unlink()
    runner = EbpfRunner(cmd, warm_up=failing)
    runner.exit_timeout = 60  # its attach may wait for the detach of the capture above
    with pytest.raises(RuntimeError, match="no warm-up"), runner:
        pass
    # The loader gave up on its own (exit status 9), not killed.
    assert runner._proc is not None and runner._proc.wait(timeout=60) == 9
    assert not mark.exists()


@needs_ebpf
def test_reader_runs_at_sched_idle_only_while_the_log_flows(tmp_path) -> None:
    """The reader takes no CPU the traced program wants, and gets its policy back."""
    from iomonitor.ebpf.runner import _Background

    before = os.sched_getscheduler(0)
    # A reader that could not come back from SCHED_IDLE never goes there.
    normal = before in (os.SCHED_OTHER, os.SCHED_BATCH) and _Background._can_return()
    during = os.SCHED_IDLE if normal else before
    policies = []
    runner = EbpfRunner(["/bin/sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.2; done"])
    with runner:
        for _block in runner.blocks(idle=0.05):
            policies.append(os.sched_getscheduler(0))
    assert runner.exit_status == 0 and len(policies) > 1
    assert set(policies) == {during}
    assert os.sched_getscheduler(0) == before
    # Left early (the consumer failed): the policy comes back all the same.
    runner = EbpfRunner(["/bin/sh", "-c", "echo x; sleep 0.5"])
    runner.exit_timeout = 60
    with runner:
        blocks = runner.blocks(idle=0.05)
        next(blocks)
        assert os.sched_getscheduler(0) == during
        blocks.close()
    assert os.sched_getscheduler(0) == before


def test_a_reader_left_behind_takes_its_policy_back() -> None:
    """Backed up for longer than the lag: normal priority until it catches up."""
    from iomonitor.ebpf.runner import _Background

    seen = []

    def reader() -> None:
        background = _Background()
        background.lag = 0.05
        for behind in (False, True, True):
            background.keep_up(behind)
            seen.append(os.sched_getscheduler(0))
        time.sleep(0.06)
        for behind in (True, False):
            background.keep_up(behind)
            seen.append(os.sched_getscheduler(0))
        background.idle(False)
        seen.append(os.sched_getscheduler(0))

    # Its own thread: the policy is a thread's.
    th = threading.Thread(target=reader)
    th.start()
    th.join()
    idle, other = os.SCHED_IDLE, os.SCHED_OTHER
    if _Background._can_return():
        assert seen == [idle, idle, idle, other, idle, other]
    else:  # it could not come back from SCHED_IDLE: it never goes there
        assert seen == [other] * 6


def loaders_of(parent: int) -> list[int]:
    found = []
    for pid in children().get(parent, []):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/exe") == str(LOADER):
                found.append(pid)
    return found


def open_tracepoints(pid: int) -> int:
    """How many syscall tracepoints the process still holds (its perf event fds)."""
    held = 0
    with contextlib.suppress(OSError):  # a zombie has no fd table, a reaped process no /proc
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                held += os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:[perf_event]"
    return held


#: Seconds the leaving loader may go without closing one more tracepoint (or, once
#: all are closed, without ending). Closing one waits for the kernel's grace periods,
#: ~65 ms on an idle machine, under a kernel lock for which it queues with every
#: other capture detaching at the time. At load 15-20 the whole detach took 5-9 s
#: and the longest wait between two closes was 4.9 s: 30 s without one is a loader
#: that stopped leaving, not a busy kernel.
STALL = 30.0


@needs_ebpf
def test_loader_never_outlives_a_killed_iomonitor(tmp_path) -> None:
    proc, _target, _out = start_capture(tmp_path, new_group=True)
    try:
        loaders = loaders_of(proc.pid)
        assert len(loaders) == 1
        held = open_tracepoints(loaders[0])
        assert held > 0
        proc.kill()
        proc.wait(timeout=30)
        # The loader, told by the kernel, stops and closes its tracepoints, then
        # ends: how long that takes depends on the machine's load, so what is
        # waited on is its progress, a tracepoint closed at least every STALL
        # seconds, until it is a zombie (until init reaps it) or gone.
        since = time.monotonic()
        while True:
            with open(f"/proc/{loaders[0]}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
            if state in (b"Z", b"X"):
                break
            now_held = open_tracepoints(loaders[0])
            if now_held < held:
                held, since = now_held, time.monotonic()
            stalled = time.monotonic() - since
            assert stalled < STALL, f"the loader is still there ({state!r}, {held} tracepoints)"
            time.sleep(0.05)
    except FileNotFoundError:
        pass  # already reaped: gone
    finally:
        os.killpg(proc.pid, signal.SIGKILL)


def test_ebpf_unavailable_fails_with_its_code_and_auto_falls_back(tmp_path) -> None:
    """Without the privilege to load BPF: exit 9 and one line; auto uses strace and says why."""
    env = {**os.environ, "PYTHONPATH": str(Path(iomonitor.__file__).parent.parent)}
    drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"]
    if os.geteuid() != 0 or subprocess.run(["which", "setpriv"], capture_output=True).returncode:
        pytest.skip("needs root and setpriv to run iomonitor without privileges")
    res = subprocess.run(
        [*drop, *IOMONITOR, "--backend", "ebpf", "-o", "-", "true"],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",
        timeout=60,
    )
    assert res.returncode == 9, res.stderr
    assert res.stderr.count("\n") == 1 and "eBPF" in res.stderr and "root" in res.stderr
    res = subprocess.run(
        [*drop, *IOMONITOR, "--backend", "auto", "-o", "-", "true"],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",
        timeout=60,
    )
    assert res.stderr.startswith("iomonitor: using strace: loading BPF programs needs root")


@needs_ebpf
@pytest.mark.parametrize(
    "name",
    [
        "test_defect1_peek_is_not_counted_as_read",
        "test_failed_connect_and_open_are_in_errors",
    ],
)
def test_tracer_semantics_hold_under_ebpf(name, tmp_path, monkeypatch) -> None:
    """Peeks and failed connect/open: the same under eBPF as under strace."""
    import test_issue13_live as semantics

    monkeypatch.setattr(semantics, "IOMONITOR", [*semantics.IOMONITOR, "--backend", "ebpf"])
    getattr(semantics, name)(tmp_path)


def capture_python(tmp_path: Path, code: str) -> tuple[iomonitor.Trace, str]:
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(code))
    out = tmp_path / "t.parquet"
    res = subprocess.run(
        [*IOMONITOR, "--backend", "ebpf", "-o", str(out), sys.executable, "-I", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return iomonitor.load(out), res.stderr


@needs_ebpf
def test_write_cut_by_sigkill_is_exact_under_ebpf(tmp_path) -> None:
    """strace never sees the result of a write cut by SIGKILL (= ?); the kernel's
    sys_exit does: 65536 of the 131072 bytes went into the pipe before the kill."""
    trace, _ = capture_python(
        tmp_path,
        """
        import os, signal, threading, time
        r, w = os.pipe()
        def killer():
            time.sleep(0.5)
            os.kill(os.getpid(), signal.SIGKILL)
        threading.Thread(target=killer).start()
        os.write(w, b"x" * 131072)
        """,
    )
    assert trace.meta["exit_status"] == 128 + 9
    ev = trace.events
    writes = ev[(ev["kind"].astype(str) == "pipe") & (ev["dir"].astype(str) == "W")]
    assert writes["bytes"].tolist() == [65536]
    assert trace.meta["unseen_calls"] == 0


@needs_ebpf
def test_read_killed_inside_the_call_is_unseen_under_ebpf(tmp_path) -> None:
    """A read still blocked when SIGKILL ends the process: counted as unseen, with its 1000."""
    trace, stderr = capture_python(
        tmp_path,
        """
        import os, signal, threading, time
        r, w = os.pipe()
        def killer():
            time.sleep(0.5)
            os.kill(os.getpid(), signal.SIGKILL)
        threading.Thread(target=killer).start()
        os.read(r, 1000)
        """,
    )
    assert trace.meta["exit_status"] == 128 + 9
    assert trace.meta["unseen_calls"] == 1
    assert trace.meta["unseen_bytes"] == 1000
    assert "1 calls whose result could not be seen (asking to move 1000 bytes)" in stderr


@needs_ebpf
def test_files_opened_through_symlinks_get_the_kernels_path(tmp_path) -> None:
    """As strace's -yy: a file opened through a symbolic link or ``..`` is named by its path."""
    real = tmp_path / "real"
    real.mkdir()
    (real / "data.txt").write_bytes(b"d" * 1234)
    (tmp_path / "link").symlink_to(real)
    (tmp_path / "sub").mkdir()
    cmd = ["sh", "-c", "cd sub && cat ../link/data.txt > /dev/null && cat ../real/data.txt > out"]
    saved = os.getcwd()
    os.chdir(tmp_path)
    try:
        traces = {b: iomonitor.run(cmd, backend=b) for b in ("ebpf", "strace")}
    finally:
        os.chdir(saved)
    got = {b: per_file(t, tmp_path) for b, t in traces.items()}
    assert got["ebpf"] == {
        (str(real / "data.txt"), "R"): 2 * 1234 + 0,
        (str(tmp_path / "sub" / "out"), "W"): 1234,
    }
    assert got["ebpf"] == got["strace"]
