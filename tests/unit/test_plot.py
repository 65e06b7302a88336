"""The figures, checked through their axes against the numbers of iomonitor.analysis.

A small literal trace: ``sh`` (pid 100) starts ``cat`` (101), which reads a
file and writes it into a pipe, and ``gzip`` (102, with a second thread 103),
which reads the pipe and writes a file; ``sh`` also talks TCP to a peer and
maps a library.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import StepPatch

from iomonitor import analysis, plot, store
from iomonitor.cli import main
from iomonitor.errors import UsageError
from iomonitor.render import units
from iomonitor.render.figure_data import FIGURE_ARGUMENTS
from iomonitor.trace import Trace, events_frame, rows_frame

T0 = 1_700_000_000.0

#: (seconds after T0, dt, pid, tgid, fd, dir, bytes, file, port, syscall, kind, comm)
ROWS = [
    (0.1, 0.00002, 100, 100, 3, "M", 2_000_000, "/usr/lib/libc.so.6", None, "mmap", "file", "sh"),
    (0.5, 0.00001, 100, 100, 1, "W", 10, "stdout", None, "write", "tty", "sh"),
    (1.0, 0.00010, 101, 101, 3, "R", 4096, "/data/in.txt", None, "read", "file", "cat"),
    (1.5, 0.00020, 101, 101, 3, "R", 4096, "/data/in.txt", None, "read", "file", "cat"),
    (1.6, 0.00300, 101, 101, 1, "W", 8192, "pipe:[77]", None, "write", "pipe", "cat"),
    (2.0, 0.00005, 101, 101, 3, "R", 0, "/data/in.txt", None, "read", "file", "cat"),
    (2.1, 0.00400, 103, 102, 0, "R", 8192, "pipe:[77]", None, "read", "pipe", "gzip"),
    (4.0, 0.00070, 102, 102, 4, "W", 1000, "/data/out.gz", None, "write", "file", "gzip"),
    (6.0, 0.00100, 100, 100, 5, "W", 200, "10.0.0.1", 443, "sendto", "tcp", "sh"),
    (6.5, 0.02000, 100, 100, 5, "R", 500, "10.0.0.1", 443, "recvfrom", "tcp", "sh"),
]

PROCS = [
    {"pid": 100, "ppid": None, "tgid": 100, "comm": "sh", "start": 0.0, "end": 10.0},
    {"pid": 101, "ppid": 100, "tgid": 101, "comm": "cat", "start": 0.8, "end": 5.0},
    {"pid": 102, "ppid": 100, "tgid": 102, "comm": "gzip", "start": 0.9, "end": 8.0},
    {"pid": 103, "ppid": 102, "tgid": 102, "comm": "gzip", "start": 1.9, "end": 6.0},
]


def make_events(rows: list[tuple], t0: float = T0) -> pd.DataFrame:
    cols = list(zip(*rows, strict=True)) if rows else [[] for _ in range(12)]
    when, dt, pid, tgid, fd, direction, size, name, port, syscall, kind, comm = cols
    return events_frame(
        {
            "time": [t0 + t for t in when],
            "dt": list(dt),
            "pid": list(pid),
            "fd": list(fd),
            "dir": list(direction),
            "bytes": list(size),
            "file": list(name),
            "port": list(port),
            "syscall": list(syscall),
            "kind": list(kind),
            "tgid": list(tgid),
            "comm": list(comm),
            "local": [None] * len(when),
        }
    )


def make_trace(rows: list[tuple] = ROWS, procs: list[dict] = PROCS, t0: float = T0) -> Trace:
    processes = rows_frame(
        "processes",
        [
            {**p, "argv": p["comm"], "start": t0 + p["start"], "end": t0 + p["end"], "exit_code": 0}
            for p in procs
        ],
    )
    return Trace(make_events(rows, t0), processes, meta={"mode": "log"})


@pytest.fixture
def trace() -> Trace:
    return make_trace()


def seconds(ts: pd.Series) -> np.ndarray:
    return ((ts - pd.Timestamp(T0, unit="s", tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy()


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def by_gid(artists, gid: str):
    found = [a for a in artists if a.get_gid() == gid]
    assert len(found) == 1, f"{gid}: {[a.get_gid() for a in artists]}"
    return found[0]


# --- units and names -------------------------------------------------------------------


def test_importing_iomonitor_does_not_load_matplotlib() -> None:
    code = "import sys, iomonitor, iomonitor.cli.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_report_is_drawn_without_matplotlib_in_the_main_process(
    parquet: Path, tmp_path: Path
) -> None:
    # The drawing processes import it; the one that queries the trace does not.
    page = tmp_path / "r.html"
    code = (
        "import sys; from iomonitor.cli import main; "
        f"main(['report', {str(parquet)!r}, '-o', {str(page)!r}]); "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert page.read_text().count("data:image/png;base64,") == 8


def test_figure_arguments_are_the_figure_functions_defaults() -> None:
    # The report's main process reads them without importing the figures.
    for kind, draw in plot.KINDS.items():
        params = inspect.signature(draw).parameters
        defaults = {n: p.default for n, p in params.items() if n not in ("trace", "ax")}
        assert defaults == FIGURE_ARGUMENTS[kind], kind
    assert list(FIGURE_ARGUMENTS) == list(plot.KINDS)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1 KiB"), (1536, "1.5 KiB"), (5 * 2**30, "5 GiB")],
)
def test_format_bytes(value: int, text: str) -> None:
    assert units.format_bytes(value) == text


def test_shorten_keeps_both_ends_of_a_path() -> None:
    assert units.shorten("/usr/lib/x86_64-linux-gnu/libc.so.6", 24) == "/usr/lib/…/libc.so.6"
    assert units.shorten("/short", 24) == "/short"
    long = "/" + "x" * 60
    assert len(units.shorten(long, 20)) == 20


def test_printable_spells_out_raw_bytes_and_control_characters() -> None:
    raw = b"/tmp/\xff\n".decode("utf-8", "surrogateescape")
    assert units.printable(raw) == "/tmp/\\xff\\n"
    assert units.printable("/tmp/é") == "/tmp/é"


# --- bandwidth and cumulative ------------------------------------------------------------


def test_bandwidth_stacks_reads_above_and_writes_below(trace: Trace) -> None:
    fig = plot.bandwidth(trace, by="file", top=3, interval="1s")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert ax.get_title(loc="left") == "Bandwidth by file (buckets of 1 s)"
    assert ax.get_xlabel() == "seconds since start"
    assert "read" in ax.get_ylabel() and "written" in ax.get_ylabel()

    table = analysis.bandwidth(trace, "1s", key="file", top=3)
    keys = list(dict.fromkeys(table["file"]))
    assert keys[-1] == "other" and len(keys) == 4
    assert legend_texts(ax) == keys

    total = analysis.bandwidth(trace, "1s")
    patches = [p for p in ax.patches if isinstance(p, StepPatch)]
    assert len(patches) == 2 * len(keys)
    top_read = by_gid(patches, f"read:{keys[-1]}").get_data()
    top_write = by_gid(patches, f"write:{keys[-1]}").get_data()
    # The top of each stack is the total rate of the bucket.
    np.testing.assert_allclose(top_read.values, total["read_rate"])
    np.testing.assert_allclose(top_write.values, -total["write_rate"])
    np.testing.assert_allclose(top_read.edges, np.arange(len(total) + 1))
    # Each layer sits on the one below it.
    first = by_gid(patches, f"read:{keys[0]}").get_data()
    second = by_gid(patches, f"read:{keys[1]}").get_data()
    np.testing.assert_allclose(second.baseline, first.values)


def test_bandwidth_ticks_are_unsigned_binary_rates(trace: Trace) -> None:
    fig = plot.bandwidth(trace, by="process", interval="1s")
    ax = fig.axes[0]
    fig.canvas.draw()  # tick labels are made at draw time
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels and all(label.endswith("B/s") for label in labels)
    assert not any(label.startswith(("-", "−")) for label in labels)
    low, high = ax.get_ylim()
    total = analysis.bandwidth(trace, "1s")
    assert high > total["read_rate"].max() and low < -total["write_rate"].max()


def test_bandwidth_without_key_draws_the_total(trace: Trace) -> None:
    ax = plot.bandwidth(trace, by=None, interval="2s").axes[0]
    assert legend_texts(ax) == ["all"]
    read = by_gid(ax.patches, "read:all").get_data()
    np.testing.assert_allclose(read.values, analysis.bandwidth(trace, "2s")["read_rate"])


def test_plot_draws_on_the_given_axes(trace: Trace) -> None:
    fig = Figure()
    ax = fig.add_subplot()
    assert plot.bandwidth(trace, ax=ax) is fig
    assert len(ax.patches) > 0


def test_cumulative_lines_end_at_the_totals(trace: Trace) -> None:
    fig = plot.cumulative(trace, by="file", top=2, interval="500ms")
    ax = fig.axes[0]
    totals = analysis.by(trace, "file")
    kept = totals["file"].iloc[:2].tolist()
    assert legend_texts(ax) == [*kept, "other"]
    for name in kept:
        line = by_gid(ax.lines, f"total:{name}")
        expected = totals.loc[totals["file"] == name, "bytes"].iloc[0]
        assert line.get_ydata()[-1] == expected
        assert line.get_ydata()[0] == 0
    rest = by_gid(ax.lines, "total:other").get_ydata()[-1]
    assert rest == totals["bytes"].iloc[2:].sum()
    assert ax.get_ylabel() == "bytes so far"


def test_interval_finer_than_the_buckets_allow_is_refused(trace: Trace) -> None:
    with pytest.raises(UsageError, match="buckets"):
        plot.bandwidth(trace, interval="1us")
    with pytest.raises(UsageError, match="bad interval"):
        plot.cumulative(trace, interval="soon")


# --- timeline --------------------------------------------------------------------------------


def test_timeline_has_one_lane_per_process_in_start_order(trace: Trace) -> None:
    ax = plot.timeline(trace, interval="1s").axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["100 sh", "101 cat", "102 gzip"]
    bars = [p for p in ax.patches if p.get_gid() == "lifetimes"]
    # Lifetimes: the processes table, threads included (gzip's thread ends at 6 s, gzip at 8 s).
    assert [round(b.get_x(), 6) for b in bars] == [0.0, 0.8, 0.9]
    assert [round(b.get_x() + b.get_width(), 6) for b in bars] == [10.0, 5.0, 8.0]


def test_timeline_marks_are_the_bytes_per_bucket(trace: Trace) -> None:
    ax = plot.timeline(trace, interval="1s").axes[0]
    table = analysis.bandwidth(trace, "1s", key="tgid", top=0)
    reads = by_gid(ax.collections, "marks:read")
    writes = by_gid(ax.collections, "marks:written")
    assert isinstance(reads, PathCollection)
    assert len(reads.get_offsets()) == (table["read_bytes"] > 0).sum()
    assert len(writes.get_offsets()) == (table["write_bytes"] > 0).sum()
    # gzip (lane 2) read the pipe in the bucket from 2 s to 3 s: one mark, above its lane.
    gzip = [tuple(o) for o in reads.get_offsets() if 1.5 < o[1] < 2.5]
    assert gzip == [(2.5, pytest.approx(2 - 0.17))]


def test_timeline_caps_marks_per_lane() -> None:
    n = 20_000
    rows = [
        (i * 0.001, 0.0, 7, 7, 3, "R", 100, "/f", None, "read", "file", "cat") for i in range(n)
    ]
    big = make_trace(
        rows, [{"pid": 7, "ppid": None, "tgid": 7, "comm": "cat", "start": 0.0, "end": 20.0}]
    )
    ax = plot.timeline(big, max_marks=50).axes[0]
    marks = len(by_gid(ax.collections, "marks:read").get_offsets())
    assert 10 <= marks <= 51
    assert "marks: bytes per 500 ms" in ax.get_title(loc="left")


def test_timeline_from_bare_events_uses_first_and_last_call(trace: Trace) -> None:
    ax = plot.timeline(trace.events, interval="1s").axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["100 sh", "101 cat", "102 gzip"]
    first_sh = ax.patches[0]
    assert round(first_sh.get_x(), 6) == 0.0  # sh's first call starts the trace
    assert round(first_sh.get_width(), 6) == 6.4


# --- sizes and latency ---------------------------------------------------------------------------


def test_sizes_bars_are_the_histogram(trace: Trace) -> None:
    ax = plot.sizes(trace).axes[0]
    hist = analysis.size_histogram(trace)
    heights_r = [p.get_height() for p in ax.containers[0]]
    heights_w = [p.get_height() for p in ax.containers[1]]
    assert heights_r == hist.loc[hist["dir"] == "R", "calls"].tolist()
    assert heights_w == hist.loc[hist["dir"] == "W", "calls"].tolist()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0] == "0" and "4K" in labels and "8K" in labels
    assert ax.get_xlabel().startswith("bytes per call")
    assert ax.get_yscale() == "linear"


def test_sizes_turns_logarithmic_for_wide_ranges() -> None:
    rows = [(i * 0.01, 0.0, 7, 7, 3, "R", 8, "/f", None, "read", "file", "cat") for i in range(300)]
    rows.append((5.0, 0.0, 7, 7, 3, "W", 1 << 20, "/g", None, "write", "file", "cat"))
    ax = plot.sizes(make_trace(rows, PROCS[:1])).axes[0]
    assert ax.get_yscale() == "log"


def test_latency_rows_are_the_percentiles(trace: Trace) -> None:
    ax = plot.latency(trace).axes[0]
    table = analysis.latency(trace)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    calls = zip(table["syscall"], table["calls"], strict=True)
    assert labels == [f"{s} ({c:,} calls)" for s, c in calls]
    bars = by_gid(ax.collections, "p50-p90")
    assert isinstance(bars, LineCollection)
    for segment, (_, row) in zip(bars.get_segments(), table.iterrows(), strict=True):
        assert segment[0][0] == pytest.approx(row["p50"])
        assert segment[1][0] == pytest.approx(row["p90"])
    assert ax.get_xscale() == "log"


def test_latency_without_durations_says_so(trace: Trace) -> None:
    events = trace.events.assign(dt=np.nan)
    with pytest.raises(UsageError, match="duration"):
        plot.latency(events)


# --- flow -----------------------------------------------------------------------------------


def test_flow_joins_processes_at_the_ends_of_a_pipe(trace: Trace) -> None:
    ax = plot.flow(trace).axes[0]
    gids = {t.get_gid() for t in ax.texts}
    assert {"node:process:100", "node:process:101", "node:process:102"} <= gids
    assert "node:source:/data/in.txt" in gids and "node:sink:/data/out.gz" in gids
    assert "node:source:10.0.0.1:443" in gids and "node:sink:10.0.0.1:443" in gids
    # The pipe is not a node: it is an arrow from cat to gzip.
    assert not any("pipe:[77]" in g for g in gids if g)
    arrows = by_gid(ax.collections, "edges:channel")
    assert arrows.pairs == [(101, 102)]
    # The pipe is the largest edge: the widest arrow.
    np.testing.assert_allclose(arrows.widths, [12.0])
    # Drawn, the arrow runs from the right end of cat's label to the right end of gzip's.
    fig = ax.figure
    FigureCanvasAgg(fig).draw()
    ends = {}
    for t in ax.texts:
        if t.get_gid() in ("node:process:101", "node:process:102"):
            box = t.get_window_extent()
            ends[t.get_gid()] = (box.x1, (box.y0 + box.y1) / 2)
    outline = arrows.get_paths()[0].vertices
    steps = arrows.STEPS  # along each side of the tail, then the head's three corners
    start = (outline[0] + outline[2 * steps + 2]) / 2
    np.testing.assert_allclose(start, ends["node:process:101"], atol=1e-6)
    np.testing.assert_allclose(outline[steps + 1], ends["node:process:102"], atol=1e-6)
    labels = {t.get_gid(): t.get_text() for t in ax.texts}
    assert labels["node:process:101"] == "101 cat"
    assert labels["node:source:/data/in.txt"] == "/data/in.txt  (8 KiB)"


def test_flow_edge_widths_follow_bytes(trace: Trace) -> None:
    ax = plot.flow(trace).axes[0]
    reads = by_gid(ax.collections, "edges:read")
    writes = by_gid(ax.collections, "edges:write")
    # Reads: in.txt -> cat, 10.0.0.1:443 -> sh. Writes: sh -> stdout, gzip -> out.gz,
    # sh -> 10.0.0.1:443. The mapping moves no bytes; the pipe is the channel arrow.
    assert len(reads.get_segments()) == 2
    assert len(writes.get_segments()) == 3
    widths = sorted([*reads.get_linewidths(), *writes.get_linewidths()])
    biggest = 8192  # the pipe, the largest edge
    expected = sorted(1 + 11 * b / biggest for b in (8192, 500, 10, 1000, 200))
    np.testing.assert_allclose(widths, expected)


def test_flow_merges_beyond_top_into_other(trace: Trace) -> None:
    ax = plot.flow(trace, top=1, max_processes=1).axes[0]
    labels = {t.get_gid(): t.get_text() for t in ax.texts}
    assert labels["node:process:-1"] == "2 other processes"
    assert labels["node:sink:other"].startswith("2 others")


# --- several runs, odd names, empty traces -----------------------------------------------------


def test_several_runs_get_one_panel_each(trace: Trace) -> None:
    later = make_trace(t0=T0 + 3600)
    both = Trace.combine([trace, later], ["first", "second"])
    for kind in plot.KINDS:
        fig = plot.KINDS[kind](both)
        assert len(fig.axes) == 2, kind
        assert fig.axes[1].get_title(loc="left").endswith("— second"), kind
    # Each run's time starts at its own zero.
    ax1, ax2 = plot.bandwidth(both, interval="1s").axes
    assert ax1.get_xlim() == ax2.get_xlim()
    with pytest.raises(UsageError, match="2 runs"):
        plot.sizes(both, ax=Figure().add_subplot())


def test_odd_names_are_drawn_as_written(tmp_path: Path) -> None:
    rows = [
        (0.1, 0.0, 7, 7, 3, "R", 10, "/tmp/$HOME$", None, "read", "file", "_x"),
        (0.2, 0.0, 7, 7, 4, "R", 20, "/tmp/a\nb<&>", None, "read", "file", "_x"),
        (0.3, 0.0, 7, 7, 5, "W", 30, "_hidden", None, "write", "file", "_x"),
    ]
    tr = make_trace(rows, [{"pid": 7, "ppid": None, "tgid": 7, "comm": "_x", "start": 0, "end": 1}])
    fig = plot.bandwidth(tr, interval="100ms")
    # mathtext's "$" is escaped, a leading "_" (hidden by legends) is kept visible,
    # and a newline is spelled out.
    assert legend_texts(fig.axes[0]) == [" _hidden", "/tmp/a\\nb<&>", "/tmp/\\$HOME\\$"]
    # Every figure can be written with these names (SVG holds the text as written).
    for kind, draw in plot.KINDS.items():
        draw(tr).savefig(tmp_path / f"{kind}.svg")
    assert "a\\nb&lt;&amp;&gt;" in (tmp_path / "flow.svg").read_text()


def test_empty_trace_says_there_is_nothing() -> None:
    empty = make_trace([], [])
    for kind in plot.KINDS:
        ax = plot.KINDS[kind](empty).axes[0]
        notes = [t.get_text() for t in ax.texts]
        assert notes and notes[0].startswith("no "), kind


# --- the command line -------------------------------------------------------------------------


@pytest.fixture
def parquet(trace: Trace, tmp_path: Path) -> Path:
    path = tmp_path / "t.parquet"
    store.write(trace, path)
    return path


@pytest.mark.parametrize("kind", list(plot.KINDS))
def test_cli_plot_writes_png(kind: str, parquet: Path, tmp_path: Path) -> None:
    out = tmp_path / f"{kind}.png"
    assert main(["plot", str(parquet), "-o", str(out), "--kind", kind]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".*.tmp"))


def test_cli_plot_writes_svg_by_extension(parquet: Path, tmp_path: Path) -> None:
    out = tmp_path / "bw.svg"
    argv = ["plot", str(parquet), str(parquet), "-o", str(out), "--by", "peer", "--top", "2"]
    assert main([*argv, "--interval", "500ms"]) == 0
    text = out.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["-o", "{tmp}/x.pdf"], 2, "must end in .png or .svg"),
        (["-o", "{tmp}/nowhere/x.png"], 4, "no such directory"),
        (["-o", "{tmp}/x.png", "--kind", "sizes", "--by", "file"], 2, "--by does not apply"),
        (["-o", "{tmp}/x.png", "--top", "-1"], 2, "--top must be"),
        (["-o", "{tmp}/x.png", "--interval", "fast"], 2, "bad interval"),
    ],
)
def test_cli_plot_errors_are_one_line(
    args: list[str], status: int, message: str, parquet: Path, tmp_path: Path, capsys
) -> None:
    argv = ["plot", str(parquet), *[a.format(tmp=tmp_path) for a in args]]
    assert main(argv) == status
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_cli_plot_missing_input_is_bad_input(tmp_path: Path, capsys) -> None:
    assert main(["plot", str(tmp_path / "none.parquet"), "-o", str(tmp_path / "x.png")]) == 3
    assert "no such file" in capsys.readouterr().err
