"""Writers and readers: classic CSV and Parquet round trips, detection, bad input."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pandas as pd
import pytest

from iomonitor import schema, store
from iomonitor.errors import InputError, OutputError
from iomonitor.trace import Trace, events_frame, raw_name, rows_frame

NASTY = [
    "/tmp/plain",
    "/tmp/with,comma",
    '/tmp/with"quote',
    "/tmp/with\nnewline",
    "/tmp/<angle>&amp",
    "/tmp/bad\\xff\\xfeutf8",
    "stdout",
    "127.0.0.1",
    "pipe:[7]",
]


def make_trace() -> Trace:
    n = len(NASTY)
    base = dt.datetime(2026, 3, 4, 10, 0, 0).timestamp()
    cols = {
        "time": [base + i * 0.25 for i in range(n)],
        "dt": [0.000001 * (i + 1) for i in range(n - 1)] + [float("nan")],
        "pid": [100 + i for i in range(n)],
        "fd": list(range(3, 3 + n)),
        "dir": ["R", "W", "M"] * (n // 3),
        "bytes": [10**i for i in range(n)],
        "file": NASTY,
        "port": [None] * 7 + [8080, None],
        "syscall": ["read", "write", "mmap"] * (n // 3),
        "kind": ["file"] * 6 + ["tty", "tcp", "pipe"],
        "tgid": [100 + i for i in range(n)],
        "comm": ["prog"] * n,
        "local": [None] * 7 + ["127.0.0.1:5000", None],
    }
    procs = rows_frame(
        "processes",
        [
            {
                "pid": 100,
                "ppid": None,
                "tgid": 100,
                "comm": "prog",
                "argv": "prog -x",
                "start": base,
                "end": base + 2,
                "exit_code": 0,
                "signal": None,
            }
        ],
    )
    return Trace(events_frame(cols), procs, meta={"mode": "log", "lines": 42})


def test_csv_round_trips_every_name_exactly(tmp_path):
    trace = make_trace()
    out = tmp_path / "t.csv"
    store.write(trace, out)
    raw = out.read_bytes()
    assert raw.startswith(b"time,dt,pid,fd,dir,bytes,file,port\n")
    # Paths are quoted (the classic look), labels and addresses are not.
    assert b',"/tmp/plain",\n' in raw
    assert b",stdout,\n" in raw
    assert b",127.0.0.1,8080\n" in raw
    raw.decode("utf-8")  # names are valid UTF-8 text, undecodable bytes escaped
    back = store.load(out, date=dt.date(2026, 3, 4))
    assert back.events["file"].astype(str).tolist() == NASTY
    assert back.events["bytes"].tolist() == trace.events["bytes"].tolist()
    pd.testing.assert_series_equal(back.events["time"], trace.events["time"])
    assert back.events["port"].tolist() == trace.events["port"].tolist()
    assert back.events["dt"].isna().tolist() == trace.events["dt"].isna().tolist()


def test_csv_time_is_local_wall_clock(tmp_path):
    trace = make_trace()
    out = tmp_path / "t.csv"
    store.write(trace, out)
    first = out.read_text(errors="surrogateescape").splitlines()[1]
    assert first.startswith("10:00:00.000000,0.000001,100,3,R,1,")


def test_parquet_round_trips_events_processes_and_meta(tmp_path):
    trace = make_trace()
    out = tmp_path / "t.parquet"
    store.write(trace, out)
    back = store.load(out)
    pd.testing.assert_frame_equal(back.events, trace.events)
    pd.testing.assert_frame_equal(back.processes, trace.processes)
    assert back.meta == {"mode": "log", "lines": 42}
    assert list(back.events.dtypes.astype(str)) == [
        str(schema.EVENT_DTYPES[c]) if schema.EVENT_DTYPES[c] != "category" else "category"
        for c in schema.EVENT_COLUMNS
    ]


def test_detect_and_bad_inputs(tmp_path):
    empty = tmp_path / "empty.log"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        store.load(empty)
    with pytest.raises(InputError, match="no such file"):
        store.load(tmp_path / "missing.log")
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\nworld\n")
    with pytest.raises(InputError, match="not a strace log"):
        store.load(junk)
    assert store.detect(tmp_path) == "dataset"


def test_failed_write_leaves_no_file(tmp_path):
    out = tmp_path / "t.parquet"
    sink = store.open_sink(out)
    sink.write(make_trace().events)
    sink.abort()
    assert os.listdir(tmp_path) == []
    with pytest.raises(OutputError):
        store.open_sink(tmp_path / "no" / "such" / "dir.csv")


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "iomonitor", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("", "empty file"),
        ("this is not\na strace log\n", "not a strace log"),
    ],
)
def test_cli_bad_input_is_one_line_and_nonzero(tmp_path, content, message):
    path = tmp_path / "in.log"
    if content is not None:
        path.write_text(content)
    res = run_cli("-i", str(path), "-o", str(tmp_path / "out.csv"))
    assert res.returncode == 3
    assert res.stderr.count("\n") == 1 and message in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "out.csv").exists()


def test_cli_unwritable_output(tmp_path):
    log = tmp_path / "in.log"
    log.write_text('1 1.0 write(1, "x", 1) = 1\n')
    res = run_cli("-i", str(log), "-o", str(tmp_path / "nodir" / "out.parquet"))
    assert res.returncode == 4
    assert res.stderr.startswith("iomonitor: cannot write") and res.stderr.count("\n") == 1


def test_cli_truncated_log_converts_what_it_can(tmp_path):
    log = tmp_path / "in.log"
    log.write_text(
        '1 1.0 execve("/bin/a", ["a"], 0x1 /* 1 var */) = 0\n'
        '1 1.1 write(1, "abc", 3) = 3\n'
        "1 1.2 \x00\x01 corrupt\n"
        '1 1.3 write(1, "ab", 2) = 2\n'
        '1 1.4 write(1, "abcd'
    )
    res = run_cli("-i", str(log))
    assert res.returncode == 0
    lines = res.stdout.splitlines()
    assert lines[0] == "time,dt,pid,fd,dir,bytes,file,port"
    assert [ln.split(",")[5] for ln in lines[1:]] == ["3", "2"]
    assert "2 lines could not be read" in res.stderr


def test_undecodable_bytes_survive_from_log_to_every_format(tmp_path):
    log = tmp_path / "in.log"
    # strace prints bytes that are not printable as octal escapes.
    log.write_bytes(
        b'1 1.0 execve("/bin/a", ["a"], 0x1 /* 1 var */) = 0\n'
        b'1 1.1 openat(AT_FDCWD, "/tmp/caf\\351,\\"x\\"", O_RDONLY) = 3\n'
        b'1 1.2 read(3, "", 9) = 0\n'
    )
    trace = store.load(log)
    name = trace.events["file"].iloc[0]
    assert raw_name(name) == b'/tmp/caf\xe9,"x"'
    for ext in ("csv", "parquet"):
        out = tmp_path / f"t.{ext}"
        store.write(trace, out)
        back = store.load(out)
        assert raw_name(back.events["file"].iloc[0]) == b'/tmp/caf\xe9,"x"'
