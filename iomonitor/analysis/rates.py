"""Bytes over time, in buckets of a chosen width."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from iomonitor.analysis._common import (
    BYTES,
    DIR,
    KEY_SOURCES,
    OTHER,
    READ,
    RUN,
    TIME,
    WRITE,
    as_plain,
    check_key,
    check_top,
    event_keys,
    events_of,
    require,
    run_columns,
    socket_events,
    sort_rows,
    to_timedelta,
)
from iomonitor.errors import NoTimeError, UsageError
from iomonitor.trace import Trace

#: Columns of :func:`bandwidth` after the run, time and key columns.
RATE_COLUMNS: tuple[str, ...] = ("read_bytes", "write_bytes", "read_rate", "write_rate")


def bandwidth(
    events: pd.DataFrame | Trace,
    interval: str | float | pd.Timedelta = "1s",
    key: str | None = None,
    top: int | None = 10,
) -> pd.DataFrame:
    """Bytes read and written per time bucket, overall or per key.

    Parameters
    ----------
    events : pandas.DataFrame or Trace
        Events with ``time``, ``dir``, ``bytes`` and the key's columns.
    interval : str, float or Timedelta, default '1s'
        Bucket width: ``'100ms'``, ``'1s'``, ``'5min'``, or seconds. Buckets
        start at whole multiples of the width since the epoch (UTC), so
        one-second buckets fall on wall-clock seconds.
    key : {None, 'file', 'peer', 'pid', 'process', 'syscall', 'kind', 'tgid'}
        Split each bucket by this key (see :func:`iomonitor.analysis.by`).
    top : int or None, default 10
        Keep the ``top`` keys with most bytes (read + written, whole trace)
        and add the rest up under ``'other'``; 0 or None keeps every key.

    Returns
    -------
    pandas.DataFrame
        ``run`` (if any), ``time`` (bucket start), the key (as text, when
        given), ``read_bytes``, ``write_bytes``, ``read_rate`` and
        ``write_rate`` (bytes per second). Every bucket from a run's first
        to its last event is present for every key of that run, quiet ones
        with zeros. Mapped bytes (``M``) are not transfers and are left out.
        Sorted by run, time, then keys by total bytes (``'other'`` last).

    Examples
    --------
    >>> from iomonitor.trace import events_frame
    >>> ev = events_frame({"time": [0.2, 0.7, 2.5], "dt": [0.0] * 3,
    ...     "pid": [7] * 3, "fd": [3] * 3, "dir": ["R", "R", "W"],
    ...     "bytes": [10, 5, 8], "file": ["/a"] * 3, "port": [None] * 3,
    ...     "syscall": ["read", "read", "write"], "kind": ["file"] * 3,
    ...     "tgid": [7] * 3, "comm": ["cat"] * 3, "local": [None] * 3})
    >>> bandwidth(ev, "1s")[["read_bytes", "write_bytes"]].values.tolist()
    [[15, 0], [0, 0], [0, 8]]
    """
    return bandwidth_combine([bandwidth_partial(events, interval, key)], interval, key, top)


def bandwidth_partial(
    events: pd.DataFrame | Trace,
    interval: str | float | pd.Timedelta = "1s",
    key: str | None = None,
) -> pd.DataFrame:
    """Bucket sums of one batch of events, for :func:`bandwidth_combine`.

    Bucket sums add up exactly, so a trace larger than memory gives the same
    :func:`bandwidth` table when its batches go through this function one by
    one and their results through :func:`bandwidth_combine`.

    Parameters
    ----------
    events : pandas.DataFrame or Trace
        One batch of events (with ``run`` when several traces are mixed).
    interval, key
        As for :func:`bandwidth`.

    Returns
    -------
    pandas.DataFrame
        ``run`` (if any), ``time`` (bucket start), the key's raw value (when
        given), ``read_bytes``, ``write_bytes``: one row per non-empty bucket.

    Examples
    --------
    >>> parts = [bandwidth_partial(b, "1s", "file") for b in batches]  # doctest: +SKIP
    >>> bandwidth_combine(parts, "1s", "file", top=5)  # doctest: +SKIP
    """
    width = _width(interval)
    if key is not None:
        check_key(key)
    events = events_of(events)
    runs = run_columns(events)
    sources = KEY_SOURCES[key] if key is not None else ()
    require(events, (TIME, DIR, BYTES, *sources), "bandwidth")
    keys = [key] if key is not None else []
    frame = events[events[DIR].isin([READ, WRITE]).to_numpy(dtype=bool)]
    if key == "peer":
        frame = socket_events(frame)
    size = frame[BYTES].to_numpy(dtype="int64")
    is_r = (frame[DIR] == READ).to_numpy(dtype=bool)
    work = pd.DataFrame({r: frame[r] for r in runs})
    work[TIME] = frame[TIME].dt.floor(width)
    for k in keys:
        work[k] = event_keys(frame, k)
    work["read_bytes"] = np.where(is_r, size, 0)
    work["write_bytes"] = np.where(is_r, 0, size)
    return _sum(work, [*runs, TIME, *keys])


def bandwidth_combine(
    partials: Sequence[pd.DataFrame],
    interval: str | float | pd.Timedelta = "1s",
    key: str | None = None,
    top: int | None = 10,
    *,
    final: bool = True,
) -> pd.DataFrame:
    """Add up :func:`bandwidth_partial` results into the :func:`bandwidth` table.

    Parameters
    ----------
    partials : sequence of pandas.DataFrame
        Results of :func:`bandwidth_partial` with the same ``interval`` and ``key``.
    interval, key, top
        As for :func:`bandwidth`.
    final : bool, default True
        False returns the summed partial (to combine again later) instead of
        the finished table.

    Returns
    -------
    pandas.DataFrame
        The :func:`bandwidth` table (or a partial when ``final`` is False).
    """
    width = _width(interval)
    check_top(top)
    if not partials:
        raise UsageError("bandwidth_combine needs at least one partial")
    runs = run_columns(partials[0])
    keys = [key] if key is not None else []
    columns = [*runs, TIME, *keys, *RATE_COLUMNS]
    group = [*runs, TIME, *keys]
    sums = _sum(_concat(partials), group) if len(partials) > 1 else partials[0]
    if not final:
        return sums
    if not len(sums):
        return _empty(sums, columns, keys)
    if sums[TIME].isna().all():
        raise NoTimeError("bandwidth over time")
    sums = sums.copy()
    for r in runs:
        sums[r] = as_plain(sums[r])

    rank: list[str] = []
    if key is not None:
        sums[key] = _label(sums[key])
        total = sums["read_bytes"] + sums["write_bytes"]
        ranked = total.groupby(sums[key], dropna=False).sum().rename("b").reset_index()
        ranked = sort_rows(ranked, ["b", key], [False, True])[key].tolist()
        kept = ranked[:top] if top else ranked
        if len(kept) < len(ranked):
            sums[key] = sums[key].where(sums[key].isin(kept), OTHER)
            sums = _sum(sums, group)
            kept = [*kept, OTHER]
        rank = kept

    out = _fill(sums, runs, keys, width)
    seconds = width.total_seconds()
    out["read_rate"] = out["read_bytes"] / seconds
    out["write_rate"] = out["write_bytes"] / seconds
    order = [*runs, TIME]
    if key is not None:
        out["_rank"] = out[key].map({k: i for i, k in enumerate(rank)})
        order.append("_rank")
    out = sort_rows(out, order, [True] * len(order))
    return out[columns]


def _width(interval: str | float | pd.Timedelta) -> pd.Timedelta:
    width = to_timedelta(interval)
    if width < pd.Timedelta(microseconds=1):
        raise UsageError(f"bad interval {interval!r}: event times have microsecond resolution")
    return width


def _concat(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    # Batches carry categoricals with different categories: concat gives object
    # columns, which group the same.
    return pd.concat([p for p in parts if len(p)] or [parts[0]], ignore_index=True)


def _sum(frame: pd.DataFrame, group: list[str]) -> pd.DataFrame:
    grouped = frame.groupby(group, observed=True, dropna=False, sort=False)
    out = grouped[["read_bytes", "write_bytes"]].sum().reset_index()
    for c in ("read_bytes", "write_bytes"):
        out[c] = out[c].astype("int64")
    return out


def _label(values: pd.Series) -> pd.Series:
    # Keys become text so that numeric keys and 'other' share one column.
    return as_plain(values).astype("str")


def _fill(
    sums: pd.DataFrame, runs: list[str], keys: list[str], width: pd.Timedelta
) -> pd.DataFrame:
    """Add the quiet buckets (zero bytes) for every key of each run."""
    pieces = []
    groups = sums.groupby(runs, sort=False, dropna=False) if runs else [(None, sums)]
    for run, part in groups:
        times = pd.date_range(part[TIME].min(), part[TIME].max(), freq=width)
        if keys:
            labels = pd.unique(part[keys[0]])
            index = pd.MultiIndex.from_product([times, labels], names=[TIME, keys[0]])
        else:
            index = pd.Index(times, name=TIME)
        filled = (
            part.set_index([TIME, *keys])[["read_bytes", "write_bytes"]]
            .reindex(index, fill_value=0)
            .reset_index()
        )
        if runs:
            filled.insert(0, RUN, run[0] if isinstance(run, tuple) else run)
            filled[RUN] = filled[RUN].astype(part[RUN].dtype)
        pieces.append(filled)
    out = pd.concat(pieces, ignore_index=True)
    out[TIME] = out[TIME].astype(sums[TIME].dtype)
    return out


def _empty(events: pd.DataFrame, columns: list[str], keys: list[str]) -> pd.DataFrame:
    data: dict[str, pd.Series] = {}
    for c in columns:
        if c == RUN:
            data[c] = as_plain(events[RUN].iloc[:0])
        elif c == TIME:
            data[c] = events[TIME].iloc[:0].reset_index(drop=True)
        elif c in keys:
            data[c] = pd.Series([], dtype="str")
        elif c.endswith("_rate"):
            data[c] = pd.Series([], dtype="float64")
        else:
            data[c] = pd.Series([], dtype="int64")
    return pd.DataFrame({c: s.reset_index(drop=True) for c, s in data.items()})
