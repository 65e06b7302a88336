"""`iomonitor export TRACE -o out.json`: valid trace-event JSON whose slices and counters add up."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
from collections import defaultdict
from pathlib import Path

import pytest

import iomonitor
from iomonitor.cli import main
from iomonitor.export import COUNTER, chrome_trace
from iomonitor.trace import Trace, events_frame

STRACE = "/usr/bin/strace"

#: Two threads of one process write known amounts to one file; the main thread reads it back.
WRITER = textwrap.dedent(
    """
    import os, sys, threading
    path = sys.argv[1]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    def work(n, size):
        for _ in range(n):
            os.write(fd, b"x" * size)
    threads = [threading.Thread(target=work, args=(5, 1000)),
               threading.Thread(target=work, args=(3, 4096))]
    for t in threads: t.start()
    for t in threads: t.join()
    os.close(fd)
    fd = os.open(path, os.O_RDONLY)
    while os.read(fd, 7000):
        pass
    os.close(fd)
    """
)
WRITTEN = 5 * 1000 + 3 * 4096


def check_phases(doc: dict) -> dict[str, list[dict]]:
    """Every event has the fields its phase requires; returns the events by phase."""
    assert isinstance(doc["traceEvents"], list)
    phases: dict[str, list[dict]] = defaultdict(list)
    for event in doc["traceEvents"]:
        assert isinstance(event["name"], str) and event["name"]
        assert isinstance(event["pid"], int)
        phases[event["ph"]].append(event)
        if event["ph"] == "X":
            assert isinstance(event["ts"], int) and isinstance(event["dur"], int)
            assert event["dur"] >= 0 and isinstance(event["tid"], int)
            args = event["args"]
            assert isinstance(args["file"], str) and isinstance(args["bytes"], int)
            assert isinstance(args["fd"], int) and args["dir"] in ("R", "W", "M", "P")
        elif event["ph"] == "M":
            assert event["name"] in ("process_name", "thread_name")
            assert isinstance(event["tid"], int) and isinstance(event["args"]["name"], str)
        elif event["ph"] == "C":
            assert isinstance(event["ts"], int)
            assert set(event["args"]) == {"read", "write"}
            assert all(isinstance(v, float) and v >= 0 for v in event["args"].values())
        else:
            raise AssertionError(f"unexpected phase {event['ph']!r}")
    return phases


def integrate(counters: list[dict]) -> dict[int, dict[str, float]]:
    """Bytes per process from its counter track: each value holds until the next one."""
    by_pid: dict[int, list[dict]] = defaultdict(list)
    for event in counters:
        by_pid[event["pid"]].append(event)
    out: dict[int, dict[str, float]] = {}
    for pid, track in by_pid.items():
        track.sort(key=lambda e: e["ts"])
        assert track[-1]["args"] == {"read": 0.0, "write": 0.0}, "a track ends at zero"
        sums = {"read": 0.0, "write": 0.0}
        for event, after in itertools.pairwise(track):
            for d in sums:
                sums[d] += event["args"][d] * (after["ts"] - event["ts"]) / 1e6
        out[pid] = sums
    return out


@pytest.mark.strace
@pytest.mark.skipif(not os.access(STRACE, os.X_OK), reason="strace is not installed")
def test_export_of_a_real_run_validates_and_adds_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data.bin"
    trace_path = tmp_path / "run.parquet"
    capture = [sys.executable, "-m", "iomonitor", "-o", str(trace_path)]
    res = subprocess.run(
        [*capture, sys.executable, "-c", WRITER, str(data)],
        capture_output=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert data.stat().st_size == WRITTEN
    out = tmp_path / "run.json"
    assert main(["export", str(trace_path), "-o", str(out)]) == 0
    assert capsys.readouterr().err.startswith(f"iomonitor: wrote {out} (")
    doc = json.loads(out.read_text())
    phases = check_phases(doc)
    trace = iomonitor.load(trace_path)
    ev = trace.events

    # One slice per call, and they add up to the trace's totals.
    slices = phases["X"]
    assert len(slices) == len(ev)
    for d in ("R", "W", "M"):
        want = int(ev.loc[ev["dir"] == d, "bytes"].sum())
        assert sum(s["args"]["bytes"] for s in slices if s["args"]["dir"] == d) == want, d
    mine = [s for s in slices if s["args"]["file"] == str(data)]
    assert sum(s["args"]["bytes"] for s in mine if s["args"]["dir"] == "W") == WRITTEN
    assert sum(s["args"]["bytes"] for s in mine if s["args"]["dir"] == "R") == WRITTEN
    writers = {s["tid"] for s in mine if s["args"]["dir"] == "W"}
    assert len(writers) == 2 and len({s["pid"] for s in mine}) == 1, "two threads, one process"

    # Every track is named: threads by program, processes by command line.
    names = {
        (m["pid"], m["tid"]): m["args"]["name"] for m in phases["M"] if m["name"] == "thread_name"
    }
    procs = {m["pid"]: m["args"]["name"] for m in phases["M"] if m["name"] == "process_name"}
    assert {(s["pid"], s["tid"]) for s in slices} == set(names)
    assert {s["pid"] for s in slices} == set(procs)
    (pid,) = {s["pid"] for s in mine}
    leader = trace.processes[trace.processes["pid"] == pid].iloc[-1]
    assert procs[pid] == leader["argv"] and " -c " in procs[pid]
    assert {names[(pid, tid)] for tid in writers} == {leader["comm"]}

    # The counter tracks integrate to what each process read and wrote.
    got = integrate(phases["C"])
    moved = ev[ev["dir"].isin(["R", "W"])]
    for (tgid, d), total in moved.groupby(["tgid", "dir"], observed=True)["bytes"].sum().items():
        side = "read" if d == "R" else "write"
        assert got[int(tgid)][side] == pytest.approx(int(total), rel=1e-9, abs=1e-6), (tgid, d)
    assert all(p["name"] == COUNTER for p in phases["C"])


def synthetic(n: int, span: float) -> Trace:
    """n events over span seconds: pid 7 reads 3 bytes, thread 8 of it writes 5, alternately."""
    times = [1_700_000_000.0 + span * i / max(n - 1, 1) for i in range(n)]
    reads = [i % 2 == 0 for i in range(n)]
    return Trace(
        events_frame(
            {
                "time": times,
                "dt": [float("nan") if i == 1 else 0.000002 for i in range(n)],
                "pid": [7 if r else 8 for r in reads],
                "fd": [3] * n,
                "dir": ["R" if r else "W" for r in reads],
                "bytes": [3 if r else 5 for r in reads],
                "file": ['/in, "quoted"' if r else "127.0.0.1" for r in reads],
                "port": [None if r else 53 for r in reads],
                "syscall": ["read" if r else "sendto" for r in reads],
                "kind": ["file" if r else "udp" for r in reads],
                "tgid": [7] * n,
                "comm": ["prog"] * n,
                "local": [None] * n,
            }
        )
    )


def test_export_widens_counter_buckets_on_a_long_trace(tmp_path: Path) -> None:
    # An hour of events: 1 ms buckets would be 3.6 million; they widen to 10 s.
    trace = synthetic(4001, 3600.0)
    out = tmp_path / "long.json"
    done = chrome_trace(trace, out)
    assert done.interval == 10.0 and done.slices == 4001
    doc = json.loads(out.read_text())
    phases = check_phases(doc)
    got = integrate(phases["C"])
    assert got == {7: pytest.approx({"read": 3 * 2001, "write": 5 * 2000}, rel=1e-9)}
    assert len(phases["C"]) <= 361 + 1


def test_export_names_are_json_escaped_and_missing_durations_are_zero(tmp_path: Path) -> None:
    out = tmp_path / "small.json"
    chrome_trace(synthetic(4, 0.01), out)
    slices = check_phases(json.loads(out.read_text()))["X"]
    assert [s["args"]["file"] for s in slices] == ['/in, "quoted"', "127.0.0.1"] * 2
    assert [s["dur"] for s in slices] == [2, 0, 2, 2]
    assert [s.get("args", {}).get("port") for s in slices] == [None, 53, None, 53]
    assert {(s["pid"], s["tid"]) for s in slices} == {(7, 7), (7, 8)}


def test_export_refuses_several_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("a", "b"):
        iomonitor.store.write(synthetic(4, 0.01), tmp_path / f"{name}.parquet")
    folder = tmp_path / "runs"
    folder.mkdir()
    for name in ("a", "b"):
        (tmp_path / f"{name}.parquet").rename(folder / f"{name}.parquet")
    assert main(["export", str(folder), "-o", str(tmp_path / "x.json")]) == 2
    assert capsys.readouterr().err == (
        "iomonitor: export takes one trace: several would mix their pids\n"
    )
    assert not (tmp_path / "x.json").exists()
    assert not list(tmp_path.glob(".x.json*"))


def test_export_of_a_file_that_is_not_a_trace_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("hello\n")
    assert main(["export", str(bad), "-o", str(tmp_path / "x.json")]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"iomonitor: {bad}") and err.count("\n") == 1
    assert not list(tmp_path.glob("*.json")) and not list(tmp_path.glob(".x.json*"))
