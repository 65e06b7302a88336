"""Records the eBPF backend loses on a busy machine, by ring buffer size.

The loader drains the ring buffer every 10 ms; a record is lost only when the
ring fills while the loader waits for a CPU. This runs whole ``iomonitor
--backend ebpf`` captures of a ``capture_overhead.py`` workload (by default
the 400,000 small calls) beside CPU hogs at normal priority (busy loops that
compete with the loader, its converter and the program, as other work on a
loaded machine does), alternating ring sizes round after round, and prints
each run's ``lost_records`` (from the trace's metadata) and the program's own
time, then per size how many runs lost records and how many in all.

Run (root): ``python benchmarks/ebpf_losses.py [--rings 16,64] [--runs 6]
[--hogs 2] [--workload small_io] [--scale 2]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from capture_overhead import ELAPSED, build_one

import iomonitor
from iomonitor.ebpf.runner import unavailable_reason

#: A whole ``iomonitor`` run with the ring size given first (the runner reads
#: RING_MB when it is made).
RUN = (
    "import sys; import iomonitor.ebpf.runner as r; r.RING_MB = int(sys.argv.pop(1)); "
    "from iomonitor.cli import entry_point; sys.argv[0] = 'iomonitor'; entry_point()"
)


def capture(ring_mb: int, exe: Path, out: Path) -> tuple[int, float | None]:
    """Records lost and the program's own seconds, for one run with this ring."""
    proc = subprocess.run(
        [sys.executable, "-c", RUN, str(ring_mb), "--backend", "ebpf", "-o", str(out), str(exe)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"iomonitor exited with {proc.returncode}: {proc.stderr.strip()}")
    words = proc.stdout.split()
    own = float(words[-1]) if len(words) >= 2 and words[-2] == "elapsed" else None
    return int(iomonitor.load(out).meta["lost_records"]), own


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rings", default="16,64", help="ring sizes in MiB, comma-separated")
    ap.add_argument("--runs", type=int, default=6, help="alternating rounds")
    ap.add_argument("--hogs", type=int, default=2, help="busy loops at normal priority")
    ap.add_argument("--workload", default="small_io")
    ap.add_argument("--scale", type=float, default=2.0, help="multiply the workload's length")
    ns = ap.parse_args(argv)
    if why := unavailable_reason():
        sys.exit(f"ebpf_losses: {why}")
    rings = [int(r) for r in ns.rings.split(",")]
    lost: dict[int, list[int]] = {r: [] for r in rings}
    with tempfile.TemporaryDirectory(prefix="iomon-losses-") as tmp:
        exe = build_one(Path(tmp), ns.workload, ns.scale, ELAPSED)
        hogs = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(ns.hogs)]
        try:
            for i in range(ns.runs):
                for ring in rings:
                    n, own = capture(ring, exe, Path(tmp) / "t.parquet")
                    lost[ring].append(n)
                    own_s = f"{own:.3f} s" if own is not None else "?"
                    print(
                        f"round {i} ring {ring} MiB: lost {n}, program {own_s}, "
                        f"load {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
        finally:
            for hog in hogs:
                hog.kill()
                hog.wait()
    for ring, got in lost.items():
        print(
            f"ring {ring} MiB: {sum(1 for n in got if n)} of {len(got)} runs lost records, "
            f"{sum(got)} in all (most in one run {max(got)})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
