"""Summarize traces: totals per file, peer, process and system call.

usage:
  iomonitor stats TRACE...                      headline numbers and top tables
  iomonitor stats --by file TRACE...            one table (file, peer, pid, process,
                                                syscall, kind, tgid or tree)
  iomonitor stats --interval 1s [--by KEY] TRACE...   bytes per second over time

TRACE is a Parquet file, a classic CSV, a raw strace log or a folder of
Parquet files; several are kept apart as runs. Tables are sorted by bytes
(read + written; mapped bytes are shown apart and never added in). --format
csv or json writes the numbers as numbers, one record per group, the group
under the name given to --by (the tree names each process by its pid);
json without --by holds the summary and every table. With --dir, failed
calls cannot be told apart by direction and show as unknown.

Parquet files and datasets are queried where they are, whatever their size;
a classic CSV or a raw log is converted once, in memory.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO, Any

from iomonitor import analysis, store
from iomonitor.analysis import queries
from iomonitor.cli import add_top_option, add_tz_option, emit, new_parser
from iomonitor.cli._inputs import check_by_process
from iomonitor.errors import UsageError
from iomonitor.render import tables as rt
from iomonitor.schema import DIRECTIONS, KINDS
from iomonitor.trace import Trace

BY_CHOICES: tuple[str, ...] = (*analysis.KEYS, "tree")

#: The tables of the default view: title -> (key, sockets as :func:`iomonitor.analysis.sums`).
SECTIONS: dict[str, tuple[str, bool | None]] = {
    "files": ("file", False),
    "peers": ("peer", None),
    "processes": ("process", None),
    "syscalls": ("syscall", None),
}


def make_parser(prog: str = "iomonitor stats") -> argparse.ArgumentParser:
    """The argument parser of ``iomonitor stats``."""
    ap = new_parser(prog, __doc__)
    ap.add_argument("traces", nargs="+", metavar="TRACE", help="trace files or folders")
    ap.add_argument("--by", choices=BY_CHOICES, help="show one table, grouped by this")
    add_top_option(ap)
    ap.add_argument(
        "--interval", metavar="WIDTH", help="bytes per time bucket of this width (100ms, 1s, 1min)"
    )
    ap.add_argument("--format", choices=rt.FORMATS, default="table", help="output format")
    ap.add_argument(
        "--pid", type=int, action="append", metavar="PID", help="only this process or thread"
    )
    ap.add_argument(
        "--file", action="append", metavar="GLOB", help="only files matching this pattern"
    )
    ap.add_argument("--kind", action="append", choices=KINDS, help="only this kind of fd")
    ap.add_argument("--dir", action="append", choices=DIRECTIONS, help="only this direction")
    add_tz_option(ap)
    return ap


def run(ns: argparse.Namespace, file: IO[str] | None = None) -> int:
    """Open the traces, compute the tables asked for and write them.

    Every table is one query of the analysis engine over the events where
    they are (:func:`iomonitor.store.scan`), filtered first.

    Parameters
    ----------
    ns : argparse.Namespace
        Parsed by :func:`make_parser`.
    file : text stream, optional
        Where to write; standard output by default.

    Returns
    -------
    int
        0.
    """
    out = sys.stdout if file is None else file
    if ns.by == "tree" and ns.interval:
        raise UsageError("--interval splits by a key, not by the process tree")
    if ns.format == "csv" and not (ns.by or ns.interval):
        raise UsageError("--format csv writes a single table: choose it with --by or --interval")
    opened = store.scan(*ns.traces, tz=ns.tz)
    check_by_process(ns.by, opened)
    filters = {"pid": ns.pid, "file": ns.file, "kind": ns.kind, "dir": ns.dir}
    given = {name: values for name, values in filters.items() if values}
    # Without a filter the trace is the whole of what was opened.
    trace = analysis.select(opened, **filters) if given else opened
    if ns.interval:
        table = analysis.bandwidth(trace, ns.interval, key=ns.by, top=ns.top)
        emit(rt.write(table, ns.format, rt.rate_cells), out)
    elif ns.by == "tree":
        emit(rt.write(rt.top_rows(analysis.by_tree(trace), ns.top), ns.format, rt.tree_cells), out)
    elif ns.by:
        table = _totals(trace, ns.by, None, ns)
        emit(rt.write(table, ns.format, rt.totals_cells), out)
    else:
        # One pass over the events; each table and the summary query its rows.
        totals = analysis.rollup(trace)
        tables = {title: _totals(totals, *how, ns) for title, how in SECTIONS.items()}
        # The first row of a run's table is its top entry; over several runs the
        # summary adds each name up over all of them.
        tops = {key: tables[title] for title, (key, _) in SECTIONS.items() if key in queries.TOPS}
        head = queries.headline(totals, None if totals.table.has_runs else tops)
        emit(_everything(head, tables, ns.format), out)
    if given and not _events(trace):
        # An empty table is a true answer, but a typo in a filter must not pass for one.
        words = " ".join(f"--{name} {value}" for name, vs in given.items() for value in vs)
        print(f"iomonitor: warning: no event matches {words}", file=sys.stderr)
    return 0


def _events(trace: Trace) -> int:
    return len(trace.events) if trace.in_memory else trace.scan.count()


def _totals(data: Trace | analysis.Rollup, key: str, sockets: bool | None,
            ns: argparse.Namespace) -> analysis.engine.Rows:  # fmt: skip
    """The first ``--top`` rows of a table of totals; socket traffic left out when
    ``sockets`` is False (peers show it)."""
    # Failed calls have no direction, so with --dir their count is unknown, not zero.
    return queries.totals(data, key, sockets=sockets, failed=not ns.dir, top=ns.top)


def _everything(head: dict[str, Any], tables: dict[str, Any], fmt: str) -> str:
    """The default view: the summary and every table."""
    if fmt == "json":
        doc = {"summary": {name: rt.plain(value) for name, value in head.items()}}
        doc.update({title: rt.plain_records(table) for title, table in tables.items()})
        return json.dumps(doc, indent=2) + "\n"
    return "\n".join([rt.summary_text(head, fmt), *rt.sections(tables, rt.totals_cells, fmt)])
