"""Bandwidth and cumulative bytes over time, stacked by key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from iomonitor import analysis
from iomonitor.plot._axes import (
    _bytes_axis,
    _key_colors,
    _legend_outside,
    _note,
    _panels,
    _safe,
    _seconds,
    _text,
    _time_axis,
    _title,
)
from iomonitor.render.figure_data import (
    _BANDWIDTH_BUCKETS,
    _CUMULATIVE_BUCKETS,
    FigureData,
    _check_by,
    _figure_data,
    _of_run,
    _series_of,
    _SeriesSpec,
)
from iomonitor.render.units import (
    format_seconds,
)
from iomonitor.trace import Trace


@dataclass
class _Series:
    """Bucketed totals of one run, one column per key, as analysis returned them."""

    edges: np.ndarray  # seconds since the run's origin, one more than buckets
    keys: list[str]
    colors: dict[str, Any]
    read: np.ndarray  # buckets x keys
    write: np.ndarray


def _bucketed(
    data: FigureData, spec: _SeriesSpec, rates: bool
) -> tuple[list[Any], dict[Any, _Series | None], pd.Timedelta]:
    runs, origins, by = data.runs, data.origins, spec.key
    table, width = _series_of(data, spec, "bandwidth" if rates else "cumulative")
    columns = ("read_rate", "write_rate") if rates else ("read_bytes", "write_bytes")
    label = "all" if by is None else None
    keys_all = [label] if by is None else pd.unique(table[by]).tolist() if len(table) else []
    # Runs are ranked together, so one key keeps one colour in every panel;
    # "other" goes last wherever the first run put it.
    keys_all = [k for k in keys_all if k != analysis.OTHER] + (
        [analysis.OTHER] if analysis.OTHER in keys_all else []
    )
    colors = _key_colors(keys_all)
    out: dict[Any, _Series | None] = {}
    for run in runs:
        part = _of_run(table, run)
        if not len(part):
            out[run] = None
            continue
        if by is None:
            part = part.assign(_key=label)
            key = "_key"
        else:
            key = by
        keys = [k for k in keys_all if k in set(part[key])]
        wide = [
            part.pivot(index="time", columns=key, values=c).reindex(columns=keys).fillna(0)
            for c in columns
        ]
        starts = wide[0].index
        edges = _seconds(starts.append(pd.DatetimeIndex([starts[-1] + width])), origins[run])
        out[run] = _Series(
            edges, keys, colors, wide[0].to_numpy("float64"), wide[1].to_numpy("float64")
        )
    return runs, out, width


def bandwidth(
    trace: Trace | pd.DataFrame,
    by: str | None = "file",
    top: int | None = 8,
    interval: str | float | pd.Timedelta | None = None,
    *,
    ax: Axes | None = None,
) -> Figure:
    """Read and write rates over time, stacked by key: reads above the axis, writes below.

    Parameters
    ----------
    trace : Trace or pandas.DataFrame
        The trace, or its events.
    by : {'file', 'peer', 'process', 'pid', 'tgid', 'syscall', 'kind'} or None
        Stack one area per value of this key (see :func:`iomonitor.analysis.by`);
        None draws the total only.
    top : int or None, default 8
        Keep the keys with most bytes and add the rest up as ``other``;
        0 or None keeps every key.
    interval : str, float or Timedelta, optional
        Bucket width (``'10ms'``, ``1.0``); by default a round width giving
        about 150 buckets.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new Figure.

    Returns
    -------
    matplotlib.figure.Figure
        One stepped area per key and direction (from
        :func:`iomonitor.analysis.bandwidth`), in bytes per second.

    Examples
    --------
    >>> fig = bandwidth(trace, by="process", top=5, interval="100ms")  # doctest: +SKIP
    >>> fig.savefig("bandwidth.png")  # doctest: +SKIP
    """
    _check_by(by)
    data = _figure_data(trace, "bandwidth", by=by, top=top, interval=interval)
    spec = _SeriesSpec(by, top, interval, _BANDWIDTH_BUCKETS)
    runs, series, width = _bucketed(data, spec, rates=True)
    fig, axes = _panels(runs, ax, (10.0, 4.5))
    what = "" if by is None else f" by {by}"
    for run, axis in zip(runs, axes, strict=True):
        _title(
            axis, f"Bandwidth{what} (buckets of {format_seconds(width.total_seconds())})", run, runs
        )
        data = series[run]
        if data is None:
            _note(axis, "no read or write calls")
            continue
        colors = data.colors
        read_top = np.cumsum(data.read, axis=1)
        write_top = np.cumsum(data.write, axis=1)
        for i, key in enumerate(data.keys):
            below_r = read_top[:, i - 1] if i else np.zeros(len(read_top))
            below_w = write_top[:, i - 1] if i else np.zeros(len(write_top))
            name = _text(key)
            axis.stairs(
                read_top[:, i], data.edges, baseline=below_r, fill=True,
                color=colors[key], label=name, gid=f"read:{_safe(key)}",
            )  # fmt: skip
            axis.stairs(
                -write_top[:, i], data.edges, baseline=-below_w, fill=True,
                color=colors[key], alpha=0.75, gid=f"write:{_safe(key)}",
            )  # fmt: skip
        axis.axhline(0.0, color="0.2", linewidth=0.8)
        axis.set_xlim(min(0.0, data.edges[0]), data.edges[-1])
        # Filled steps stick to their extremes; leave room on both sides so
        # the tallest stack does not touch the frame and an empty side shows.
        high = float(read_top.max()) if read_top.size else 0.0
        low = float(write_top.max()) if write_top.size else 0.0
        room = 0.06 * max(high, low, 1.0)
        axis.set_ylim(-(low + room), high + room)
        _bytes_axis(axis.yaxis, per_second=True)
        axis.set_ylabel("← written      bytes per second      read →")
        _time_axis(axis)
        _legend_outside(axis, title=by)
    return fig


def cumulative(
    trace: Trace | pd.DataFrame,
    by: str | None = "file",
    top: int | None = 8,
    interval: str | float | pd.Timedelta | None = None,
    *,
    ax: Axes | None = None,
) -> Figure:
    """Bytes read and written so far, one line per key.

    Parameters
    ----------
    trace : Trace or pandas.DataFrame
        The trace, or its events.
    by : {'file', 'peer', 'process', 'pid', 'tgid', 'syscall', 'kind'} or None
        One line per value of this key; None draws the total only.
    top : int or None, default 8
        Keep the keys with most bytes and add the rest up as ``other``;
        0 or None keeps every key.
    interval : str, float or Timedelta, optional
        Time resolution of the lines; by default about 1000 steps.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new Figure.

    Returns
    -------
    matplotlib.figure.Figure
        Each line is the running sum of the buckets of
        :func:`iomonitor.analysis.bandwidth`; its last point is the key's
        ``bytes`` in :func:`iomonitor.analysis.by` (read + written, mappings
        excluded).

    Examples
    --------
    >>> cumulative(trace, by="peer", top=3).savefig("cumulative.svg")  # doctest: +SKIP
    """
    _check_by(by)
    data = _figure_data(trace, "cumulative", by=by, top=top, interval=interval)
    spec = _SeriesSpec(by, top, interval, _CUMULATIVE_BUCKETS)
    runs, series, _ = _bucketed(data, spec, rates=False)
    fig, axes = _panels(runs, ax, (10.0, 4.5))
    what = "" if by is None else f" by {by}"
    for run, axis in zip(runs, axes, strict=True):
        _title(axis, f"Cumulative bytes read + written{what}", run, runs)
        data = series[run]
        if data is None:
            _note(axis, "no read or write calls")
            continue
        colors = data.colors
        running = np.cumsum(data.read + data.write, axis=0)
        for i, key in enumerate(data.keys):
            axis.plot(
                data.edges,
                np.concatenate([[0.0], running[:, i]]),
                color=colors[key],
                label=_text(key),
                gid=f"total:{_safe(key)}",
            )
        axis.set_xlim(min(0.0, data.edges[0]), data.edges[-1])
        axis.set_ylim(bottom=0)
        _bytes_axis(axis.yaxis)
        axis.set_ylabel("bytes so far")
        _time_axis(axis)
        _legend_outside(axis, title=by)
    return fig
