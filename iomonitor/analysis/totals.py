"""Totals per key and per process subtree.

The engine sums the events into one row per group (:func:`sums`, one query
whatever the size of the input); the rest is done on those rows: failed
calls joined in, peer labels, the process tree, the order.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from iomonitor.analysis._common import (
    COMM,
    FILE,
    KEY_SOURCES,
    KIND,
    PID,
    PORT,
    RUN,
    TGID,
    as_plain,
    check_key,
    check_runs,
    require,
    run_columns,
    sort_rows,
)
from iomonitor.analysis.engine import Scan, quote
from iomonitor.analysis.queries import TOTAL_COLUMNS, finished, sums_scan
from iomonitor.analysis.rollup import Rollup, rolled
from iomonitor.errors import UsageError
from iomonitor.trace import Trace

#: Columns of :func:`sums` after the run and key columns.
SUM_COLUMNS: tuple[str, ...] = (
    "calls",
    "rw_calls",
    "read_bytes",
    "write_bytes",
    "mapped_bytes",
    "max_size",
    "time",
    "first",
    "last",
)

#: Columns of :func:`by_tree` between the run column and the totals.
TREE_COLUMNS: tuple[str, ...] = ("pid", "ppid", "comm", "depth", "processes")

_COUNTS = ("calls", "rw_calls", "read_bytes", "write_bytes", "mapped_bytes")
_ERROR_COUNT = "count"


def sums(
    data: Trace | pd.DataFrame | Rollup, key: str, *, sockets: bool | None = None
) -> pd.DataFrame:
    """One row of sums per group, computed by the engine over all the events at once.

    Parameters
    ----------
    data : Trace, pandas.DataFrame or Rollup
        The events (with ``run`` when several runs are held), or a
        :func:`~iomonitor.analysis.rollup` of them.
    key : {'file', 'peer', 'pid', 'process', 'syscall', 'kind', 'tgid'}
        What to group by; ``peer`` keeps only socket events.
    sockets : bool, optional
        False leaves the events on sockets out, True keeps only them (as
        ``peer`` always does); None (default) keeps every event.

    Returns
    -------
    pandas.DataFrame
        ``run`` (when the events have it), the event columns the key is made
        of (``file``; ``kind, file, port`` for peer; ``comm`` for process;
        ...), then ``calls`` (events), ``rw_calls`` (R and W events),
        ``read_bytes``, ``write_bytes``, ``mapped_bytes``, ``max_size``
        (largest R/W call, NA without any), ``time`` (sum of ``dt``, NaN when
        none is known), ``first`` and ``last`` (start times of the first and
        last call). Unsorted.
    """
    scan, parts, keys = sums_scan(data, key, sockets)
    return _typed(scan.query(parts), keys)


def by(
    data: Trace | pd.DataFrame,
    key: str,
    *,
    errors: pd.DataFrame | None = None,
    processes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Totals per file, peer, pid, process, syscall, kind or tgid.

    Parameters
    ----------
    data : Trace or pandas.DataFrame
        A trace, or its events. A trace brings its failed-call counts and
        processes table along.
    key : {'file', 'peer', 'pid', 'process', 'syscall', 'kind', 'tgid'}
        ``file`` is the ``file`` column of every event (paths, std streams,
        sockets' peer addresses, labels); ``peer`` covers only socket events
        (tcp, udp, unix, netlink): ``ip:port`` for TCP/UDP (``[ip]:port`` for
        IPv6), the path or label for the others; ``process`` is the program
        name (``comm``).
    errors, processes : pandas.DataFrame, optional
        Override the trace's tables, or supply them with bare events.

    Returns
    -------
    pandas.DataFrame
        One row per group (and per run when the events have a ``run``
        column, so runs never merge). Columns: ``run`` (if any), the key
        (named as ``key``), ``calls`` (events, M included), ``read_bytes``,
        ``write_bytes``, ``mapped_bytes``, ``bytes`` (read + write; mapped
        bytes are never added in), ``mean_size`` (bytes per R/W call, NaN
        without any), ``max_size`` (largest R/W call, NA without any),
        ``errors`` (failed calls, NA when no failed-call table is known),
        ``time`` (seconds inside the calls, NaN when the trace lacks
        durations), ``first`` and ``last`` (start of the first and of the
        last call). Groups that only failed appear with ``calls`` 0.
        Sorted by run, then ``bytes``, ``mapped_bytes`` and ``calls``
        descending, then by key.

    Notes
    -----
    A failed TCP/UDP call is known by its peer address only; it is counted
    under ``ip:port`` when the events of that run show exactly one port for
    that address, and under the bare address otherwise.

    Examples
    --------
    >>> from iomonitor.trace import events_frame
    >>> ev = events_frame({"time": [0.0, 1.0], "dt": [0.1, 0.2], "pid": [7, 7],
    ...     "fd": [3, 1], "dir": ["R", "W"], "bytes": [10, 4],
    ...     "file": ["/a", "stdout"], "port": [None, None],
    ...     "syscall": ["read", "write"], "kind": ["file", "tty"], "tgid": [7, 7],
    ...     "comm": ["cat"] * 2, "local": [None, None]})
    >>> by(ev, "file")[["file", "calls", "bytes"]].values.tolist()
    [['/a', 1, 10], ['stdout', 1, 4]]
    """
    check_key(key)
    source = data.trace if isinstance(data, Rollup) else data
    held = isinstance(source, Trace)
    if held:
        errors = source.table("errors") if errors is None else errors
        processes = source.table("processes") if processes is None else processes
    scan, parts, keys = sums_scan(data, key, None)
    _check_sides(keys, errors, processes, key)
    sql = finished(scan, parts, key, keys, errors, processes, failed=held or errors is not None)
    return _finished_frame(scan.query(sql), key, keys)


def by_tree(trace: Trace | Rollup) -> pd.DataFrame:
    """Totals of every process together with all its descendants.

    Parameters
    ----------
    trace : Trace or Rollup
        Its ``processes`` table (pid, ppid, tgid) gives the tree; a process
        whose parent is unknown is a root. Threads count with their process.
        A :func:`~iomonitor.analysis.rollup` of a trace stands for it.

    Returns
    -------
    pandas.DataFrame
        One row per process (thread group) and run: ``run`` (if any),
        ``pid`` (the process id, i.e. its tgid), ``ppid`` (the parent process,
        NA for roots), ``comm``, ``depth`` (0 for roots), ``processes`` (in
        the subtree, itself included), then the columns of :func:`by`
        summed over the subtree. Rows are in tree order: each process is
        followed by its subtree, siblings by ``bytes`` descending.

    Examples
    --------
    >>> tree = by_tree(trace)  # doctest: +SKIP
    >>> tree.loc[tree["depth"] == 0, ["pid", "comm", "bytes"]]  # doctest: +SKIP
    """
    totals = trace if isinstance(trace, Rollup) else None
    trace = totals.trace if totals is not None else trace
    if not isinstance(trace, Trace):
        raise UsageError("totals per process subtree need a Trace (its processes table)")
    procs = trace.processes
    require(procs, (PID, "ppid", TGID, COMM), "totals per process subtree")
    totals = rolled(totals or trace, (TGID, COMM), "totals per process subtree")
    runs = [RUN] if totals.table.has_runs else []
    check_runs(pd.DataFrame(columns=runs), procs, "processes")
    event_comms = process_names(totals)
    scan, parts, keys = sums_scan(totals, "tgid", None)
    sql = finished(scan, parts, "tgid", keys, trace.table("errors"), procs, rw_calls=True)
    own = _finished_frame(scan.query(sql), "tgid", keys)

    run_values = _run_values(own, procs) if runs else [None]
    pair_rows: list[tuple[Any, int, int]] = []
    node_rows: list[tuple[Any, int, int | None, str | None, int]] = []
    for run in run_values:
        run_procs = procs if run is None else procs[procs[RUN] == run]
        run_own = own if run is None else own[own[RUN] == run]
        parent, comm = _tree_links(run_procs, run_own[TGID].tolist())
        for node, chain in _ancestors(parent).items():
            name = comm.get(node)
            if name is None:
                name = event_comms.get((run, node) if runs else node)
            node_rows.append((run, node, parent[node], name, len(chain) - 1))
            pair_rows.extend((run, ancestor, node) for ancestor in chain)

    pairs = pd.DataFrame(pair_rows, columns=[RUN, "root", TGID])
    nodes = pd.DataFrame(node_rows, columns=[RUN, "root", "_ppid", "_comm", "_level"])
    if not runs:
        pairs = pairs.drop(columns=[RUN])
        nodes = nodes.drop(columns=[RUN])
    elif len(pairs):
        pairs[RUN] = pairs[RUN].astype(own[RUN].dtype)
        nodes[RUN] = nodes[RUN].astype(own[RUN].dtype)
    pairs[TGID] = pairs[TGID].astype(own[TGID].dtype)
    member = pairs.merge(own, on=[*runs, TGID], how="left")
    # Every failed call of the trace is in trace.errors: no row there means none failed.
    counts = [*_COUNTS, "errors"]
    member[counts] = member[counts].fillna(0).astype("int64")
    grouped = member.groupby([*runs, "root"], observed=True, dropna=False, sort=False)
    summed = grouped.agg(
        processes=(TGID, "size"),
        **{c: (c, "sum") for c in counts},
        max_size=("max_size", "max"),
        first=("first", "min"),
        last=("last", "max"),
    )
    summed["time"] = grouped["time"].sum(min_count=1)
    summed = summed.reset_index().merge(nodes, on=[*runs, "root"], how="left")
    bytes_ = summed["read_bytes"] + summed["write_bytes"]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = bytes_.to_numpy("float64") / summed["rw_calls"].to_numpy("float64")
    out = pd.DataFrame(
        {
            **{r: as_plain(summed[r]) for r in runs},
            "pid": summed["root"].astype("int32"),
            "ppid": pd.array(summed["_ppid"].tolist(), dtype="Int32"),
            "comm": pd.Series(summed["_comm"].tolist(), index=summed.index, dtype="str"),
            "depth": summed["_level"].astype("int64"),
            "processes": summed["processes"].astype("int64"),
            **{c: summed[c] for c in TOTAL_COLUMNS[:4]},
            "bytes": bytes_,
            "mean_size": np.where(summed["rw_calls"].to_numpy() > 0, mean, np.nan),
            "max_size": summed["max_size"].astype("Int64"),
            "errors": summed["errors"].astype("Int64"),
            **{c: summed[c] for c in TOTAL_COLUMNS[-3:]},
        }
    )
    return _tree_order(out, runs)


def process_names(data: Trace | pd.DataFrame | Rollup) -> pd.Series:
    """The program name of each process's last event.

    Parameters
    ----------
    data : Trace, pandas.DataFrame or Rollup
        The events (``time``, ``tgid``, ``comm``), or a
        :func:`~iomonitor.analysis.rollup` of them.

    Returns
    -------
    pandas.Series
        Names (None where unknown), indexed by tgid, or by (run, tgid) when
        the events hold several runs.
    """
    scan = rolled(data, (TGID, COMM), "process names").table
    runs = [RUN] if scan.has_runs else []
    group = ", ".join(quote(k) for k in [*runs, TGID])
    rows = scan.query(
        f"SELECT {group}, arg_max({COMM}, last) AS comm FROM {{events}} GROUP BY {group}"
    )
    if not len(rows):
        return pd.Series(dtype=object)
    index = rows[[*runs, TGID]].astype({TGID: "int64"})
    names = [_text(v) for v in rows[COMM]]
    return pd.Series(names, index=pd.MultiIndex.from_frame(index) if runs else index[TGID])


def subtree(trace: Trace, pid: int, *, run: Any = None) -> pd.DataFrame:
    """Totals of one process and all its descendants.

    Parameters
    ----------
    trace : Trace
        The trace with its processes table.
    pid : int
        The process, or any of its threads.
    run : optional
        Only this run, when several are loaded together; by default every
        run that has the process gives a row.

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`by_tree` for that process.

    Examples
    --------
    >>> subtree(trace, 3854)[["pid", "processes", "bytes"]]  # doctest: +SKIP
    """
    tree = by_tree(trace)
    procs = trace.processes
    runs = run_columns(trace.events)
    match = procs[procs[PID] == pid]
    # A thread id stands for its process; a pid seen only in events is its own process.
    wanted = match[[*runs, TGID]] if len(match) else None
    if wanted is None:
        rows = tree[tree["pid"] == pid]
    else:
        rows = tree.merge(wanted.rename(columns={TGID: "pid"}).drop_duplicates(), on=[*runs, "pid"])
    if run is not None:
        if not runs:
            raise UsageError("run= was given but the trace holds a single run")
        rows = rows[rows[RUN] == run]
    if not len(rows):
        where = f" in run {run!r}" if run is not None else ""
        raise UsageError(f"no process {pid} in the trace{where}")
    return rows.reset_index(drop=True)


# -- the machinery -----------------------------------------------------------


def _typed(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    for k in keys:
        # The engine gives a port column with gaps as floats; the schema's is UInt16.
        frame[k] = frame[k].astype("UInt16") if k == PORT else as_plain(frame[k])
    for c in _COUNTS:
        frame[c] = frame[c].astype("int64")
    frame["max_size"] = frame["max_size"].astype("Int64")
    frame["time"] = frame["time"].astype("float64")
    return frame[[*keys, *SUM_COLUMNS, *(c for c in frame.columns if c == "errors")]]


def finish(
    parts: pd.DataFrame,
    key: str,
    errors: pd.DataFrame | None = None,
    processes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The table of :func:`by` from the rows of :func:`sums`.

    Parameters
    ----------
    parts : pandas.DataFrame
        :func:`sums` of the events by ``key``.
    key : str
        As given to :func:`sums`.
    errors : pandas.DataFrame, optional
        Failed-call counts to join in; without them ``errors`` is NA (unknown).
    processes : pandas.DataFrame, optional
        Names the processes of failed calls when the key is ``process``.

    Returns
    -------
    pandas.DataFrame
        As :func:`by` returns it.
    """
    check_key(key)
    keys = [*run_columns(parts), *KEY_SOURCES[key]]
    _check_sides(keys, errors, processes, key)
    scan = Scan.of_frame(parts)
    sql = finished(scan, "SELECT * FROM {events}", key, keys, errors, processes,
                   failed=errors is not None)  # fmt: skip
    return _finished_frame(scan.query(sql), key, keys)


def _finished_frame(frame: pd.DataFrame, key: str, keys: list[str]) -> pd.DataFrame:
    """The rows of :func:`~iomonitor.analysis.queries.finish_sql` with the dtypes of :func:`by`."""
    for k in [*run_columns(frame), key]:
        frame[k] = as_plain(frame[k])
    for c in (*_COUNTS, "bytes"):
        if c in frame.columns:
            frame[c] = frame[c].astype("int64")
    frame["mean_size"] = frame["mean_size"].astype("float64")
    for c in ("max_size", "errors"):
        frame[c] = frame[c].astype("Int64")
    frame["time"] = frame["time"].astype("float64")
    for c in ("first", "last"):
        frame[c] = frame[c].astype("datetime64[us, UTC]")
    return frame


def _check_sides(keys: list[str], errors: Any, processes: Any, key: str) -> None:
    """Refuse failed-call and processes tables that lack what the totals by ``key`` read."""
    runs = pd.DataFrame(columns=[k for k in keys if k == RUN])
    for name, table in (("errors", errors), ("processes", processes)):
        if isinstance(table, pd.DataFrame):
            check_runs(runs, table, name)
    if not isinstance(errors, pd.DataFrame) or not len(errors):
        return
    if key == "process":
        require(errors, (PID, _ERROR_COUNT), "failed calls per process")
    elif key == "peer":
        require(errors, (KIND, FILE, _ERROR_COUNT), "failed calls per peer")
    else:
        require(errors, (*KEY_SOURCES[key], _ERROR_COUNT), f"failed calls per {key}")


def _text(value: Any) -> str | None:
    return None if value is None or value is pd.NA or value != value else str(value)


def _run_values(own: pd.DataFrame, procs: pd.DataFrame) -> list[Any]:
    values = pd.concat([own[RUN], procs[RUN]], ignore_index=True).dropna().unique()
    return sorted(values.tolist(), key=str)


def _tree_links(
    procs: pd.DataFrame, event_tgids: list[int]
) -> tuple[dict[int, int | None], dict[int, str | None]]:
    """Parent process and program name of every process of one run."""
    repeated = procs[PID][procs[PID].duplicated()]
    if len(repeated):
        raise UsageError(
            f"the processes table lists pid {int(repeated.iloc[0])} more than once "
            "(pid reuse?), so its process tree is ambiguous"
        )
    tgid_of = {int(p): int(t) for p, t in zip(procs[PID], procs[TGID], strict=True)}
    # The thread-group leader's row speaks for the process; any thread's row will do
    # when the leader was never seen (e.g. attached to a thread).
    ordered = procs.assign(_lead=(procs[PID] != procs[TGID]).astype(int)).sort_values(
        "_lead", kind="mergesort"
    )
    leaders = ordered.drop_duplicates(TGID)
    nodes = {int(t) for t in leaders[TGID]} | {int(t) for t in event_tgids}
    parent: dict[int, int | None] = dict.fromkeys(nodes)
    comm: dict[int, str | None] = {}
    for tgid, ppid, name in zip(leaders[TGID], leaders["ppid"], leaders[COMM], strict=True):
        comm[int(tgid)] = _text(name)
        if ppid is pd.NA or pd.isna(ppid):
            continue
        # strace records the thread that forked; its process is the parent.
        up = tgid_of.get(int(ppid), int(ppid))
        parent[int(tgid)] = up if up in nodes and up != int(tgid) else None
    return parent, comm


def _ancestors(parent: dict[int, int | None]) -> dict[int, list[int]]:
    """Each node -> [itself, its parent, ..., its root]."""
    chains: dict[int, list[int]] = {}
    for node in parent:
        chain = [node]
        seen = {node}
        up = parent[node]
        while up is not None:
            if up in seen:
                raise UsageError(f"the processes table has a parent cycle through pid {up}")
            chain.append(up)
            seen.add(up)
            up = parent[up]
        chains[node] = chain
    return chains


def _tree_order(frame: pd.DataFrame, runs: list[str]) -> pd.DataFrame:
    """Depth-first order, children after their parent, siblings by bytes descending."""
    ranked = sort_rows(
        frame,
        [*runs, "bytes", "mapped_bytes", "calls", "pid"],
        [True] * len(runs) + [False, False, False, True],
    )
    order: list[int] = []
    for _, group in ranked.groupby(runs, sort=False) if runs else [(None, ranked)]:
        children: dict[Any, list[int]] = defaultdict(list)
        pids = set(group["pid"].tolist())
        for idx, ppid in zip(group.index, group["ppid"], strict=True):
            children[None if ppid is pd.NA or int(ppid) not in pids else int(ppid)].append(idx)
        pid_at = dict(zip(group.index, group["pid"], strict=True))
        stack = list(reversed(children[None]))
        while stack:
            idx = stack.pop()
            order.append(idx)
            stack.extend(reversed(children[int(pid_at[idx])]))
    return ranked.loc[order].reset_index(drop=True)
