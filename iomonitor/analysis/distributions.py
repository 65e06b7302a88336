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
    RUN,
    as_plain,
    check_key,
    scan_of,
    sort_rows,
)
from iomonitor.analysis.engine import IS_SOCKET, PEER_LABEL, one_of, quote
from iomonitor.errors import UsageError
from iomonitor.schema import DIRECTIONS
from iomonitor.trace import Trace

#: Columns of :func:`size_histogram` after the run, key and dir columns.
HISTOGRAM_COLUMNS: tuple[str, ...] = ("low", "high", "calls", "bytes")
#: Columns of :func:`latency` after the run and key columns.
LATENCY_COLUMNS: tuple[str, ...] = ("calls", "time", "mean", "p50", "p90", "p99", "max")

_QUANTILES = {"p50": 0.5, "p90": 0.9, "p99": 0.99}

# -1 for calls of 0 bytes, else floor(log2(bytes)): log2 of a double is exact
# enough for that below 2**48 bytes, far beyond any single call.
_BUCKET = f"CASE WHEN {BYTES} > 0 THEN floor(log2({BYTES}))::BIGINT ELSE -1 END"


def _key_sql(key: str) -> str:
    """The engine expression of a grouping key: its column, or the peer label."""
    return PEER_LABEL if key == "peer" else quote(KEY_SOURCES[key][0])


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
    wanted = list(dict.fromkeys(dirs))
    bad = [d for d in wanted if d not in DIRECTIONS]
    if bad or not wanted:
        raise UsageError(f"dirs must be some of {', '.join(DIRECTIONS)}, not {list(dirs)!r}")
    if key is not None:
        check_key(key)
    scan = scan_of(events, (DIR, BYTES, *(KEY_SOURCES[key] if key else ())), "size histogram")
    runs = [RUN] if scan.has_runs else []
    keys = [key] if key is not None else []
    scan = scan.where(one_of(DIR, wanted) + (f" AND {IS_SOCKET}" if key == "peer" else ""))
    picked = [quote(r) for r in runs] + [f"{_key_sql(k)} AS {quote(k)}" for k in keys]
    picked += [f"{DIR}::VARCHAR AS {DIR}", f"{_BUCKET} AS bucket"]
    positions = ", ".join(str(i + 1) for i in range(len(picked)))
    counts = scan.query(
        f"SELECT {', '.join(picked)}, count(*)::BIGINT AS calls, sum({BYTES})::BIGINT AS bytes "
        f"FROM {{events}} GROUP BY {positions}"
    )
    for c in [*runs, *keys]:
        counts[c] = as_plain(counts[c])
    group = [*runs, *keys, DIR]
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
    out[DIR] = out[DIR].astype("str")
    out["_dir"] = out[DIR].map({d: i for i, d in enumerate(DIRECTIONS)})
    out = sort_rows(out, [*runs, *keys, "_dir", "low"], [True] * (len(runs) + len(keys) + 2))
    return out[[*runs, *keys, DIR, *HISTOGRAM_COLUMNS]]


def latency(events: pd.DataFrame | Trace, key: str | None = "syscall") -> pd.DataFrame:
    """Percentiles of the time spent inside the calls, per key (exact).

    The percentiles are exact at every size of input: the engine's
    ``quantile_cont`` interpolates between the closest calls as pandas does.

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
    scan = scan_of(events, (DT, *(KEY_SOURCES[key] if key else ())), "latency")
    runs = [RUN] if scan.has_runs else []
    keys = [key] if key is not None else []
    every = scan
    scan = scan.where(f"{DT} IS NOT NULL" + (f" AND {IS_SOCKET}" if key == "peer" else ""))
    picked = [quote(r) for r in runs] + [f"{_key_sql(k)} AS {quote(k)}" for k in keys]
    # One aggregate for all the percentiles: each quantile_cont holds its own
    # copy of every duration, three of them twice the memory of one.
    quantiles = ", ".join(f"_q[{i + 1}] AS {name}" for i, name in enumerate(_QUANTILES))
    levels = ", ".join(str(q) for q in _QUANTILES.values())
    select = "".join(f"{p}, " for p in picked)
    group = " GROUP BY " + ", ".join(str(i + 1) for i in range(len(picked))) if picked else ""
    out = scan.query(
        f"SELECT * EXCLUDE (_q), {quantiles} FROM (SELECT {select}count(*)::BIGINT AS calls,"
        f" fsum({DT}) AS time, fsum({DT}) / count({DT}) AS mean,"
        f" quantile_cont({DT}, [{levels}]) AS _q,"
        f" max({DT}) AS max FROM {{events}}{group})"
    )
    if not picked:
        out = out[out["calls"] > 0]
    if not len(out):
        # No timed call: say why when there are calls (one more look, on this rare path only).
        timed = every.query(f"SELECT count(*) AS n, count({DT}) AS t FROM {{events}}").iloc[0]
        if timed["n"] and not timed["t"]:
            raise UsageError(
                "no call has a duration (dt) in these events; the log was made without timing calls"
            )
    for c in [*runs, *keys]:
        out[c] = as_plain(out[c])
    out["calls"] = out["calls"].astype("int64")
    for c in LATENCY_COLUMNS[1:]:
        out[c] = out[c].astype("float64")
    out = sort_rows(out, [*runs, "time", *keys], [True] * len(runs) + [False] + [True] * len(keys))
    return out[[*runs, *keys, *LATENCY_COLUMNS]]
