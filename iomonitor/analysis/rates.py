"""Bytes over time, in buckets of a chosen width."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from iomonitor.analysis._common import (
    BYTES,
    DIR,
    KEY_SOURCES,
    NUMERIC_KEYS,
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
from iomonitor.analysis.engine import (
    IS_SOCKET,
    PEER_LABEL,
    Scan,
    direction_sums,
    literal,
    one_of,
    quote,
)
from iomonitor.analysis.rollup import Rollup
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
    return bandwidths(events, [(interval, key, top)])[0]


def bandwidths(
    events: pd.DataFrame | Trace,
    requests: Sequence[tuple[str | float | pd.Timedelta, str | None, int | None]],
    *,
    ranks: Rollup | None = None,
) -> list[pd.DataFrame]:
    """Several :func:`bandwidth` tables of one trace, from one pass over its events.

    Parameters
    ----------
    events : pandas.DataFrame or Trace
        As for :func:`bandwidth`.
    requests : sequence of (interval, key, top)
        The arguments of each table, as :func:`bandwidth` takes them.
    ranks : Rollup, optional
        A :func:`iomonitor.analysis.rollup` of the same events: the keys
        are ranked from its rows instead of from the events (one pass less).

    Returns
    -------
    list of pandas.DataFrame
        One table per request, in order, each as :func:`bandwidth` gives it.

    Examples
    --------
    >>> by_file, total = bandwidths(trace, [("1s", "file", 5), ("10s", None, 0)])  # doctest: +SKIP
    """
    asked = []
    for interval, key, top in requests:
        check_top(top)
        if key is not None:
            check_key(key)
        asked.append(_Request(_width(interval), key, int(top or 0)))
    sources = tuple(dict.fromkeys(c for r in asked if r.key for c in KEY_SOURCES[r.key]))
    scan = scan_of(events, (TIME, DIR, BYTES, *sources), "bandwidth")
    runs = [RUN] if scan.has_runs else []
    tops = _ranked(ranks if ranks is not None else scan, asked)
    sums = _bucket_sums(scan, asked, tops, runs)
    return [_finish(part, request, runs) for part, request in zip(sums, asked, strict=True)]


@dataclass(frozen=True)
class _Request:
    width: pd.Timedelta
    key: str | None
    top: int

    @property
    def step(self) -> int:
        """The width in microseconds (event times have microsecond resolution)."""
        return self.width // pd.Timedelta(microseconds=1)

    @property
    def label(self) -> tuple[str | None, int]:
        return (self.key, self.top)


def _key_sql(key: str) -> str:
    return PEER_LABEL if key == "peer" else quote(KEY_SOURCES[key][0])


def _text_sql(key: str) -> str:
    """The key as compared with its kept values: text keys as text (a DataFrame's
    categories reach the engine as an enum, which a value it lacks could not be cast to)."""
    expr = _key_sql(key)
    return expr if key in NUMERIC_KEYS or key == "peer" else f"{expr}::VARCHAR"


def _ranked(source: Scan | Rollup, asked: list[_Request]) -> dict[tuple[str, int], list[Any]]:
    """The ``top`` keys of each request that has one: most bytes read + written first.

    One query over the events, or over the rows of a rollup (the same sums:
    its ``bytes`` are the events' bytes added up per group).
    """
    wanted = list(dict.fromkeys(r.label for r in asked if r.key is not None and r.top))
    if not wanted:
        return {}
    table = source.table if isinstance(source, Rollup) else source
    out: dict[tuple[str, int], list[Any]] = {}
    for key in dict.fromkeys(k for k, _ in wanted):
        deepest = max(t for k, t in wanted if k == key)
        where = one_of(DIR, (READ, WRITE)) + (f" AND {IS_SOCKET}" if key == "peer" else "")
        # Ties go by the key's text, so the same keys are kept on every run.
        ranked = table.query(
            f"SELECT k FROM (SELECT {_key_sql(key)} AS k, coalesce(sum({BYTES}), 0) AS b"
            f" FROM {{events}} WHERE {where} GROUP BY 1)"
            f" ORDER BY b DESC, k::VARCHAR NULLS LAST LIMIT {deepest}"
        )["k"].tolist()
        for k, t in wanted:
            if k == key:
                out[(k, t)] = [None if pd.isna(v) else v for v in ranked[:t]]
    return out


def _families(steps: list[int]) -> list[list[int]]:
    """Bucket widths that one pass can add up together: their common divisor is fine enough.

    Each family is summed in buckets of the greatest common divisor of its
    widths, then re-summed to each width; widths whose divisor would be far
    finer than any of them (7 ms and 3 ms: 1 ms) get passes of their own.
    """
    families: list[list[int]] = []
    for step in sorted(set(steps), reverse=True):
        for family in families:
            if math.gcd(math.gcd(*family), step) * 10 >= min(*family, step):
                family.append(step)
                break
        else:
            families.append([step])
    return families


def _bucket_sums(
    scan: Scan, asked: list[_Request], tops: dict[tuple[str, int], list[Any]], runs: list[str]
) -> list[pd.DataFrame]:
    """Each request's bytes per run, bucket and key (``_other`` for keys beyond the top).

    The events are added up once per family of widths, in buckets of the
    family's common divisor and per label of every request (the key, or NULL
    beyond the top); each request is then a grouping set over those rows,
    which are far fewer than the events.
    """
    out: list[pd.DataFrame | None] = [None] * len(asked)
    for family in _families([r.step for r in asked]):
        fine = math.gcd(*family)
        mine = [i for i, r in enumerate(asked) if r.step in family]
        labels = list(dict.fromkeys(asked[i].label for i in mine if asked[i].key is not None))
        inner = [quote(r) for r in runs] + [f"epoch_us({TIME}) // {fine} AS _f"]
        outer = [quote(r) for r in runs]
        grouped = [quote(r) for r in runs]
        for n, (key, top) in enumerate(labels):
            expr = _key_sql(key)
            if top:
                # Keys beyond the top are NULL, added up as one; a NULL key that is
                # itself among the top is told apart from them by a flag. A chain of
                # WHENs costs the engine less than IN over text: 0.82 against 1.04 s
                # of CPU for the file key of 10 million events.
                listed = [v for v in tops[(key, top)] if v is not None]
                chain = " ".join(f"WHEN {literal(v)} THEN {expr}" for v in listed)
                inner.append(
                    f"{_on_socket(key, f'CASE {_text_sql(key)} {chain} END')} AS _k{n}"
                    if listed
                    else f"NULL AS _k{n}"
                )
                if None in tops[(key, top)]:
                    inner.append(f"{expr} IS NULL AS _n{n}")
                    outer.append(f"_n{n}")
                    grouped.append(f"_n{n}")
            else:
                inner.append(f"{_on_socket(key, expr)} AS _k{n}")
            outer.append(f"_k{n}")
            grouped.append(f"_k{n}")
            if key == "peer":
                inner.append(f"coalesce({IS_SOCKET}, FALSE) AS _s{n}")
                outer.append(f"_s{n}")
                grouped.append(f"_s{n}")
        for step in family:
            outer.append(f"(_f // {step // fine}) * {step} AS _b{step}")
            grouped.append(f"_b{step}")
        sets: dict[tuple[str, ...], list[int]] = {}
        for i in mine:
            cols = [*map(quote, runs), f"_b{asked[i].step}"]
            if asked[i].key is not None:
                n = labels.index(asked[i].label)
                cols += [f"_k{n}"] + ([f"_n{n}"] if f"_n{n}" in grouped else [])
                cols += [f"_s{n}"] if asked[i].key == "peer" else []
            sets.setdefault(tuple(cols), []).append(i)
        sums = direction_sums({"read_bytes": READ, "write_bytes": WRITE})
        listed = ", ".join("(" + ", ".join(c) + ")" for c in sets)
        rows = scan.query(
            f"SELECT GROUPING({', '.join(grouped)}) AS _set, {', '.join(grouped)},"
            " sum(read_bytes)::BIGINT AS read_bytes, sum(write_bytes)::BIGINT AS write_bytes"
            f" FROM (SELECT {', '.join(outer)}, read_bytes, write_bytes FROM"
            f" (SELECT {', '.join(inner)}, {sums} FROM {{events}}"
            f" WHERE {one_of(DIR, (READ, WRITE))} GROUP BY ALL))"
            f" GROUP BY GROUPING SETS ({listed})"
        )
        for cols, which in sets.items():
            # GROUPING() sets one bit per column left out of the set, the first the highest.
            mask = sum(1 << (len(grouped) - 1 - j) for j, g in enumerate(grouped) if g not in cols)
            part = rows[rows["_set"].to_numpy() == mask]
            for i in which:
                out[i] = _one_request(part, asked[i], labels, runs)
    return [o for o in out if o is not None]


def _on_socket(key: str | None, expr: str) -> str:
    """A peer's label made for socket events only: the others are left out of the
    peer series (``_s``), and building the label for each of them costs a tenth of
    the pass."""
    return f"CASE WHEN {IS_SOCKET} THEN {expr} END" if key == "peer" else expr


def _one_request(
    part: pd.DataFrame, request: _Request, labels: list[tuple[str | None, int]], runs: list[str]
) -> pd.DataFrame:
    """The rows of one request's grouping set as ``run``, ``time``, key, ``_other`` and sums."""
    frame = {r: part[r] for r in runs}
    frame[TIME] = part[f"_b{request.step}"]
    keep = None
    if request.key is not None:
        n = labels.index(request.label)
        frame[request.key] = part[f"_k{n}"]
        if request.top:
            other = part[f"_k{n}"].isna()
            frame["_other"] = other & ~part[f"_n{n}"].astype(bool) if f"_n{n}" in part else other
        if request.key == "peer":
            keep = part[f"_s{n}"].to_numpy(dtype=bool)
    frame["read_bytes"] = part["read_bytes"]
    frame["write_bytes"] = part["write_bytes"]
    out = pd.DataFrame(frame)
    return out[keep] if keep is not None else out


def _finish(sums: pd.DataFrame, request: _Request, runs: list[str]) -> pd.DataFrame:
    """One request's sums as :func:`bandwidth` returns them: labelled, ranked, gaps filled."""
    key, width = request.key, request.width
    keys = [key] if key is not None else []
    columns = [*runs, TIME, *keys, *RATE_COLUMNS]
    sums = sums.copy()
    sums[TIME] = pd.to_datetime(sums[TIME], unit="us", utc=True).astype(_TIME_DTYPE)
    for c in ("read_bytes", "write_bytes"):
        sums[c] = sums[c].astype("int64")
    if not len(sums):
        return _empty(columns, keys)
    if sums[TIME].isna().all():
        raise NoTimeError("bandwidth over time")
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
