"""How long `iomonitor stats` takes on a large trace, and how much memory.

Writes the synthetic 10-million-event trace of ``plot_report_scale.py`` as a
Parquet dataset folder (``--files`` parts; one file with ``--files 1``), then
runs ``iomonitor stats`` (the default view, and ``--by file --format json``)
each in its own process, batch by batch as it does on large inputs, and for
comparison what loading the whole trace takes; prints wall time and peak
resident memory of each::

    python benchmarks/stats_scale.py [--events 10000000] [--files 4] [--dir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from plot_report_scale import measure, write_dataset

RUNS: dict[str, list[str]] = {
    "stats (default view)": ["stats"],
    "stats --by file --format json": ["stats", "--by", "file", "--format", "json"],
}
LOAD_WHOLE = "import sys, iomonitor; iomonitor.load(*sys.argv[1:])"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--files", type=int, default=4, help="Parquet parts of the dataset")
    ap.add_argument("--dir", type=Path, help="work here (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the trace")
    ap.add_argument("--no-whole", action="store_true", help="skip the whole-load comparison")
    ns = ap.parse_args(argv)
    work = ns.dir or Path(tempfile.mkdtemp(prefix="iomonitor-stats-"))
    data = work / "dataset"
    data.mkdir(parents=True, exist_ok=True)
    try:
        size = write_dataset(data, ns.events, ns.files)
        print(f"{ns.events:,} events in {ns.files} Parquet file(s), {size / 2**20:.0f} MiB")
        runs = {k: [sys.executable, "-m", "iomonitor", *v, str(data)] for k, v in RUNS.items()}
        if not ns.no_whole:
            runs["load whole (for comparison)"] = [sys.executable, "-c", LOAD_WHOLE, str(data)]
        for name, cmd in runs.items():
            seconds, peak, status = measure(cmd)
            state = "" if status == 0 else f"  (exit {status})"
            print(f"{name:32s} {seconds:7.1f} s  {peak / 1024:7.0f} MiB peak{state}")
    finally:
        if not ns.keep and ns.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
