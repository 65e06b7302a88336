"""The headline numbers of a trace, and selecting part of one."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from iomonitor.analysis._common import (
    BYTES,
    DIR,
    DT,
    FILE,
    KIND,
    MAP,
    PID,
    READ,
    RUN,
    SOCKET_KINDS,
    TGID,
    TIME,
    WRITE,
    events_of,
    require,
    run_columns,
)
from iomonitor.analysis.totals import by, combine
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


def summary(trace: Trace) -> pd.Series:
    """The headline numbers of a trace.

    Parameters
    ----------
    trace : Trace
        A trace; several runs loaded together are summed up.

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
    if not isinstance(trace, Trace):
        raise UsageError("summary needs a Trace")
    events = trace.events
    require(events, (TIME, DT, PID, DIR, BYTES, FILE, KIND, TGID), "summary")
    runs = run_columns(events)
    meta = trace.meta or {}
    direction = events[DIR]
    size = events[BYTES]
    ends = events[TIME] + pd.to_timedelta(events[DT].fillna(0.0), unit="s")

    def total(which: str) -> int:
        return int(size[(direction == which).to_numpy(dtype=bool)].sum())

    out: dict[str, Any] = {}
    out["runs"] = int(events[RUN].nunique()) if runs else 1
    out["start"] = events[TIME].min() if len(events) else None
    out["end"] = ends.max() if len(events) else None
    out["duration"] = _duration(events, ends, runs, meta)
    procs = trace.processes
    out["processes"] = _distinct(events, procs, runs, TGID)
    out["threads"] = _distinct(events, procs, runs, PID)
    out["events"] = len(events)
    out["read_bytes"] = total(READ)
    out["write_bytes"] = total(WRITE)
    out["mapped_bytes"] = total(MAP)
    out["bytes"] = out["read_bytes"] + out["write_bytes"]

    merged = events.drop(columns=runs)
    sockets = merged[KIND].astype("str").isin(SOCKET_KINDS).to_numpy()
    tops = (
        ("file", merged[~sockets], "file"),
        ("peer", merged, "peer"),
        ("process", merged, "process"),
    )
    tables = {name: by(frame, key) if len(frame) else None for name, frame, key in tops}
    return _finish(out, tables, trace, meta)


#: Columns of :func:`summary_partial` after the run, ``tgid`` and ``pid`` columns.
SUMMARY_PARTIAL_COLUMNS: tuple[str, ...] = (
    "first",
    "end",
    "events",
    "read_bytes",
    "write_bytes",
    "mapped_bytes",
)


def summary_partial(events: pd.DataFrame | Trace) -> pd.DataFrame:
    """Reduce one batch of events to what :func:`summary_combine` needs.

    Parameters
    ----------
    events : pandas.DataFrame or Trace
        A batch of events (``time``, ``dt``, ``pid``, ``dir``, ``bytes``,
        ``tgid``, and ``run`` when several runs are read together).

    Returns
    -------
    pandas.DataFrame
        One row per thread (and run): ``run`` (if any), ``tgid``, ``pid``,
        ``first`` (earliest start), ``end`` (latest end of a call),
        ``events``, ``read_bytes``, ``write_bytes``, ``mapped_bytes``. Rows
        of several batches are added up by :func:`summary_combine`, so
        memory grows with threads, not events.
    """
    events = events_of(events)
    require(events, (TIME, DT, PID, DIR, BYTES, TGID), "summary")
    runs = run_columns(events)
    keys = [*runs, TGID, PID]
    direction = events[DIR]
    size = events[BYTES].to_numpy(dtype="int64")
    work = pd.DataFrame({k: events[k] for k in keys})
    work["first"] = events[TIME]
    work["end"] = events[TIME] + pd.to_timedelta(events[DT].fillna(0.0), unit="s")
    for name, which in (("read_bytes", READ), ("write_bytes", WRITE), ("mapped_bytes", MAP)):
        work[name] = np.where((direction == which).to_numpy(dtype=bool), size, 0)
    return _summary_reduce(work, keys, count=True)


def _summary_reduce(frame: pd.DataFrame, keys: list[str], count: bool) -> pd.DataFrame:
    grouped = frame.groupby(keys, observed=True, dropna=False, sort=False)
    out = grouped.agg(
        first=("first", "min"),
        end=("end", "max"),
        events=("first", "size") if count else ("events", "sum"),
        read_bytes=("read_bytes", "sum"),
        write_bytes=("write_bytes", "sum"),
        mapped_bytes=("mapped_bytes", "sum"),
    ).reset_index()
    for k in keys:
        if isinstance(out[k].dtype, pd.CategoricalDtype):
            out[k] = out[k].astype("str")
    for c in SUMMARY_PARTIAL_COLUMNS[2:]:
        out[c] = out[c].astype("int64")
    return out[[*keys, *SUMMARY_PARTIAL_COLUMNS]]


def summary_combine(
    partials: Iterable[pd.DataFrame],
    trace: Trace | None = None,
    tops: dict[str, pd.DataFrame] | None = None,
    *,
    final: bool = True,
) -> pd.Series | pd.DataFrame:
    """The headline numbers of :func:`summary`, from the partials of its batches.

    Parameters
    ----------
    partials : iterable of pandas.DataFrame
        Results of :func:`summary_partial`, one per batch (or already combined).
    trace : Trace
        The trace's processes, failed calls and metadata; its events are not
        used (they may be empty).
    tops : dict, optional
        Summed partials of :func:`~iomonitor.analysis.partial` (over all
        batches, e.g. ``combine(parts, final=False)``) under the names
        ``"file"`` (events outside sockets, key ``file``), ``"peer"`` and
        ``"process"``; a missing one gives no top entry (None).
    final : bool, default True
        False returns the partials added up into one partial instead, to be
        combined again later (``trace`` and ``tops`` are then not needed).

    Returns
    -------
    pandas.Series or pandas.DataFrame
        The same as :func:`summary` over all the batches' events (a partial
        when ``final`` is False).
    """
    if trace is None and final:
        raise UsageError("summary_combine needs the trace's processes, failed calls and metadata")
    given = list(partials)
    parts = [p for p in given if len(p)] or given[:1]
    if parts:
        runs = run_columns(parts[0])
        rows = _summary_reduce(pd.concat(parts, ignore_index=True), [*runs, TGID, PID], count=False)
    elif trace is not None:
        rows = summary_partial(trace.events.iloc[:0])
        runs = run_columns(rows)
    else:
        raise UsageError("summary_combine needs at least one partial")
    if not final:
        return rows
    assert trace is not None
    meta = trace.meta or {}
    has = len(rows) > 0
    out: dict[str, Any] = {}
    out["runs"] = int(rows[RUN].nunique()) if runs else 1
    out["start"] = rows["first"].min() if has else None
    out["end"] = rows["end"].max() if has else None
    out["duration"] = _partial_duration(rows, runs, meta)
    procs = trace.processes
    out["processes"] = _distinct(rows, procs, runs, TGID)
    out["threads"] = _distinct(rows, procs, runs, PID)
    out["events"] = int(rows["events"].sum())
    for c in ("read_bytes", "write_bytes", "mapped_bytes"):
        out[c] = int(rows[c].sum())
    out["bytes"] = out["read_bytes"] + out["write_bytes"]
    tables: dict[str, pd.DataFrame | None] = {}
    for name in ("file", "peer", "process"):
        part = (tops or {}).get(name)
        has_part = part is not None and len(part)
        tables[name] = combine([part.drop(columns=run_columns(part))]) if has_part else None
    return _finish(out, tables, trace, meta)


def _finish(
    out: dict[str, Any],
    tables: dict[str, pd.DataFrame | None],
    trace: Trace,
    meta: dict[str, Any],
) -> pd.Series:
    """Add the top file/peer/process (from their totals tables) and the blind spots."""
    for name, table in tables.items():
        if table is None or not len(table):
            out[f"top_{name}"], out[f"top_{name}_bytes"] = None, None
        else:
            value = table[name].iloc[0]
            out[f"top_{name}"] = None if pd.isna(value) else value
            out[f"top_{name}_bytes"] = int(table["bytes"].iloc[0])
    for name in BLIND_SPOTS:
        out[name] = _blind_spot(meta, name)
    if out["failed_calls"] is None and len(trace.errors) and "count" in trace.errors:
        out["failed_calls"] = int(trace.errors["count"].sum())
    return pd.Series(out, dtype=object, name="summary")


def _partial_duration(rows: pd.DataFrame, runs: list[str], meta: dict) -> float | None:
    """:func:`_duration` from the rows of :func:`summary_partial`."""
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

    if isinstance(data, Trace):
        return replace(data, events=keep(data.events, True), errors=keep(data.errors, False))
    return keep(events_of(data), True)


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


def _duration(events: pd.DataFrame, ends: pd.Series, runs: list[str], meta: dict) -> float | None:
    if not runs and meta.get("start") and meta.get("end"):
        try:
            span = pd.Timestamp(meta["end"]) - pd.Timestamp(meta["start"])
        except (ValueError, TypeError):
            span = None
        if span is not None and not pd.isna(span):
            return span.total_seconds()
    if not len(events):
        return None
    if not runs:
        return (ends.max() - events[TIME].min()).total_seconds()
    first = events[TIME].groupby(events[RUN], observed=True).min()
    last = ends.groupby(events[RUN], observed=True).max()
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
