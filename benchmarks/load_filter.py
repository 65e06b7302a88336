"""Peak memory of loading a slice of a large dataset with ``filters``, against loading it whole.

Writes the synthetic trace of ``plot_report_scale.py`` (the one
``stats_scale.py`` uses) as a dataset of ``--files`` Parquet parts, then,
each in its own process, loads it whole, one thread's events
(``("pid", "==", P)``: present in every row group, so only Arrow-side
filtering helps), one minute of the ten (``time``: row groups outside it are
skipped unread), and one thread's events of one file (``pid`` and ``file``);
prints wall time and peak resident memory of each::

    python benchmarks/load_filter.py [--events 10000000] [--files 4] [--dir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyarrow.parquet as pq
from plot_report_scale import START, measure, write_dataset

#: Loads argv[1] with the filters in argv[2] (a Python literal).
LOAD = """\
import ast, sys, iomonitor
iomonitor.load(sys.argv[1], filters=ast.literal_eval(sys.argv[2]) or None)
"""


def _slices(part: Path) -> dict[str, list]:
    """The filters measured, with a pid and a file that are in the trace."""
    first = pq.ParquetFile(part).read_row_group(0, columns=["pid", "file"]).to_pandas()
    # A thread of middling activity: the first process's main thread also
    # takes the calls of threads not alive yet, over half of all events.
    counts = first["pid"].value_counts()
    pid = int(counts.index[len(counts) // 2])
    share = counts.iloc[len(counts) // 2] / len(first)
    print(f"pid {pid}: {share:.1%} of the events of the first row group")
    name = str(first.loc[first["pid"] == pid, "file"].value_counts().index[0])
    minute = [("time", ">=", f"@{START + 240}"), ("time", "<", f"@{START + 300}")]
    return {
        "whole": [],
        f"one thread (pid {pid})": [("pid", "==", pid)],
        "one minute of ten": minute,
        "one thread, one file": [("pid", "==", pid), ("file", "==", name)],
    }


def _literal(filters: list) -> str:
    # Times go as epoch seconds marked with "@", turned into ISO strings here:
    # the child process gets a plain literal.
    import pandas as pd

    out = []
    for col, op, value in filters:
        if isinstance(value, str) and value.startswith("@"):
            value = pd.Timestamp(float(value[1:]), unit="s", tz="UTC").isoformat()
        out.append((col, op, value))
    return repr(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--files", type=int, default=4, help="Parquet parts of the dataset")
    ap.add_argument("--dir", type=Path, help="work here (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the trace")
    ns = ap.parse_args(argv)
    work = ns.dir or Path(tempfile.mkdtemp(prefix="iomonitor-filter-"))
    data = work / "dataset"
    data.mkdir(parents=True, exist_ok=True)
    try:
        size = write_dataset(data, ns.events, ns.files)
        print(f"{ns.events:,} events in {ns.files} Parquet file(s), {size / 2**20:.0f} MiB")
        for name, filters in _slices(data / "part-0.parquet").items():
            cmd = [sys.executable, "-c", LOAD, str(data), _literal(filters)]
            seconds, peak, status = measure(cmd)
            state = "" if status == 0 else f"  (exit {status})"
            print(f"{name:32s} {seconds:7.1f} s  {peak / 1024:7.0f} MiB peak{state}")
    finally:
        if not ns.keep and ns.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
