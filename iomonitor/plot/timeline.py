"""One lane per process: its lifetime and the bytes it moved over time."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from iomonitor.errors import UsageError
from iomonitor.plot._axes import (
    READ_COLOR,
    WRITE_COLOR,
    _legend_outside,
    _note,
    _panels,
    _seconds,
    _text,
    _time_axis,
    _title,
)
from iomonitor.render.figure_data import _figure_data, _of_run, _series_of, _SeriesSpec
from iomonitor.render.units import (
    format_bytes,
    format_seconds,
)
from iomonitor.trace import Trace


def timeline(
    trace: Trace | pd.DataFrame,
    *,
    interval: str | float | pd.Timedelta | None = None,
    max_marks: int = 400,
    ax: Axes | None = None,
) -> Figure:
    """One lane per process: its lifetime, and marks for the bytes it read and wrote.

    Parameters
    ----------
    trace : Trace or pandas.DataFrame
        The trace (lifetimes come from its processes table), or its events
        (lifetimes then span each process's first to last call).
    interval : str, float or Timedelta, optional
        Calls are added up per process in buckets of this width, so a lane
        holds one mark per bucket and direction; by default wide enough for
        at most about ``max_marks`` buckets.
    max_marks : int, default 400
        The most marks per lane and direction when ``interval`` is not given.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new Figure.

    Returns
    -------
    matplotlib.figure.Figure
        Lanes labelled ``pid program``, the earliest-started process on top.
        A grey bar spans each process's lifetime; reads are marked above
        the lane's middle (blue), writes below (orange), with marker areas
        growing with the logarithm of the bytes per bucket (from
        :func:`iomonitor.analysis.bandwidth` by ``tgid``).

    Examples
    --------
    >>> timeline(trace).savefig("timeline.png")  # doctest: +SKIP
    """
    if isinstance(max_marks, bool) or not isinstance(max_marks, int) or max_marks < 1:
        raise UsageError(f"max_marks must be a whole number >= 1, not {max_marks!r}")
    data = _figure_data(trace, "timeline", interval=interval, max_marks=max_marks)
    runs, origins, lives = data.runs, data.origins, data.lifetimes
    marks, width = _series_of(data, _SeriesSpec("tgid", 0, interval, max_marks), "timeline")
    per_run = {run: _of_run(lives, run) if run is not None else lives for run in runs}
    heights = [max(3.0, 0.32 * len(per_run[run]) + 1.4) / 3.0 for run in runs]
    fig, axes = _panels(runs, ax, (11.0, 3.0), heights)
    biggest = float(marks[["read_bytes", "write_bytes"]].to_numpy().max()) if len(marks) else 0.0
    scale = math.log2(1.0 + biggest) or 1.0

    def area(b: np.ndarray) -> np.ndarray:
        return 8.0 + 140.0 * np.log2(1.0 + b) / scale

    for run, axis in zip(runs, axes, strict=True):
        _title(
            axis,
            f"Processes over time (marks: bytes per {format_seconds(width.total_seconds())})",
            run,
            runs,
        )
        lanes = per_run[run]
        origin = origins[run]
        if not len(lanes) or origin is None:
            _note(axis, "no processes")
            continue
        end_of_trace = data.last[run]
        lanes = lanes.assign(
            start=lanes["start"].fillna(origin),
            end=lanes["end"].fillna(end_of_trace if not pd.isna(end_of_trace) else origin),
        )
        lanes = lanes.sort_values(["start", "tgid"], kind="mergesort").reset_index(drop=True)
        lane_of = {int(t): i for i, t in enumerate(lanes["tgid"])}
        start = _seconds(lanes["start"], origin)
        end = _seconds(lanes["end"], origin)
        axis.barh(
            np.arange(len(lanes)), np.maximum(end - start, 0.0), left=start, height=0.7,
            color="0.88", edgecolor="0.7", linewidth=0.5, label="lifetime", gid="lifetimes",
        )  # fmt: skip
        part = _of_run(marks, run)
        if len(part):
            lane = part["tgid"].astype("int64").map(lane_of).to_numpy()
            x = _seconds(part["time"], origin) + width.total_seconds() / 2
            for column, offset, color, marker, label in (
                ("read_bytes", -0.17, READ_COLOR, "^", "read"),
                ("write_bytes", 0.17, WRITE_COLOR, "v", "written"),
            ):
                size = part[column].to_numpy("float64")
                hit = size > 0
                axis.scatter(
                    x[hit], lane[hit] + offset, s=area(size[hit]), c=color, marker=marker,
                    alpha=0.8, linewidths=0, label=label, gid=f"marks:{label}",
                )  # fmt: skip
        axis.set_yticks(
            np.arange(len(lanes)),
            [f"{int(t)} {_text(c, 24)}" for t, c in zip(lanes["tgid"], lanes["comm"], strict=True)],
        )
        axis.set_ylim(len(lanes) - 0.5, -0.5)
        axis.tick_params(axis="y", labelsize="small" if len(lanes) < 40 else "x-small")
        _time_axis(axis)
        axis.set_ylabel("process")
        handles, _ = axis.get_legend_handles_labels()
        for b in _size_examples(biggest):
            handles.append(
                Line2D([], [], linestyle="", marker="o", color="0.5",
                       markersize=math.sqrt(float(area(np.array([b]))[0])), label=format_bytes(b))
            )  # fmt: skip
        _legend_outside(axis, handles)
    return fig


def _size_examples(biggest: float) -> list[float]:
    """A few round sizes up to the largest bucket, for the marker-size legend."""
    if biggest < 1:
        return []
    top = 2 ** math.floor(math.log2(biggest))
    picks = sorted({top, 2 ** math.floor(math.log2(top) / 2), 1.0} - {0})
    return [float(p) for p in picks if p <= biggest][-3:]
