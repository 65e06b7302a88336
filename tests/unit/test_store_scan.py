"""The store's one path for each job: filters through the engine, raw inputs converted once.

``load(filters=)`` gives the same rows whatever holds the run (a raw log, a
Parquet file, a dataset), all filtered by the query engine; ``scan`` of a
raw log or classic CSV converts it once, through the same converter and
Parquet writer as ``iomonitor -i``, to a temporary file removed when the
scan is done.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from pandas.testing import assert_frame_equal
from test_engine import aggregates, assert_same, synthetic

from iomonitor import analysis, store
from iomonitor.cli import main
from iomonitor.errors import InputError
from iomonitor.strace.convert import Converter
from iomonitor.trace import Trace

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder temporary files go to in this test (to see what is left there)."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def conversions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One item per raw-log conversion started."""
    made: list[int] = []
    real = Converter.__init__

    def counted(self: Converter, *args: object, **kwargs: object) -> None:
        made.append(1)
        real(self, *args, **kwargs)

    monkeypatch.setattr(Converter, "__init__", counted)
    return made


def test_load_filters_same_rows_from_log_parquet_and_dataset(tmp_path: Path) -> None:
    log = DATA / "tcp_loopback.log"
    whole = store.load(log)
    store.write(whole, tmp_path / "t.parquet")
    part = tmp_path / "ds" / "host=h" / "run=r" / "part-0.parquet"
    part.parent.mkdir(parents=True)
    store.write(whole, part)
    filters = [[("kind", "==", "tcp"), ("dir", "==", "W")], [("bytes", ">=", 4096)]]
    ev = whole.events
    mask = ((ev.kind == "tcp") & (ev.dir == "W")) | (ev.bytes >= 4096)
    assert 0 < mask.sum() < len(ev)
    want = ev[mask].reset_index(drop=True)
    for path in (log, tmp_path / "t.parquet", tmp_path / "ds"):
        got = store.load(path, filters=filters).events.drop(columns="run", errors="ignore")
        assert_frame_equal(
            got, want, check_categorical=False, check_index_type=False, obj=str(path)
        )


def test_scan_of_a_raw_log_is_one_temporary_parquet_removed_after(
    tmp_path: Path, scratch: Path, conversions: list[int]
) -> None:
    log = DATA / "tcp_loopback.log"
    trace = store.scan(str(log))
    assert not trace.in_memory
    converted = Path(trace.scan.source)
    assert converted.exists() and store.detect(converted) == "parquet"
    assert converted.is_relative_to(scratch)
    got = aggregates(trace)
    assert len(conversions) == 1  # once, however many queries
    # The numbers are those of `-i LOG -o FILE.parquet` then a scan of the file.
    out = tmp_path / "i.parquet"
    assert main(["-i", str(log), "-o", str(out)]) == 0
    written = store.scan(out)
    assert_same(got, aggregates(written))
    assert_frame_equal(trace.processes, written.processes)
    assert_frame_equal(trace.errors, written.errors)
    assert trace.meta == written.meta
    del trace
    gc.collect()
    assert list(scratch.iterdir()) == []  # the scan is done: its file is gone


def test_scan_of_a_classic_csv_is_one_temporary_parquet_removed_after(
    tmp_path: Path, scratch: Path
) -> None:
    csv = tmp_path / "t.csv"
    store.write(synthetic(3000, seed=7), csv)
    trace = store.scan(csv, tz="Asia/Tokyo")
    assert not trace.in_memory
    loaded = store.load(csv, tz="Asia/Tokyo")
    # The numbers of the CSV loaded, then written as Parquet and scanned.
    store.write(loaded, tmp_path / "t.parquet")
    assert_same(aggregates(trace), aggregates(store.scan(tmp_path / "t.parquet")))
    assert trace.meta == loaded.meta
    events = trace.events  # read into memory: the scan is done with
    gc.collect()
    assert list(scratch.iterdir()) == []
    assert_frame_equal(events, loaded.events, check_categorical=False)


def test_scan_of_several_raw_inputs_keeps_them_apart_as_runs(tmp_path: Path, scratch: Path) -> None:
    csv = tmp_path / "t.csv"
    store.write(synthetic(500, seed=8), csv)
    inputs = [DATA / "pipeline.log", csv, DATA / "tar_gzip.log"]
    trace = store.scan(*inputs)
    assert len(list(scratch.iterdir())) == 1  # one folder for the scan's files
    assert_same(aggregates(trace), aggregates(store.load(*inputs)))
    del trace
    gc.collect()
    assert list(scratch.iterdir()) == []


def test_scan_of_a_broken_input_leaves_no_temporary_file(tmp_path: Path, scratch: Path) -> None:
    junk = tmp_path / "junk.log"
    junk.write_text("this is not strace output\n" * 50)
    with pytest.raises(InputError):
        store.scan(DATA / "pipeline.log", junk)
    assert list(scratch.iterdir()) == []


def test_trace_load_save_combine_are_the_stores(tmp_path: Path) -> None:
    trace = Trace.load(DATA / "pipeline.log")
    trace.save(tmp_path / "p.parquet")
    back = Trace.load(tmp_path / "p.parquet", filters=[("dir", "==", "W")])
    assert_frame_equal(
        back.events,
        trace.events[trace.events.dir == "W"].reset_index(drop=True),
        check_categorical=False,
    )
    both = Trace.combine([trace, back], ["all", "writes"])
    assert list(both.events.run.cat.categories) == ["all", "writes"]
    assert len(both.events) == len(trace.events) + len(back.events)
    assert set(both.meta["runs"]) == {"all", "writes"}


def test_a_selection_of_a_scanned_log_outlives_the_trace_it_came_from(scratch: Path) -> None:
    # select() gives a new trace over the same temporary file: dropping the
    # first trace must not remove the file while the selection is alive.
    whole = analysis.by(store.load(DATA / "pipeline.log"), "file")
    writes = analysis.select(store.scan(DATA / "pipeline.log"), dir="W")
    gc.collect()
    assert list(scratch.iterdir())  # still there for the selection
    got = analysis.by(writes, "file")
    assert got["write_bytes"].sum() == whole["write_bytes"].sum() > 0
    assert got["read_bytes"].sum() == 0
    del writes
    gc.collect()
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("output", ["t.parquet", "t.csv"])
def test_convert_log_never_imports_pandas(tmp_path: Path, output: str) -> None:
    # `-i LOG -o FILE` goes through store.convert_log: the compiled core's
    # Arrow tables straight into the writers, as a live capture does.
    script = (
        "import sys\n"
        "from iomonitor.cli import main\n"
        f"status = main(['-i', {str(DATA / 'pipeline.log')!r}, '-o', {str(tmp_path / output)!r}])\n"
        "print(status, sorted(m for m in ('pandas', 'duckdb') if m in sys.modules))\n"
    )
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[-1] == "0 []"
    # Files that only failed come from the failed-call table, which a CSV lacks.
    kept = ["file", "calls", "read_bytes", "write_bytes"]
    got, want = (
        analysis.by(store.load(path), "file").query("calls > 0")[kept].reset_index(drop=True)
        for path in (tmp_path / output, DATA / "pipeline.log")
    )
    assert_frame_equal(got, want, check_categorical=False)


def test_conversion_turns_the_collector_off_and_back(tmp_path: Path) -> None:
    """-i keeps the cyclic collector off while it converts, and puts it back as it was after."""
    from iomonitor.store.inputs import convert_log
    from iomonitor.store.writers import open_sink

    log = tmp_path / "t.log"
    log.write_text('7 1.5 write(1, "hi", 2) = 2 <0.00001>\n')
    seen = []
    was_on = gc.isenabled()
    try:
        for on in (True, False):
            gc.enable() if on else gc.disable()
            sink = open_sink(tmp_path / "t.parquet")
            real_close = sink.close
            sink.close = lambda *a, _c=real_close: (seen.append(gc.isenabled()), _c(*a))
            meta = convert_log(log, sink)
            assert meta["events"] == 1
            assert gc.isenabled() == on  # a collector turned off stays off
    finally:
        gc.enable() if was_on else gc.disable()
    assert seen == [False, False]  # off while the footer is written too
