"""Figures of a trace, drawn with matplotlib from what :mod:`iomonitor.analysis` computes.

Every function takes a :class:`~iomonitor.trace.Trace` (or a bare events
DataFrame) and an optional ``ax``, and returns the Figure it drew on. Without
``ax`` a new :class:`matplotlib.figure.Figure` is made directly (not through
pyplot), so nothing stays open in a global figure list; nothing here calls
``show()``. Save with ``fig.savefig("x.png")`` or show it in a notebook.

Conventions shared by all figures: reads are drawn above the axis (or in
blue), writes below it (or in orange); time runs in seconds since the start of
the trace; byte axes use binary units (KiB, MiB); long names are shortened in
the middle. A trace holding several runs gets one panel per run, so pids and
times of different runs never mix.

Every aggregate is computed by :mod:`iomonitor.analysis` on the whole trace;
this module only arranges its rows (stacking, cumulating, placing), so a figure
of ten million events costs little more than the analysis does.

Examples
--------
>>> import iomonitor, iomonitor.plot
>>> trace = iomonitor.load("run.parquet")  # doctest: +SKIP
>>> iomonitor.plot.bandwidth(trace, by="process", top=5).savefig("bw.png")  # doctest: +SKIP
"""

from collections.abc import Callable

from matplotlib.figure import Figure

from iomonitor.plot.distributions import latency, sizes
from iomonitor.plot.flow import OTHER_PROCESSES, flow
from iomonitor.plot.series import bandwidth, cumulative
from iomonitor.plot.timeline import timeline
from iomonitor.render.figure_data import FigureData, collect

__all__ = [
    "KINDS",
    "OTHER_PROCESSES",
    "FigureData",
    "bandwidth",
    "collect",
    "cumulative",
    "flow",
    "latency",
    "sizes",
    "timeline",
]

#: The figures by name, as the command line and the report know them.
KINDS: dict[str, Callable[..., Figure]] = {
    "bandwidth": bandwidth,
    "cumulative": cumulative,
    "timeline": timeline,
    "sizes": sizes,
    "latency": latency,
    "flow": flow,
}
