"""Bytes over time, in buckets of a chosen width."""

from __future__ import annotations

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
    scan_of,
    sort_rows,
    to_timedelta,
)
from iomonitor.analysis.engine import IS_SOCKET, PEER_LABEL, direction_sums, one_of, quote
from iomonitor.errors import NoTimeError, UsageError
from iomonitor.trace import Trace

#: Columns of :func:`bandwidth` after the run, time and key columns.
RATE_COLUMNS: tuple[str, ...] = ("read_bytes", "write_bytes", "read_rate", "write_rate")

_TIME_DTYPE = "datetime64[us, UTC]"


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
    width = _width(interval)
    check_top(top)
    if key is not None:
        check_key(key)
    sources = KEY_SOURCES[key] if key is not None else ()
    scan = scan_of(events, (TIME, DIR, BYTES, *sources), "bandwidth")
    runs = [RUN] if scan.has_runs else []
    keys = [key] if key is not None else []
    columns = [*runs, TIME, *keys, *RATE_COLUMNS]
    scan = scan.where(one_of(DIR, (READ, WRITE)) + (f" AND {IS_SOCKET}" if key == "peer" else ""))
    step = width // pd.Timedelta(microseconds=1)
    picked = [quote(r) for r in runs] + [f"(epoch_us({TIME}) // {step}) * {step} AS {TIME}"]
    if key is not None:
        picked.append(f"{PEER_LABEL if key == 'peer' else quote(sources[0])} AS {quote(key)}")
    positions = ", ".join(str(i + 1) for i in range(len(picked)))
    sql = (
        f"SELECT {', '.join(picked)}, "
        + direction_sums({"read_bytes": READ, "write_bytes": WRITE})
        + f" FROM {{events}} GROUP BY {positions}"
    )
    if key is not None and top:
        # The keys are ranked first, by their bytes over the whole trace (one
        # small GROUP BY), and the keys beyond the top are added up into one
        # row per bucket as the events are: a trace of thousands of files in a
        # thousand buckets would otherwise be millions of groups, most of them
        # thrown away.
        k = quote(key)
        sql = (
            f"WITH k AS (SELECT {k}, row_number() OVER (ORDER BY b DESC, {k}::VARCHAR NULLS LAST)"
            f" AS _rank FROM (SELECT {picked[-1]}, coalesce(sum({BYTES}), 0) AS b"
            f" FROM {{events}} GROUP BY 1)),"
            f" e AS (SELECT {', '.join(picked)}, {DIR}, {BYTES} FROM {{events}})"
            f" SELECT {''.join(f'{quote(r)}, ' for r in runs)}{TIME},"
            f" CASE WHEN _rank <= {int(top)} THEN e.{k} END AS {k}, _rank > {int(top)} AS _other, "
            + direction_sums({"read_bytes": READ, "write_bytes": WRITE})
            + f" FROM e JOIN k ON e.{k} IS NOT DISTINCT FROM k.{k} GROUP BY ALL"
        )
    sums = scan.query(sql)
    sums[TIME] = pd.to_datetime(sums[TIME], unit="us", utc=True).astype(_TIME_DTYPE)
    for c in ("read_bytes", "write_bytes"):
        sums[c] = sums[c].astype("int64")
    if not len(sums):
        return _empty(columns, keys)
    if sums[TIME].isna().all():
        raise NoTimeError("bandwidth over time")
    sums = sums.copy()
    for r in runs:
        sums[r] = as_plain(sums[r])

    rank: list[str] = []
    if key is not None:
        other = sums.pop("_other").to_numpy(dtype=bool) if "_other" in sums else None
        sums[key] = _label(sums[key])
        if other is not None and other.any():
            sums.loc[other, key] = OTHER
        kept = sums[sums[key] != OTHER] if other is not None and other.any() else sums
        total = kept["read_bytes"] + kept["write_bytes"]
        ranked = total.groupby(kept[key], dropna=False).sum().rename("b").reset_index()
        rank = sort_rows(ranked, ["b", key], [False, True])[key].tolist()
        if other is not None and other.any():
            rank.append(OTHER)

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


def _empty(columns: list[str], keys: list[str]) -> pd.DataFrame:
    data: dict[str, pd.Series] = {}
    for c in columns:
        if c == TIME:
            data[c] = pd.Series([], dtype=_TIME_DTYPE)
        elif c in keys or c == RUN:
            data[c] = pd.Series([], dtype="str")
        elif c.endswith("_rate"):
            data[c] = pd.Series([], dtype="float64")
        else:
            data[c] = pd.Series([], dtype="int64")
    return pd.DataFrame(data)
