"""One self-contained HTML page about a trace: headline, top tables, every figure, blind spots.

The page needs nothing but itself: figures are inline PNG (``data:`` URIs),
the style sheet is inline, and there is no script. Every name that comes from
the trace (paths, program names, addresses, the command line) is HTML-escaped,
and characters no page can hold (raw bytes of names that are not UTF-8,
control characters) are spelled out as ``\\xNN``.

Numbers come from :mod:`iomonitor.analysis`; figures from :mod:`iomonitor.plot`.
Each is one engine query over the trace where it is, so a trace queried on
disk (:func:`iomonitor.store.scan`) gives the same page as one in memory.

Examples
--------
>>> import iomonitor, iomonitor.render.report
>>> trace = iomonitor.load("run.parquet")  # doctest: +SKIP
>>> iomonitor.render.report.save(trace, "report.html")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import iomonitor
from iomonitor import analysis, schema
from iomonitor.analysis.queries import BLIND_SPOTS
from iomonitor.errors import OutputError, UsageError
from iomonitor.render import figure_data
from iomonitor.render.figure_data import FigureData
from iomonitor.render.figures import FIGURES, Painters, shown
from iomonitor.render.figures import escape as _e
from iomonitor.render.figures import section as _figures
from iomonitor.render.units import (
    count_text,
    format_bytes,
    format_seconds,
    missing,
    printable,
    shorten,
)
from iomonitor.store.writers import OutputFile
from iomonitor.trace import Trace

#: Section ids of the page, in order (the tests and links use them).
SECTIONS: tuple[str, ...] = (
    "summary",
    "files",
    "peers",
    "processes",
    "syscalls",
    "figures",
    "metadata",
    "blind-spots",
)


_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1d1d1f; margin: 0 auto; max-width: 1200px; padding: 0 24px 48px; }
h1 { font-size: 22px; margin: 24px 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #ddd; }
h3 { font-size: 15px; margin: 20px 0 6px; }
p.sub { color: #555; margin: 0 0 12px; }
code, pre { font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; white-space: pre-wrap;
      word-break: break-all; }
nav a { margin-right: 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 10px; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; }
.card .k { color: #666; font-size: 12px; }
.card .v { font-size: 18px; font-weight: 600; overflow-wrap: anywhere; }
.card .x { color: #666; font-size: 12px; overflow-wrap: anywhere; }
table.data { border-collapse: collapse; margin: 4px 0 12px; font-size: 13px; }
table.data th, table.data td { padding: 3px 10px; border-bottom: 1px solid #eee;
                               text-align: right; vertical-align: top; }
table.data th { background: #f3f3f3; }
table.data td { font-variant-numeric: tabular-nums; white-space: nowrap; }
table.lead1 td:nth-child(-n+1), table.lead1 th:nth-child(-n+1),
table.lead2 td:nth-child(-n+2), table.lead2 th:nth-child(-n+2),
table.lead3 td:nth-child(-n+3), table.lead3 th:nth-child(-n+3) {
  text-align: left; overflow-wrap: anywhere; white-space: normal; max-width: 520px; }
figure { margin: 16px 0 28px; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 13px; margin-top: 4px; }
.warn { background: #fff4e0; }
.note { color: #555; font-style: italic; }
"""


# --- formatting ------------------------------------------------------------------


def _known(write: Callable[[Any], str]) -> Callable[[Any], str]:
    """A cell writer of :mod:`iomonitor.render.units` that shows an unknown value as ``-``."""
    return lambda value: "-" if missing(value) else write(value)


_bytes = _known(format_bytes)
_secs = _known(format_seconds)
_name = _known(printable)
_count = count_text


def _when(value: pd.Timestamp) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def _table(
    frame: pd.DataFrame,
    columns: dict[str, tuple[str, Callable[[Any], str]]],
    lead: int = 1,
    extra_class: str = "",
) -> str:
    """A DataFrame as an HTML table: chosen columns, renamed, each value formatted.

    ``lead`` text columns on the left are left-aligned; the numbers right.
    """
    shown = pd.DataFrame(
        {title: [fmt(v) for v in frame[col].tolist()] for col, (title, fmt) in columns.items()}
    )
    return shown.to_html(
        index=False,
        escape=True,
        border=0,
        classes=["data", f"lead{lead}", *extra_class.split()],
        na_rep="-",
    )


# --- sections ------------------------------------------------------------------------


def _summary(s: pd.Series) -> str:
    def card(key: str, value: str, extra: str = "") -> str:
        x = f'<div class="x">{extra}</div>' if extra else ""
        return f'<div class="card"><div class="k">{key}</div><div class="v">{value}</div>{x}</div>'

    def top(which: str) -> str:
        name = s[f"top_{which}"]
        if name is None:
            return card(f"top {which}", "-", "none in this trace")
        return card(f"top {which}", _e(name), f"{_bytes(s[f'top_{which}_bytes'])} read + written")

    runs = int(s["runs"])
    # Several runs: their spans are added up, which is not the time from the
    # first call of one run to the last of another; say which one each line means.
    duration = (
        card("traced time", _secs(s["duration"]), f"the {runs} runs' own spans, added up")
        if runs > 1
        else card("duration", _secs(s["duration"]))
    )
    cards = [
        duration,
        card("processes", _count(s["processes"]), f"{_count(s['threads'])} threads"),
        card("events", _count(s["events"]), "byte-moving calls"),
        card("read", _bytes(s["read_bytes"]), f"{_count(s['read_bytes'])} bytes"),
        card("written", _bytes(s["write_bytes"]), f"{_count(s['write_bytes'])} bytes"),
        card("mapped", _bytes(s["mapped_bytes"]), "file-backed mmap, not transfers"),
        top("file"),
        top("peer"),
        top("process"),
    ]
    spots = [n for n in BLIND_SPOTS if s[n]]
    warn = ""
    if spots:
        listed = ", ".join(f"{_count(s[n])} {n.replace('_', ' ')}" for n in spots)
        warn = (
            f'<p class="warn">This trace has blind spots: {listed}. '
            f'See <a href="#blind-spots">blind spots</a>.</p>'
        )
    span = ""
    if missing(s["start"]):
        if s["events"]:
            span = (
                '<p class="sub">No call has a time: the log was recorded without -t, -tt or '
                "-ttt, so nothing over time (bandwidth, cumulative bytes, timeline) is drawn.</p>"
            )
    elif runs > 1:
        span = (
            f'<p class="sub">{runs} runs: the first call at {_when(s["start"])}, '
            f"the last one ending at {_when(s['end'])}.</p>"
        )
    else:
        span = f'<p class="sub">From {_when(s["start"])} to {_when(s["end"])}.</p>'
    return f'{span}<div class="cards">{"".join(cards)}</div>{warn}'


_TOTALS = {
    "read_bytes": ("read", _bytes),
    "write_bytes": ("written", _bytes),
    "mapped_bytes": ("mapped", _bytes),
    "calls": ("calls", _count),
    "mean_size": ("mean size", _bytes),
    "errors": ("failed calls", _count),
    "time": ("time in calls", _secs),
}


def _totals_table(table: pd.DataFrame, key: str, title: str, top: int, runs: list[str]) -> str:
    if not len(table):
        return '<p class="note">None in this trace.</p>'
    # The analysis sorts by run first: take the busiest of each run, not of the first.
    head = table.groupby(runs, sort=False).head(top) if runs else table.head(top)
    columns: dict[str, tuple[str, Callable[[Any], str]]] = {r: (r, _name) for r in runs}
    columns[key] = (title, _name)
    columns.update(_TOTALS)
    more = ""
    if len(head) < len(table):
        each = " in each run" if runs else ""
        more = f'<p class="sub">The {top} busiest{each}, of {len(table):,}.</p>'
    return more + _table(head, columns, lead=len(runs) + 1)


def _processes(tree: pd.DataFrame, top: int, runs: list[str]) -> str:
    if not len(tree):
        return '<p class="note">None in this trace.</p>'
    head = tree.groupby(runs, sort=False).head(top * 2) if runs else tree.head(top * 2)
    # Indent each program under its parent so the table reads as the tree it is
    # (with no-break spaces: the table writer strips leading blanks).
    head = head.assign(
        comm=[
            "\u00a0\u00a0\u00a0" * (int(d) - 1) + ("└\u00a0" if d else "") + _name(c)
            for d, c in zip(head["depth"], head["comm"], strict=True)
        ]
    )
    columns: dict[str, tuple[str, Callable[[Any], str]]] = {r: (r, _name) for r in runs}
    columns.update(
        {
            "comm": ("program (with its descendants)", str),
            "pid": ("pid", lambda v: str(int(v))),
            "processes": ("processes", _count),
        }
    )
    columns.update(_TOTALS)
    more = (
        f'<p class="sub">The first {len(head)} of {len(tree):,} processes, in tree order.</p>'
        if len(tree) > len(head)
        else ""
    )
    return more + _table(head, columns, lead=len(runs) + 1)


def _syscalls(calls: pd.DataFrame, latency: Any, runs: list[str]) -> str:
    if not len(calls):
        return '<p class="note">None in this trace.</p>'
    columns: dict[str, tuple[str, Callable[[Any], str]]] = {r: (r, _name) for r in runs}
    columns["syscall"] = ("system call", _name)
    columns.update(_TOTALS)
    note = ""
    if isinstance(latency, pd.DataFrame) and len(latency):
        lat = latency.drop(columns=["calls", "time", "mean"])
        calls = calls.merge(lat, on=[*runs, "syscall"], how="left")
        for q in ("p50", "p90", "p99", "max"):
            columns[q] = (f"{q} time", _secs)
    else:
        note = '<p class="note">No call has a duration: the log was made without -T.</p>'
    return note + _table(calls, columns, lead=len(runs) + 1)


def _meta_value(key: str, value: Any) -> str:
    if isinstance(value, list | tuple) and key in ("command", "strace_args"):
        return shlex.join(printable(v) for v in value)
    if isinstance(value, list | tuple):
        return ", ".join(printable(v) for v in value)
    return printable(value)


def _meta_table(meta: dict[str, Any]) -> str:
    hidden = {*BLIND_SPOTS, "unparsed_examples", "runs"}
    keys = [k for k in schema.METADATA_KEYS if k in meta and k not in hidden]
    keys += sorted(k for k in meta if k not in schema.METADATA_KEYS and k not in hidden)
    rows = pd.DataFrame(
        {
            "key": keys,
            "meaning": [schema.METADATA_KEYS.get(k, "") for k in keys],
            "value": [_meta_value(k, meta[k]) for k in keys],
        }
    )
    if not len(rows):
        return '<p class="note">The trace carries no metadata.</p>'
    return _table(rows, {c: (c, str) for c in rows.columns}, lead=3)


def _metadata(trace: Trace) -> str:
    meta = trace.meta or {}
    runs = meta.get("runs")
    if isinstance(runs, dict):
        parts = [_meta_table({k: v for k, v in meta.items() if k != "runs"})]
        for name, run_meta in runs.items():
            parts.append(f"<h3>Run {_e(name)}</h3>")
            parts.append(_meta_table(run_meta if isinstance(run_meta, dict) else {}))
        return "\n".join(parts)
    return _meta_table(meta)


def _examples(meta: dict[str, Any]) -> list[str]:
    found = list(meta.get("unparsed_examples") or [])
    for run_meta in (meta.get("runs") or {}).values():
        if isinstance(run_meta, dict):
            found += list(run_meta.get("unparsed_examples") or [])
    return [str(x) for x in found]


def _blind_spots(trace: Trace, s: pd.Series, top: int) -> str:
    rows = pd.DataFrame(
        {
            "what": [n.replace("_", " ") for n in BLIND_SPOTS],
            "count": [s[n] for n in BLIND_SPOTS],
            "meaning": [schema.METADATA_KEYS.get(n, "") for n in BLIND_SPOTS],
        }
    )
    table = _table(
        rows,
        {"what": ("blind spot", str), "meaning": ("meaning", str), "count": ("count", _count)},
        lead=2,
    )
    unknown = [n for n in BLIND_SPOTS if s[n] is None]
    parts = [
        '<p class="sub">What strace could not show. A count of - means the trace does not say '
        "(e.g. a classic CSV carries no metadata).</p>",
        table,
    ]
    if unknown:
        parts.append(f'<p class="note">Not recorded in this trace: {_e(", ".join(unknown))}.</p>')
    examples = _examples(trace.meta or {})
    if examples:
        listed = "\n".join(_e(x.rstrip("\n")) for x in examples)
        parts.append(f"<h3>Lines that could not be read (first few)</h3><pre>{listed}</pre>")
    errors = trace.errors
    if len(errors):
        worst = errors.sort_values("count", ascending=False, kind="mergesort").head(top)
        runs = [c for c in ("run",) if c in worst.columns]
        columns: dict[str, tuple[str, Callable[[Any], str]]] = {r: (r, _name) for r in runs}
        columns.update(
            {
                "syscall": ("system call", _name),
                "file": ("target", _name),
                "errno": ("error", _name),
                "pid": ("pid", lambda v: str(int(v))),
                "count": ("count", _count),
            }
        )
        parts.append(f"<h3>Failed calls ({int(errors['count'].sum()):,} in all)</h3>")
        parts.append(_table(worst, columns, lead=len(runs) + 3))
    return "\n".join(parts)


# --- the page ----------------------------------------------------------------------------


def _command(trace: Trace) -> str | None:
    meta = trace.meta or {}
    command = meta.get("command")
    if isinstance(command, list | tuple) and command:
        return shlex.join(printable(c) for c in command)
    if meta.get("source"):
        return printable(meta["source"])
    runs = meta.get("runs")
    if isinstance(runs, dict) and runs:
        return ", ".join(printable(r) for r in runs)
    return None


# --- what the page is made of ------------------------------------------------------------


@dataclass
class ReportData:
    """Everything a report shows, added up over a whole trace.

    Made by :func:`collect`.

    Attributes
    ----------
    info : Trace
        The trace (its processes, failed calls and metadata are shown).
    summary : pandas.Series
        :func:`iomonitor.analysis.summary`.
    files, peers, syscalls : pandas.DataFrame
        :func:`iomonitor.analysis.by` per file (sockets left out: they are
        peers), per peer and per system call.
    tree : pandas.DataFrame
        :func:`iomonitor.analysis.by_tree`.
    figures : iomonitor.plot.FigureData
        What every figure of :data:`FIGURES` the trace has something to
        show in is drawn from.
    has_sockets : bool
        Whether any read or write call was on a socket.
    has_transfers : bool
        Whether any call read or wrote (mmap alone draws no bandwidth).
    """

    info: Trace
    summary: pd.Series
    files: pd.DataFrame
    peers: pd.DataFrame
    syscalls: pd.DataFrame
    tree: pd.DataFrame
    figures: FigureData
    has_sockets: bool
    has_transfers: bool


def collect(trace: Trace, ready: Callable[[int, FigureData], None] | None = None) -> ReportData:
    """Everything the report of a trace shows, as analysis results.

    Each table and figure is one query of :mod:`iomonitor.analysis` over the
    events where they are (in memory, or on disk for a trace from
    :func:`iomonitor.store.scan`).

    Parameters
    ----------
    trace : Trace
        The trace.
    ready : callable, optional
        Called with the place in :data:`FIGURES` and the data of each figure
        as soon as they are known, before the tables are computed: the
        report draws each figure while the rest is computed.

    Returns
    -------
    ReportData

    Examples
    --------
    >>> data = collect(iomonitor.store.scan("run.parquet"))  # doctest: +SKIP
    >>> data.files.head()  # doctest: +SKIP
    """
    if not isinstance(trace, Trace):
        raise UsageError(f"a report needs a Trace, not {type(trace).__name__}")
    errors, procs = trace.errors, trace.processes
    # Every table, the headline numbers and the per-process figures come from
    # one pass over the events.
    totals = analysis.rollup(trace)
    # Calls that read or wrote, by kind: mmap alone draws no bandwidth.
    per_kind = analysis.sums(totals, "kind")
    moved = per_kind[per_kind["rw_calls"].to_numpy() > 0]
    has_sockets = bool(moved["kind"].isin(analysis.SOCKET_KINDS).any())
    has_transfers = bool(len(moved))
    # The figures' data first, so that they are drawn while the tables are made.
    drawn = shown(has_transfers, has_sockets)
    parts = []
    for place, part in figure_data.collect_each(totals, [FIGURES[i][2:] for i in drawn]):
        if ready is not None:
            ready(drawn[place], part)
        parts.append(part)
    # Socket traffic has its own table (peers); in files it would only repeat it.
    file_errors = errors[~_is_socket(errors["kind"])] if "kind" in errors else errors
    files = analysis.finish(
        analysis.sums(totals, "file", sockets=False), "file", file_errors, procs
    )
    peers = analysis.by(totals, "peer")
    processes = analysis.by(totals, "process")
    return ReportData(
        info=trace,
        summary=analysis.summary(
            totals, totals={"file": files, "peer": peers, "process": processes}
        ),
        files=files,
        peers=peers,
        syscalls=analysis.by(totals, "syscall"),
        tree=analysis.by_tree(totals),
        figures=figure_data.merged(parts),
        has_sockets=has_sockets,
        has_transfers=has_transfers,
    )


def _is_socket(kind: pd.Series) -> np.ndarray:
    return kind.astype("str").isin(analysis.SOCKET_KINDS).to_numpy(dtype=bool)


def render(trace: Trace | ReportData, *, title: str | None = None, top: int = 15) -> str:
    """The report of a trace as one HTML document.

    Parameters
    ----------
    trace : Trace or ReportData
        The trace (several runs loaded together are reported side by side),
        or what :func:`collect` gathered from one.
    title : str, optional
        The page title; by default the traced command or the input's name.
    top : int, default 15
        Rows in each top table (the process tree shows twice as many).

    Returns
    -------
    str
        A complete HTML document with sections :data:`SECTIONS`; figures are
        inline PNG images, and the page loads nothing from anywhere.

    Raises
    ------
    UsageError
        When ``trace`` is not a Trace or ``top`` is not a positive number.

    Examples
    --------
    >>> page = render(iomonitor.load("run.parquet"))  # doctest: +SKIP
    >>> page.startswith("<!DOCTYPE html>")  # doctest: +SKIP
    True
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise UsageError(f"top must be a whole number >= 1, not {top!r}")
    with Painters() as painters:
        if isinstance(trace, ReportData):
            data = trace
            for index in shown(data.has_transfers, data.has_sockets):
                painters.draw(index, data.figures)
        else:
            data = collect(trace, painters.draw)
        drawn = painters.drawn()
    info = data.info
    runs = ["run"] if analysis.has_runs(info) else []
    summary = data.summary
    command = _command(info)
    # A long command (a script given with -c) stays whole in the metadata table.
    heading = title if title is not None else shorten(command or "a trace", 120)
    made = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(f'<a href="#{s}">{s.replace("-", " ")}</a>' for s in SECTIONS)
    sections = [
        ("summary", "Summary", _summary(summary)),
        (
            "files",
            "Files",
            '<p class="sub">Paths, standard streams, pipes and devices; sockets are under '
            "peers.</p>" + _totals_table(data.files, "file", "file", top, runs),
        ),
        ("peers", "Peers", _totals_table(data.peers, "peer", "peer", top, runs)),
        ("processes", "Processes", _processes(data.tree, top, runs)),
        ("syscalls", "System calls", _syscalls(data.syscalls, data.figures.latency, runs)),
        ("figures", "Figures", _figures(data, drawn)),
        ("metadata", "Metadata", _metadata(info)),
        ("blind-spots", "Blind spots", _blind_spots(info, summary, top)),
    ]
    body = "\n".join(
        f'<section id="{sid}"><h2>{_e(name)}</h2>\n{content}\n</section>'
        for sid, name, content in sections
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>iomonitor: {_e(heading)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>I/O report: <code>{_e(heading)}</code></h1>
<p class="sub">Made by iomonitor {_e(iomonitor.__version__)} on {_e(made)}.</p>
<nav>{nav}</nav>
{body}
</body>
</html>
"""


def save(
    trace: Trace | ReportData,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    top: int = 15,
) -> None:
    """Write the report of ``trace`` to ``path`` (UTF-8 HTML).

    The page is written to a temporary file beside ``path`` and renamed into
    place, so a failure never leaves half a report under the user's name.

    Parameters
    ----------
    trace : Trace or ReportData
        The trace, or what :func:`collect` gathered from one.
    path : path
        Where to write.
    title, top
        As for :func:`render`.

    Raises
    ------
    OutputError
        When the file cannot be written.

    Examples
    --------
    >>> save(iomonitor.load("run.parquet"), "report.html")  # doctest: +SKIP
    """
    target = Path(path)
    if not target.parent.is_dir():
        raise OutputError(str(path), "no such directory")
    page = render(trace, title=title, top=top)
    with OutputFile(target).writing() as tmp:
        tmp.write_text(page, encoding="utf-8")
