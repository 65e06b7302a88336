"""The Arrow builders of iomonitor.columns give what the pandas path gives.

A capture writes through :func:`events_table` and the record builders, never
touching pandas; a trace written from a DataFrame goes through
``events_frame`` and ``pa.Table.from_pandas``. Both must store the same
table, dictionaries included, or a file would depend on how it was made.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import pyarrow as pa
import pytest

from iomonitor import schema
from iomonitor.columns import ARROW_EVENTS, events_table
from iomonitor.store import writers
from iomonitor.strace.convert import Converter
from iomonitor.strace.events import EventBuilder
from iomonitor.strace.fdtable import Cwd, FdTable, Process
from iomonitor.trace import events_frame, rows_frame

ROOT = Path(__file__).resolve().parents[2]


def _lines(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="surrogateescape") as fh:
        return fh.readlines()


def _pandas_table(cols: dict[str, list]) -> pa.Table:
    frame = events_frame(cols)
    return pa.Table.from_pandas(frame, preserve_index=False).cast(ARROW_EVENTS)


LOGS = [
    ROOT / "benchmarks" / "seed" / "ioloop-yy.log.gz",
    ROOT / "benchmarks" / "seed" / "ioloop.log.gz",
    ROOT / "data" / "pipeline.log",
    ROOT / "data" / "tar_gzip.log",
    ROOT / "data" / "tcp_loopback.log",
]


@pytest.mark.parametrize("log", LOGS, ids=lambda p: p.name)
def test_core_tables_equal_the_pandas_path_on_real_logs(log: Path) -> None:
    # The core's Arrow tables and the table pandas makes from the same events
    # (events_frame over the table's values) are one table, dictionaries included.
    conv = Converter(mtime=1795780000.0, chunk_events=5000, chunk=lambda table: table)
    data = log.read_bytes()
    if log.suffix == ".gz":
        data = gzip.decompress(data)
    tables = [*conv.feed_bytes(data), conv.finish()]
    assert sum(t.num_rows for t in tables) > 50
    for got in tables:
        cols = got.to_pydict()
        us = got.column("time").cast(pa.int64()).to_pylist()
        cols["time"] = [None if u is None else u / 1e6 for u in us]
        cols["dt"] = [math.nan if x is None else x for x in cols["dt"]]
        want = _pandas_table(cols)
        assert got.schema == want.schema
        assert got.equals(want)  # values, nulls and dictionaries alike
        assert events_table(cols).equals(got)
    rows = [
        {c: getattr(pr, c) for c in schema.PROCESS_COLUMNS} for pr in conv.builder.procs.values()
    ]
    assert len(rows) >= 1
    assert conv.process_records() == writers._records(rows_frame("processes", rows))
    counts = conv.builder.tally.counts.items()
    errs = [dict(zip(schema.ERROR_COLUMNS, (*k, n), strict=True)) for k, n in counts]
    assert conv.error_records() == writers._records(rows_frame("errors", errs))


def _cols(**overrides: list) -> dict[str, list]:
    base = {
        "time": [1.5, 2.0],
        "dt": [0.25, 0.5],
        "pid": [7, 8],
        "fd": [1, 3],
        "dir": ["W", "R"],
        "bytes": [2, 40],
        "file": ["stdout", "10.0.0.1"],
        "port": [None, 443],
        "syscall": ["write", "recvfrom"],
        "kind": ["tty", "tcp"],
        "tgid": [7, 7],
        "comm": ["a", "a"],
        "local": [None, "10.0.0.2:5000"],
    }
    return {**base, **overrides}


@pytest.mark.parametrize(
    "cols",
    [
        _cols(),
        # Unknown times and durations (logs without -t or -T).
        _cols(time=[math.nan, math.nan], dt=[math.nan, 0.5]),
        # Half a microsecond: both paths round half to even.
        _cols(time=[1700000000.0000005, 1700000000.0000015], dt=[math.nan, math.nan]),
        # Unsorted names, a name seen twice, non-ASCII text and an escape.
        _cols(file=["/z/caf\u00e9", "/a\\xe9"], comm=[None, "b"]),
        {c: [] for c in schema.EVENT_COLUMNS},
    ],
    ids=["plain", "unknown-times", "half-micro", "names", "empty"],
)
def test_events_table_equals_the_pandas_path_on_edge_cases(cols: dict[str, list]) -> None:
    got, want = events_table(cols), _pandas_table(cols)
    assert got.schema == want.schema
    assert got.equals(want)


def test_events_table_keeps_values_and_nulls() -> None:
    table = events_table(_cols(dt=[math.nan, 0.5]))
    assert table.column("time").cast(pa.int64()).to_pylist() == [1_500_000, 2_000_000]
    assert table.column("dt").to_pylist() == [None, 0.5]
    assert table.column("port").to_pylist() == [None, 443]
    assert table.column("local").to_pylist() == [None, "10.0.0.2:5000"]
    assert table.column("dir").chunk(0).dictionary.to_pylist() == list(schema.DIRECTIONS)
    assert table.column("file").chunk(0).dictionary.to_pylist() == ["10.0.0.1", "stdout"]


def test_records_of_processes_with_missing_values() -> None:
    rows = [
        {"pid": 5, "ppid": None, "tgid": 5, "comm": None, "argv": None, "argv_cut": False, "start": 1.25,
         "end": None, "exit_code": None, "signal": "SIGKILL"},
        {"pid": 6, "ppid": 5, "tgid": 5, "comm": "sh", "argv": "sh -c 'x'", "argv_cut": True, "start": 2.0,
         "end": 3.25, "exit_code": 0, "signal": None},
    ]  # fmt: skip
    builder = EventBuilder()
    assert builder.process_records() == writers._records(rows_frame("processes", []))
    for row in rows:
        proc = Process(row["pid"], row["tgid"], row["ppid"], FdTable(), Cwd(None))
        for name in ("comm", "argv", "argv_cut", "start", "end", "exit_code", "signal"):
            setattr(proc, name, row[name])
        builder.procs[proc.pid] = proc
    got = builder.process_records()
    assert got == writers._records(rows_frame("processes", rows))
    assert got["start"] == [1_250_000, 2_000_000]
    assert got["ppid"] == [None, 5]
