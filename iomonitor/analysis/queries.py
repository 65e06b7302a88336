"""Totals as engine queries whose rows need no pandas.

The table of :func:`~iomonitor.analysis.by` is one query: the sums of a
rollup per key (:func:`sums_sql`) joined with the failed calls, labelled,
derived and sorted by the engine (:func:`finish_sql`). The command line
writes its rows (:class:`~iomonitor.analysis.engine.Rows`) as text;
:func:`~iomonitor.analysis.by` and :func:`~iomonitor.analysis.finish` run the
same query and convert its result to a DataFrame.
"""

from __future__ import annotations

import datetime as _dt
import sys
from collections.abc import Mapping
from typing import Any

from iomonitor.analysis._common import (
    COMM,
    DT,
    FILE,
    INET_KINDS,
    KEY_SOURCES,
    KIND,
    MAP,
    PID,
    PORT,
    READ,
    RUN,
    TGID,
    TIME,
    WRITE,
    check_key,
    scan_of,
)
from iomonitor.analysis.engine import (
    IS_SOCKET,
    PEER_LABEL,
    SOCKET_KINDS,
    Rows,
    Scan,
    direction_sums,
    literal,
    one_of,
    quote,
)
from iomonitor.analysis.rollup import Rollup, rolled
from iomonitor.errors import UsageError
from iomonitor.trace import Trace

_RW = one_of("dir", (READ, WRITE))

#: The sums of :func:`~iomonitor.analysis.sums`, as engine select items over a rollup's rows.
_SUMS_SQL = (
    "sum(calls)::BIGINT AS calls, "
    f"coalesce(sum(calls) FILTER (WHERE {_RW}), 0)::BIGINT AS rw_calls, "
    + direction_sums({"read_bytes": READ, "write_bytes": WRITE, "mapped_bytes": MAP})
    + f", max(max_size) FILTER (WHERE {_RW}) AS max_size, min(first) AS first, "
    f"max(last) AS last, fsum({DT}) AS {TIME}"
)

#: Columns of a finished total, after the run and key columns.
TOTAL_COLUMNS: tuple[str, ...] = (
    "calls",
    "read_bytes",
    "write_bytes",
    "mapped_bytes",
    "bytes",
    "mean_size",
    "max_size",
    "errors",
    "time",
    "first",
    "last",
)

_SOCKETS = "(" + ", ".join(f"'{k}'" for k in SOCKET_KINDS) + ")"

_COUNTS = ("calls", "rw_calls", "read_bytes", "write_bytes", "mapped_bytes")

#: The columns of the failed-calls and processes tables the totals read.
ERROR_COLUMNS = (RUN, PID, TGID, "syscall", FILE, KIND, "count")
PROCESS_COLUMNS = (RUN, PID, COMM)


def sums_scan(data: Trace | Any, key: str, sockets: bool | None) -> tuple[Scan, str, list[str]]:
    """The rollup scan, the SQL of the sums per group over it, and the group columns."""
    check_key(key)
    filtered = sockets is not None or key == "peer"
    totals = rolled(
        data, (*KEY_SOURCES[key], *((KIND, PORT) if filtered else ())), f"totals by {key}"
    )
    scan = totals.table
    keys = ([RUN] if scan.has_runs else []) + list(KEY_SOURCES[key])
    if filtered:
        scan = scan.where(
            IS_SOCKET if sockets is not False or key == "peer" else f"NOT {IS_SOCKET}"
        )
    group = ", ".join(quote(k) for k in keys)
    return scan, f"SELECT {group}, {_SUMS_SQL} FROM {{events}} GROUP BY {group}", keys


def _text(column: str) -> str:
    return f"{quote(column)}::VARCHAR AS {quote(column)}"


def _plain(keys: list[str]) -> str:
    """The key columns as :func:`~iomonitor.analysis._common.as_plain` makes them."""
    out = []
    for k in keys:
        if k in (PID, TGID):
            out.append(f"{quote(k)}::INTEGER AS {quote(k)}")
        elif k == PORT:
            out.append(f"{quote(k)}::USMALLINT AS {quote(k)}")
        else:
            out.append(_text(k))
    return ", ".join(out)


def finish_sql(
    parts: str,
    key: str,
    keys: list[str],
    errors: str | None,
    processes: str | None,
    socket_errors: bool = True,
    rw_calls: bool = False,
    top: int = 0,
) -> str:
    """The SQL of a finished table of totals (as :func:`~iomonitor.analysis.by` gives it).

    Parameters
    ----------
    parts : str
        A relation (SQL) of the sums per group: ``keys`` then the sum columns.
    key : str
        What the groups are.
    keys : list of str
        ``run`` (several runs) and the columns ``key`` is made of.
    errors, processes : str or None
        Names of the side tables attached to the engine (:meth:`Scan.attach`);
        errors None leaves the failed calls unknown (NULL), processes None
        names no process of a failed call.
    socket_errors : bool
        False leaves the failed calls on sockets out (a table of files).
    rw_calls : bool
        Keep the count of R and W calls (``rw_calls``, after ``calls``), which
        sums over process subtrees need.
    top : int
        Only the first ``top`` rows of each run (0: all). The engine keeps
        them as it sorts: a table of many names is not sorted whole nor
        fetched.
    """
    runs = [k for k in keys if k == RUN]
    on = " AND ".join(f"p.{quote(k)} IS NOT DISTINCT FROM c.{quote(k)}" for k in keys)
    cte = [
        f"p AS (SELECT {_plain(keys)}, * EXCLUDE ({', '.join(map(quote, keys))}) FROM ({parts}))"
    ]
    if errors is None:
        joined = "SELECT *, NULL::BIGINT AS errors FROM p"
    else:
        cte.append(f"c AS ({_error_counts(key, keys, runs, errors, processes, socket_errors)})")
        fills = ", ".join(f"coalesce(p.{c}, 0)::BIGINT AS {c}" for c in _COUNTS)
        picks = ", ".join(f"coalesce(p.{quote(k)}, c.{quote(k)}) AS {quote(k)}" for k in keys)
        joined = (
            f"SELECT {picks}, {fills}, p.max_size, p.first, p.last, p.{TIME}, "
            f"coalesce(c.errors, 0)::BIGINT AS errors FROM p FULL OUTER JOIN c ON {on}"
        )
    cte.append(f"j AS ({joined})")
    if key == "peer":
        # TCP and UDP to the same ip:port share a label, hence one more sum.
        group = ", ".join([*map(quote, runs), "peer"])
        cte.append(
            f"m AS (SELECT {group}, "
            + ", ".join(f"sum({c})::BIGINT AS {c}" for c in _COUNTS)
            + f", max(max_size) AS max_size, min(first) AS first, max(last) AS last, "
            f"fsum({TIME}) AS {TIME}, sum(errors)::BIGINT AS errors FROM "
            f"(SELECT *, {PEER_LABEL} AS peer FROM j) GROUP BY {group})"
        )
        source = "m"
    else:
        source = "j"
    named = f", {quote(COMM)} AS process" if key == "process" else ""
    rw = "rw_calls, " if rw_calls else ""
    order = [
        *(f"{quote(r)} ASC" for r in runs),
        "bytes DESC",
        "mapped_bytes DESC",
        "calls DESC",
        f"{quote(key)} ASC NULLS LAST",
    ]
    return (
        "WITH "
        + ", ".join(cte)
        + f" SELECT {''.join(f'{quote(r)}, ' for r in runs)}{quote(key)}, calls, {rw}read_bytes, "
        "write_bytes, mapped_bytes, read_bytes + write_bytes AS bytes, "
        "CASE WHEN rw_calls > 0 THEN (read_bytes + write_bytes)::DOUBLE / rw_calls END "
        f"AS mean_size, max_size, errors, {TIME}, first, last FROM (SELECT *, "
        f"read_bytes + write_bytes AS bytes{named} FROM {source})" + _first(top, runs, order)
    )


def _first(top: int, runs: list[str], order: list[str]) -> str:
    """ORDER BY ``order``, keeping the first ``top`` rows of each run (all for 0)."""
    if not top:
        return f" ORDER BY {', '.join(order)}"
    if not runs:
        return f" ORDER BY {', '.join(order)} LIMIT {int(top)}"
    rank = ", ".join(order[len(runs) :])
    return (
        f" QUALIFY row_number() OVER (PARTITION BY {', '.join(map(quote, runs))} ORDER BY {rank})"
        f" <= {int(top)} ORDER BY {', '.join(order)}"
    )


def _error_counts(
    key: str,
    keys: list[str],
    runs: list[str],
    errors: str,
    processes: str | None,
    socket_errors: bool,
) -> str:
    """Failed calls per group of ``key``, as SQL over the attached side tables."""
    group = ", ".join(quote(k) for k in keys)
    run_on = "".join(f"e.{quote(r)} = n.{quote(r)} AND " for r in runs)
    where = "" if socket_errors else f" WHERE e.{KIND} IS NULL OR e.{KIND} NOT IN {_SOCKETS}"
    if key == "process":
        if processes is None:
            names = f"SELECT {''.join(f'{quote(r)}, ' for r in runs)}{PID}, NULL::VARCHAR AS {COMM}"
            names += " WHERE FALSE"
        else:
            # The last row of a pid names it, as the processes table is kept in order.
            part = ", ".join([*map(quote, runs), PID])
            names = (
                f"SELECT {part}, arg_max({COMM}::VARCHAR, _row) AS {COMM} FROM {processes} "
                f"GROUP BY {part}"
            )
        table = (
            f"SELECT {''.join(f'e.{quote(r)}::VARCHAR AS {quote(r)}, ' for r in runs)}"
            f"n.{COMM}, e.count FROM {errors} e LEFT JOIN ({names}) n "
            f"ON {run_on}e.{PID} = n.{PID}{where}"
        )
    elif key == "peer":
        part = ", ".join([*map(quote, runs), KIND, FILE])
        ports = (
            f"SELECT {part}, min({PORT}) AS {PORT} FROM p WHERE {one_of(KIND, INET_KINDS)} "
            f"AND {PORT} IS NOT NULL GROUP BY {part} HAVING count(DISTINCT {PORT}) = 1"
        )
        on = "".join(f"e.{quote(r)}::VARCHAR = n.{quote(r)} AND " for r in runs)
        table = (
            f"SELECT {''.join(f'e.{quote(r)}::VARCHAR AS {quote(r)}, ' for r in runs)}"
            f"e.{KIND}::VARCHAR AS {KIND}, e.{FILE}::VARCHAR AS {FILE}, n.{PORT}, e.count "
            f"FROM {errors} e LEFT JOIN ({ports}) n ON {on}e.{KIND}::VARCHAR = n.{KIND} "
            f"AND e.{FILE}::VARCHAR = n.{FILE} WHERE e.{KIND}::VARCHAR IN {_SOCKETS}"
        )
    else:
        table = f"SELECT {_plain(keys)}, count FROM {errors} e{where}"
    return f"SELECT {group}, sum(count)::BIGINT AS errors FROM ({table}) GROUP BY {group}"


def totals(
    data: Trace | Rollup,
    key: str,
    *,
    sockets: bool | None = None,
    failed: bool = True,
    top: int = 0,
) -> Rows:
    """The table of :func:`~iomonitor.analysis.by` as rows, for a trace or a rollup of one.

    ``sockets`` as for :func:`~iomonitor.analysis.sums`; False also leaves
    the failed calls on sockets out. ``failed`` False leaves the failed
    calls unknown (NULL), as when their direction cannot be told. ``top``
    keeps the first rows of each run (0: all).
    """
    trace = data.trace if isinstance(data, Rollup) else data
    scan, parts, keys = sums_scan(data, key, sockets)
    held = isinstance(trace, Trace) and failed
    errors = trace.table("errors") if held else None
    processes = trace.table("processes") if held else None
    sql = finished(scan, parts, key, keys, errors, processes, sockets is not False, held, top=top)
    return scan.rows(sql)


def finished(
    scan: Scan,
    parts: str,
    key: str,
    keys: list[str],
    errors: Any,
    processes: Any,
    socket_errors: bool = True,
    failed: bool = True,
    rw_calls: bool = False,
    top: int = 0,
) -> str:
    """:func:`finish_sql` with the side tables attached to ``scan``'s engine.

    ``errors`` and ``processes`` as :meth:`iomonitor.trace.Trace.table`
    holds them; ``failed`` False (or ``errors`` None with it) leaves the
    failed calls unknown.
    """
    names = None
    if failed:
        names = scan.attach(errors, ERROR_COLUMNS) or _NO_ERRORS
    procs = scan.attach(processes, PROCESS_COLUMNS) if key == "process" and failed else None
    return finish_sql(parts, key, keys, names, procs, socket_errors, rw_calls, top)


#: A failed-calls table without a row (every count known to be zero).
_NO_ERRORS = (
    "(SELECT NULL::VARCHAR AS run, NULL::INTEGER AS pid, NULL::INTEGER AS tgid, "
    "NULL::VARCHAR AS syscall, NULL::VARCHAR AS file, NULL::VARCHAR AS kind, "
    "NULL::BIGINT AS count WHERE FALSE)"
)


#: Blind spots reported by :func:`~iomonitor.analysis.summary`, as named in the trace metadata.
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

#: The tables whose top entry the headline numbers name: key -> sockets, as for :func:`totals`.
TOPS: dict[str, bool | None] = {"file": False, "peer": None, "process": None}


def headline(data: Trace | Rollup, tables: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The values of :func:`~iomonitor.analysis.summary`, as plain Python values.

    ``tables`` holds finished tables of totals (rows or DataFrames, whole
    or their first rows when they hold one run) by ``file`` (sockets left
    out), ``peer`` and ``process``, reused for the top entries; the missing
    ones are found from the same pass over the events. Times are
    :class:`datetime.datetime` in UTC.
    """
    trace = data.trace if isinstance(data, Rollup) else data
    if not isinstance(trace, Trace):
        raise UsageError("summary needs a Trace")
    given = dict(tables or {})
    # The top file, peer and process come from the same pass unless given.
    needed = (PID, TGID, *(() if len(given) == 3 else (FILE, KIND, PORT, COMM)))
    rolled_up = rolled(data, needed, "summary")
    scan = rolled_up.table
    runs = [RUN] if scan.has_runs else []
    keys = ", ".join(quote(k) for k in [*runs, TGID, PID])
    pick = f"{RUN}::VARCHAR AS {RUN}, {TGID}, {PID}" if runs else keys
    rows = scan.rows(
        f"SELECT {pick}, min(first) AS first, max(last) AS last, sum(calls)::BIGINT AS events, "
        + direction_sums({"read_bytes": READ, "write_bytes": WRITE, "mapped_bytes": MAP})
        + f" FROM {{events}} GROUP BY {keys}"
    ).records()
    _ends(scan_of(trace, (TIME, DT), "summary"), scan, rows, runs)
    meta = trace.meta or {}
    out: dict[str, Any] = {}
    out["runs"] = len({r[RUN] for r in rows}) if runs else 1
    firsts = [r["first"] for r in rows if r["first"] is not None]
    ends = [r["end"] for r in rows if r["end"] is not None]
    out["start"] = min(firsts) if firsts else None
    out["end"] = max(ends) if ends else None
    out["duration"] = _duration(rows, runs, meta)
    procs = trace.table("processes")
    out["processes"] = _distinct(rows, procs, runs, TGID)
    out["threads"] = _distinct(rows, procs, runs, PID)
    out["events"] = sum(r["events"] for r in rows)
    for c in ("read_bytes", "write_bytes", "mapped_bytes"):
        out[c] = sum(r[c] for r in rows)
    out["bytes"] = out["read_bytes"] + out["write_bytes"]
    for name, sockets in TOPS.items():
        table = given.get(name)
        if table is not None:
            value, size = _top(table, name) if len(table) else (None, None)
        else:
            value, size = _top_sql(rolled_up, name, sockets) if rows else (None, None)
        out[f"top_{name}"], out[f"top_{name}_bytes"] = value, size
    for name in BLIND_SPOTS:
        out[name] = _blind_spot(meta, name)
    errors = trace.table("errors")
    if out["failed_calls"] is None and _height(errors) and "count" in _names(errors):
        out["failed_calls"] = int(sum(int(v) for v in errors["count"]))
    return out


def _height(table: Any) -> int:
    """Rows of a side table as held (a DataFrame or column lists)."""
    if table is None:
        return 0
    if isinstance(table, dict):
        return len(next(iter(table.values()), []))
    return len(table)


def _names(table: Any) -> list[str]:
    return list(table) if isinstance(table, dict) else list(table.columns)


def _ends(events: Scan, rollup: Scan, rows: list[dict[str, Any]], runs: list[str]) -> None:
    """Set ``end`` in each row: the end of the call that ends last in the row's run.

    That call started at most the longest call's duration before the last
    start, so only the events since then are read to find it (from a
    Parquet file, only the row groups that hold them).
    """
    lasts: dict[Any, Any] = {}
    for r in rows:
        if r["last"] is not None:
            run = r[RUN] if runs else None
            lasts[run] = r["last"] if run not in lasts else max(lasts[run], r["last"])
    if not lasts:  # no call has a time (a log made without timestamps)
        for r in rows:
            r["end"] = None
        return
    # The longest call comes from the rollup's rows: the events' dt is not read again.
    longest = rollup.rows("SELECT max(max_dt) AS m FROM {events}")["m"][0]
    took = "to_microseconds(round(coalesce({}, 0) * 1e6)::BIGINT)"

    def since(last: Any) -> str:
        return (
            f"{TIME} >= {literal(last.isoformat())}::TIMESTAMPTZ - {took.format(literal(longest))}"
        )

    # Each run is searched from its own last start: the parts of a dataset end at
    # different times, and the earliest bound would read most of the later ones.
    where = " OR ".join(
        f"({RUN}::VARCHAR = {literal(run)} AND {since(last)})" if runs else since(last)
        for run, last in lasts.items()
    )
    pick, group = (f"{RUN}::VARCHAR AS {RUN}, ", f" GROUP BY {RUN}") if runs else ("", "")
    found = events.rows(
        f"SELECT {pick}max({TIME} + {took.format(DT)}) AS end FROM {{events}} WHERE {where}{group}"
    )
    if not runs:
        end = found["end"][0]
        for r in rows:
            r["end"] = end
        return
    by_run = dict(zip(found[RUN], found["end"], strict=True))
    for r in rows:
        r["end"] = by_run.get(r[RUN])


def _top_sql(totals: Rollup, key: str, sockets: bool | None) -> tuple[Any, int | None]:
    """:func:`_top` of the table of totals by ``key``, found by the engine."""
    scan, parts, keys = sums_scan(totals, key, sockets)
    table = finish_sql(parts, key, keys, None, None, sockets is not False)
    k = quote(key)
    # Groups that only failed moved no byte; runs add up under their name.
    found = scan.rows(
        f"SELECT {k} AS name, sum(bytes)::BIGINT AS size FROM ({table}) WHERE calls > 0 "
        f"GROUP BY {k} ORDER BY sum(bytes) DESC, sum(mapped_bytes) DESC, sum(calls) DESC, "
        f"{k} ASC NULLS LAST LIMIT 1"
    )
    return (found.data[0][0], int(found.data[0][1])) if found.data else (None, None)


def _top(table: Any, key: str) -> tuple[Any, int | None]:
    """The key with most bytes over all runs, in the order of the table, and its bytes."""
    columns = [key, "bytes", "mapped_bytes", "calls"]
    runs = RUN in table.columns
    # Groups that only failed (joined in from the failed calls) moved no byte.
    entries = [e for e in zip(*(list(table[c]) for c in columns), strict=True) if e[3] > 0]
    if not entries:
        return None, None
    if runs:
        summed: dict[Any, list[int]] = {}
        for name, size, mapped, calls in entries:
            name = None if _missing(name) else name
            acc = summed.setdefault(name, [0, 0, 0])
            acc[0] += int(size)
            acc[1] += int(mapped)
            acc[2] += int(calls)
        ranked = sorted(
            summed.items(),
            key=lambda kv: (-kv[1][0], -kv[1][1], -kv[1][2], kv[0] is None, kv[0] or ""),
        )
        name, (size, _, _) = ranked[0]
        return name, size
    name, size = entries[0][0], entries[0][1]
    return (None if _missing(name) else name), int(size)


def _missing(value: Any) -> bool:
    """None, NaN, or pandas' NA (only a DataFrame given by a caller holds it)."""
    pd = sys.modules.get("pandas")
    return value is None or (pd is not None and value is pd.NA) or value != value


def _duration(rows: list[dict[str, Any]], runs: list[str], meta: dict) -> float | None:
    """The traced span from the metadata (one run), else the events' span per run, added up."""
    if not runs and meta.get("start") and meta.get("end"):
        span = _span(meta["start"], meta["end"])
        if span is not None:
            return span
    if not rows or not sum(r["events"] for r in rows):
        return None
    # Calls without times (a log made without timestamps) have no span: NaN, as
    # pandas gives for the difference of two missing times; runs add up the rest.
    spans: dict[Any, list[Any]] = {}
    for r in rows:
        span = spans.setdefault(r[RUN] if runs else None, [None, None])
        if r["first"] is not None:
            span[0] = r["first"] if span[0] is None else min(span[0], r["first"])
        if r["end"] is not None:
            span[1] = r["end"] if span[1] is None else max(span[1], r["end"])
    seconds = [(b - a).total_seconds() for a, b in spans.values() if None not in (a, b)]
    if not runs:
        return seconds[0] if seconds else float("nan")
    return float(sum(seconds))


def _span(start: Any, end: Any) -> float | None:
    """Seconds from ``start`` to ``end`` as the metadata writes them (ISO 8601)."""
    try:
        a, b = _dt.datetime.fromisoformat(str(start)), _dt.datetime.fromisoformat(str(end))
        if (a.tzinfo is None) != (b.tzinfo is None):
            raise ValueError("one time has a zone and the other not")
        return (b - a).total_seconds()
    except (ValueError, TypeError):
        # Forms the standard library does not read go the way they always went.
        import pandas as pd

        try:
            span = pd.Timestamp(end) - pd.Timestamp(start)
        except (ValueError, TypeError):
            return None
        return None if pd.isna(span) else span.total_seconds()


def _distinct(rows: list[dict[str, Any]], procs: Any, runs: list[str], column: str) -> int:
    """Distinct (run, ``column``) pairs seen in the events or the processes table."""
    cols = [*runs, column]
    seen = {tuple(str(r[c]) if c == RUN else r[c] for c in cols) for r in rows}
    if _height(procs) and all(c in _names(procs) for c in cols):
        values = [list(procs[c]) for c in cols]
        for entry in zip(*values, strict=True):
            seen.add(
                tuple(str(v) if c == RUN else int(v) for c, v in zip(cols, entry, strict=True))
            )
    return len(seen)


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
