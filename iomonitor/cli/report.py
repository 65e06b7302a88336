"""Write one self-contained HTML report of one or more traces.

usage:
  iomonitor report TRACE... -o report.html [--title TEXT] [--top N]

The page holds the headline numbers, the busiest files, peers, processes and
system calls, every figure of `iomonitor plot`, the trace's metadata and its
blind spots (lines that could not be read, bytes and fds strace could not
see, io_uring/AIO calls, failed calls). Figures are inline images and the
style sheet is inline: the file opens anywhere, offline, without scripts.

Parquet files and datasets are queried where they are, so traces larger
than memory can be reported on; a classic CSV or a raw log is converted once.
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
    """Open the traces and write the report; return 0.

    Every table and figure is an analysis query over the events where they
    are (:func:`iomonitor.store.scan`), whatever their size.
    """
    from iomonitor import store
    from iomonitor.cli.plot import check_output
    from iomonitor.render import report

    output = Path(ns.output)
    if output.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"-o {ns.output}: the report's name must end in .html")
    if ns.top < 1:
        raise UsageError(f"--top must be 1 or more, not {ns.top}")
    check_output(output)
    report.save(store.scan(*ns.traces, tz=ns.tz), output, title=ns.title, top=ns.top)
    return 0
