"""`iomonitor command...` and `iomonitor -p PID` as a user runs them: real programs, real strace."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import iomonitor

STRACE = "/usr/bin/strace"

pytestmark = [
    pytest.mark.strace,
    pytest.mark.skipif(not os.access(STRACE, os.X_OK), reason="strace is not installed"),
]

IOMONITOR = [sys.executable, "-m", "iomonitor"]


def files(trace: iomonitor.Trace) -> dict[tuple[str, str], int]:
    ev = trace.events
    sums = ev.groupby(["file", "dir"], observed=True)["bytes"].sum()
    return {(str(f), str(d)): int(b) for (f, d), b in sums.items()}


def test_readme_example_streams_csv_to_stderr(tmp_path):
    data = tmp_path / "fstab"
    data.write_text("proc /proc proc defaults 0 0\n# a second line\n")
    size = data.stat().st_size
    res = subprocess.run(
        [*IOMONITOR, "bash", "-c", f"wc {data} ; /bin/echo foo > /dev/null"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    # The command's stdout is its own, untouched.
    wc_line = f" 2 10 {size} {data}\n"
    assert res.stdout == wc_line
    lines = res.stderr.splitlines()
    assert lines[0] == "time,dt,pid,fd,dir,bytes,file,port"
    rows = [ln.split(",") for ln in lines[1:]]
    fstab = [r for r in rows if r[6] == f'"{data}"']
    assert [(r[4], r[5]) for r in fstab] == [("R", str(size)), ("R", "0")]
    wc_pid = fstab[0][2]
    assert [wc_pid, "1", "W", str(len(wc_line)), "stdout", ""] in [
        [r[2], r[3], r[4], r[5], r[6], r[7]] for r in rows
    ]
    echo = [r for r in rows if r[6] == '"/dev/null"' and r[4] == "W"]
    assert [(r[3], r[5]) for r in echo] == [("1", "4")]
    assert echo[0][2] != wc_pid


def test_pipeline_bytes_through_the_pipe(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"a" * 123_457)
    out = tmp_path / "t.parquet"
    cmd = f"cat {src} | tr a b > {tmp_path}/dst.bin"
    res = subprocess.run([*IOMONITOR, "-o", str(out), "sh", "-c", cmd], timeout=120)
    assert res.returncode == 0
    trace = iomonitor.load(out)
    got = files(trace)
    assert got[(str(tmp_path / "dst.bin"), "W")] == 123_457
    pipes = {k: v for k, v in got.items() if k[0].startswith("pipe:")}
    # cat writes the file into the pipe, tr reads it out: one pipe, both ends.
    assert len({k[0] for k in pipes}) == 1
    assert sorted(pipes.values()) == [123_457, 123_457]
    procs = trace.processes
    assert set(procs["comm"]) >= {"sh", "cat", "tr"}
    assert trace.meta["mode"] == "run"
    assert trace.meta["exit_status"] == 0


@pytest.mark.parametrize(
    ("script", "status"),
    [("exit 3", 3), ("kill -KILL $$", 137), ("kill -TERM $$", 143), ("true", 0)],
)
def test_exit_status_is_the_commands(tmp_path, script, status):
    res = subprocess.run(
        [*IOMONITOR, "-o", str(tmp_path / "t.csv"), "sh", "-c", script], timeout=120
    )
    assert res.returncode == status
    assert (tmp_path / "t.csv").read_text().startswith("time,dt,pid,fd,dir,bytes,file,port\n")


def test_own_failures_are_one_line(tmp_path):
    res = subprocess.run(
        [*IOMONITOR, "no-such-command-here"], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 127
    assert res.stderr.strip().splitlines() == ["iomonitor: no-such-command-here: command not found"]
    res = subprocess.run(
        [*IOMONITOR, "-p", "999999999"], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 7
    assert "no such process" in res.stderr and res.stderr.count("\n") == 1


WRITER = textwrap.dedent(
    """
    import os, signal, socket, sys, time
    log = open(sys.argv[1], "w")
    peer = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
    print("ready", flush=True)
    for i in range(int(sys.argv[3])):
        log.write("x" * 100); log.flush()
        peer.sendall(b"y" * 10)
        time.sleep(0.01)
    """
)


def test_attach_names_fds_opened_before_and_leaves_target_running(tmp_path):
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
    conns: list[socket.socket] = []
    try:
        conn, _ = server.accept()  # kept open: the target sends to it
        conns.append(conn)
        assert target.stdout.readline() == "ready\n"
        out = tmp_path / "attach.parquet"
        res = subprocess.run(
            [*IOMONITOR, "-p", str(target.pid), "--duration", "2", "-o", str(out)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert res.returncode == 0, res.stderr
        # Still running and still writing after the detach.
        size = log.stat().st_size
        time.sleep(0.5)
        assert target.poll() is None
        assert log.stat().st_size > size
        trace = iomonitor.load(out)
        got = files(trace)
        written = got[(str(log), "W")]
        assert written > 0 and written % 100 == 0
        ev = trace.events
        net = ev[(ev["file"] == "127.0.0.1") & (ev["port"] == port)]
        assert len(net) > 0 and set(net["dir"].astype(str)) == {"W"}
        assert int(net["bytes"].sum()) == 10 * len(net)
        assert trace.meta["mode"] == "attach"
    finally:
        target.kill()
        target.wait()
        server.close()
        for c in conns:
            c.close()


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
        [*IOMONITOR, "-o", str(out), sys.executable, str(script), str(target)],
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
    table = pq.read_table(out)  # a valid Parquet file, closed properly
    trace = iomonitor.load(out)
    assert len(table) == len(trace.events)
    # Every write the looper made before it died is in the trace.
    assert files(trace)[(str(target), "W")] == target.stat().st_size
    assert not [p for p in os.listdir(out.parent) if p.startswith(".")]


def test_sigint_to_the_process_group_keeps_a_valid_parquet(tmp_path):
    proc, target, out = start_capture(tmp_path, new_group=True)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    check_interrupted(proc, target, out, 128 + signal.SIGINT)


def test_sigterm_to_iomonitor_alone_keeps_a_valid_parquet(tmp_path):
    proc, target, out = start_capture(tmp_path, new_group=False)
    proc.send_signal(signal.SIGTERM)
    check_interrupted(proc, target, out, 128 + signal.SIGTERM)


def test_events_stream_while_the_program_is_quiet(tmp_path):
    target = tmp_path / "one.txt"
    script = f"import time; open({str(target)!r}, 'w').write('hello'); time.sleep(4)"
    proc = subprocess.Popen(
        [*IOMONITOR, sys.executable, "-c", script], stderr=subprocess.PIPE, text=True
    )
    try:
        started = time.monotonic()
        line = ""
        while f'"{target}"' not in line:
            line = proc.stderr.readline()
            assert line, "stderr closed before the event came"
        # Shown while the program still sleeps, not when it ends.
        assert proc.poll() is None
        assert time.monotonic() - started < 4
        assert line.split(",")[4:6] == ["W", "5"]
    finally:
        proc.wait(timeout=60)


@pytest.mark.parametrize("output", ["t.parquet", "t.csv", "ds/", None])
def test_capture_never_imports_pandas(tmp_path, output):
    # The event core hands out Arrow tables and the writers run on pyarrow
    # alone: importing pandas would add about half a second to every capture.
    data = tmp_path / "data"
    data.write_bytes(b"x" * 1233 + b"\n")
    argv = ["-o", os.path.join(tmp_path, output)] if output else []  # keeps ds/'s slash
    script = textwrap.dedent(
        f"""
        import sys
        from iomonitor.cli import main
        status = main({argv!r} + ["cat", {str(data)!r}])
        print(status, sorted(m for m in ("pandas", "pyarrow") if m in sys.modules))
        """
    )
    res = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[-1] == "0 ['pyarrow']"
    trace = iomonitor.load(tmp_path / output) if output else None
    if trace is not None:
        assert files(trace)[(str(data), "R")] == 1234
    else:
        assert f'R,1234,"{data}",' in res.stderr
