"""The headline numbers of a trace, and selecting part of one."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from iomonitor.analysis._common import (
    DIR,
    FILE,
    KIND,
    PID,
    TGID,
    events_of,
    require,
)
from iomonitor.analysis.engine import Scan, one_of
from iomonitor.analysis.queries import headline
from iomonitor.analysis.rollup import Rollup
from iomonitor.errors import UsageError
from iomonitor.schema import DIRECTIONS, KINDS
from iomonitor.trace import Trace


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
    return summary_series(headline(trace, totals))


def summary_series(values: dict[str, Any]) -> pd.Series:
    """The values of :func:`~iomonitor.analysis.queries.headline` as :func:`summary` gives them."""
    values = dict(values)
    for name in ("start", "end"):
        if values[name] is not None:
            values[name] = pd.Timestamp(values[name]).tz_convert("UTC").as_unit("us")
    return pd.Series(values, dtype=object, name="summary")


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
