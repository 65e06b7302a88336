"""The report reads the events once for its tables, and shows what analysis computes.

The tables, the headline numbers and the per-process figures of the report
come from one :func:`iomonitor.analysis.rollup` of the trace; these tests
hold them to the analysis functions run on the trace itself, for the same
run read from a log, a Parquet file and a dataset.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from iomonitor import analysis, store
from iomonitor.analysis import engine
from iomonitor.render import report
from iomonitor.render.figure_data import _merge_flow
from iomonitor.trace import Trace

DATA = Path(__file__).resolve().parents[2] / "data"


def stored_three_ways(log: Path, folder: Path) -> dict[str, Path]:
    """The run of ``log`` as the log itself, a Parquet file and a one-part dataset."""
    trace = store.load(log)
    store.write(trace, folder / "t.parquet")
    part = folder / "ds" / "host=h" / "run=r" / "part-0.parquet"
    part.parent.mkdir(parents=True)
    store.write(trace, part)
    return {"log": log, "parquet": folder / "t.parquet", "dataset": folder / "ds"}


def file_table(trace: Trace) -> pd.DataFrame:
    """:func:`analysis.by` per file of the events that are not on sockets."""
    events, errors = trace.events, trace.errors
    sockets = events["kind"].astype("str").isin(analysis.SOCKET_KINDS).to_numpy()
    failed = errors["kind"].astype("str").isin(analysis.SOCKET_KINDS).to_numpy()
    return analysis.by(
        Trace(events[~sockets], trace.processes, errors, trace.meta),
        "file",
        errors=errors[~failed],
    )


@pytest.mark.parametrize("name", ["tcp_loopback", "pipeline"])
def test_report_numbers_equal_analysis_on_log_parquet_and_dataset(name, tmp_path) -> None:
    pages = {}
    for how, path in stored_three_ways(DATA / f"{name}.log", tmp_path).items():
        trace = store.load(path)
        data = report.collect(store.scan(path))
        assert_frame_equal(data.files, file_table(trace), obj=f"files of the {how}")
        for key, table in (("peer", data.peers), ("syscall", data.syscalls)):
            assert_frame_equal(table, analysis.by(trace, key), obj=f"{key} of the {how}")
        assert_frame_equal(data.tree, analysis.by_tree(trace), obj=f"tree of the {how}")
        assert_series_equal(data.summary, analysis.summary(trace), obj=f"summary of the {how}")
        # The flow figure's data: every edge of the run, the nodes beyond its top merged.
        edges, hidden = _merge_flow(analysis.flow_edges(trace), 10, 20)
        got_edges, got_hidden = data.figures.flow[(10, 20)][None]
        assert_frame_equal(got_edges, edges, obj=f"flow of the {how}")
        assert got_hidden == hidden
        pages[how] = data
    # The same run stored three ways gives the same tables.
    for how in ("parquet", "dataset"):
        for part in ("files", "peers", "syscalls", "tree"):
            assert_frame_equal(getattr(pages[how], part), getattr(pages["log"], part), obj=part)


def test_report_tables_read_the_events_once(monkeypatch) -> None:
    # Every query over the events themselves goes through Scan.query, Scan.rows or
    # Scan.keep; the tables and headline numbers are queries over the rollup's kept rows.
    reads: list[str] = []
    keep, query, rows = engine.Scan.keep, engine.Scan.query, engine.Scan.rows

    def counted_keep(self: engine.Scan, sql: str) -> engine.Scan:
        reads.append(f"keep {self._name}")
        return keep(self, sql)

    def counted_query(self: engine.Scan, sql: str) -> pd.DataFrame:
        reads.append(self._name)
        return query(self, sql)

    def counted_rows(self: engine.Scan, sql: str) -> engine.Rows:
        reads.append(self._name)
        return rows(self, sql)

    monkeypatch.setattr(engine.Scan, "keep", counted_keep)
    monkeypatch.setattr(engine.Scan, "query", counted_query)
    monkeypatch.setattr(engine.Scan, "rows", counted_rows)
    trace = store.scan(DATA / "tcp_loopback.parquet")
    totals = analysis.rollup(trace)
    reads.clear()
    analysis.by(totals, "file")
    analysis.by(totals, "peer")
    analysis.by_tree(totals)
    analysis.flow_edges(totals)
    assert reads and not any(r.startswith("keep") for r in reads)
    assert trace.scan._name not in reads
    reads.clear()
    analysis.summary(totals)
    # Only the end of the last call to end is read from the events, in one
    # query over the calls that start late enough to end after the last start.
    assert not any(r.startswith("keep") for r in reads)
    assert reads.count(trace.scan._name) == 1


def test_a_rollup_table_is_dropped_when_the_rollup_is_gone() -> None:
    trace = store.scan(DATA / "tcp_loopback.parquet")
    con = trace.scan._con

    def tables() -> set[str]:
        return {row[0] for row in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}

    totals = analysis.rollup(trace)
    kept = totals.table._name
    assert kept in tables()
    assert analysis.by(totals, "syscall")["calls"].sum() == trace.scan.count()
    del totals
    gc.collect()
    assert kept not in tables()


def test_every_time_series_of_the_report_is_one_pass_over_the_events(monkeypatch) -> None:
    reads: list[str] = []
    query = engine.Scan.query

    def counted_query(self: engine.Scan, sql: str) -> pd.DataFrame:
        reads.append(self._name)
        return query(self, sql)

    monkeypatch.setattr(engine.Scan, "query", counted_query)
    trace = store.scan(DATA / "tcp_loopback.parquet")
    totals = analysis.rollup(trace)
    asked = [("10ms", "process", 8), ("10ms", "file", 8), ("10ms", "peer", 8),
             ("5ms", "file", 8), ("20ms", "tgid", 0)]  # fmt: skip
    reads.clear()
    got = analysis.bandwidths(trace, asked, ranks=totals)
    # One query over the events; the keys were ranked from the rollup's rows.
    assert reads.count(trace.scan._name) == 1
    assert reads.count(totals.table._name) == 3
    for table, request in zip(got, asked, strict=True):
        assert_frame_equal(table, analysis.bandwidth(trace, *request))


def test_figures_drawn_in_worker_processes_are_the_ones_drawn_here(tmp_path) -> None:
    import base64
    import re

    from iomonitor import plot
    from iomonitor.render import figures

    data = report.collect(store.scan(DATA / "tcp_loopback.log"))
    page = report.render(data)
    drawn = [base64.b64decode(m) for m in re.findall(r'data:image/png;base64,([^"]+)"', page)]
    here = []
    for _, caption, kind, args in figures.FIGURES:
        html = figures._figure(plot.KINDS[kind](data.figures, **args), caption, "")
        here.append(base64.b64decode(re.search(r"base64,([^\"]+)\"", html).group(1)))
    assert len(drawn) == len(figures.FIGURES)
    assert drawn == here
