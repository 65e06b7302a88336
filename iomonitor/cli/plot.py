"""Draw a figure of one or more traces into a PNG or SVG file.

usage:
  iomonitor plot TRACE... -o FILE [--kind KIND] [--by KEY] [--top N] [--interval WIDTH]

TRACE is a Parquet trace, a classic CSV, a raw strace log or a folder of
Parquet files; several traces are drawn one panel per run. The format of the
picture follows FILE's extension: .png or .svg.

Parquet files and datasets are queried where they are, so traces larger
than memory can be drawn; a classic CSV or a raw log is converted once.

kinds:
  bandwidth   bytes per second over time, stacked by --by; reads above, writes below
  cumulative  bytes read + written so far, one line per --by value
  timeline    one lane per process: its lifetime and the bytes it moved
  sizes       how many calls moved how many bytes (power-of-two buckets)
  latency     time spent per call (median to p99, maximum), per system call
  flow        files and peers read -> processes -> files and peers written
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from iomonitor.cli import add_tz_option
from iomonitor.errors import OutputError, UsageError

KINDS: tuple[str, ...] = ("bandwidth", "cumulative", "timeline", "sizes", "latency", "flow")
FORMATS: tuple[str, ...] = (".png", ".svg")

#: Which options each kind uses; any other given option is a usage error.
_OPTIONS: dict[str, tuple[str, ...]] = {
    "bandwidth": ("by", "top", "interval"),
    "cumulative": ("by", "top", "interval"),
    "timeline": ("interval",),
    "sizes": (),
    "latency": (),
    "flow": ("top",),
}

#: What bandwidth and cumulative draw one area or line per.
_BY: tuple[str, ...] = ("file", "peer", "process")


def make_parser(prog: str = "iomonitor plot") -> argparse.ArgumentParser:
    """The argument parser of ``iomonitor plot``."""
    ap = argparse.ArgumentParser(
        prog=prog,
        description=__doc__,
        usage="%(prog)s TRACE... -o FILE [--kind KIND] [--by KEY] [--top N] [--interval WIDTH]",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("traces", nargs="+", metavar="TRACE", help="trace files to draw")
    ap.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="the picture (.png or .svg)"
    )
    ap.add_argument(
        "--kind", choices=KINDS, default="bandwidth", help="the figure (default: bandwidth)"
    )
    ap.add_argument(
        "--by",
        choices=_BY,
        help="bandwidth, cumulative: one area or line per file, peer or process (default: file)",
    )
    ap.add_argument(
        "--top",
        type=int,
        metavar="N",
        help="bandwidth, cumulative: keys kept, the rest as 'other' (default 8); "
        "flow: files and peers kept per side (default 10); 0 keeps all",
    )
    ap.add_argument(
        "--interval",
        metavar="WIDTH",
        help="bandwidth, cumulative, timeline: time bucket width, e.g. 10ms, 1s, 5min "
        "(default: chosen from the trace's length)",
    )
    add_tz_option(ap)
    return ap


def run(ns: argparse.Namespace) -> int:
    """Open the traces, draw the figure and write it; return 0.

    The figure is drawn from analysis queries over the events where they are
    (:func:`iomonitor.store.scan`), whatever their size.
    """
    from iomonitor import plot, store
    from iomonitor.cli._inputs import check_by_process

    output = Path(ns.output)
    suffix = output.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"-o {ns.output}: the picture's name must end in .png or .svg")
    given = [name for name in ("by", "top", "interval") if getattr(ns, name) is not None]
    unused = [name for name in given if name not in _OPTIONS[ns.kind]]
    if unused:
        raise UsageError(f"--{unused[0]} does not apply to --kind {ns.kind}")
    if ns.top is not None and ns.top < 0:
        raise UsageError(f"--top must be 0 or more, not {ns.top}")
    check_output(output)

    kwargs: dict[str, Any] = {}
    if "by" in _OPTIONS[ns.kind]:
        kwargs["by"] = ns.by or "file"
    if ns.top is not None:
        kwargs["top"] = ns.top
    if ns.interval is not None:
        kwargs["interval"] = ns.interval
    trace = store.scan(*ns.traces, tz=ns.tz)
    check_by_process(kwargs.get("by"), trace)
    save_figure(plot.KINDS[ns.kind](plot.collect(trace, [(ns.kind, kwargs)]), **kwargs), output)
    return 0


def check_output(path: Path) -> None:
    """Refuse, before any work, an output whose folder does not exist.

    Parameters
    ----------
    path : pathlib.Path
        The file to be written.

    Raises
    ------
    OutputError
        When its folder is missing or the path is a folder.

    Examples
    --------
    >>> check_output(Path("/no/such/folder/x.png"))
    Traceback (most recent call last):
    iomonitor.errors.OutputError: cannot write /no/such/folder/x.png: no such directory
    """
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(str(path), "no such directory")
    if path.is_dir():
        raise OutputError(str(path), "is a directory")


def save_figure(figure: Any, path: Path) -> None:
    """Write ``figure`` to ``path`` through a temporary file beside it.

    A failed write leaves no half picture under the user's name. SVG files
    carry no date, so the same trace gives the same file.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        What to write.
    path : pathlib.Path
        Where; the format follows the extension (``.png`` or ``.svg``).

    Raises
    ------
    OutputError
        When the file cannot be written.

    Examples
    --------
    >>> save_figure(iomonitor.plot.sizes(trace), Path("sizes.svg"))  # doctest: +SKIP
    """
    from iomonitor.store.writers import OutputFile

    fmt = path.suffix.lower().lstrip(".")
    metadata = {"Date": None} if fmt == "svg" else None
    with OutputFile(path).writing() as tmp:
        figure.savefig(tmp, format=fmt, dpi=100, metadata=metadata)
