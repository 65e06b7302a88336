"""Totals as engine queries whose rows need no pandas.

The table of :func:`~iomonitor.analysis.by` is one query: the sums of a
rollup per key (:func:`sums_sql`) joined with the failed calls, labelled,
derived and sorted by the engine (:func:`finish_sql`). The command line
writes its rows (:class:`~iomonitor.analysis.engine.Rows`) as text;
:func:`~iomonitor.analysis.by` and :func:`~iomonitor.analysis.finish` run the
same query and convert its result to a DataFrame.
"""

from __future__ import annotations

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
    SOCKET_KINDS,
    TGID,
    TIME,
    WRITE,
    check_key,
)
from iomonitor.analysis.engine import (
    IS_SOCKET,
    PEER_LABEL,
    Rows,
    Scan,
    direction_sums,
    one_of,
    quote,
)
from iomonitor.analysis.rollup import Rollup, rolled
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
        f"read_bytes + write_bytes AS bytes{named} FROM {source}) ORDER BY {', '.join(order)}"
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
) -> Rows:
    """The table of :func:`~iomonitor.analysis.by` as rows, for a trace or a rollup of one.

    ``sockets`` as for :func:`~iomonitor.analysis.sums`; False also leaves
    the failed calls on sockets out. ``failed`` False leaves the failed
    calls unknown (NULL), as when their direction cannot be told.
    """
    trace = data.trace if isinstance(data, Rollup) else data
    scan, parts, keys = sums_scan(data, key, sockets)
    held = isinstance(trace, Trace) and failed
    errors = trace.table("errors") if held else None
    processes = trace.table("processes") if held else None
    sql = finished(scan, parts, key, keys, errors, processes, sockets is not False, held)
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
    return finish_sql(parts, key, keys, names, procs, socket_errors, rw_calls)


#: A failed-calls table without a row (every count known to be zero).
_NO_ERRORS = (
    "(SELECT NULL::VARCHAR AS run, NULL::INTEGER AS pid, NULL::INTEGER AS tgid, "
    "NULL::VARCHAR AS syscall, NULL::VARCHAR AS file, NULL::VARCHAR AS kind, "
    "NULL::BIGINT AS count WHERE FALSE)"
)
