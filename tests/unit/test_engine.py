"""One engine at every size: a trace queried on disk gives what it gives in memory.

The analysis functions query the events where they are (a DataFrame in
memory, Parquet files, several runs, a dataset); these tests hold the
results of a scan to those of the same events loaded whole, and the same
run read from a log, a CSV, a Parquet file and a dataset to one another.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from iomonitor import analysis, store
from iomonitor.cli import main
from iomonitor.store import writers
from iomonitor.trace import (
    Trace,
    empty_table,
    events_frame,
    rows_frame,
)

DATA = Path(__file__).resolve().parents[2] / "data"
SAMPLE_LOGS = sorted(DATA.glob("*.log"))
KEYS = ("file", "peer", "pid", "process", "syscall", "kind", "tgid")
NAMES = ["/srv/a.bin", "/srv/b,c.bin", "stdout", "pipe:[7]", "10.0.0.1", "unix:[9]"]
KIND_OF = {"/srv/a.bin": "file", "/srv/b,c.bin": "file", "stdout": "tty", "pipe:[7]": "pipe",
           "10.0.0.1": "tcp", "unix:[9]": "unix"}  # fmt: skip


def synthetic(n: int, seed: int = 1, start: float = 1_700_000_000.0) -> Trace:
    """n events over a few threads, files, pipes and sockets, with failed calls and processes."""
    rng = np.random.default_rng(seed)
    files = rng.choice(NAMES, n)
    tgid = rng.choice([100, 200, 300], n)
    cols = {
        "time": start + np.sort(rng.uniform(0, 50, n)),
        "dt": np.where(rng.random(n) < 0.1, np.nan, rng.uniform(0, 1e-3, n)),
        "pid": tgid + rng.integers(0, 3, n),
        "fd": rng.integers(0, 9, n),
        "dir": rng.choice(["R", "W", "M"], n, p=[0.5, 0.45, 0.05]),
        "bytes": rng.integers(0, 1 << 20, n),
        "file": files,
        "port": [443 if f == "10.0.0.1" else None for f in files],
        "syscall": rng.choice(["read", "write", "sendto"], n),
        "kind": [KIND_OF[f] for f in files],
        "tgid": tgid,
        "comm": [{100: "app", 200: "gzip", 300: None}[t] for t in tgid],
        "local": [None] * n,
    }
    procs = rows_frame("processes",
        [dict(pid=p, ppid=None if p == 100 else 100, tgid=p, comm=c, argv=c, start=start,
              end=start + 50, exit_code=0, signal=None)
         for p, c in ((100, "app"), (200, "gzip"), (300, "sh"))]
    )  # fmt: skip
    errors = rows_frame("errors",
        [dict(pid=100, tgid=100, syscall="read", file="/srv/missing", kind="file",
              errno="ENOENT", count=3),
         dict(pid=201, tgid=200, syscall="sendto", file="10.0.0.1", kind="tcp",
              errno="EPIPE", count=2)]
    )  # fmt: skip
    meta = {"mode": "run", "unparsed_lines": 0, "unknown_fds": 2}
    return Trace(events_frame(cols), procs, errors, meta)


def write_parquet(trace: Trace, path: Path, monkeypatch: pytest.MonkeyPatch, rows: int) -> Path:
    """Write with row groups of ``rows`` events."""
    with monkeypatch.context() as m:
        m.setattr(writers, "ROW_GROUP", rows)
        store.write(trace, path)
    return path


@pytest.fixture
def two_files(tmp_path, monkeypatch) -> list[Path]:
    return [
        write_parquet(synthetic(4000, seed=1), tmp_path / "a.parquet", monkeypatch, 300),
        write_parquet(synthetic(2500, seed=2), tmp_path / "b.parquet", monkeypatch, 256),
    ]


# -- the analysis functions: scanned on disk = loaded in memory ------------------------


def aggregates(trace: Trace) -> dict[str, object]:
    out: dict[str, object] = {f"by {k}": analysis.by(trace, k) for k in KEYS}
    out["tree"] = analysis.by_tree(trace)
    out["bandwidth"] = analysis.bandwidth(trace, "250ms", key="file", top=3)
    out["bandwidth peer"] = analysis.bandwidth(trace, "1s", key="peer")
    out["sizes"] = analysis.size_histogram(trace, key="process", dirs="RWM")
    out["latency"] = analysis.latency(trace, key="peer")
    out["latency all"] = analysis.latency(trace, key=None)
    out["summary"] = analysis.summary(trace)
    return out


def assert_same(got: dict[str, object], want: dict[str, object]) -> None:
    assert list(got) == list(want)
    for name, value in want.items():
        if isinstance(value, pd.Series):
            assert_series_equal(got[name], value, obj=name)
        else:
            # Float sums may be added up in another order: equal to the last bits.
            assert_frame_equal(got[name], value, check_exact=False, rtol=1e-12, obj=name)


def test_scan_of_a_parquet_file_equals_the_loaded_trace(two_files) -> None:
    scanned = store.scan(two_files[0])
    assert not scanned.in_memory
    assert_same(aggregates(scanned), aggregates(store.load(two_files[0])))
    assert not scanned.in_memory  # nothing was read whole to get them


def test_scan_of_several_runs_equals_the_loaded_runs(two_files) -> None:
    scanned = store.scan(*two_files)
    assert scanned.scan.has_runs
    assert_same(aggregates(scanned), aggregates(store.load(*two_files)))


def test_scan_of_a_dataset_folder_equals_loading_it(tmp_path, monkeypatch) -> None:
    for i, seed in enumerate((4, 5, 6)):
        part = tmp_path / "ds" / "host=web1" / f"run=r{i}" / "part-0.parquet"
        part.parent.mkdir(parents=True)
        write_parquet(synthetic(900, seed=seed), part, monkeypatch, 200)
    scanned = store.scan(tmp_path / "ds")
    assert sorted(scanned.processes["run"].unique()) == [f"host=web1/run=r{i}" for i in range(3)]
    assert_same(aggregates(scanned), aggregates(store.load(tmp_path / "ds")))


def test_the_same_file_twice_is_two_runs_on_disk_too(two_files) -> None:
    got = analysis.by(store.scan(two_files[0], two_files[0]), "pid")
    assert_frame_equal(got, analysis.by(store.load(two_files[0], two_files[0]), "pid"))
    assert set(got["run"]) == {str(two_files[0]), f"{two_files[0]}#2"}


@pytest.mark.parametrize(
    "filters",
    [
        {"pid": [200]},
        {"file": ["/srv/*"], "dir": ["W"]},
        {"kind": ["tcp", "pipe"]},
        {
            "pid": [101, 300],
            "file": ["*[0-9]*"],
            "kind": ["file", "tcp", "unix"],
            "dir": ["R", "M"],
        },
    ],
    ids=str,
)
def test_select_on_a_scan_equals_select_in_memory(two_files, filters) -> None:
    scanned = analysis.select(store.scan(*two_files), **filters)
    loaded = analysis.select(store.load(*two_files), **filters)
    assert not scanned.in_memory
    assert_frame_equal(scanned.errors, loaded.errors)
    assert_same(aggregates(scanned), aggregates(loaded))


def test_events_of_a_scan_are_read_on_first_use(two_files) -> None:
    scanned = store.scan(*two_files)
    events = scanned.events
    assert scanned.in_memory
    assert_frame_equal(events, store.load(*two_files).events)


def test_latency_percentiles_are_exact_at_any_size(two_files) -> None:
    events = store.load(two_files[0]).events
    got = analysis.latency(store.scan(two_files[0]), key="syscall").set_index("syscall")
    for syscall, group in events.groupby("syscall", observed=True):
        dt = group["dt"].dropna()
        for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
            assert got.loc[syscall, name] == pytest.approx(dt.quantile(q), rel=1e-12)


# -- one run, four ways to store it: the same numbers ------------------------------------


@pytest.mark.parametrize("log", SAMPLE_LOGS, ids=lambda p: p.name)
def test_same_numbers_from_log_csv_parquet_and_dataset(log: Path, tmp_path: Path) -> None:
    trace = store.load(log)
    store.write(trace, tmp_path / "t.parquet")
    store.write(trace, tmp_path / "t.csv")
    part = tmp_path / "ds" / "host=h" / "run=r" / "part-0.parquet"
    part.parent.mkdir(parents=True)
    store.write(trace, part)
    kept = ["file", "calls", "read_bytes", "write_bytes", "mapped_bytes", "max_size", "time"]
    tables = {
        name: json.loads(run_stats("--by", "file", "--top", "0", "--format", "json", str(path)))
        for name, path in {
            "log": log,
            "csv": tmp_path / "t.csv",
            "parquet": tmp_path / "t.parquet",
            "dataset": tmp_path / "ds",
        }.items()
    }
    # Files that only failed come from the failed-call table, which a CSV lacks.
    want = [{k: r[k] for k in kept} for r in tables["log"] if r["calls"]]
    assert want, "the sample log moves bytes"
    for name, rows in tables.items():
        assert [{k: r[k] for k in kept} for r in rows if r["calls"]] == want, name


# -- `iomonitor stats`: Parquet queried on disk = the same trace in memory -----------------


def run_stats(*args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["stats", *args]) == 0
    return out.getvalue()


@pytest.fixture
def inputs(tmp_path, monkeypatch, two_files) -> dict[str, Path]:
    csv = tmp_path / "t.csv"
    store.write(synthetic(1500, seed=3), csv)
    return {"a": two_files[0], "b": two_files[1], "classic": csv, "log": DATA / "tcp_loopback.log"}


@pytest.mark.parametrize(
    "args",
    [
        ["a"],
        ["a", "--format", "json"],
        ["a", "b", "--format", "markdown", "--top", "0"],
        ["a", "b", "classic", "log", "--format", "json"],
        ["a", "--by", "peer", "--format", "csv"],
        ["a", "b", "--by", "process", "--format", "json", "--top", "0"],
        ["a", "--by", "tgid", "--pid", "200", "--format", "json"],
        ["a", "b", "--by", "file", "--file", "/srv/*", "--dir", "W", "--format", "json"],
        ["a", "--by", "syscall", "--kind", "tcp", "--kind", "pipe"],
        ["a", "b", "--kind", "file", "--format", "json"],
        ["a", "--interval", "1s", "--format", "json"],
        ["a", "b", "--interval", "250ms", "--by", "file", "--top", "3"],
        ["a", "--interval", "1s", "--by", "peer", "--dir", "W", "--format", "csv"],
        ["a", "--by", "tree", "--format", "json", "--top", "0"],
        ["a", "b", "--by", "tree"],
    ],
    ids=lambda a: " ".join(a),
)
def test_stats_on_disk_equal_stats_in_memory(inputs, monkeypatch, args) -> None:
    argv = [str(inputs[a]) if a in inputs else a for a in args]
    on_disk = run_stats(*argv)
    monkeypatch.setattr(store, "scan", store.load)
    in_memory = run_stats(*argv)
    if "json" in args:
        assert_same_numbers(json.loads(on_disk), json.loads(in_memory))
    elif "csv" in args:
        got, want = (pd.read_csv(io.StringIO(t)) for t in (on_disk, in_memory))
        assert_frame_equal(got, want, check_exact=False, rtol=1e-12)
    else:
        assert on_disk == in_memory  # tables show rounded seconds


def assert_same_numbers(got: object, want: object) -> None:
    if isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want)
        for k in want:
            assert_same_numbers(got[k], want[k])
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            assert_same_numbers(g, w)
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=1e-12)
    else:
        assert got == want


def big_trace(path: Path, events: int) -> Path:
    """A Parquet trace of ``events`` events over 1,000 files."""
    rng = np.random.default_rng(5)
    names = [f"/srv/data/f{i:05d}" for i in range(1000)]
    sink = store.ParquetSink(path)
    for start in range(0, events, 250_000):
        n = min(250_000, events - start)
        cols = {
            "time": 1_700_000_000.0 + start / 1e4 + np.arange(n) / 1e4,
            "dt": rng.uniform(0, 1e-3, n).round(6),
            "pid": rng.integers(1000, 1100, n),
            "fd": rng.integers(3, 64, n),
            "dir": np.where(rng.random(n) < 0.5, "R", "W"),
            "bytes": rng.integers(0, 1 << 20, n),
            "file": pd.Categorical.from_codes(rng.integers(0, len(names), n), categories=names),
            "port": [None] * n,
            "syscall": np.where(rng.random(n) < 0.5, "read", "write"),
            "kind": ["file"] * n,
            "tgid": rng.integers(1000, 1010, n),
            "comm": np.where(rng.random(n) < 0.5, "app", "gzip"),
            "local": [None] * n,
        }
        sink.write(events_frame(cols))
    sink.close(empty_table("processes"), empty_table("errors"), {"mode": "run"})
    return path


_PEAK = textwrap.dedent(
    """
    import os, subprocess, sys
    child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    print(usage.ru_maxrss)
    """
)


def peak_kib(*argv: str) -> int:
    """Peak resident memory (KiB) of a command, measured in a fresh process."""
    res = subprocess.run([sys.executable, "-c", _PEAK, *argv], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return int(res.stdout)


def test_stats_by_file_memory_stays_flat(tmp_path) -> None:
    path = big_trace(tmp_path / "3m.parquet", 3_000_000)
    queried = peak_kib(sys.executable, "-m", "iomonitor", "stats", "--by", "file", str(path))
    whole = peak_kib(
        sys.executable, "-c", "import sys, iomonitor; iomonitor.load(sys.argv[1])", str(path)
    )
    assert queried < 0.5 * whole, (queried, whole)
