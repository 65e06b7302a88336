"""Compare two traces: what changed per file, peer, process and system call.

usage:
  iomonitor diff A B                       the four tables, biggest change first
  iomonitor diff A B --by process          one table (file, peer, process, syscall or kind)
  iomonitor diff A B --strip /tmp/x --strip /tmp/y   match paths under two temporary folders

A and B are traces (Parquet, classic CSV, raw strace log or a folder of
Parquet files; a folder of several runs counts as their sum). Each row is a
key seen in either trace: bytes (read + written; mapped bytes are never added
in) and calls in A and in B, the change (B - A) and the ratio (B / A), and
where the key was seen: both, only A, or only B. Processes are matched by
their command line (program and arguments), never by pid; processes that ran
the same command line add up. --strip removes a prefix from file names and
from command lines, so that runs in two temporary folders line up.
--format csv or json writes the numbers as numbers (csv needs --by).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO, Any

import pandas as pd

import iomonitor
from iomonitor import analysis
from iomonitor.cli import add_top_option, add_tz_option, emit, new_parser
from iomonitor.errors import UsageError
from iomonitor.render import tables as rt

#: The tables of the default view: title -> key.
SECTIONS: dict[str, str] = {
    "files": "file",
    "peers": "peer",
    "processes": "process",
    "syscalls": "syscall",
}

#: The event columns a comparison reads.
_COLUMNS: tuple[str, ...] = (
    "time",
    "dt",
    "dir",
    "bytes",
    "file",
    "port",
    "syscall",
    "kind",
    "tgid",
    "comm",
)


def make_parser(prog: str = "iomonitor diff") -> argparse.ArgumentParser:
    """The argument parser of ``iomonitor diff``."""
    usage = "%(prog)s A B [--by KEY] [--top N] [--strip PREFIX] [--format FORMAT] [--tz ZONE]"
    ap = new_parser(prog, __doc__, usage)
    ap.add_argument("a", metavar="A", help="the first trace (before)")
    ap.add_argument("b", metavar="B", help="the second trace (after)")
    ap.add_argument("--by", choices=analysis.DIFF_KEYS, help="show one table, compared by this")
    add_top_option(ap)
    ap.add_argument(
        "--strip",
        action="append",
        default=[],
        metavar="PREFIX",
        help="remove PREFIX from file names and command lines (may be repeated)",
    )
    ap.add_argument("--format", choices=rt.FORMATS, default="table", help="output format")
    add_tz_option(ap)
    return ap


def run(ns: argparse.Namespace, file: IO[str] | None = None) -> int:
    """Load both traces, compare them and write the tables asked for.

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
    if ns.format == "csv" and not ns.by:
        raise UsageError("--format csv writes a single table: choose it with --by")
    if any(not prefix for prefix in ns.strip):
        raise UsageError("--strip wants a non-empty prefix")
    a = iomonitor.load(ns.a, columns=list(_COLUMNS), tz=ns.tz)
    b = iomonitor.load(ns.b, columns=list(_COLUMNS), tz=ns.tz)
    keys = {ns.by: ns.by} if ns.by else dict(SECTIONS)
    if not ns.by:
        # A classic CSV has no programs or syscalls: those tables cannot line up.
        for title, key in list(keys.items()):
            if not (analysis.can_compare(a, key) and analysis.can_compare(b, key)):
                del keys[title]
                print(
                    f"iomonitor: no {title} table: a classic CSV does not record them",
                    file=sys.stderr,
                )
    tables = {
        title: rt.top_rows(analysis.diff(a, b, key, strip=ns.strip), ns.top)
        for title, key in keys.items()
    }
    if ns.format == "csv":
        emit(next(iter(tables.values())).to_csv(index=False), out)
    elif ns.format == "json":
        # One table: its records, as `stats --by` writes them; all four: named.
        doc: Any = (
            _records(tables[ns.by])
            if ns.by
            else {"a": ns.a, "b": ns.b, **{t: _records(table) for t, table in tables.items()}}
        )
        emit(json.dumps(doc, indent=2) + "\n", out)
    else:
        emit(_text(tables, ns), out)
    return 0


def _text(tables: dict[str, pd.DataFrame], ns: argparse.Namespace) -> str:
    parts = rt.sections(tables, rt.diff_cells, ns.format)
    if len(tables) == 1:  # one table: no heading
        parts = [parts[0].split("\n", 1)[1]]
    return "\n".join([f"A: {ns.a}\nB: {ns.b}\n", *parts])


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    # NaN ratios (nothing in A to divide by) become null.
    return json.loads(table.to_json(orient="records"))
