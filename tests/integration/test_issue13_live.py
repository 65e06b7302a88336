"""Issue 13, the tracer's semantics, on real programs under real strace.

Each test is named after the defect it guards and runs the command as a user
does (``iomonitor -o FILE command``), then reads the trace with ``iomonitor.load``.
"""

from __future__ import annotations

import os
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
