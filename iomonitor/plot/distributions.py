"""How big the calls were and how long they took."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from iomonitor.errors import UsageError
from iomonitor.plot._axes import (
    READ_COLOR,
    WRITE_COLOR,
    _legend_outside,
    _note,
    _panels,
    _text,
    _title,
)
from iomonitor.render.figure_data import _figure_data, _missing_part, _of_run
from iomonitor.render.units import iec_name, iec_unit
from iomonitor.trace import Trace


def _size_label(low: int) -> str:
    if low == 0:
        return "0"
    unit = iec_unit(low)
    return f"{low // 1024**unit}{'' if unit == 0 else iec_name(unit)[0]}"


def sizes(trace: Trace | pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """How many calls moved how many bytes: power-of-two buckets, reads and writes side by side.

    Parameters
    ----------
    trace : Trace or pandas.DataFrame
        The trace, or its events.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new Figure.

    Returns
    -------
    matplotlib.figure.Figure
        Two bars per bucket of :func:`iomonitor.analysis.size_histogram`
        (reads left, writes right), labelled by the bucket's lower bound
        (``4K`` holds 4096 to 8191 bytes). The count axis turns logarithmic
        when the tallest bar is over 100 times the smallest.

    Examples
    --------
    >>> sizes(trace).savefig("sizes.png")  # doctest: +SKIP
    """
    data = _figure_data(trace, "sizes")
    runs, table = data.runs, data.sizes
    if table is None:
        raise _missing_part("sizes")
    fig, axes = _panels(runs, ax, (10.0, 4.0))
    for run, axis in zip(runs, axes, strict=True):
        _title(axis, "Sizes of read and write calls", run, runs)
        part = _of_run(table, run)
        if not len(part):
            _note(axis, "no read or write calls")
            continue
        lows = np.sort(part["low"].unique())
        position = {int(v): i for i, v in enumerate(lows)}
        for direction, shift, color, label in (
            ("R", -0.2, READ_COLOR, "read"),
            ("W", 0.2, WRITE_COLOR, "written"),
        ):
            rows = part[part["dir"] == direction]
            if not len(rows):
                continue
            x = rows["low"].map(position).to_numpy("float64") + shift
            axis.bar(x, rows["calls"].to_numpy(), width=0.4, color=color, label=label, gid=label)
        axis.set_xticks(np.arange(len(lows)), [_size_label(int(v)) for v in lows])
        if len(lows) > 16:
            axis.tick_params(axis="x", labelrotation=90)
        counts = part["calls"].to_numpy()
        counts = counts[counts > 0]
        if len(counts) and counts.max() > 100 * counts.min():
            axis.set_yscale("log")
        axis.yaxis.set_major_formatter(ticker.EngFormatter(sep=""))
        axis.set_xlabel("bytes per call (power-of-two buckets, lower bound)")
        axis.set_ylabel("calls")
        _legend_outside(axis)
    return fig


def latency(trace: Trace | pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """How long calls took, per system call: median to 90th and 99th percentile, and the maximum.

    Parameters
    ----------
    trace : Trace or pandas.DataFrame
        The trace, or its events; calls need durations (strace ``-T``).
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new Figure.

    Returns
    -------
    matplotlib.figure.Figure
        One row per system call of :func:`iomonitor.analysis.latency`, the
        one with most time in total on top: a thick bar from p50 to p90, a
        thin line on to p99, a tick at the mean and a cross at the maximum,
        on a logarithmic time axis.

    Raises
    ------
    UsageError
        When no call has a duration.

    Examples
    --------
    >>> latency(trace).savefig("latency.png")  # doctest: +SKIP
    """
    data = _figure_data(trace, "latency")
    runs, table = data.runs, data.latency
    if table is None:
        raise _missing_part("latency")
    if isinstance(table, UsageError):
        raise table
    n_max = max((len(_of_run(table, r)) for r in runs), default=0)
    fig, axes = _panels(runs, ax, (10.0, max(2.5, 0.4 * n_max + 1.3)))
    for run, axis in zip(runs, axes, strict=True):
        _title(axis, "Time spent per call, by system call", run, runs)
        part = _of_run(table, run).reset_index(drop=True)
        if not len(part):
            _note(axis, "no calls with a duration")
            continue
        y = np.arange(len(part))
        values = part[["mean", "p50", "p90", "p99", "max"]].to_numpy("float64")
        positive = values[values > 0]
        floor = positive.min() / 2 if len(positive) else 1e-6
        shown = np.maximum(values, floor)  # a 0-second call sits at the axis' left edge
        mean, p50, p90, p99, high = shown.T
        axis.hlines(y, p50, p90, color=READ_COLOR, linewidth=8, label="p50 – p90", gid="p50-p90")
        axis.hlines(y, p90, p99, color=READ_COLOR, linewidth=1.5, label="p90 – p99", gid="p90-p99")
        axis.scatter(mean, y, marker="|", s=200, color="black", label="mean", gid="mean", zorder=3)
        axis.scatter(high, y, marker="x", s=40, color=WRITE_COLOR, label="max", gid="max", zorder=3)
        axis.set_xscale("log")
        axis.set_xlim(floor, shown.max() * 2)
        axis.xaxis.set_major_formatter(ticker.EngFormatter(unit="s"))
        axis.set_yticks(
            y,
            [
                f"{_text(s, 24)} ({c:,} calls)"
                for s, c in zip(part["syscall"], part["calls"], strict=True)
            ],
        )
        axis.set_ylim(len(part) - 0.5, -0.5)
        axis.set_xlabel("seconds inside the call")
        _legend_outside(axis)
    return fig
