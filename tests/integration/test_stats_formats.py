"""`iomonitor stats` gives the same numbers for one trace as a raw log, a CSV and a Parquet file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

STRACE = "/usr/bin/strace"

pytestmark = [
    pytest.mark.strace,
    pytest.mark.skipif(not os.access(STRACE, os.X_OK), reason="strace is not installed"),
]

#: The numbers every input format carries (errors and syscalls are not in the classic CSV).
SHARED = ("calls", "read_bytes", "write_bytes", "mapped_bytes", "bytes", "max_size", "time")


def iomonitor(*args: str) -> subprocess.CompletedProcess:
    res = subprocess.run(
        [sys.executable, "-m", "iomonitor", *args], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    return res


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("stats-formats")
    data = base / "data.bin"
    data.write_bytes(b"z" * 70_000)
    log = base / "run.log"
    # A pipeline, a file copy and a loopback TCP exchange: files, pipes and peers.
    script = (
        f"cat {data} | wc -c > {base}/count.txt; cp {data} {base}/copy.bin; "
        f'{sys.executable} -c "import socket,threading\n'
        "s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen()\n"
        "def serve():\n c,_=s.accept(); c.sendall(c.recv(10)*3); c.close()\n"
        "t=threading.Thread(target=serve); t.start()\n"
        "c=socket.create_connection(s.getsockname()); c.sendall(b'abcde'); c.recv(99); t.join()\""
    )
    subprocess.run(
        [STRACE, "-f", "-ttt", "-T", "-yy", "-o", str(log), "sh", "-c", script],
        check=True,
        timeout=120,
    )
    iomonitor("-i", str(log), "-o", str(base / "run.parquet"))
    iomonitor("-i", str(log), "-o", str(base / "run.csv"))
    return {"log": log, "parquet": base / "run.parquet", "csv": base / "run.csv"}


def stats(path: Path, by: str) -> dict:
    out = iomonitor("stats", str(path), "--by", by, "--top", "0", "--format", "json").stdout
    return {str(r[by]): {k: r[k] for k in SHARED} for r in json.loads(out)}


@pytest.mark.parametrize("by", ["file", "pid", "peer"])
def test_same_numbers_from_log_csv_and_parquet(inputs, by):
    got = {fmt: stats(path, by) for fmt, path in inputs.items()}
    assert got["log"], "no groups at all"
    assert got["parquet"] == got["log"]
    # Failed calls are not in the classic CSV: groups known only from them
    # (files that failed to open) have no calls, and are all it lacks.
    assert got["csv"] == {k: v for k, v in got["log"].items() if v["calls"]}


def test_known_sizes_show_in_the_tables(inputs):
    files = stats(inputs["parquet"], "file")
    base = str(inputs["log"].parent)
    assert files[f"{base}/copy.bin"]["write_bytes"] == 70_000
    assert files[f"{base}/data.bin"]["read_bytes"] == 140_000  # read by cat, then by cp
    peers = stats(inputs["parquet"], "peer")
    inet = {k: v for k, v in peers.items() if k.startswith("127.0.0.1:")}
    # 5 bytes one way, 15 back, seen from both ends of the connection.
    assert sorted((v["read_bytes"], v["write_bytes"]) for v in inet.values()) == [(5, 15), (15, 5)]
