"""The figures of the HTML report: which ones, and drawing them as inline PNG images.

Each figure is drawn by :mod:`iomonitor.plot` from the report's analysis
results; drawing is matplotlib's work in Python, so the figures are spread
over forked processes, one per CPU.
"""

from __future__ import annotations

import base64
import html
import io
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from iomonitor import plot
from iomonitor.errors import UsageError
from iomonitor.render.units import printable

if TYPE_CHECKING:
    from iomonitor.render.report import ReportData


def escape(value: Any) -> str:
    """Escape anything for HTML text or attributes."""
    return html.escape(printable(value), quote=True)


_e = escape


#: The figures of the page: title, caption, kind of :data:`iomonitor.plot.KINDS`, arguments.
FIGURES: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    (
        "Data flow",
        "Files and peers read (left), the processes (middle), and what they wrote "
        "(right); edge widths grow with bytes. Pipes and UNIX sockets between two "
        "traced processes are arcs from writer to reader.",
        "flow",
        {},
    ),
    (
        "Timeline",
        "One lane per process, the earliest on top: its lifetime (grey) and the bytes "
        "it read (above the middle) and wrote (below), added up per time bucket.",
        "timeline",
        {},
    ),
    (
        "Bandwidth by process",
        "Bytes per second, stacked by program: reads above the axis, writes below.",
        "bandwidth",
        {"by": "process"},
    ),
    (
        "Bandwidth by file",
        "Bytes per second, stacked by file (sockets appear under their peer address).",
        "bandwidth",
        {"by": "file"},
    ),
    (
        "Bandwidth by peer",
        "Bytes per second on sockets, stacked by peer.",
        "bandwidth",
        {"by": "peer"},
    ),
    (
        "Cumulative bytes by file",
        "Bytes read and written so far, per file.",
        "cumulative",
        {"by": "file"},
    ),
    (
        "Call sizes",
        "How many read and write calls moved how many bytes (power-of-two buckets).",
        "sizes",
        {},
    ),
    (
        "Latency",
        "Time inside each kind of call: median to 90th percentile (thick), on to the "
        "99th (thin), the mean (tick) and the slowest call (cross).",
        "latency",
        {},
    ),
)


#: Figures drawn from read and write calls only: nothing to show without any.
_TRANSFER_KINDS = frozenset({"flow", "bandwidth", "cumulative", "sizes"})


def section(data: ReportData) -> str:
    """The figures section of the report of ``data``: every figure that has something to show."""
    parts = []
    if not data.has_transfers:
        parts.append(
            '<p class="note">No read or write calls in this trace: no data flow, '
            "bandwidth, cumulative bytes or call sizes.</p>"
        )
    elif not data.has_sockets:
        parts.append('<p class="note">No socket I/O in this trace: no bandwidth by peer.</p>')
    shown = [
        i
        for i, (_, _, kind, args) in enumerate(FIGURES)
        if (data.has_transfers or kind not in _TRANSFER_KINDS)
        and (data.has_sockets or args.get("by") != "peer")
    ]
    return "\n".join(parts + _drawn(data, shown))


#: What the drawing processes draw from: set before they are forked, so each
#: inherits it instead of being sent a copy.
_DRAWING: list[ReportData] = []


def _drawn(data: ReportData, shown: list[int]) -> list[str]:
    """The HTML of each figure of :data:`FIGURES` in ``shown``, drawn in parallel.

    Drawing is matplotlib's work in Python, one CPU per figure: the figures
    are spread over one forked process per CPU (at most one per figure).
    """
    if not shown:
        return []
    workers = min(len(shown), len(os.sched_getaffinity(0)))
    _DRAWING[:] = [data]
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(_draw, shown))
    finally:
        _DRAWING.clear()


def _draw(index: int) -> str:
    """The heading and image of figure ``index`` of :data:`FIGURES` (in a drawing process)."""
    title, caption, kind, args = FIGURES[index]
    head = f"<h3>{_e(title)}</h3>"
    try:
        fig = plot.KINDS[kind](_DRAWING[0].figures, **args)
    except UsageError as exc:
        # A figure the data cannot support (e.g. latency without -T) says why.
        return f'{head}\n<p class="note">Not drawn: {_e(exc)}</p>'
    return f"{head}\n{_figure(fig, _e(caption), title)}"


def _figure(fig: Any, caption: str, alt: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{_e(alt)}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )
