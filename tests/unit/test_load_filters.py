"""Row filters on loading: ``load(..., filters=F)`` equals ``load(...)`` filtered in pandas.

Every filter goes through the query engine. For Parquet files and datasets
row groups whose statistics rule out a match are never read (checked by
spoiling one row group at a time: a load that reads it fails). CSVs and
logs are filtered chunk by chunk. Bad filters are one-line UsageErrors.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from pandas.testing import assert_frame_equal
from test_engine import synthetic  # events, processes, failed calls; time-sorted

from iomonitor import store
from iomonitor.errors import InputError, UsageError
from iomonitor.store import readers, writers
from iomonitor.trace import Trace, unify

DATA = Path(__file__).resolve().parents[2] / "data"
ROWS = 250  # events per row group: 5000 events make 20 of them
RUNS = {("a", "20260101T000000Z-aaaa"): 1, ("a", "20260101T010000Z-bbbb"): 2,
        ("b", "20260101T000000Z-cccc"): 3}  # fmt: skip

Mask = Callable[[pd.DataFrame], pd.Series]

T0 = pd.Timestamp("2023-11-14 22:13:20", tz="UTC")  # synthetic()'s start


def tidy(events: pd.DataFrame) -> pd.DataFrame:
    """Categories cut to the values present, sorted: a filtered read never sees the others."""
    events = events.reset_index(drop=True).copy()
    for col in events.columns:
        if isinstance(events[col].dtype, pd.CategoricalDtype):
            cat = events[col].cat.remove_unused_categories()
            events[col] = cat.cat.reorder_categories(sorted(cat.cat.categories))
    return events


def concat(batches: list[pd.DataFrame]) -> pd.DataFrame:
    return unify(pd.concat(batches, ignore_index=True))


def whole_meta(meta: dict) -> dict:
    """The metadata without the filter's note (in each run's too)."""
    assert meta.pop("filters")
    for run in meta.get("runs", {}).values():
        assert run.pop("filters")
    return meta


def same_rows(got: pd.DataFrame, whole: pd.DataFrame, mask: Mask) -> None:
    want = whole[mask(whole).fillna(False).astype(bool)]
    assert 0 < len(want) < len(whole)  # the case filters something, keeps something
    assert_frame_equal(tidy(got), tidy(want))


# (filters, the same in pandas): every case runs on every kind of input.
CASES: dict[str, tuple[list, Mask]] = {
    "time naive ISO is UTC": (
        [("time", ">=", "2023-11-14 22:13:40"), ("time", "<", "2023-11-14T23:13:50+01:00")],
        lambda e: (
            (e.time >= T0 + pd.Timedelta(seconds=20)) & (e.time < T0 + pd.Timedelta(seconds=30))
        ),
    ),
    "time Timestamp": (
        [("time", ">", T0 + pd.Timedelta(seconds=45))],
        lambda e: e.time > T0 + pd.Timedelta(seconds=45),
    ),
    "pid in": ([("pid", "in", [100, 201])], lambda e: e.pid.isin([100, 201])),
    "dir": ([("dir", "==", "W")], lambda e: e.dir == "W"),
    "dir !=": ([("dir", "!=", "M")], lambda e: e.dir != "M"),
    "file": ([("file", "=", "/srv/b,c.bin")], lambda e: e.file == "/srv/b,c.bin"),
    "file not in": (
        [("file", "not in", ["stdout", "pipe:[7]"])],
        lambda e: ~e.file.isin(["stdout", "pipe:[7]"]),
    ),
    "bytes": ([("bytes", ">", 500_000)], lambda e: e.bytes > 500_000),
    "bytes float": ([("bytes", "<=", 1e5)], lambda e: e.bytes <= 1e5),
    "any of": (
        [[("pid", "==", 100)], [("file", "==", "stdout"), ("dir", "==", "W")]],
        lambda e: (e.pid == 100) | ((e.file == "stdout") & (e.dir == "W")),
    ),
}
# Only Parquet carries these columns filled (the classic CSV has no comm, syscall).
PARQUET_CASES: dict[str, tuple[list, Mask]] = {
    **CASES,
    "comm != keeps missing, as pandas": ([("comm", "!=", "app")], lambda e: e.comm != "app"),
    "syscall": (
        [("syscall", "in", ["read", "sendto"])],
        lambda e: e.syscall.isin(["read", "sendto"]),
    ),
    "port": ([("port", "==", 443)], lambda e: e.port == 443),
    "dt misses NaN": ([("dt", ">", 0.0005)], lambda e: e.dt > 0.0005),
}


def write_parquet(trace: Trace, path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    with monkeypatch.context() as m:
        m.setattr(writers, "ROW_GROUP", ROWS)
        store.write(trace, path)
    return path


@pytest.fixture(scope="module")
def parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pq") / "t.parquet"
    with pytest.MonkeyPatch.context() as m:
        m.setattr(writers, "ROW_GROUP", ROWS)
        store.write(synthetic(5000), path)
    assert pq.ParquetFile(path).metadata.num_row_groups == 20
    return path


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ds")
    with pytest.MonkeyPatch.context() as m:
        m.setattr(writers, "ROW_GROUP", ROWS)
        for (host, run), seed in RUNS.items():
            trace = synthetic(1000, seed=seed)
            sink = store.DatasetSink(root, host=host, run=run)
            sink.write(trace.events)
            sink.close(trace.processes, trace.errors, trace.meta)
    return root


def spoiled(path: Path, group: int) -> Path:
    """A copy of a Parquet file whose row group ``group`` holds garbage (its footer intact)."""
    meta = pq.ParquetFile(path).metadata
    data = bytearray(path.read_bytes())
    for c in range(meta.num_columns):
        col = meta.row_group(group).column(c)
        start = min(o for o in (col.dictionary_page_offset, col.data_page_offset) if o)
        data[start : start + col.total_compressed_size] = b"\xff" * col.total_compressed_size
    out = path.with_name(f"{path.stem}-spoiled-{group}.parquet")
    out.write_bytes(bytes(data))
    return out


def groups_read(path: Path, filters: list) -> set[int]:
    """The row groups of ``path`` that ``load(path, filters=filters)`` reads.

    A group is read when spoiling it alone makes the load fail; spoiling
    does not touch the footer, whose statistics decide what is skipped.
    """
    read = set()
    for group in range(pq.ParquetFile(path).metadata.num_row_groups):
        copy = spoiled(path, group)
        try:
            store.load(copy, filters=filters)
        except InputError:
            read.add(group)
        finally:
            copy.unlink()
    return read


def test_a_spoiled_row_group_is_seen_when_read(parquet: Path) -> None:
    # What groups_read relies on: reading a spoiled group fails.
    copy = spoiled(parquet, 7)
    with pytest.raises(InputError):
        store.load(copy, filters=[("bytes", ">=", 0)])
    store.load(copy, filters=[("bytes", "<", 0)])  # no group can hold one: nothing read


# -- equal to filtering in pandas ----------------------------------------------


@pytest.mark.parametrize("case", PARQUET_CASES)
def test_parquet(parquet: Path, case: str) -> None:
    filters, mask = PARQUET_CASES[case]
    whole = store.load(parquet)
    got = store.load(parquet, filters=filters)
    same_rows(got.events, whole.events, mask)
    # Processes, failed calls and metadata are the whole trace's; meta notes the filter.
    assert_frame_equal(got.processes, whole.processes)
    assert_frame_equal(got.errors, whole.errors)
    assert whole_meta(got.meta) == whole.meta


def test_parquet_filter_on_columns_not_read(parquet: Path) -> None:
    got = store.load(parquet, columns=["time", "bytes"], filters=[("file", "==", "stdout")])
    whole = store.load(parquet).events
    assert list(got.events.columns) == ["time", "bytes"]
    assert_frame_equal(
        got.events, whole[whole.file == "stdout"][["time", "bytes"]].reset_index(drop=True)
    )


@pytest.mark.parametrize("case", CASES)
def test_classic_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    filters, mask = CASES[case]
    path = tmp_path / "t.csv"
    trace = synthetic(3000)
    store.write(trace, path)
    whole = store.load(path)
    # The CSV keeps a local time of day, its date taken from the file: the
    # times read back are moved by whole days.
    local = whole.events.time.iloc[0] - trace.events.time.iloc[0]
    monkeypatch.setattr(readers, "BATCH_ROWS", 700)  # several chunks, filtered one by one
    got = store.load(path, filters=_shifted(filters, local))
    same_rows(got.events, whole.events, lambda e: mask(e.assign(time=e.time - local)))
    assert whole_meta(got.meta) == whole.meta


def _shifted(filters: list, by: pd.Timedelta) -> list:
    """The same filters with their times moved by ``by``."""
    if isinstance(filters[0], list):
        return [_shifted(group, by) for group in filters]
    return [(c, op, _utc(v) + by if c == "time" else v) for c, op, v in filters]


def _utc(value: object) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp


LOG_CASES: dict[str, tuple[list, Mask]] = {
    "dir and comm": (
        [("dir", "==", "W"), ("comm", "!=", "tar")],
        lambda e: (e.dir == "W") & (e.comm != "tar"),
    ),
    "bytes": ([("bytes", ">=", 512)], lambda e: e.bytes >= 512),
    "kind": ([("kind", "in", ["pipe", "tcp"])], lambda e: e.kind.isin(["pipe", "tcp"])),
    "syscall": ([("syscall", "!=", "read")], lambda e: e.syscall != "read"),
}


@pytest.mark.parametrize("log", sorted(DATA.glob("*.log")), ids=lambda p: p.name)
def test_raw_log(log: Path) -> None:
    whole = store.load(log)
    ev = whole.events
    # pid and time filters from the log's own values: its busiest thread, its middle.
    pid = int(ev.pid.value_counts().index[0])
    middle = ev.time.iloc[len(ev) // 2]
    cases = {**LOG_CASES,
             "pid": ([("pid", "==", pid)], lambda e: e.pid == pid),
             "time": ([("time", "<", middle.isoformat())], lambda e: e.time < middle)}  # fmt: skip
    for filters, mask in cases.values():
        if not (0 < mask(ev).fillna(False).sum() < len(ev)):
            continue  # this log has nothing to tell apart for this case
        got = store.load(log, filters=filters)
        same_rows(got.events, ev, mask)
        assert_frame_equal(got.processes, whole.processes)
        assert_frame_equal(got.errors, whole.errors)
        assert whole_meta(got.meta) == whole.meta


def run_name(host: str, run: str) -> str:
    return f"host={host}/run={run}"


DATASET_CASES: dict[str, tuple[list, Mask]] = {
    "host": ([("host", "==", "a")], lambda e: e.run.str.startswith("host=a/")),
    "run in": (
        [("run", "in", ["20260101T000000Z-aaaa", "20260101T000000Z-cccc"])],
        lambda e: e.run.isin(
            [run_name("a", "20260101T000000Z-aaaa"), run_name("b", "20260101T000000Z-cccc")]
        ),
    ),
    "run >= (run ids sort by time)": (
        [("run", ">=", "20260101T010000Z")],
        lambda e: e.run == run_name("a", "20260101T010000Z-bbbb"),
    ),
    "host != and pid": (
        [("host", "!=", "b"), ("pid", "in", [100, 101])],
        lambda e: ~e.run.str.startswith("host=b/") & e.pid.isin([100, 101]),
    ),
    "host or file": (
        [[("host", "==", "b")], [("file", "==", "stdout")]],
        lambda e: e.run.str.startswith("host=b/") | (e.file == "stdout"),
    ),
    "time and dir": (
        [("time", "<", "2023-11-14 22:13:30"), ("dir", "==", "R")],
        lambda e: (e.time < T0 + pd.Timedelta(seconds=10)) & (e.dir == "R"),
    ),
}


@pytest.mark.parametrize("case", DATASET_CASES)
def test_two_host_dataset(dataset: Path, case: str) -> None:
    filters, mask = DATASET_CASES[case]
    whole = store.load(dataset)
    got = store.load(dataset, filters=filters)
    same_rows(got.events, whole.events, lambda e: mask(e.assign(run=e.run.astype(str))))
    assert list(got.events.run.cat.categories) == list(whole.events.run.cat.categories)
    assert_frame_equal(got.processes, whole.processes)
    assert_frame_equal(got.errors, whole.errors)
    assert whole_meta(got.meta) == whole.meta


# -- what is not read ------------------------------------------------------------


def test_time_filter_reads_only_the_row_groups_it_needs(parquet: Path) -> None:
    # Events are in time order (as a capture writes them): a 5-second window
    # of the 50 seconds lies in 2 or 3 of the 20 row groups.
    window = [
        ("time", ">=", T0 + pd.Timedelta(seconds=20)),
        ("time", "<", T0 + pd.Timedelta(seconds=25)),
    ]
    got = store.load(parquet, filters=window).events
    assert 2 <= len(groups_read(parquet, window)) <= 3
    assert got.time.min() >= T0 + pd.Timedelta(seconds=20) and len(got) > 0
    assert len(groups_read(parquet, [("time", ">=", T0)])) == 20  # a filter that keeps all


def test_string_filter_reads_only_the_row_groups_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The engine skips row groups on the string statistics of the
    # dictionary-encoded name columns too.
    trace = synthetic(5000)
    names = trace.events.file.astype(str)  # by name, not by category code
    by_file = trace.events.iloc[names.argsort(kind="stable")].reset_index(drop=True)
    path = write_parquet(Trace(by_file, trace.processes, trace.errors, trace.meta),
                         tmp_path / "by_file.parquet", monkeypatch)  # fmt: skip
    meta = pq.ParquetFile(path).metadata
    col = meta.schema.names.index("file")
    holding = {i for i in range(meta.num_row_groups)
               if meta.row_group(i).column(col).statistics.min <= "stdout"
               <= meta.row_group(i).column(col).statistics.max}  # fmt: skip
    got = store.load(path, filters=[("file", "==", "stdout")]).events
    assert groups_read(path, [("file", "==", "stdout")]) == holding and len(holding) < 20 / 4
    assert len(got) == (by_file.file == "stdout").sum()
    # Below and above every name: nothing is read.
    assert groups_read(path, [("file", "in", ["/aaa", "~zzz"])]) == set()


def test_dataset_parts_of_other_runs_are_not_read(dataset: Path, tmp_path: Path) -> None:
    # Every part of the other runs spoiled in a copy: the load never reads them.
    copy = tmp_path / "ds"
    shutil.copytree(dataset, copy)
    for part in copy.rglob("*.parquet"):
        if "run=20260101T000000Z-cccc" not in str(part):
            for group in range(pq.ParquetFile(part).metadata.num_row_groups):
                spoiled(part, group).replace(part)
    with pytest.raises(InputError):
        store.load(copy)  # the spoiling is seen when a part is read
    got = store.load(copy, filters=[("run", "==", "20260101T000000Z-cccc")])
    assert set(got.events.run) == {run_name("b", "20260101T000000Z-cccc")}
    want = store.load(dataset, filters=[("run", "==", "20260101T000000Z-cccc")])
    assert_frame_equal(got.events, want.events)
    assert len(got.processes) == 3 * len(synthetic(10).processes)  # every run's processes


# -- bad filters -----------------------------------------------------------------

BAD: dict[str, tuple[object, str]] = {
    "unknown column": ([("fiel", "==", "x")], "unknown column 'fiel'"),
    "bad operator": ([("bytes", "=>", 5)], "unknown operator '=>'"),
    "int column, string value": ([("pid", "==", "100")], "pid needs an integer"),
    "bool is no number": ([("bytes", ">", True)], "bytes needs an integer"),
    "time not a time": ([("time", ">", "yesterday")], "time needs a pandas Timestamp"),
    "time as a number": ([("time", ">", 1_700_000_000)], "time needs a pandas Timestamp"),
    "string column, number value": ([("file", "==", 3)], "file needs a string"),
    "dir outside R/W/M": ([("dir", "==", "X")], "dir is one of R, W, M"),
    "in without a list": ([("file", "in", "stdout")], "'in' needs a list"),
    "not a term": ([("pid", "==")], "is not a (column, op, value) tuple"),
    "not a list": ("pid == 100", "expected a list of (column, op, value) tuples"),
    "empty": ([], "expected a list"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_filter_is_one_line_usage_error(parquet: Path, case: str) -> None:
    filters, words = BAD[case]
    for read in (
        lambda: store.load(parquet, filters=filters),
        lambda: store.load(DATA / "pipeline.log", filters=filters),
    ):
        with pytest.raises(UsageError) as err:
            read()
        assert words in str(err.value) and "\n" not in str(err.value)


def test_meta_records_the_filter_as_json(parquet: Path) -> None:
    got = store.load(
        parquet, filters=[("time", ">=", "2023-11-14 22:13:40"), ("pid", "in", (100,))]
    )
    assert got.meta["filters"] == [
        [["time", ">=", "2023-11-14T22:13:40+00:00"], ["pid", "in", [100]]]
    ]
    assert "filters" not in store.load(parquet).meta
