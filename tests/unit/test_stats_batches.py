"""Batch by batch equals all at once: the batch reader, the partial aggregates, `iomonitor stats`.

Also: the progress bar is drawn on a terminal only, and a large trace is
summed up in a fraction of the memory that loading it whole takes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pty
import select
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from iomonitor import analysis, sinks, store
from iomonitor.cli import main
from iomonitor.cli import stats as stats_cli
from iomonitor.errors import InputError
from iomonitor.trace import (
    Trace,
    empty_errors,
    empty_processes,
    errors_frame,
    events_frame,
    processes_frame,
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
    procs = processes_frame(
        [dict(pid=p, ppid=None if p == 100 else 100, tgid=p, comm=c, argv=c, start=start,
              end=start + 50, exit_code=0, signal=None)
         for p, c in ((100, "app"), (200, "gzip"), (300, "sh"))]
    )  # fmt: skip
    errors = errors_frame(
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
        m.setattr(sinks, "ROW_GROUP", rows)
        store.write(trace, path)
    return path


def batches_of(*paths: Path, batch_rows: int, columns: list[str] | None = None) -> list:
    return list(store.iter_batches(*paths, batch_rows=batch_rows, columns=columns))


def concat(batches: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    return store._unify(pd.concat([b for _, b in batches], ignore_index=True))


# -- the batch reader ---------------------------------------------------------


def test_parquet_row_groups_read_batch_by_batch(tmp_path, monkeypatch) -> None:
    path = write_parquet(synthetic(5000), tmp_path / "t.parquet", monkeypatch, rows=700)
    import pyarrow.parquet as pq

    assert pq.ParquetFile(path).metadata.num_row_groups == 8
    got = batches_of(path, batch_rows=300)
    assert len(got) > 8 and all(len(b) <= 300 for _, b in got)
    assert {name for name, _ in got} == {str(path)}
    assert_frame_equal(concat(got), store.load(path).events)
    # Only the columns asked for are read, with the schema's dtypes.
    cut = batches_of(path, batch_rows=1000, columns=["time", "file", "bytes"])
    assert list(cut[0][1].columns) == ["time", "file", "bytes"]
    assert_frame_equal(concat(cut), store.load(path).events[["time", "file", "bytes"]])


def test_info_comes_from_the_parquet_metadata(tmp_path, monkeypatch) -> None:
    trace = synthetic(100)
    path = write_parquet(trace, tmp_path / "t.parquet", monkeypatch, rows=50)
    reader = store.BatchReader(path)
    info = reader.trace_info()  # before any batch was read
    assert len(info.events) == 0
    assert_frame_equal(info.processes, trace.processes)
    assert_frame_equal(info.errors, trace.errors)
    assert info.meta == trace.meta


def test_folders_of_any_depth_and_several_files(tmp_path, monkeypatch) -> None:
    # A hive-partitioned dataset: host=.../run=.../part-N.parquet
    parts = []
    for i, (host, run) in enumerate([("a", "1"), ("a", "2"), ("b", "1")]):
        folder = tmp_path / "ds" / f"host={host}" / f"run={run}"
        folder.mkdir(parents=True)
        parts.append(folder / f"part-{i}.parquet")
        write_parquet(synthetic(400, seed=i), parts[-1], monkeypatch, rows=100)
    other = write_parquet(synthetic(300, seed=9), tmp_path / "x.parquet", monkeypatch, rows=64)
    reader = store.BatchReader(tmp_path / "ds", other, batch_rows=90)
    whole = store.load(tmp_path / "ds", other)
    assert [i.path for i in reader.inputs] == [*sorted(parts), other]
    assert [i.name for i in reader.inputs] == list(whole.events["run"].cat.categories)
    got = list(reader)
    assert reader.bytes_read == reader.total_bytes == sum(p.stat().st_size for p in [*parts, other])
    per_run = pd.concat([b.assign(run=n) for n, b in got], ignore_index=True)
    assert per_run["run"].tolist() == whole.events["run"].astype(str).tolist()
    info = reader.trace_info()
    assert_frame_equal(info.processes, whole.processes)
    assert_frame_equal(info.errors, whole.errors)
    assert info.meta == whole.meta


def test_csv_in_small_chunks_equals_read_csv(tmp_path, monkeypatch) -> None:
    # Written in a zone with a UTC offset, wrapping past local midnight twice.
    monkeypatch.setenv("TZ", "Europe/Paris")
    import time

    time.tzset()
    try:
        day = 86400.0
        base = 1_700_000_000.0 - (1_700_000_000.0 % day) + day - 3600 - 5  # 22:59:55 UTC
        trace = synthetic(600, start=base)
        ev = trace.events
        ev["time"] = ev["time"] + pd.to_timedelta(np.arange(len(ev)) * 300, unit="s")
        ev.loc[[0, 1, 250, 251], "time"] = pd.NaT  # rows without a stamp, at a chunk edge
        path = tmp_path / "t.csv"
        store.write(Trace(ev), path)
        os.utime(path, (base + 2.5 * day, base + 2.5 * day))
        whole = store.read_csv(path).events
        for rows in (1, 7, 250, 10_000):
            assert_frame_equal(concat(batches_of(path, batch_rows=rows)), whole)
        assert whole["time"].dropna().is_monotonic_increasing
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_csv_errors_name_the_line_as_read_csv_does(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    good = '17:51:39.781925,0.000008,3854,3,R,2022,"/etc/fstab",\n'
    path.write_text(store.CLASSIC_HEADER + "\n" + good * 5 + "nonsense,,1,1,R,1,x,\n")
    with pytest.raises(InputError) as whole:
        store.read_csv(path)
    with pytest.raises(InputError) as batched:
        batches_of(path, batch_rows=2)
    assert str(batched.value) == str(whole.value)
    assert "on line 7" in str(batched.value)


@pytest.mark.parametrize("log", SAMPLE_LOGS, ids=lambda p: p.name)
def test_log_streamed_equals_read_log(log) -> None:
    whole = store.read_log(log)
    reader = store.BatchReader(log, batch_rows=16)
    got = list(reader)
    assert len(got) > 1
    assert_frame_equal(concat(got), whole.events)
    info = reader.trace_info()
    assert_frame_equal(info.processes, whole.processes)
    assert_frame_equal(info.errors, whole.errors)
    assert info.meta == whole.meta
    assert reader.bytes_read == reader.total_bytes


# -- partial aggregates over batches --------------------------------------------


def test_partials_of_batches_equal_the_whole(tmp_path, monkeypatch) -> None:
    trace = synthetic(6000)
    paths = [
        write_parquet(synthetic(3000, seed=s), tmp_path / f"{s}.parquet", monkeypatch, rows=500)
        for s in (1, 2)
    ]
    whole = store.load(*paths)
    for key in KEYS:
        parts = []
        for name, batch in store.iter_batches(*paths, batch_rows=400):
            parts.append(analysis.partial(batch.assign(run=name), key))
        got = analysis.combine(parts, errors=whole.errors, processes=whole.processes)
        want = analysis.by(whole, key)
        assert_frame_equal(got, want, check_exact=False, rtol=1e-12)
    parts = [analysis.summary_partial(trace.events.iloc[i : i + 333]) for i in range(0, 6000, 333)]
    ev = trace.events
    files = ev[ev["kind"].isin(["file", "tty", "pipe"])]  # no sockets: those are peers
    tops = {
        "file": analysis.combine([analysis.partial(files, "file")], final=False),
        "peer": analysis.combine([analysis.partial(ev, "peer")], final=False),
        "process": analysis.combine([analysis.partial(ev, "process")], final=False),
    }
    assert_series_equal(analysis.summary_combine(parts, trace, tops), analysis.summary(trace))


# -- `iomonitor stats`: streamed output equals loaded output -------------------------------


def run_stats(*args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["stats", *args]) == 0
    return out.getvalue()


@pytest.fixture
def inputs(tmp_path, monkeypatch) -> dict[str, Path]:
    csv = tmp_path / "t.csv"
    store.write(synthetic(1500, seed=3), csv)
    return {
        "a": write_parquet(synthetic(4000, seed=1), tmp_path / "a.parquet", monkeypatch, 300),
        "b": write_parquet(synthetic(2500, seed=2), tmp_path / "b.parquet", monkeypatch, 256),
        "classic": csv,
        "log": DATA / "tcp_loopback.log",
    }


@pytest.mark.parametrize(
    "args",
    [
        ["a"],
        ["a", "--format", "json"],
        ["a", "b", "--format", "markdown", "--top", "0"],
        ["a", "b", "classic", "log", "--format", "json"],
        ["log", "--format", "json"],
        ["a", "--by", "peer", "--format", "csv"],
        ["a", "b", "--by", "process", "--format", "json", "--top", "0"],
        ["classic", "--by", "file", "--format", "json"],
        ["a", "--by", "tgid", "--pid", "200", "--format", "json"],
        ["a", "b", "--by", "file", "--file", "/srv/*", "--dir", "W", "--format", "json"],
        ["a", "--by", "syscall", "--kind", "tcp", "--kind", "pipe"],
        ["a", "b", "--kind", "file", "--format", "json"],
        ["a", "--interval", "1s", "--format", "json"],
        ["a", "b", "classic", "--interval", "250ms", "--by", "file", "--top", "3"],
        ["a", "--interval", "1s", "--by", "peer", "--dir", "W", "--format", "csv"],
        ["a", "--by", "tree", "--format", "json", "--top", "0"],
        ["a", "b", "log", "--by", "tree"],
    ],
    ids=lambda a: " ".join(a),
)
def test_streamed_stats_equal_loaded_stats(inputs, monkeypatch, args) -> None:
    argv = [str(inputs[a]) if a in inputs else a for a in args]
    monkeypatch.setattr(stats_cli, "STREAM_ABOVE", 1 << 60)
    loaded = run_stats(*argv)
    monkeypatch.setattr(stats_cli, "STREAM_ABOVE", 0)
    monkeypatch.setattr(store, "BATCH_ROWS", 97)
    monkeypatch.setattr(stats_cli, "_COMPACT_EVERY", 3)
    streamed = run_stats(*argv)
    # Seconds inside the calls are float sums: added batch by batch they may
    # differ from one sum over everything in the last bit. All else is exact.
    if "json" in args:
        assert_same_numbers(json.loads(streamed), json.loads(loaded))
    elif "csv" in args:
        got, want = (pd.read_csv(io.StringIO(t)) for t in (streamed, loaded))
        assert_frame_equal(got, want, check_exact=False, rtol=1e-12)
        assert got.drop(columns="time").to_csv() == want.drop(columns="time").to_csv()
    else:
        assert streamed == loaded  # tables show rounded seconds


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


def test_streaming_reads_batches_not_whole_traces(inputs, monkeypatch) -> None:
    monkeypatch.setattr(stats_cli, "STREAM_ABOVE", 0)
    monkeypatch.setattr(store, "BATCH_ROWS", 500)

    def refuse(*paths: object, **kw: object) -> Trace:
        raise AssertionError("loaded whole")

    monkeypatch.setattr("iomonitor.load", refuse)
    sizes = []
    real = stats_cli._Tally.add

    def add(self: stats_cli._Tally, events: pd.DataFrame) -> None:
        sizes.append(len(events))
        real(self, events)

    monkeypatch.setattr(stats_cli._Tally, "add", add)
    run_stats(str(inputs["a"]), str(inputs["log"]))
    assert len(sizes) > 8 and max(sizes) <= 500


# -- the progress bar -------------------------------------------------------------------


def stats_with_stderr(stderr: int, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "iomonitor", "stats", *args],
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )


def big_trace(path: Path, events: int) -> Path:
    """A Parquet trace larger than the size above which stats streams."""
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
    sink.close(empty_processes(), empty_errors(), {"mode": "run"})
    return path


@pytest.fixture(scope="module")
def over_threshold(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.parquet"
    big_trace(path, 400_000)
    assert path.stat().st_size > stats_cli.STREAM_ABOVE
    return path


def test_progress_bar_on_a_terminal(over_threshold) -> None:
    main_fd, tty_fd = pty.openpty()
    try:
        proc = stats_with_stderr(tty_fd, "--by", "file", str(over_threshold))
        os.close(tty_fd)
        drawn = b""
        while True:
            ready, _, _ = select.select([main_fd], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(main_fd, 4096)
            except OSError:  # the slave side closed: the child is gone
                break
            if not chunk:
                break
            drawn += chunk
        assert proc.wait(60) == 0
    finally:
        os.close(main_fd)
    text = drawn.decode()
    assert "reading [" in text and "% " in text  # the last redraw may skip 100%
    # Cleared at the end: the last thing written blanks the line and returns to its start.
    last = text.rsplit("\r", 2)
    assert last[-1] == "" and last[-2].strip() == ""


def test_no_progress_bar_on_a_pipe(over_threshold) -> None:
    proc = stats_with_stderr(subprocess.PIPE, "--by", "file", str(over_threshold))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert err == b""


def test_progress_redraws_at_most_ten_times_a_second() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    with stats_cli._Progress(1000, out) as bar:
        for done in range(0, 1001, 10):
            bar.show(done)  # a hundred calls within far less than 0.1 s
    assert out.getvalue().count("reading [") == 1
    assert out.getvalue().endswith("\r")


# -- memory ---------------------------------------------------------------------------------

_PEAK = textwrap.dedent(
    """
    import resource, subprocess, sys
    res = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
    assert res.returncode == 0
    print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    """
)


def peak_kib(*argv: str) -> int:
    """Peak resident memory (KiB) of a command, measured in a fresh process."""
    res = subprocess.run([sys.executable, "-c", _PEAK, *argv], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return int(res.stdout)


def test_stats_by_file_memory_stays_flat(tmp_path) -> None:
    path = big_trace(tmp_path / "3m.parquet", 3_000_000)
    streamed = peak_kib(sys.executable, "-m", "iomonitor", "stats", "--by", "file", str(path))
    whole = peak_kib(
        sys.executable, "-c", "import sys, iomonitor; iomonitor.load(sys.argv[1])", str(path)
    )
    assert streamed < 0.5 * whole, (streamed, whole)


@pytest.mark.parametrize(
    "args",
    [
        ["a", "--by", "tgid", "--pid", "200", "--format", "json"],
        ["a", "b", "--by", "file", "--file", "/srv/*", "--dir", "W", "--format", "json"],
        ["a", "--by", "syscall", "--kind", "tcp", "--kind", "pipe", "--format", "json"],
        ["a", "classic", "log", "--dir", "R", "--format", "json"],
    ],
    ids=lambda a: " ".join(a),
)
@pytest.mark.parametrize("streamed", [False, True], ids=["loaded", "streamed"])
def test_filters_pushed_down_to_the_reader_change_nothing(inputs, monkeypatch, args, streamed):
    argv = [str(inputs[a]) if a in inputs else a for a in args]
    monkeypatch.setattr(stats_cli, "STREAM_ABOVE", 0 if streamed else 1 << 60)
    monkeypatch.setattr(store, "BATCH_ROWS", 97)
    pushed = json.loads(run_stats(*argv))
    monkeypatch.setattr(stats_cli, "pushdown", lambda select: None)
    assert_same_numbers(pushed, json.loads(run_stats(*argv)))
