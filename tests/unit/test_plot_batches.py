"""Figures and reports of traces read batch by batch equal those of traces in memory.

Every figure is drawn from aggregates that add up exactly over batches (bucket
sums, size counts, per-process totals, lifetimes), except the latency
percentiles, which come from a sketch with a 1 % relative error bound. The
batch path is forced with tiny Parquet row groups and batches.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from matplotlib.collections import Collection, LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle, StepPatch
from matplotlib.text import Text
from pandas.testing import assert_frame_equal, assert_series_equal

from iomonitor import analysis, plot, report, store
from iomonitor.cli import _batches, main
from iomonitor.errors import UsageError
from iomonitor.trace import Trace

sys.path.insert(0, str(Path(__file__).parent))
from test_plot import make_trace
from test_stats_batches import synthetic

DATA = Path(__file__).resolve().parents[2] / "data"

#: Every figure, with arguments that exercise "other" (top below the keys) and intervals.
FIGURES = [
    ("bandwidth", {}),
    ("bandwidth", {"by": "peer"}),
    ("bandwidth", {"by": "process", "top": 1}),
    ("bandwidth", {"by": "file", "top": 2, "interval": "2s"}),
    ("bandwidth", {"by": None}),
    ("cumulative", {"by": "file", "top": 3}),
    ("cumulative", {"by": "tgid", "top": 0}),
    ("timeline", {}),
    ("timeline", {"interval": "500ms"}),
    ("sizes", {}),
    ("latency", {}),
    ("flow", {"top": 2, "max_processes": 2}),
    ("flow", {}),
]


def write(trace: Trace, path: Path, monkeypatch: pytest.MonkeyPatch, rows: int) -> Path:
    with monkeypatch.context() as m:
        m.setattr(store, "ROW_GROUP", rows)
        store.write(trace, path)
    return path


def read_in_batches(collector, paths: list[Path], rows: int) -> Trace:
    """Feed ``collector`` every batch of ``paths`` (``rows`` events each), every pass."""
    strings = [str(p) for p in paths]
    reader = store.BatchReader(*strings, batch_rows=rows)
    return _batches.aggregate(strings, None, collector, reader)


def batch_data(paths: list[Path], rows: int, figures=FIGURES) -> plot.FigureData:
    collector = plot.FigureCollector(figures)
    return collector.finish(read_in_batches(collector, paths, rows))


def drawn(fig) -> list:
    """What a figure shows: per axes its texts, limits, ticks and every artist's data."""
    out = []
    for ax in fig.axes:
        out.append(("title", ax.get_title(loc="left"), ax.get_xlim(), ax.get_ylim()))
        out.append(("ticks", [t.get_text() for t in ax.get_xticklabels()]))
        out.append(("ticks", [t.get_text() for t in ax.get_yticklabels()]))
        legend = ax.get_legend()
        if legend is not None:
            out.append(("legend", [t.get_text() for t in legend.get_texts()]))
        for a in ax.get_children():
            if isinstance(a, StepPatch):
                values, edges, baseline = a.get_data()
                out.append(
                    ("steps", a.get_gid(), list(values), list(edges), np.asarray(baseline).tolist())
                )
            elif isinstance(a, Line2D):
                out.append(("line", a.get_gid(), a.get_xydata().tolist()))
            elif isinstance(a, LineCollection):
                segments = [s.tolist() for s in a.get_segments()]
                out.append(("lines", a.get_gid(), segments, list(a.get_linewidths())))
            elif isinstance(a, Collection):
                out.append(("marks", a.get_gid(), a.get_offsets().tolist(), list(a.get_sizes())))
            elif isinstance(a, Rectangle) and a is not ax.patch:
                out.append(("bar", a.get_gid(), a.get_xy(), a.get_width(), a.get_height()))
            elif isinstance(a, Text) and a.get_text():
                out.append(("text", a.get_gid(), a.get_text(), a.get_position()))
    return out


@pytest.fixture
def two_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """A literal trace and a synthetic one with six names, as two Parquet files."""
    first = write(make_trace(), tmp_path / "literal.parquet", monkeypatch, rows=3)
    second = write(synthetic(1200, seed=4), tmp_path / "synthetic.parquet", monkeypatch, rows=250)
    return [first, second]


# -- the aggregates ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["pipeline", "tar_gzip", "tcp_loopback"])
def test_sample_traces_give_the_same_figure_data(name: str) -> None:
    path = DATA / f"{name}.parquet"
    whole = plot.collect(store.load(path), FIGURES)
    batched = batch_data([path], rows=7)
    assert_same_data(whole, batched)


def test_two_runs_give_the_same_figure_data(two_runs: list[Path]) -> None:
    whole = plot.collect(store.load(*two_runs), FIGURES)
    batched = batch_data(two_runs, rows=150)
    assert len(batched.runs) == 2
    assert_same_data(whole, batched)


def assert_same_data(whole: plot.FigureData, batched: plot.FigureData) -> None:
    assert batched.runs == whole.runs
    assert batched.origins == whole.origins
    assert batched.last == whole.last
    order = ["run", "tgid"]
    assert_frame_equal(
        batched.lifetimes.sort_values(order).reset_index(drop=True),
        whole.lifetimes.sort_values(order).reset_index(drop=True),
    )
    assert batched.series.keys() == whole.series.keys()
    for spec, (table, width) in whole.series.items():
        got, got_width = batched.series[spec]
        assert got_width == width
        keys = [c for c in table.columns if c not in analysis.RATE_COLUMNS]
        assert_frame_equal(
            got.sort_values(keys).reset_index(drop=True),
            table.sort_values(keys).reset_index(drop=True),
        )
    assert_frame_equal(batched.sizes, whole.sizes)
    for run in whole.runs:
        for name, table in whole.flow[run].items():
            order = ["tgid", "name"]
            assert_frame_equal(
                batched.flow[run][name].sort_values(order).reset_index(drop=True),
                table.sort_values(order).reset_index(drop=True),
            )
    assert_latency_close(batched.latency, whole.latency)


def assert_latency_close(got: pd.DataFrame, exact: pd.DataFrame) -> None:
    exact_only = ["time", "mean", "p50", "p90", "p99"]
    assert_frame_equal(got.drop(columns=exact_only), exact.drop(columns=exact_only))
    np.testing.assert_allclose(got["time"], exact["time"], rtol=1e-9)
    for q in ("p50", "p90", "p99"):
        np.testing.assert_allclose(got[q], exact[q], rtol=analysis.LATENCY_ACCURACY)


def test_bucketed_totals_are_the_analysis_tables(two_runs: list[Path]) -> None:
    # Keys beyond the top are merged into "other" batch by batch; the sums stay exact.
    trace = store.load(*two_runs)
    data = batch_data(two_runs, rows=150)
    for spec, (table, width) in data.series.items():
        expected = analysis.bandwidth(trace, width, key=spec.key, top=spec.top)
        keys = [c for c in expected.columns if c not in analysis.RATE_COLUMNS]
        assert_frame_equal(
            table.sort_values(keys).reset_index(drop=True),
            expected.sort_values(keys).reset_index(drop=True),
        )
    assert_frame_equal(data.sizes, analysis.size_histogram(trace))


# -- the pictures ---------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "args"), FIGURES)
def test_every_figure_is_drawn_the_same(kind: str, args: dict, two_runs: list[Path]) -> None:
    whole = plot.KINDS[kind](store.load(*two_runs), **args)
    batched = plot.KINDS[kind](batch_data(two_runs, rows=200, figures=[(kind, args)]), **args)
    if kind == "latency":
        return  # percentiles within 1 %: see test_latency_sketch_*
    assert drawn(batched) == drawn(whole)


def test_latency_figure_places_the_sketched_percentiles(two_runs: list[Path]) -> None:
    data = batch_data(two_runs, rows=200, figures=[("latency", {})])
    ax = plot.latency(data).axes[1]
    table = data.latency[data.latency["run"] == data.runs[1]].reset_index(drop=True)
    assert len(table) == 3
    bars = next(c for c in ax.collections if c.get_gid() == "p50-p90")
    for segment, (_, row) in zip(bars.get_segments(), table.iterrows(), strict=True):
        assert segment[0][0] == pytest.approx(row["p50"])
        assert segment[1][0] == pytest.approx(row["p90"])


def test_figure_data_holds_only_what_was_collected(two_runs: list[Path]) -> None:
    data = batch_data(two_runs, rows=500, figures=[("sizes", {})])
    plot.sizes(data)
    with pytest.raises(UsageError, match="latency"):
        plot.latency(data)
    with pytest.raises(UsageError, match="bucketed totals"):
        plot.bandwidth(data, by="peer")


# -- the latency sketch -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_latency_sketch_percentiles_are_within_one_percent(seed: int) -> None:
    rng = np.random.default_rng(seed)
    trace = synthetic(20_000, seed=seed)
    # Durations over eight orders of magnitude, with exact zeros and ties.
    dt = rng.lognormal(-9, 3, len(trace.events))
    dt[rng.random(len(dt)) < 0.05] = 0.0
    dt[rng.random(len(dt)) < 0.05] = 1e-6
    dt[rng.random(len(dt)) < 0.05] = np.nan
    events = trace.events.assign(dt=dt)
    for key in ("syscall", None, "file", "peer", "tgid"):
        exact = analysis.latency(events, key=key)
        parts = [
            analysis.latency_partial(events.iloc[i : i + 1234], key=key)
            for i in range(0, len(events), 1234)
        ]
        # Combined in two levels, as batches are compacted.
        half = len(parts) // 2
        levels = [
            analysis.latency_combine(parts[:half], key=key, final=False),
            analysis.latency_combine(parts[half:], key=key, final=False),
        ]
        sketched = analysis.latency_combine(levels, key=key)
        assert_latency_close(sketched, exact)
    # Against numpy itself, for all calls together.
    values = events["dt"].dropna().to_numpy()
    row = analysis.latency_combine(
        [
            analysis.latency_partial(events.iloc[i : i + 999], key=None)
            for i in range(0, 20_000, 999)
        ],
        key=None,
    ).iloc[0]
    for q, p in (("p50", 50), ("p90", 90), ("p99", 99)):
        truth = np.percentile(values, p)
        assert abs(row[q] - truth) <= analysis.LATENCY_ACCURACY * truth
    assert row["max"] == values.max() and row["calls"] == len(values)


def test_latency_sketch_is_exact_for_few_distinct_durations() -> None:
    events = synthetic(500).events.assign(dt=np.resize([0.0, 1e-6, 2.5e-5, 0.003, 1.5], 500))
    exact = analysis.latency(events)
    sketched = analysis.latency_combine(
        [analysis.latency_partial(events.iloc[i : i + 50]) for i in range(0, 500, 50)]
    )
    assert_frame_equal(
        sketched.drop(columns=["time", "mean"]), exact.drop(columns=["time", "mean"])
    )


def test_latency_sketch_without_durations_says_so() -> None:
    events = synthetic(100).events.assign(dt=np.nan)
    parts = [analysis.latency_partial(events.iloc[:50]), analysis.latency_partial(events.iloc[50:])]
    with pytest.raises(UsageError, match="duration"):
        analysis.latency_combine(parts)


def test_size_histogram_partials_fill_the_gaps_between_batches() -> None:
    events = synthetic(2000).events
    small = events.assign(bytes=np.resize([0, 1, 3], len(events)))
    big = events.assign(bytes=np.resize([1 << 20, 1 << 22], len(events)))
    both = pd.concat([small, big], ignore_index=True)
    parts = [analysis.size_histogram_partial(small), analysis.size_histogram_partial(big)]
    assert_frame_equal(analysis.size_histogram_combine(parts), analysis.size_histogram(both))
    keyed = [analysis.size_histogram_partial(f, key="file", dirs="RWM") for f in (small, big)]
    assert_frame_equal(
        analysis.size_histogram_combine(keyed, key="file"),
        analysis.size_histogram(both, key="file", dirs="RWM"),
    )


# -- the report ---------------------------------------------------------------------------------


def test_report_data_batch_by_batch_equals_in_memory(two_runs: list[Path]) -> None:
    whole = report.collect(store.load(*two_runs))
    collector = report.ReportCollector()
    batched = collector.finish(read_in_batches(collector, two_runs, rows=150))
    assert_series_equal(batched.summary, whole.summary)
    for name in ("files", "peers", "syscalls", "tree"):
        assert_frame_equal(getattr(batched, name), getattr(whole, name), obj=name)
    assert batched.has_sockets and whole.has_sockets
    assert_same_data(whole.figures, batched.figures)


def test_report_tables_are_the_analysis_tables() -> None:
    trace = store.load(DATA / "tcp_loopback.parquet")
    data = report.collect(trace)
    sockets = trace.events["kind"].astype("str").isin(analysis.SOCKET_KINDS).to_numpy()
    files = Trace(trace.events[~sockets], trace.processes, trace.errors, trace.meta)
    file_errors = trace.errors[~trace.errors["kind"].astype("str").isin(analysis.SOCKET_KINDS)]
    assert_frame_equal(data.files, analysis.by(files, "file", errors=file_errors))
    assert_frame_equal(data.peers, analysis.by(trace, "peer"))
    assert_frame_equal(data.syscalls, analysis.by(trace, "syscall"))
    assert_frame_equal(data.tree, analysis.by_tree(trace))
    assert_series_equal(data.summary, analysis.summary(trace))


def page_without_stamp(path: Path) -> str:
    return re.sub(r"Made by iomonitor \S+ on [^<]*", "", path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["pipeline", "tcp_loopback"])
def test_cli_report_batch_by_batch_is_the_same_page(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sample traces' durations are few and far apart: the sketch is exact on them,
    # so even the latency figure and the p50..p99 columns come out the same.
    source = DATA / f"{name}.parquet"
    path = write(store.load(source), tmp_path / f"{name}.parquet", monkeypatch, rows=20)
    assert main(["report", str(path), "-o", str(tmp_path / "whole.html")]) == 0
    monkeypatch.setattr(_batches, "STREAM_ABOVE", 0)
    monkeypatch.setattr(store, "BATCH_ROWS", 16)
    assert main(["report", str(path), "-o", str(tmp_path / "batch.html")]) == 0
    whole, batch = (
        page_without_stamp(tmp_path / "whole.html"),
        page_without_stamp(tmp_path / "batch.html"),
    )
    assert batch == whole


@pytest.mark.parametrize("kind", list(plot.KINDS))
def test_cli_plot_batch_by_batch_is_the_same_picture(
    kind: str, two_runs: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["plot", *map(str, two_runs), "--kind", kind]
    assert main([*argv, "-o", str(tmp_path / "whole.png")]) == 0
    monkeypatch.setattr(_batches, "STREAM_ABOVE", 0)
    monkeypatch.setattr(store, "BATCH_ROWS", 200)
    calls = []
    real = plot.FigureCollector.add
    monkeypatch.setattr(
        plot.FigureCollector, "add", lambda self, ev: (calls.append(len(ev)), real(self, ev))
    )
    assert main([*argv, "-o", str(tmp_path / "batch.png")]) == 0
    assert len(calls) > 2 and max(calls) <= 200  # it did go batch by batch
    if kind != "latency":
        whole = (tmp_path / "whole.png").read_bytes()
        assert (tmp_path / "batch.png").read_bytes() == whole


def test_cli_plot_bad_interval_is_refused_before_reading(
    two_runs: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(_batches, "STREAM_ABOVE", 0)
    monkeypatch.setattr(
        plot.FigureCollector, "add", lambda self, ev: pytest.fail("read before refusing")
    )
    argv = ["plot", str(two_runs[0]), "-o", str(tmp_path / "x.png"), "--interval", "fast"]
    assert main(argv) == 2
    assert "bad interval" in capsys.readouterr().err
