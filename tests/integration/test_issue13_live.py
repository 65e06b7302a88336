"""Issue 13, the tracer's semantics, on real programs under real strace.

Each test is named after the defect it guards and runs the command as a user
does (``iomonitor -o FILE command``), then reads the trace with ``iomonitor.load``.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import iomonitor
from iomonitor import analysis

STRACE = "/usr/bin/strace"

pytestmark = [
    pytest.mark.strace,
    pytest.mark.skipif(not os.access(STRACE, os.X_OK), reason="strace is not installed"),
]

IOMONITOR = [sys.executable, "-m", "iomonitor"]


def capture(
    tmp_path: Path, argv: list[str], name: str = "t.parquet"
) -> tuple[iomonitor.Trace, subprocess.CompletedProcess]:
    out = tmp_path / name
    res = subprocess.run(
        [*IOMONITOR, "-o", str(out), *argv], capture_output=True, text=True, timeout=120
    )
    assert out.exists(), res.stderr
    return iomonitor.load(out), res


def python(tmp_path: Path, code: str) -> list[str]:
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(code))
    return [sys.executable, "-I", str(script)]


def test_defect1_peek_is_not_counted_as_read(tmp_path: Path) -> None:
    # The repro: 100 bytes sent, peeked at, then read: 100 bytes read.
    trace, _ = capture(
        tmp_path,
        python(
            tmp_path,
            """
            import socket as s
            a = s.socket(2, 2)
            a.bind(("127.0.0.1", 0))
            b = s.socket(2, 2)
            b.sendto(b"x" * 100, a.getsockname())
            a.recv(100, s.MSG_PEEK)
            a.recv(100)
            m = s.socket(2, 2)
            m.bind(("127.0.0.1", 0))
            b.sendto(b"y" * 40, m.getsockname())
            m.recvmsg(0, 0, s.MSG_PEEK | s.MSG_TRUNC)
            m.recvmsg(40)
            """,
        ),
    )
    ev = trace.events
    udp = ev[ev["kind"].astype(str) == "udp"]
    got = sorted((str(r.syscall), str(r.dir), int(r.bytes)) for r in udp.itertuples())
    assert got == sorted(
        [
            ("sendto", "W", 100),
            ("recvfrom", "P", 100),
            ("recvfrom", "R", 100),
            ("sendto", "W", 40),
            ("recvmsg", "P", 40),
            ("recvmsg", "R", 40),
        ]
    )
    totals = analysis.by(udp, "kind").set_index("kind")
    assert totals.loc["udp", "read_bytes"] == 140
    assert totals.loc["udp", "write_bytes"] == 140


def test_defect8_unseen_bytes_of_a_write_cut_by_sigkill(tmp_path: Path) -> None:
    # A write of 131072 bytes into a pipe nobody reads blocks after 64 KiB; the
    # process is then killed inside the call: its result is never seen.
    trace, res = capture(
        tmp_path,
        python(
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
        ),
    )
    assert trace.meta["exit_status"] == 128 + 9
    assert trace.meta["unseen_calls"] == 1
    assert trace.meta["unseen_bytes"] == 131072
    assert "1 calls whose result could not be seen (asking to move 131072 bytes)" in res.stderr


def test_failed_connect_and_open_are_in_errors(tmp_path: Path) -> None:
    # A refused connection and a missing file leave a trace.
    trace, res = capture(
        tmp_path,
        python(
            tmp_path,
            f"""
            import os, socket
            srv = socket.socket()
            srv.bind(("127.0.0.1", 0))
            port = srv.getsockname()[1]
            srv.close()  # nobody listens there now
            c = socket.socket()
            try:
                c.connect(("127.0.0.1", port))
            except ConnectionRefusedError:
                pass
            try:
                open({str(tmp_path / "missing.txt")!r})
            except FileNotFoundError:
                pass
            print(port)
            """,
        ),
    )
    errs = trace.errors
    refused = errs[(errs["syscall"] == "connect") & (errs["errno"] == "ECONNREFUSED")]
    port = int(res.stdout)
    assert refused[["file", "kind", "count"]].values.tolist() == [[f"127.0.0.1:{port}", "tcp", 1]]
    missing = errs[errs["file"] == str(tmp_path / "missing.txt")]
    assert missing[["syscall", "errno", "count"]].values.tolist() == [["openat", "ENOENT", 1]]


def test_defect2_exec_from_a_non_main_thread_renames_the_process(tmp_path: Path) -> None:
    out_file = tmp_path / "o"
    trace, _ = capture(
        tmp_path,
        python(
            tmp_path,
            f"""
            import os, threading
            os.chdir({str(tmp_path)!r})  # a short argv: sh is gone before /proc is read
            def run():
                os.execv("/bin/sh", ["sh", "-c", "echo x > o"])
            t = threading.Thread(target=run)
            t.start()
            t.join()
            """,
        ),
    )
    assert out_file.read_text() == "x\n"
    ev = trace.events
    writes = ev[(ev["file"].astype(str) == str(out_file)) & (ev["dir"] == "W")]
    assert [(str(r.comm), int(r.bytes)) for r in writes.itertuples()] == [("sh", 2)]
    leader = int(writes["tgid"].iloc[0])
    procs = trace.processes.set_index("pid")
    assert procs.loc[leader, "comm"] == "sh"
    assert procs.loc[leader, "argv"] == "sh -c 'echo x > o'"


LONG = [f"--an-argument-longer-than-32-bytes-number-{i:02d}" for i in range(40)]


def test_defect3_argv_whole_for_the_command_and_a_child(tmp_path: Path) -> None:
    child = [sys.executable, "-I", "-c", "import time; time.sleep(3)", *LONG]
    argv = python(
        tmp_path,
        f"""
        import subprocess
        subprocess.run({child!r}, check=True)
        """,
    )
    trace, res = capture(tmp_path, [*argv, *LONG])
    assert res.returncode == 0, res.stderr
    procs = trace.processes
    root = procs[procs["pid"] == procs["tgid"]].iloc[0]
    # The command iomonitor started is known whole.
    assert root["argv"] == shlex.join([*argv, *LONG])
    assert root["argv_cut"] == False  # noqa: E712 (a nullable boolean)
    # The child lives long enough (3 s, for a capture lagging under load) for
    # the capture to read its command line.
    kid = procs[procs["argv"].str.contains("time.sleep", regex=False, na=False)]
    assert kid["argv"].tolist() == [shlex.join(child)]
    assert kid["argv_cut"].tolist() == [False]


THREADED = """
import sys, threading, time
out = open(sys.argv[1], "a", buffering=1)
ready = threading.Barrier(3)
def work(tag):
    ready.wait()
    while True:
        out.write(tag + "\\n")
        time.sleep(0.02)
for tag in ("a", "b"):
    threading.Thread(target=work, args=(tag,), daemon=True).start()
ready.wait()
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""


def test_defect4_attach_to_a_multithreaded_process(tmp_path: Path) -> None:
    script = tmp_path / "threaded.py"
    script.write_text(THREADED)
    log = tmp_path / "out.txt"
    target = subprocess.Popen(
        [sys.executable, str(script), str(log), "some arg"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert target.stdout is not None and target.stdout.readline() == "ready\n"
        tids = sorted(int(t) for t in os.listdir(f"/proc/{target.pid}/task"))
        assert len(tids) == 3
        out = tmp_path / "attach.parquet"
        res = subprocess.run(
            [*IOMONITOR, "-p", str(target.pid), "--duration", "1", "-o", str(out)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert res.returncode == 0, res.stderr
        assert target.poll() is None
    finally:
        target.kill()
        target.wait()
    trace = iomonitor.load(out)
    procs = trace.processes.set_index("pid")
    # Every thread that existed before the attach belongs to the process.
    assert sorted(procs.index) == tids
    assert set(procs["tgid"]) == {target.pid}
    writes = trace.events[trace.events["file"].astype(str) == str(log)]
    assert len(writes) > 10
    assert set(writes["tgid"]) == {target.pid}
    assert set(writes["pid"]) == set(tids) - {target.pid}
    stats = subprocess.run(
        [*IOMONITOR, "stats", "--pid", str(target.pid), "--format", "json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["summary"]["events"] >= len(writes)


def test_attach_reads_proc_comm_argv(tmp_path: Path) -> None:
    script = tmp_path / "threaded.py"
    script.write_text(THREADED)
    log = tmp_path / "out.txt"
    argv = [sys.executable, str(script), str(log), "some arg"]
    target = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        assert target.stdout is not None and target.stdout.readline() == "ready\n"
        with open(f"/proc/{target.pid}/comm") as f:
            comm = f.read().strip()
        trace = iomonitor.attach([target.pid], duration=0.5)
    finally:
        target.kill()
        target.wait()
    procs = trace.processes.set_index("pid")
    row = procs.loc[target.pid]
    assert (row["comm"], row["argv"], row["ppid"]) == (comm, shlex.join(argv), os.getpid())
    assert row["argv_cut"] == False  # noqa: E712 (a nullable boolean)
    assert set(procs["comm"]) == {comm}
    ev = trace.events
    assert set(ev[ev["tgid"] == target.pid]["comm"].astype(str)) == {comm}


def test_exec_history_of_a_shell_that_execs(tmp_path: Path) -> None:
    # `bash -c '…; exec cat'`: the processes table holds cat, the history both.
    src = tmp_path / "in.txt"
    src.write_text("hello\n")
    script = f"cd {tmp_path}; /bin/true; exec cat in.txt"  # cat's argv within -s
    trace, res = capture(tmp_path, ["bash", "-c", script])
    assert res.returncode == 0, res.stderr
    root = int(trace.processes["tgid"].iloc[0])
    mine = trace.execs[trace.execs["pid"] == root]
    assert mine["argv"].tolist() == [shlex.join(["bash", "-c", script]), "cat in.txt"]
    assert mine["argv_cut"].tolist() == [False, False]
    assert trace.processes.set_index("pid").loc[root, "comm"] == "cat"
    assert "/bin/true" in set(trace.execs["path"])
