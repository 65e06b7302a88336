"""How much memory `iomonitor export` takes on a large trace, and how long.

Writes the synthetic 10-million-event trace of ``plot_report_scale.py`` as one
Parquet file, then runs ``iomonitor export TRACE -o out.json`` in its own
process and prints wall time, peak resident memory and the JSON's size::

    python benchmarks/export_scale.py [--events 10000000] [--dir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from plot_report_scale import measure, write_trace


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--dir", type=Path, help="work here (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the trace and the JSON")
    ns = ap.parse_args(argv)
    work = ns.dir or Path(tempfile.mkdtemp(prefix="iomonitor-export-"))
    work.mkdir(parents=True, exist_ok=True)
    trace, out = work / "trace.parquet", work / "trace.json"
    try:
        write_trace(trace, ns.events)
        print(f"{ns.events:,} events, {trace.stat().st_size / 2**20:.0f} MiB of Parquet")
        seconds, peak, status = measure(
            [sys.executable, "-m", "iomonitor", "export", str(trace), "-o", str(out)]
        )
        state = "" if status == 0 else f"  (exit {status})"
        size = out.stat().st_size / 2**30 if out.exists() else 0.0
        print(f"export {seconds:7.1f} s  {peak / 1024:7.0f} MiB peak  {size:.2f} GiB JSON{state}")
    finally:
        if not ns.keep and ns.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
