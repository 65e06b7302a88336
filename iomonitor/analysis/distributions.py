"""How big the calls are and how long they take."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from iomonitor.analysis._common import (
    BYTES,
    DIR,
    DT,
    KEY_SOURCES,
    as_plain,
    check_key,
    event_keys,
    events_of,
    require,
    run_columns,
    socket_events,
    sort_rows,
)
from iomonitor.errors import UsageError
from iomonitor.schema import DIRECTIONS
from iomonitor.trace import Trace

#: Columns of :func:`size_histogram` after the run, key and dir columns.
HISTOGRAM_COLUMNS: tuple[str, ...] = ("low", "high", "calls", "bytes")
#: Columns of :func:`latency` after the run and key columns.
LATENCY_COLUMNS: tuple[str, ...] = ("calls", "time", "mean", "p50", "p90", "p99", "max")

_QUANTILES = {"p50": 0.5, "p90": 0.9, "p99": 0.99}

#: Relative error bound of the percentiles of :func:`latency_combine`.
LATENCY_ACCURACY: float = 0.01
#: Columns of :func:`latency_partial` after the run and key columns.
LATENCY_PARTIAL_COLUMNS: tuple[str, ...] = ("bin", "calls", "time", "min", "max")
#: The ``bin`` of durations below :data:`_TINY` seconds (0 included).
LATENCY_ZERO_BIN: int = -(2**40)
#: The ``bin`` counting calls without a duration.
LATENCY_UNTIMED_BIN: int = -(2**41)

# Bucket i holds the durations in (gamma**(i-1), gamma**i]. Its midpoint in
# the sense 2 * gamma**i / (gamma + 1) is within LATENCY_ACCURACY of every
# one of them, relatively.
_GAMMA = (1 + LATENCY_ACCURACY) / (1 - LATENCY_ACCURACY)
_LOG_GAMMA = float(np.log(_GAMMA))
#: Durations at or below this (seconds) share one bin; strace shows microseconds.
_TINY = 1e-9


def size_histogram(
    events: pd.DataFrame | Trace,
    key: str | None = None,
    dirs: Sequence[str] = ("R", "W"),
) -> pd.DataFrame:
    """Count calls per power-of-two size bucket, per direction.

    Parameters
    ----------
    events : pandas.DataFrame or Trace
        Events with ``dir``, ``bytes`` and the key's columns.
    key : {None, 'file', 'peer', 'pid', 'process', 'syscall', 'kind', 'tgid'}
        Also split by this key (see :func:`iomonitor.analysis.by`).
    dirs : sequence of {'R', 'W', 'M'}, default ('R', 'W')
        Directions to count; mappings (``M``) only when asked for.

    Returns
    -------
    pandas.DataFrame
        ``run`` (if any), the key (if given), ``dir``, ``low`` and ``high``
        (inclusive bounds of the bucket: 0-0, 1-1, 2-3, 4-7, ...), ``calls``
        and ``bytes``. For each run, key and direction every bucket between
        its smallest and its largest call is listed, empty ones with zeros.
        Sorted by run, key, direction (R, W, M) and size.

    Examples
    --------
    >>> from iomonitor.trace import events_frame
    >>> ev = events_frame({"time": [0.0, 0.1, 0.2], "dt": [0.0] * 3,
    ...     "pid": [7] * 3, "fd": [3] * 3, "dir": ["R"] * 3,
    ...     "bytes": [0, 3, 5], "file": ["/a"] * 3, "port": [None] * 3,
    ...     "syscall": ["read"] * 3, "kind": ["file"] * 3,
    ...     "tgid": [7] * 3, "comm": ["cat"] * 3, "local": [None] * 3})
    >>> size_histogram(ev)[["low", "high", "calls"]].values.tolist()
    [[0, 0, 1], [1, 1, 0], [2, 3, 1], [4, 7, 1]]
    """
    return size_histogram_combine([size_histogram_partial(events, key, dirs)], key)


def size_histogram_partial(
    events: pd.DataFrame | Trace,
    key: str | None = None,
    dirs: Sequence[str] = ("R", "W"),
) -> pd.DataFrame:
    """Call counts per size bucket of one batch of events, for :func:`size_histogram_combine`.

    Counts and sums add up exactly, so the batches of a trace larger than
    memory, reduced one by one and combined, give the same
    :func:`size_histogram` as the whole trace.

    Parameters
    ----------
    events : pandas.DataFrame or Trace
        One batch of events (with ``run`` when several traces are mixed).
    key, dirs
        As for :func:`size_histogram`.

    Returns
    -------
    pandas.DataFrame
        ``run`` (if any), the key (if given), ``dir``, ``bucket`` (-1 for
        calls of 0 bytes, else floor(log2(bytes))), ``calls`` and ``bytes``:
        one row per non-empty bucket, unsorted.

    Examples
    --------
    >>> parts = [size_histogram_partial(b) for b in batches]  # doctest: +SKIP
    >>> size_histogram_combine(parts)  # doctest: +SKIP
    """
    wanted = list(dict.fromkeys(dirs))
    bad = [d for d in wanted if d not in DIRECTIONS]
    if bad or not wanted:
        raise UsageError(f"dirs must be some of {', '.join(DIRECTIONS)}, not {list(dirs)!r}")
    if key is not None:
        check_key(key)
    events = events_of(events)
    runs = run_columns(events)
    keys = [key] if key is not None else []
    require(events, (DIR, BYTES, *(KEY_SOURCES[key] if key else ())), "size histogram")
    frame = events[events[DIR].isin(wanted).to_numpy(dtype=bool)]
    if key == "peer":
        frame = socket_events(frame)

    size = frame[BYTES].to_numpy(dtype="int64")
    work = pd.DataFrame({r: frame[r] for r in runs})
    for k in keys:
        work[k] = event_keys(frame, k)
    work[DIR] = frame[DIR].astype("str")
    work["bucket"] = _bucket(size)
    work["bytes"] = size
    counts = (
        work.groupby([*runs, *keys, DIR, "bucket"], observed=True, dropna=False, sort=False)[
            "bytes"
        ]
        .agg(calls="size", bytes="sum")
        .reset_index()
    )
    for c in [*runs, *keys]:
        counts[c] = as_plain(counts[c])
    for c in ("bucket", "calls", "bytes"):
        counts[c] = counts[c].astype("int64")
    return counts


def size_histogram_combine(
    partials: Sequence[pd.DataFrame], key: str | None = None, *, final: bool = True
) -> pd.DataFrame:
    """Add up :func:`size_histogram_partial` results into the :func:`size_histogram` table.

    Parameters
    ----------
    partials : sequence of pandas.DataFrame
        Results of :func:`size_histogram_partial` with the same ``key`` and ``dirs``.
    key : str, optional
        As given to :func:`size_histogram_partial`.
    final : bool, default True
        False returns the summed partial (to combine again later) instead of
        the finished table.

    Returns
    -------
    pandas.DataFrame
        The :func:`size_histogram` table (or a partial when ``final`` is False).
    """
    if not partials:
        raise UsageError("size_histogram_combine needs at least one partial")
    runs = run_columns(partials[0])
    keys = [key] if key is not None else []
    group = [*runs, *keys, DIR]
    full_parts = [p for p in partials if len(p)] or [partials[0]]
    counts = pd.concat(full_parts, ignore_index=True) if len(full_parts) > 1 else full_parts[0]
    if len(full_parts) > 1:
        counts = (
            counts.groupby([*group, "bucket"], observed=True, dropna=False, sort=False)[
                ["calls", "bytes"]
            ]
            .sum()
            .reset_index()
        )
    if not final:
        return counts

    pieces = []
    for _, part in counts.groupby(group, observed=True, dropna=False, sort=False):
        buckets = np.arange(part["bucket"].min(), part["bucket"].max() + 1)
        full = part.set_index("bucket")[["calls", "bytes"]].reindex(buckets, fill_value=0)
        full = full.rename_axis("bucket").reset_index()
        for c in group:
            full[c] = part[c].iloc[0]
            full[c] = full[c].astype(part[c].dtype)
        pieces.append(full)
    out = pd.concat(pieces, ignore_index=True) if pieces else counts.iloc[:0].copy()
    bucket = out["bucket"].to_numpy(dtype="int64")
    out["low"] = np.where(bucket < 0, 0, np.left_shift(1, np.maximum(bucket, 0)))
    out["high"] = np.where(bucket < 0, 0, np.left_shift(1, np.maximum(bucket, 0) + 1) - 1)
    for c in ("low", "high", "calls", "bytes"):
        out[c] = out[c].astype("int64")
    out["_dir"] = out[DIR].map({d: i for i, d in enumerate(DIRECTIONS)})
    out = sort_rows(out, [*runs, *keys, "_dir", "low"], [True] * (len(runs) + len(keys) + 2))
    return out[[*runs, *keys, DIR, *HISTOGRAM_COLUMNS]]


def latency(events: pd.DataFrame | Trace, key: str | None = "syscall") -> pd.DataFrame:
    """Percentiles of the time spent inside the calls, per key (exact).

    The percentiles are exact and need every duration in memory; for inputs
    read batch by batch, :func:`latency_partial` and :func:`latency_combine`
    give the same table with percentiles within :data:`LATENCY_ACCURACY`.

    Parameters
    ----------
    events : pandas.DataFrame or Trace
        Events with ``dt`` and the key's columns. Calls without a duration
        are left out.
    key : {'syscall', None, 'file', 'peer', 'pid', 'process', 'kind', 'tgid'}
        Group by this key (see :func:`iomonitor.analysis.by`); None gives one
        row for all calls.

    Returns
    -------
    pandas.DataFrame
        ``run`` (if any), the key (if given), ``calls`` (calls with a
        duration), ``time`` (their total, seconds), ``mean``, ``p50``,
        ``p90``, ``p99`` (linear interpolation between the closest calls)
        and ``max``, all in seconds. Sorted by run, then ``time``
        descending, then key.

    Raises
    ------
    UsageError
        When there are events but none has a duration (the log was made
        without timing the calls), rather than an empty table.

    Examples
    --------
    >>> from iomonitor.trace import events_frame
    >>> ev = events_frame({"time": [0.0, 0.1, 0.2], "dt": [0.1, 0.2, 0.3],
    ...     "pid": [7] * 3, "fd": [3] * 3, "dir": ["R"] * 3,
    ...     "bytes": [1, 2, 3], "file": ["/a"] * 3, "port": [None] * 3,
    ...     "syscall": ["read"] * 3, "kind": ["file"] * 3,
    ...     "tgid": [7] * 3, "comm": ["cat"] * 3, "local": [None] * 3})
    >>> float(latency(ev)["p50"].iloc[0])
    0.2
    """
    if key is not None:
        check_key(key)
    events = events_of(events)
    runs = run_columns(events)
    keys = [key] if key is not None else []
    require(events, (DT, *(KEY_SOURCES[key] if key else ())), "latency")
    frame = socket_events(events) if key == "peer" else events
    frame = frame[frame[DT].notna().to_numpy(dtype=bool)]
    if len(events) and not events[DT].notna().any():
        raise UsageError(
            "no call has a duration (dt) in these events; the log was made without timing calls"
        )
    work = pd.DataFrame({r: frame[r] for r in runs})
    for k in keys:
        work[k] = event_keys(frame, k)
    work[DT] = frame[DT].astype("float64")
    if not keys and not runs:
        work["_all"] = 0
    group = [*runs, *keys] or ["_all"]
    grouped = work.groupby(group, observed=True, dropna=False, sort=False)[DT]
    out = grouped.agg(calls="size", time="sum", mean="mean", max="max")
    for name, q in _QUANTILES.items():
        out[name] = grouped.quantile(q)
    out = out.reset_index()
    for c in [*runs, *keys]:
        out[c] = as_plain(out[c])
    out["calls"] = out["calls"].astype("int64")
    for c in LATENCY_COLUMNS[1:]:
        out[c] = out[c].astype("float64")
    out = sort_rows(out, [*runs, "time", *keys], [True] * len(runs) + [False] + [True] * len(keys))
    return out[[*runs, *keys, *LATENCY_COLUMNS]]


def latency_partial(events: pd.DataFrame | Trace, key: str | None = "syscall") -> pd.DataFrame:
    """A mergeable sketch of the call durations of one batch, for :func:`latency_combine`.

    Each group's durations are counted in log-spaced bins, each bin a factor
    ``(1 + a) / (1 - a)`` wide with ``a`` = :data:`LATENCY_ACCURACY` (1 %);
    the count, sum, minimum and maximum of each bin are kept exactly. Bins of
    several batches add up, so memory grows with the number of groups and
    bins (about 230 bins per factor of ten in duration), not with the calls.

    Parameters
    ----------
    events : pandas.DataFrame or Trace
        One batch of events with ``dt`` and the key's columns (and ``run``
        when several traces are mixed).
    key : {'syscall', None, 'file', 'peer', 'pid', 'process', 'kind', 'tgid'}
        As for :func:`latency`.

    Returns
    -------
    pandas.DataFrame
        ``run`` (if any), the key (if given), ``bin`` (bin index; durations
        under 1 ns are in :data:`LATENCY_ZERO_BIN`, calls without a duration
        are counted in :data:`LATENCY_UNTIMED_BIN`), ``calls``, ``time`` (sum
        of the durations, seconds), ``min`` and ``max``: one row per
        non-empty bin, unsorted.

    Examples
    --------
    >>> parts = [latency_partial(b) for b in batches]  # doctest: +SKIP
    >>> latency_combine(parts)  # doctest: +SKIP
    """
    if key is not None:
        check_key(key)
    events = events_of(events)
    runs = run_columns(events)
    keys = [key] if key is not None else []
    require(events, (DT, *(KEY_SOURCES[key] if key else ())), "latency")
    frame = socket_events(events) if key == "peer" else events
    dt = frame[DT].to_numpy(dtype="float64", na_value=np.nan)
    timed = ~np.isnan(dt)
    with np.errstate(divide="ignore", invalid="ignore"):
        index = np.ceil(np.log(np.where(dt > _TINY, dt, 1.0)) / _LOG_GAMMA)
    bins = np.where(
        timed, np.where(dt > _TINY, index, LATENCY_ZERO_BIN), LATENCY_UNTIMED_BIN
    ).astype("int64")
    work = pd.DataFrame({r: frame[r] for r in runs})
    for k in keys:
        work[k] = event_keys(frame, k)
    work["bin"] = bins
    work[DT] = dt
    group = [*runs, *keys, "bin"]
    grouped = work.groupby(group, observed=True, dropna=False, sort=False)[DT]
    out = grouped.agg(calls="size", time="sum", min="min", max="max").reset_index()
    return _typed_sketch(out, [*runs, *keys])


def latency_combine(
    partials: Sequence[pd.DataFrame], key: str | None = "syscall", *, final: bool = True
) -> pd.DataFrame:
    """Add up :func:`latency_partial` sketches into the :func:`latency` table.

    Parameters
    ----------
    partials : sequence of pandas.DataFrame
        Results of :func:`latency_partial` with the same ``key``.
    key : str, optional
        As given to :func:`latency_partial`.
    final : bool, default True
        False returns the summed sketch (to combine again later) instead of
        the finished table.

    Returns
    -------
    pandas.DataFrame
        The columns, order and sorting of :func:`latency`. ``calls``,
        ``time``, ``mean`` and ``max`` are exact (``time`` up to the order of
        floating-point additions); ``p50``, ``p90`` and ``p99`` interpolate
        between the closest calls as :func:`latency` does, each call's
        duration estimated within :data:`LATENCY_ACCURACY` of its true value
        relatively, so every percentile is within that bound too.

    Raises
    ------
    UsageError
        When there are calls but none has a duration, as :func:`latency` does.

    Examples
    --------
    >>> from iomonitor.trace import events_frame
    >>> ev = events_frame({"time": [0.0, 0.1, 0.2], "dt": [0.1, 0.2, 0.3],
    ...     "pid": [7] * 3, "fd": [3] * 3, "dir": ["R"] * 3,
    ...     "bytes": [1, 2, 3], "file": ["/a"] * 3, "port": [None] * 3,
    ...     "syscall": ["read"] * 3, "kind": ["file"] * 3,
    ...     "tgid": [7] * 3, "comm": ["cat"] * 3, "local": [None] * 3})
    >>> table = latency_combine([latency_partial(ev[:1]), latency_partial(ev[1:])])
    >>> float(table["p50"].iloc[0])
    0.2
    """
    if not partials:
        raise UsageError("latency_combine needs at least one partial")
    runs = run_columns(partials[0])
    keys = [key] if key is not None else []
    full_parts = [p for p in partials if len(p)] or [partials[0]]
    sketch = pd.concat(full_parts, ignore_index=True) if len(full_parts) > 1 else full_parts[0]
    if len(full_parts) > 1:
        grouped = sketch.groupby([*runs, *keys, "bin"], observed=True, dropna=False, sort=False)
        sketch = grouped.agg(
            calls=("calls", "sum"), time=("time", "sum"), min=("min", "min"), max=("max", "max")
        ).reset_index()
        sketch = _typed_sketch(sketch, [*runs, *keys])
    if not final:
        return sketch
    untimed = (sketch["bin"] == LATENCY_UNTIMED_BIN).to_numpy(dtype=bool)
    if len(sketch) and untimed.all():
        raise UsageError(
            "no call has a duration (dt) in these events; the log was made without timing calls"
        )
    sketch = sketch[~untimed]
    group = [*runs, *keys] or ["_all"]
    if not keys and not runs:
        sketch = sketch.assign(_all=0)
    rows = []
    for name, part in sketch.groupby(group, observed=True, dropna=False, sort=False):
        part = part.sort_values("bin", kind="mergesort")
        calls = part["calls"].to_numpy(dtype="int64")
        guess = np.clip(
            2.0 * np.exp(part["bin"].to_numpy(dtype="float64") * _LOG_GAMMA) / (_GAMMA + 1.0),
            part["min"].to_numpy(dtype="float64"),
            part["max"].to_numpy(dtype="float64"),
        )
        # The durations under 1 ns are all at their smallest.
        zero = (part["bin"] == LATENCY_ZERO_BIN).to_numpy(dtype=bool)
        guess[zero] = part["min"].to_numpy(dtype="float64")[zero]
        total = int(calls.sum())
        row = dict(zip(group, name if isinstance(name, tuple) else (name,), strict=True))
        row.update(
            calls=total,
            time=float(part["time"].sum()),
            max=float(part["max"].max()),
        )
        row["mean"] = row["time"] / total
        ends = np.cumsum(calls)
        for label, q in _QUANTILES.items():
            rank = q * (total - 1)
            low, high = int(np.floor(rank)), int(np.ceil(rank))
            v_low = guess[np.searchsorted(ends, low, side="right")]
            v_high = guess[np.searchsorted(ends, high, side="right")]
            row[label] = v_low + (rank - low) * (v_high - v_low)
        rows.append(row)
    out = pd.DataFrame(rows, columns=[*group, *LATENCY_COLUMNS])
    for c in [*runs, *keys]:
        out[c] = out[c].astype(sketch[c].dtype) if len(out) else as_plain(sketch[c].iloc[:0])
    out["calls"] = out["calls"].astype("int64")
    for c in LATENCY_COLUMNS[1:]:
        out[c] = out[c].astype("float64")
    out = sort_rows(out, [*runs, "time", *keys], [True] * len(runs) + [False] + [True] * len(keys))
    return out[[*runs, *keys, *LATENCY_COLUMNS]]


def _typed_sketch(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    for k in keys:
        frame[k] = as_plain(frame[k])
    frame["bin"] = frame["bin"].astype("int64")
    frame["calls"] = frame["calls"].astype("int64")
    for c in ("time", "min", "max"):
        frame[c] = frame[c].astype("float64")
    return frame[[*keys, *LATENCY_PARTIAL_COLUMNS]]


def _bucket(size: np.ndarray) -> np.ndarray:
    """-1 for 0 bytes, else floor(log2(size)), exactly."""
    # frexp is exact on integers below 2**53, far beyond any single call.
    _, exponent = np.frexp(size.astype("float64"))
    return np.where(size > 0, exponent.astype("int64") - 1, -1)
