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
import shutil
import sys
from collections.abc import Callable, Sequence
from typing import IO, Any

import pandas as pd

from iomonitor import analysis, store
from iomonitor.cli import add_tz_option
from iomonitor.cli._inputs import check_by_process
from iomonitor.errors import OutputError, UsageError
from iomonitor.render.units import size_text as _size
from iomonitor.schema import DIRECTIONS, KINDS
from iomonitor.trace import Trace

BY_CHOICES: tuple[str, ...] = (*analysis.KEYS, "tree")
FORMATS: tuple[str, ...] = ("table", "csv", "json", "markdown")

#: The tables of the default view: (title, key, drop sockets from the events).
SECTIONS: tuple[tuple[str, str, bool], ...] = (
    ("files", "file", True),
    ("peers", "peer", False),
    ("processes", "process", False),
    ("syscalls", "syscall", False),
)


def make_parser(prog: str = "iomonitor stats") -> argparse.ArgumentParser:
    """The argument parser of ``iomonitor stats``."""
    ap = argparse.ArgumentParser(
        prog=prog,
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("traces", nargs="+", metavar="TRACE", help="trace files or folders")
    ap.add_argument("--by", choices=BY_CHOICES, help="show one table, grouped by this")
    ap.add_argument(
        "--top", type=_count, default=10, metavar="N", help="rows per table (default 10, 0 = all)"
    )
    ap.add_argument(
        "--interval", metavar="WIDTH", help="bytes per time bucket of this width (100ms, 1s, 1min)"
    )
    ap.add_argument("--format", choices=FORMATS, default="table", help="output format")
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
    trace = analysis.select(opened, **filters)
    if ns.interval:
        table = analysis.bandwidth(trace, ns.interval, key=ns.by, top=ns.top)
        _write_one(table, ns.format, out, _rate_cells)
    elif ns.by == "tree":
        _write_one(_head(analysis.by_tree(trace), ns.top), ns.format, out, _tree_cells)
    elif ns.by:
        table = _totals(trace, ns.by, False, ns)
        _write_one(_head(table, ns.top), ns.format, out, _totals_cells)
    else:
        tables = {title: _totals(trace, key, no_sockets, ns) for title, key, no_sockets in SECTIONS}
        head = analysis.summary(
            trace,
            totals={
                "file": tables["files"],
                "peer": tables["peers"],
                "process": tables["processes"],
            },
        )
        _write_all(head, {t: _head(table, ns.top) for t, table in tables.items()}, ns, out)
    given = {name: values for name, values in filters.items() if values}
    if given and not _events(trace):
        # An empty table is a true answer, but a typo in a filter must not pass for one.
        words = " ".join(f"--{name} {value}" for name, vs in given.items() for value in vs)
        print(f"iomonitor: warning: no event matches {words}", file=sys.stderr)
    return 0


def _events(trace: Trace) -> int:
    return len(trace.events) if trace.in_memory else trace.scan.count()


def _totals(trace: Trace, key: str, no_sockets: bool, ns: argparse.Namespace) -> pd.DataFrame:
    """One table of totals; socket traffic left out when ``no_sockets`` (peers show it)."""
    # Failed calls have no direction, so with --dir their count is unknown, not zero.
    errors = None if ns.dir else trace.errors
    if no_sockets and errors is not None:
        errors = errors[~errors["kind"].astype("str").isin(analysis.SOCKET_KINDS).to_numpy()]
    rows = analysis.sums(trace, key, sockets=False if no_sockets else None)
    return analysis.finish(rows, key, errors, trace.processes)


# -- choosing the rows --------------------------------------------------------


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (all) or more")
    return value


def _head(table: pd.DataFrame, top: int) -> pd.DataFrame:
    if not top:
        return table
    if "run" in table.columns:
        return table.groupby("run", sort=False, observed=True).head(top).reset_index(drop=True)
    return table.head(top)


# -- writing ------------------------------------------------------------------


def _write_one(
    table: pd.DataFrame,
    fmt: str,
    out: IO[str],
    cells: Callable[[pd.DataFrame], list[tuple[str, list[str], bool]]],
) -> None:
    if fmt == "csv":
        _emit(table.to_csv(index=False), out)
    elif fmt == "json":
        _emit(_records_json(table) + "\n", out)
    elif fmt == "markdown":
        _emit(_markdown(cells(table)), out)
    else:
        _emit(_text_table(cells(table), _width()), out)


def _write_all(
    head: pd.Series, tables: dict[str, pd.DataFrame], ns: argparse.Namespace, out: IO[str]
) -> None:
    if ns.format == "json":
        doc = {"summary": json.loads(head.to_json(date_format="iso", date_unit="us"))}
        doc.update({title: _records(table) for title, table in tables.items()})
        _emit(json.dumps(doc, indent=2) + "\n", out)
        return
    markdown = ns.format == "markdown"
    width = _width()
    parts = [_summary_lines(head, markdown)]
    for title, table in tables.items():
        cells = _totals_cells(table)
        heading = f"## {title.capitalize()}" if markdown else title.capitalize()
        body = (
            "(none)\n"
            if not len(table)
            else (_markdown(cells) if markdown else _text_table(cells, width))
        )
        parts.append(f"{heading}\n{body}")
    _emit("\n".join(parts), out)


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(table.to_json(orient="records", date_format="iso", date_unit="us"))


def _records_json(table: pd.DataFrame) -> str:
    return table.to_json(orient="records", date_format="iso", date_unit="us", indent=2)


def _emit(text: str, out: IO[str]) -> None:
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        raise  # the reader went away (`| head`): the CLI's business, not an error
    except OSError as exc:
        name = "standard output" if out is sys.stdout else getattr(out, "name", "output")
        raise OutputError(name, exc.strerror or str(exc)) from exc


def _width() -> int:
    return shutil.get_terminal_size((100, 24)).columns


# -- cells of each table ------------------------------------------------------

Cells = list[tuple[str, list[str], bool]]


def _totals_cells(table: pd.DataFrame) -> Cells:
    key = next(c for c in table.columns if c not in analysis.TOTAL_COLUMNS and c != "run")
    return [
        *_run_cells(table),
        (key, [_shown(v) for v in table[key]], False),
        ("calls", [_int(v) for v in table["calls"]], True),
        ("read", [_size(v) for v in table["read_bytes"]], True),
        ("written", [_size(v) for v in table["write_bytes"]], True),
        ("mapped", [_size(v) for v in table["mapped_bytes"]], True),
        ("mean size", [_size(v) for v in table["mean_size"]], True),
        ("errors", [_int(v) for v in table["errors"]], True),
        ("time", [_seconds(v) for v in table["time"]], True),
    ]


def _tree_cells(table: pd.DataFrame) -> Cells:
    names = [
        "  " * int(depth) + _shown(comm)
        for depth, comm in zip(table["depth"], table["comm"], strict=True)
    ]
    return [
        *_run_cells(table),
        ("pid", [str(int(v)) for v in table["pid"]], True),
        ("process", names, False),
        ("procs", [_int(v) for v in table["processes"]], True),
        ("calls", [_int(v) for v in table["calls"]], True),
        ("read", [_size(v) for v in table["read_bytes"]], True),
        ("written", [_size(v) for v in table["write_bytes"]], True),
        ("mapped", [_size(v) for v in table["mapped_bytes"]], True),
        ("errors", [_int(v) for v in table["errors"]], True),
        ("time", [_seconds(v) for v in table["time"]], True),
    ]


def _rate_cells(table: pd.DataFrame) -> Cells:
    keys = [c for c in table.columns if c not in analysis.RATE_COLUMNS and c not in ("run", "time")]
    return [
        *_run_cells(table),
        ("time (UTC)", [t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] for t in table["time"]], False),
        *((k, [_shown(v) for v in table[k]], False) for k in keys),
        ("read/s", [_size(v) + "/s" for v in table["read_rate"]], True),
        ("written/s", [_size(v) + "/s" for v in table["write_rate"]], True),
    ]


def _run_cells(table: pd.DataFrame) -> Cells:
    return [("run", [_shown(v) for v in table["run"]], False)] if "run" in table.columns else []


def _summary_lines(head: pd.Series, markdown: bool) -> str:
    def top(name: str) -> str:
        value = head[f"top_{name}"]
        return "-" if value is None else f"{_shown(value)} ({_size(head[f'top_{name}_bytes'])})"

    rows = [
        ("runs", _int(head["runs"])),
        ("duration", _seconds(head["duration"])),
        ("processes", f"{_int(head['processes'])} ({_int(head['threads'])} threads)"),
        ("events", _int(head["events"])),
        ("read", _size(head["read_bytes"])),
        ("written", _size(head["write_bytes"])),
        ("mapped", _size(head["mapped_bytes"])),
        ("top file", top("file")),
        ("top peer", top("peer")),
        ("top process", top("process")),
    ]
    if head["runs"] == 1:
        rows = rows[1:]
    rows += [
        (name.replace("_", " "), "unknown" if head[name] is None else _int(head[name]))
        for name in analysis.BLIND_SPOTS
    ]
    cells: Cells = [("", [r[0] for r in rows], False), ("", [r[1] for r in rows], False)]
    if markdown:
        return "## Summary\n" + _markdown(cells)
    return "Summary\n" + _text_table(cells, _width(), header=False)


# -- plain text and markdown ----------------------------------------------------


def _text_table(cells: Cells, width: int, header: bool = True) -> str:
    """Columns padded to fit ``width``; the widest text column is cut to fit."""
    widths = [max([len(h) if header else 0, *(len(v) for v in col)]) for h, col, _ in cells]
    over = sum(widths) + 2 * (len(cells) - 1) - width
    texts = [i for i, (_, _, right) in enumerate(cells) if not right]
    if over > 0 and texts:
        widest = max(texts, key=lambda i: widths[i])
        widths[widest] = max(12, widths[widest] - over)
    lines = []
    rows = len(cells[0][1]) if cells else 0
    if header:
        lines.append(_line([h for h, _, _ in cells], widths, cells))
    for r in range(rows):
        lines.append(_line([col[r] for _, col, _ in cells], widths, cells))
    return "".join(line.rstrip() + "\n" for line in lines)


def _line(values: Sequence[str], widths: list[int], cells: Cells) -> str:
    out = []
    for value, width, (_, _, right) in zip(values, widths, cells, strict=True):
        if len(value) > width:
            # The end of a path names the file; keep it.
            value = "..." + value[len(value) - width + 3 :]
        out.append(value.rjust(width) if right else value.ljust(width))
    return "  ".join(out)


def _markdown(cells: Cells) -> str:
    def cell(text: str) -> str:
        return text.replace("\\", "\\\\").replace("|", "\\|")

    heads = [cell(h) or " " for h, _, _ in cells]
    lines = ["| " + " | ".join(heads) + " |"]
    lines.append("|" + "|".join("---:" if right else ":---" for _, _, right in cells) + "|")
    rows = len(cells[0][1]) if cells else 0
    for r in range(rows):
        lines.append("| " + " | ".join(cell(col[r]) for _, col, _ in cells) + " |")
    return "\n".join(lines) + "\n"


# -- numbers and names for people ---------------------------------------------


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _int(value: Any) -> str:
    return "-" if _missing(value) else f"{int(value):,}"


def _seconds(value: Any) -> str:
    if _missing(value):
        return "-"
    t = float(value)
    if t < 1e-3:
        return f"{t * 1e6:.0f} us"
    if t < 1:
        return f"{t * 1e3:.1f} ms"
    return f"{t:.2f} s"


def _shown(value: Any) -> str:
    """A name as it fits on one line: control characters become escapes."""
    if _missing(value):
        return "?"
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in str(value)
    )
