"""Figures and reports of traces queried on disk equal those of the same traces in memory.

Every figure and table is drawn from analysis queries (:mod:`iomonitor.analysis`)
that run over a DataFrame in memory and over Parquet files on disk alike;
the latency percentiles are exact on both.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from matplotlib.collections import Collection, LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle, StepPatch
from matplotlib.text import Text
from pandas.testing import assert_frame_equal, assert_series_equal

from iomonitor import analysis, plot, store
from iomonitor.analysis.engine import Scan
from iomonitor.cli import main
from iomonitor.render import report
from iomonitor.store import writers
from iomonitor.trace import Trace

sys.path.insert(0, str(Path(__file__).parent))
from test_engine import synthetic
from test_plot import make_trace

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
        m.setattr(writers, "ROW_GROUP", rows)
        store.write(trace, path)
    return path


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


# -- figures ---------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "args"), FIGURES)
def test_every_figure_is_drawn_the_same_on_disk(
    kind: str, args: dict, two_runs: list[Path]
) -> None:
    in_memory = plot.KINDS[kind](store.load(*two_runs), **args)
    scanned = store.scan(*two_runs)
    on_disk = plot.KINDS[kind](scanned, **args)
    assert not scanned.in_memory
    assert rounded(drawn(on_disk)) == rounded(drawn(in_memory))


def rounded(value: object) -> object:
    """Floats to 12 significant digits: sums of durations may differ in the last bit."""
    if isinstance(value, list | tuple):
        return [rounded(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(f"{value:.12g}")
    return value


def test_figure_data_on_disk_equals_in_memory(two_runs: list[Path]) -> None:
    whole = plot.collect(store.load(*two_runs), FIGURES)
    scanned = plot.collect(store.scan(*two_runs), FIGURES)
    assert scanned.runs == whole.runs
    assert scanned.origins == whole.origins and scanned.last == whole.last
    assert_frame_equal(scanned.lifetimes, whole.lifetimes)
    assert list(scanned.series) == list(whole.series)
    for spec, (table, width) in whole.series.items():
        assert scanned.series[spec][1] == width
        assert_frame_equal(scanned.series[spec][0], table)
    assert_frame_equal(scanned.sizes, whole.sizes)
    assert_frame_equal(scanned.latency, whole.latency, check_exact=False, rtol=1e-12)
    assert list(scanned.flow) == list(whole.flow) == [(2, 2), (10, 20)]
    for args, runs in whole.flow.items():
        assert list(scanned.flow[args]) == list(runs) == whole.runs
        for run, (edges, hidden) in runs.items():
            assert_frame_equal(scanned.flow[args][run][0], edges)
            assert scanned.flow[args][run][1] == hidden


# -- the report ---------------------------------------------------------------------------


def test_report_tables_are_the_analysis_tables() -> None:
    trace = store.load(DATA / "tcp_loopback.parquet")
    data = report.collect(store.scan(DATA / "tcp_loopback.parquet"))
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
def test_cli_report_on_disk_is_the_page_of_the_trace_in_memory(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = DATA / f"{name}.parquet"
    assert main(["report", str(source), "-o", str(tmp_path / "disk.html")]) == 0
    monkeypatch.setattr(store, "scan", store.load)
    assert main(["report", str(source), "-o", str(tmp_path / "memory.html")]) == 0
    disk, memory = (page_without_stamp(tmp_path / f) for f in ("disk.html", "memory.html"))
    assert disk == memory


@pytest.mark.parametrize("kind", list(plot.KINDS))
def test_cli_plot_on_disk_is_the_picture_of_the_trace_in_memory(
    kind: str, two_runs: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["plot", *map(str, two_runs), "--kind", kind]
    assert main([*argv, "-o", str(tmp_path / "disk.png")]) == 0
    monkeypatch.setattr(store, "scan", store.load)
    assert main([*argv, "-o", str(tmp_path / "memory.png")]) == 0
    assert (tmp_path / "disk.png").read_bytes() == (tmp_path / "memory.png").read_bytes()


def test_cli_plot_bad_interval_is_refused_before_reading(
    two_runs: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(Scan, "query", lambda self, sql: pytest.fail("read before refusing"))
    argv = ["plot", str(two_runs[0]), "-o", str(tmp_path / "x.png"), "--interval", "fast"]
    assert main(argv) == 2
    assert "bad interval" in capsys.readouterr().err
