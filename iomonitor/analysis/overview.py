"""The headline numbers of a trace, and selecting part of one."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from iomonitor.analysis._common import (
    COMM,
    DIR,
    DT,
    FILE,
    KIND,
    MAP,
    PID,
    PORT,
    READ,
    RUN,
    TGID,
    TIME,
    WRITE,
    events_of,
    require,
    scan_of,
    sort_rows,
)
from iomonitor.analysis.engine import Scan, direction_sums, literal, one_of, quote
from iomonitor.analysis.rollup import Rollup, rolled
from iomonitor.analysis.totals import finish, sums
from iomonitor.errors import UsageError
from iomonitor.schema import DIRECTIONS, KINDS
from iomonitor.trace import Trace

#: Blind spots reported by :func:`summary`, as named in the trace metadata.
BLIND_SPOTS: tuple[str, ...] = (
    "unparsed_lines",
    "unknown_fds",
    "unseen_calls",
    "unseen_bytes",
    "io_uring_calls",
    "aio_calls",
    "failed_calls",
    "lost_records",
)


def summary(
    trace: Trace | Rollup, *, totals: Mapping[str, pd.DataFrame] | None = None
) -> pd.Series:
    """The headline numbers of a trace.

    Parameters
    ----------
    trace : Trace or Rollup
        A trace (several runs loaded together are summed up), or a
        :func:`~iomonitor.analysis.rollup` of one.
    totals : mapping, optional
        Tables of :func:`~iomonitor.analysis.by` already made for this
        trace, reused for the top entries instead of being made again:
        ``"file"`` (by file, socket events left out), ``"peer"``,
        ``"process"``, per run or not.

    Returns
    -------
    pandas.Series
        Indexed by name: ``runs``; ``start`` and ``end`` (first call's
        start, last call's end); ``duration`` (seconds: the traced span from
        the metadata for one run, else the span of the events of each run,
        added up); ``processes`` and ``threads`` (seen in the processes table
        or the events); ``events``; ``read_bytes``, ``write_bytes``,
        ``mapped_bytes``, ``bytes`` (read + written); ``top_file``,
        ``top_peer``, ``top_process`` with their ``*_bytes`` (most bytes read
        and written over all runs; files exclude sockets, which are peers;
        None when there is none); then the blind spots of
        :data:`BLIND_SPOTS` from the metadata (added up over the runs of
        a combined trace), None where the trace does not say
        (``failed_calls`` then falls back on the failed-call table).

    Examples
    --------
    >>> from iomonitor.trace import events_frame
    >>> ev = events_frame({"time": [0.0, 2.0], "dt": [0.5, 0.5], "pid": [7, 7],
    ...     "fd": [3, 1], "dir": ["R", "W"], "bytes": [10, 4],
    ...     "file": ["/a", "stdout"], "port": [None, None],
    ...     "syscall": ["read", "write"], "kind": ["file", "tty"], "tgid": [7, 7],
    ...     "comm": ["cat"] * 2, "local": [None, None]})
    >>> s = summary(Trace(ev))
    >>> s["duration"], s["bytes"], s["top_file"]
    (2.5, 14, '/a')
    """
    whole = trace.trace if isinstance(trace, Rollup) else trace
    if not isinstance(whole, Trace):
        raise UsageError("summary needs a Trace")
    given = dict(totals or {})
    # The top file, peer and process come from the same pass unless given.
    needed = (PID, TGID, *(() if len(given) == 3 else (FILE, KIND, PORT, COMM)))
    rolled_up = rolled(trace, needed, "summary")
    trace = whole
    scan = rolled_up.table
    runs = [RUN] if scan.has_runs else []
    keys = ", ".join(quote(k) for k in [*runs, TGID, PID])
    rows = scan.query(
        f"SELECT {keys}, min(first) AS first, max(last) AS last, sum(calls)::BIGINT AS events, "
        + direction_sums({"read_bytes": READ, "write_bytes": WRITE, "mapped_bytes": MAP})
        + f" FROM {{events}} GROUP BY {keys}"
    )
    for r in runs:
        rows[r] = rows[r].astype("str")
    rows["end"] = _ends(scan_of(trace, (TIME, DT), "summary"), rows, runs)
    meta = trace.meta or {}
    has = len(rows) > 0
    out: dict[str, Any] = {}
    out["runs"] = int(rows[RUN].nunique()) if runs else 1
    out["start"] = rows["first"].min() if has else None
    out["end"] = rows["end"].max() if has else None
    out["duration"] = _duration(rows, runs, meta)
    procs = trace.processes
    out["processes"] = _distinct(rows, procs, runs, TGID)
    out["threads"] = _distinct(rows, procs, runs, PID)
    out["events"] = int(rows["events"].sum())
    for c in ("read_bytes", "write_bytes", "mapped_bytes"):
        out[c] = int(rows[c].sum())
    out["bytes"] = out["read_bytes"] + out["write_bytes"]
    if has:
        for name, sockets in (("file", False), ("peer", None), ("process", None)):
            if name not in given:
                given[name] = finish(sums(rolled_up, name, sockets=sockets), name)
    for name in ("file", "peer", "process"):
        table = given.get(name)
        if table is None or not len(table):
            out[f"top_{name}"], out[f"top_{name}_bytes"] = None, None
        else:
            value, size = _top(table, name)
            out[f"top_{name}"] = None if pd.isna(value) else value
            out[f"top_{name}_bytes"] = size
    for name in BLIND_SPOTS:
        out[name] = _blind_spot(meta, name)
    if out["failed_calls"] is None and len(trace.errors) and "count" in trace.errors:
        out["failed_calls"] = int(trace.errors["count"].sum())
    return pd.Series(out, dtype=object, name="summary")


def _ends(events: Scan, rows: pd.DataFrame, runs: list[str]) -> pd.Series:
    """The end of the call that ends last in each row's run.

    That call started at most the longest call's duration before the last
    start, so only the events since then are read to find it (from a
    Parquet file, only the row groups that hold them).
    """
    last = (rows.groupby(runs, sort=False)["last"].max() if runs else rows["last"]).min()
    if pd.isna(last):  # no call has a time (a log made without timestamps)
        return pd.Series(pd.NaT, index=rows.index, dtype="datetime64[us, UTC]")
    took = "to_microseconds(round(coalesce({}, 0) * 1e6)::BIGINT)"
    since = (
        f"{literal(last.isoformat())}::TIMESTAMPTZ - "
        f"(SELECT {took.format(f'max({DT})')} FROM {{events}})"
    )
    pick, group = (f"{RUN}::VARCHAR AS {RUN}, ", f" GROUP BY {RUN}") if runs else ("", "")
    ends = events.query(
        f"SELECT {pick}max({TIME} + {took.format(DT)}) AS end FROM {{events}} "
        f"WHERE {TIME} >= {since}{group}"
    )
    if not runs:
        return pd.Series(ends["end"].iloc[0], index=rows.index)
    return rows[RUN].map(dict(zip(ends[RUN], ends["end"], strict=True)))


def _top(table: pd.DataFrame, key: str) -> tuple[Any, int | None]:
    """The key with most bytes over all runs, in the order of :func:`by`, and its bytes."""
    # Groups that only failed (joined in from the failed calls) moved no byte.
    table = table[table["calls"].to_numpy() > 0]
    if not len(table):
        return None, None
    if RUN in table.columns:
        sums = ["bytes", "mapped_bytes", "calls"]
        table = table.groupby(key, dropna=False, sort=False)[sums].sum().reset_index()
        table = sort_rows(table, [*sums, key], [False, False, False, True])
    return table[key].iloc[0], int(table["bytes"].iloc[0])


def select(
    data: Trace | pd.DataFrame,
    *,
    pid: Iterable[int] | None = None,
    file: Iterable[str] | str | None = None,
    kind: Iterable[str] | str | None = None,
    dir: Iterable[str] | str | None = None,
) -> Trace | pd.DataFrame:
    """Keep only the events (and failed calls) that match every filter given.

    Parameters
    ----------
    data : Trace or pandas.DataFrame
        A trace (events and failed-call table are both filtered; processes
        and metadata are kept) or an events DataFrame.
    pid : iterable of int, optional
        Process or thread ids: an event matches when its ``pid`` or its
        ``tgid`` is one of them, so a process id brings all its threads.
    file : str or iterable of str, optional
        Shell-style patterns (``*``, ``?``, ``[...]``) matched against the
        whole ``file`` value, case-sensitively.
    kind : str or iterable of str, optional
        Kinds of :data:`iomonitor.schema.KINDS`.
    dir : str or iterable of str, optional
        Directions among ``R``, ``W``, ``M``. Failed calls have no direction
        and are not filtered by it.

    Returns
    -------
    Trace or pandas.DataFrame
        The same type as ``data``.

    Examples
    --------
    >>> select(trace, file="/etc/*", dir="R")  # doctest: +SKIP
    """
    pids = None if pid is None else [int(p) for p in pid]
    patterns = _strings(file)
    kinds = _strings(kind)
    dirs = _strings(dir)
    if kinds is not None and (bad := [k for k in kinds if k not in KINDS]):
        raise UsageError(f"unknown kind {bad[0]!r}; choose among {', '.join(KINDS)}")
    if dirs is not None and (bad := [d for d in dirs if d not in DIRECTIONS]):
        raise UsageError(f"unknown direction {bad[0]!r}; choose among {', '.join(DIRECTIONS)}")

    def keep(frame: pd.DataFrame, with_dir: bool) -> pd.DataFrame:
        mask = np.ones(len(frame), dtype=bool)
        if pids is not None:
            require(frame, (PID, TGID), "selecting by pid")
            mask &= (frame[PID].isin(pids) | frame[TGID].isin(pids)).to_numpy(dtype=bool)
        if patterns is not None:
            require(frame, (FILE,), "selecting by file")
            mask &= _glob(frame[FILE], patterns)
        if kinds is not None:
            require(frame, (KIND,), "selecting by kind")
            mask &= frame[KIND].astype("str").isin(kinds).to_numpy(dtype=bool)
        if with_dir and dirs is not None:
            require(frame, (DIR,), "selecting by direction")
            mask &= frame[DIR].astype("str").isin(dirs).to_numpy(dtype=bool)
        return frame[mask].reset_index(drop=True)

    if isinstance(data, Trace) and not data.in_memory:
        return data.replace(
            scan=_narrowed(data.scan, pids, patterns, kinds, dirs), errors=keep(data.errors, False)
        )
    if isinstance(data, Trace):
        return data.replace(events=keep(data.events, True), errors=keep(data.errors, False))
    return keep(events_of(data), True)


def _narrowed(
    scan: Scan,
    pids: list[int] | None,
    patterns: list[str] | None,
    kinds: list[str] | None,
    dirs: list[str] | None,
) -> Scan:
    """:func:`select` as an engine condition, for events still on disk."""
    wanted = {PID: pids, FILE: patterns, KIND: kinds, DIR: dirs}
    for column, values in wanted.items():
        if values is not None and column not in scan.columns:
            raise UsageError(f"selecting by {column} needs the column {column}, which is missing")
    terms = []
    if pids is not None:
        terms.append(f"({one_of(PID, pids)} OR {one_of(TGID, pids)})")
    if patterns is not None:
        # Shell patterns are matched by fnmatch, once per distinct name, as in memory.
        terms.append(one_of(FILE, scan.matching(FILE, patterns)))
    if kinds is not None:
        terms.append(one_of(KIND, kinds))
    if dirs is not None:
        terms.append(one_of(DIR, dirs))
    return scan.where(" AND ".join(terms)) if terms else scan


def _strings(value: Iterable[str] | str | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _glob(values: pd.Series, patterns: list[str]) -> np.ndarray:
    # Match each distinct name once; a trace repeats a few names many times.
    text = values.astype("str")
    distinct = pd.unique(text.dropna())
    hits = {v for v in distinct if any(fnmatch.fnmatchcase(v, p) for p in patterns)}
    return text.isin(hits).to_numpy(dtype=bool)


def _duration(rows: pd.DataFrame, runs: list[str], meta: dict) -> float | None:
    """The traced span from the metadata (one run), else the events' span per run, added up."""
    if not runs and meta.get("start") and meta.get("end"):
        try:
            span = pd.Timestamp(meta["end"]) - pd.Timestamp(meta["start"])
        except (ValueError, TypeError):
            span = None
        if span is not None and not pd.isna(span):
            return span.total_seconds()
    if not len(rows) or not rows["events"].sum():
        return None
    if not runs:
        return (rows["end"].max() - rows["first"].min()).total_seconds()
    first = rows.groupby(RUN, sort=False)["first"].min()
    last = rows.groupby(RUN, sort=False)["end"].max()
    return float((last - first).dt.total_seconds().sum())


def _distinct(events: pd.DataFrame, procs: pd.DataFrame, runs: list[str], column: str) -> int:
    cols = [*runs, column]
    seen = [events[cols]]
    if len(procs) and all(c in procs.columns for c in cols):
        seen.append(procs[cols])
    both = pd.concat([s.astype({c: "str" for c in runs}) for s in seen], ignore_index=True)
    return len(both.drop_duplicates())


def _blind_spot(meta: dict[str, Any], name: str) -> int | None:
    """A count from the metadata, added up over runs; None unless every run tells."""
    if meta.get(name) is not None:
        return int(meta[name])
    per_run = meta.get("runs")
    if isinstance(per_run, dict) and per_run:
        values = [m.get(name) if isinstance(m, dict) else None for m in per_run.values()]
        if all(v is not None for v in values):
            return int(sum(int(v) for v in values))
    return None
