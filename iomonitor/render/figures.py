"""The figures of the HTML report: which ones, and drawing them as inline PNG images.

Each figure is drawn by :mod:`iomonitor.plot` from the report's analysis
results. Drawing is matplotlib's work in Python, so it is done by forked
processes, one per CPU, started before the analysis: they import matplotlib
while the main process queries the trace, and each draws a figure as soon
as its data are ready (:class:`Painters`). The main process never imports
matplotlib.
"""

from __future__ import annotations

import base64
import html
import io
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any

from iomonitor.errors import UsageError
from iomonitor.render.units import printable

if TYPE_CHECKING:
    from iomonitor.render.figure_data import FigureData
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


def shown(has_transfers: bool, has_sockets: bool) -> list[int]:
    """The places in :data:`FIGURES` of the figures a trace has something to show in."""
    return [
        i
        for i, (_, _, kind, args) in enumerate(FIGURES)
        if (has_transfers or kind not in _TRANSFER_KINDS)
        and (has_sockets or args.get("by") != "peer")
    ]


def section(data: ReportData, drawn: dict[int, str]) -> str:
    """The figures section of the report of ``data``: the HTML of each figure ``drawn``."""
    parts = []
    if not data.has_transfers:
        parts.append(
            '<p class="note">No read or write calls in this trace: no data flow, '
            "bandwidth, cumulative bytes or call sizes.</p>"
        )
    elif not data.has_sockets:
        parts.append('<p class="note">No socket I/O in this trace: no bandwidth by peer.</p>')
    return "\n".join(parts + [drawn[i] for i in shown(data.has_transfers, data.has_sockets)])


class Painters:
    """Forked processes that draw figures of :data:`FIGURES` into HTML, one at a time each.

    Start them before the figures' data are computed (use as a context
    manager): forking is cheap while the main process is small, and each
    worker imports matplotlib at once, while the main process works.

    Parameters
    ----------
    workers : int, optional
        How many processes; by default one per CPU, at most one per figure.

    Examples
    --------
    >>> with Painters() as painters:  # doctest: +SKIP
    ...     painters.draw(7, collect(trace, [("latency", {})]))
    ...     html = painters.drawn()[7]
    """

    def __init__(self, workers: int | None = None) -> None:
        count = workers or min(len(FIGURES), len(os.sched_getaffinity(0)))
        self._pool = ProcessPoolExecutor(
            count, mp_context=multiprocessing.get_context("fork"), initializer=_import_plot
        )
        # The first task forks every worker; each imports matplotlib first thing.
        self._pool.submit(int)
        self._drawing: dict[int, Future[str]] = {}

    def draw(self, index: int, data: FigureData) -> None:
        """Have figure ``index`` of :data:`FIGURES` drawn from ``data`` by the next free worker."""
        self._drawing[index] = self._pool.submit(_draw, index, data)

    def drawn(self) -> dict[int, str]:
        """The heading and image of every figure given to :meth:`draw`, once they are drawn."""
        return {i: f.result() for i, f in self._drawing.items()}

    def __enter__(self) -> Painters:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # After a failure nothing waits for the figures: drop those not started.
        self._pool.shutdown(wait=True, cancel_futures=exc is not None)


def _import_plot() -> None:
    import iomonitor.plot  # noqa: F401  (matplotlib and the figures, before any is asked for)


def _draw(index: int, data: FigureData) -> str:
    """The heading and image of figure ``index`` of :data:`FIGURES` (in a drawing process)."""
    from iomonitor import plot

    title, caption, kind, args = FIGURES[index]
    head = f"<h3>{_e(title)}</h3>"
    try:
        fig = plot.KINDS[kind](data, **args)
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
