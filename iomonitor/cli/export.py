"""Export a trace as Chrome/Perfetto trace-event JSON for timeline viewers.

usage:
  iomonitor export TRACE -o out.json

The file opens in Perfetto's UI (ui.perfetto.dev, "Open trace file") and in
chrome://tracing: one track per thread, grouped by process and named after
its program and command line; one slice per call (its syscall, with the
file, bytes, fd and direction in its arguments); and per process counter
tracks of read and write bandwidth in bytes per second. TRACE is one trace
(Parquet, classic CSV, raw strace log, or a folder holding one run); it is
read batch by batch, so large traces export in flat memory.
"""

from __future__ import annotations

import argparse
import sys

from iomonitor.cli import add_tz_option, new_parser
from iomonitor.render.units import size_text


def make_parser(prog: str = "iomonitor export") -> argparse.ArgumentParser:
    """The argument parser of ``iomonitor export``."""
    ap = new_parser(prog, __doc__, "%(prog)s TRACE -o out.json [--tz ZONE]")
    ap.add_argument("trace", metavar="TRACE", help="the trace to export")
    ap.add_argument("-o", "--output", required=True, metavar="FILE", help="the JSON file to write")
    add_tz_option(ap)
    return ap


def run(ns: argparse.Namespace) -> int:
    """Export the trace; print one line saying what was written (to stderr)."""
    import os

    from iomonitor.export import chrome_trace

    done = chrome_trace(ns.trace, ns.output, tz=ns.tz)
    size = size_text(os.path.getsize(ns.output))
    print(
        f"iomonitor: wrote {ns.output} ({size}): {done.slices:,} calls of {done.threads:,} "
        f"threads in {done.processes:,} processes, bandwidth in buckets of "
        f"{done.interval:g} s",
        file=sys.stderr,
    )
    return 0
