"""Draw a figure of one or more traces into a PNG or SVG file.

usage:
  iomonitor plot TRACE... -o FILE [--kind KIND] [--by KEY] [--top N] [--interval WIDTH]

TRACE is a Parquet trace, a classic CSV, a raw strace log or a folder of
Parquet files; several traces are drawn one panel per run. The format of the
picture follows FILE's extension: .png or .svg.

Inputs of more than 4 MiB in all are read batch by batch, so traces larger
than memory can be drawn; the figures over time (bandwidth, cumulative,
timeline) read them twice (first for the span and the busiest keys), and
latency percentiles are then estimated within 1%. A progress bar shows on
stderr when it is a terminal.

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
import contextlib
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

#: Event columns each kind reads (Parquet inputs load only these); the figures
#: over time also need each process's first and last call (time, dt, tgid).
_COLUMNS: dict[str, tuple[str, ...]] = {
    "bandwidth": ("time", "dt", "dir", "bytes", "tgid"),
    "cumulative": ("time", "dt", "dir", "bytes", "tgid"),
    "timeline": ("time", "dt", "dir", "bytes", "tgid", "comm"),
    "sizes": ("dir", "bytes"),
    "latency": ("dt", "syscall"),
    "flow": ("time", "dt", "dir", "bytes", "file", "port", "kind", "tgid", "comm"),
}
_KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "file": ("file",),
    "peer": ("kind", "file", "port"),
    "process": ("comm",),
}


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
        choices=tuple(_KEY_COLUMNS),
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
    """Read the traces, draw the figure and write it; return 0.

    Inputs of more than :data:`iomonitor.cli._batches.STREAM_ABOVE` bytes
    are aggregated batch by batch (:class:`iomonitor.plot.FigureCollector`);
    smaller ones are loaded whole.
    """
    from iomonitor import plot, store
    from iomonitor.cli import _batches

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
    columns = list(_COLUMNS[ns.kind])
    if "by" in _OPTIONS[ns.kind]:
        kwargs["by"] = ns.by or "file"
        columns += _KEY_COLUMNS[kwargs["by"]]
    if ns.top is not None:
        kwargs["top"] = ns.top
    if ns.interval is not None:
        kwargs["interval"] = ns.interval
    columns = list(dict.fromkeys(columns))
    reader = _batches.open_reader(ns.traces, columns, tz=ns.tz)
    if reader is None:
        trace = store.load(*ns.traces, columns=load_columns(ns.traces, columns), tz=ns.tz)
        _batches.check_by_process(kwargs.get("by"), trace)
        figure = plot.KINDS[ns.kind](trace, **kwargs)
    else:
        _batches.check_by_process(kwargs.get("by"), reader)
        collector = plot.FigureCollector([(ns.kind, kwargs)])
        info = _batches.aggregate(ns.traces, columns, collector, reader)
        figure = plot.KINDS[ns.kind](collector.finish(info), **kwargs)
    save_figure(figure, output)
    return 0


def load_columns(traces: list[str], columns: list[str]) -> list[str] | None:
    """The event columns to read, or None (all) when several inputs are combined.

    Combining traces wants every schema column in each, so only a single
    input file is read in part (a folder may hold several).

    Parameters
    ----------
    traces : list of str
        The inputs named on the command line.
    columns : list of str
        The event columns the figure needs.

    Returns
    -------
    list of str or None

    Examples
    --------
    >>> load_columns(["a.parquet"], ["time", "bytes", "time"])
    ['time', 'bytes']
    >>> load_columns(["a.parquet", "b.parquet"], ["time"]) is None
    True
    """
    single = len(traces) == 1 and not Path(traces[0]).is_dir()
    return list(dict.fromkeys(columns)) if single else None


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
    from iomonitor.sinks import OutputFile

    fmt = path.suffix.lower().lstrip(".")
    out = OutputFile(path)
    metadata = {"Date": None} if fmt == "svg" else None
    try:
        figure.savefig(out.tmp, format=fmt, dpi=100, metadata=metadata)
        out.commit()
    except OSError as exc:
        with contextlib.suppress(OSError):
            out.discard()
        raise OutputError(str(path), exc.strerror or str(exc)) from exc
