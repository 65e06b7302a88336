"""Write one self-contained HTML report of one or more traces.

usage:
  iomonitor report TRACE... -o report.html [--title TEXT] [--top N]

The page holds the headline numbers, the busiest files, peers, processes and
system calls, every figure of `iomonitor plot`, the trace's metadata and its
blind spots (lines that could not be read, bytes and fds strace could not
see, io_uring/AIO calls, failed calls). Figures are inline images and the
style sheet is inline: the file opens anywhere, offline, without scripts.

Inputs of more than 4 MiB in all are read batch by batch (twice: the figures
over time first need the trace's span and busiest keys), so traces larger
than memory can be reported on; latency percentiles are then estimated
within 1%. A progress bar shows on stderr when it is a terminal.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from iomonitor.cli import add_tz_option
from iomonitor.errors import UsageError


def make_parser(prog: str = "iomonitor report") -> argparse.ArgumentParser:
    """The argument parser of ``iomonitor report``."""
    ap = argparse.ArgumentParser(
        prog=prog,
        description=__doc__,
        usage="%(prog)s TRACE... -o report.html [--title TEXT] [--top N]",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("traces", nargs="+", metavar="TRACE", help="trace files to report on")
    ap.add_argument("-o", "--output", required=True, metavar="FILE", help="the HTML file to write")
    ap.add_argument("--title", help="the page title (default: the traced command)")
    ap.add_argument(
        "--top", type=int, default=15, metavar="N", help="rows per top table (default 15)"
    )
    add_tz_option(ap)
    return ap


def run(ns: argparse.Namespace) -> int:
    """Read the traces and write the report; return 0.

    Inputs of more than :data:`iomonitor.cli._batches.STREAM_ABOVE` bytes are
    added up batch by batch (:class:`iomonitor.report.ReportCollector`);
    smaller ones are loaded whole.
    """
    from iomonitor import report, schema, store
    from iomonitor.cli import _batches
    from iomonitor.cli.plot import check_output, load_columns

    output = Path(ns.output)
    if output.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"-o {ns.output}: the report's name must end in .html")
    if ns.top < 1:
        raise UsageError(f"--top must be 1 or more, not {ns.top}")
    check_output(output)
    # The report uses every column but these two; leaving them unread saves memory.
    columns = [c for c in schema.EVENT_COLUMNS if c not in ("fd", "local")]
    reader = _batches.open_reader(ns.traces, columns, tz=ns.tz)
    if reader is None:
        data = store.load(*ns.traces, columns=load_columns(ns.traces, columns), tz=ns.tz)
    else:
        collector = report.ReportCollector()
        data = collector.finish(_batches.aggregate(ns.traces, columns, collector, reader))
    report.save(data, output, title=ns.title, top=ns.top)
    return 0
