"""What does strace naming every fd (``decode_fds``) cost on a tight I/O loop?

Runs a small program that makes nothing but small reads and writes under
:class:`iomonitor.strace.runner.StraceRunner` (its real strace options, the
log read through the FIFO) with fds named and without, alternating the two in
every round, and reports medians and their ratio: wall time, CPU time of
strace plus the program, and the cost per traced call over a run without
strace. Two workloads: a regular file (strace names it from a readlink per
call) and a UNIX socketpair (socket details come from a cache by inode). The
runner names fds as :data:`iomonitor.strace.command.DECODE_FDS` says
(``-yy`` without devices' numbers); ``strace_options_cost.py`` compares that
with ``-yy``.

usage: python benchmarks/decode_fds_cost.py [--calls N] [--rounds R] [--workload file|socket]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from iomonitor.strace.runner import StraceRunner

#: The traced program: CALLS/2 iterations of one 64-byte read and one 64-byte write.
LOOP = {
    "file": """
import os, sys
n = int(sys.argv[1]) // 2
src = os.open(sys.argv[2], os.O_RDONLY)
dst = os.open(os.devnull, os.O_WRONLY)
buf = b"x" * 64
for i in range(n):
    os.pread(src, 64, (i * 64) % 65536)
    os.write(dst, buf)
""",
    "socket": """
import os, socket, sys
n = int(sys.argv[1]) // 2
a, b = socket.socketpair()
buf = b"x" * 64
for _ in range(n):
    a.send(buf)
    b.recv(64)
""",
}


def cpu_children() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def run_bare(argv: list[str]) -> tuple[float, float]:
    cpu0, t0 = cpu_children(), time.perf_counter()
    subprocess.run(argv, check=True)
    return time.perf_counter() - t0, cpu_children() - cpu0


def run_traced(argv: list[str], decode_fds: bool) -> tuple[float, float, int]:
    runner = StraceRunner(argv, decode_fds=decode_fds)
    cpu0, t0 = cpu_children(), time.perf_counter()
    with runner:
        lines = sum(1 for _ in runner.lines())
    wall = time.perf_counter() - t0
    if runner.exit_status != 0:
        raise SystemExit(f"the loop program failed under strace: {runner.exit_status}")
    return wall, cpu_children() - cpu0, lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=200_000, help="read+write calls per run")
    ap.add_argument("--rounds", type=int, default=7, help="alternating rounds (median)")
    ap.add_argument("--workload", choices=(*LOOP, "both"), default="both")
    args = ap.parse_args(argv)
    workloads = list(LOOP) if args.workload == "both" else [args.workload]
    with tempfile.NamedTemporaryFile(prefix="iomonitor-bench-") as data:
        data.write(os.urandom(65536 + 64))
        data.flush()
        for workload in workloads:
            prog = [sys.executable, "-c", LOOP[workload], str(args.calls), data.name]
            bench(workload, prog, args.calls, args.rounds)
    return 0


def bench(workload: str, prog: list[str], calls: int, rounds: int) -> None:
    results: dict[str, list[tuple[float, float]]] = {"bare": [], "unnamed": [], "named": []}
    lines = {}
    for r in range(rounds):
        results["bare"].append(run_bare(prog))
        # Alternate the order so that drift in machine load hits both alike.
        order = [False, True] if r % 2 == 0 else [True, False]
        for named in order:
            wall, cpu, n = run_traced(prog, named)
            key = "named" if named else "unnamed"
            results[key].append((wall, cpu))
            lines[key] = n
    med = {
        k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
        for k, v in results.items()
    }
    print(
        f"\nworkload {workload}: {calls} calls, {rounds} rounds, "
        f"{os.cpu_count()} CPUs, strace {StraceRunner(['true']).strace_version}"
    )
    print(f"{'':8} {'wall s':>8} {'cpu s':>8} {'us/call':>8} {'lines':>8}")
    for key, (wall, cpu) in med.items():
        per = (wall - med["bare"][0]) / calls * 1e6 if key != "bare" else 0.0
        print(f"{key:8} {wall:8.2f} {cpu:8.2f} {per:8.1f} {lines.get(key, 0):8}")
    ratio_wall = med["named"][0] / med["unnamed"][0]
    ratio_cpu = med["named"][1] / med["unnamed"][1]
    print(f"named / unnamed: wall x{ratio_wall:.2f}, cpu x{ratio_cpu:.2f} (medians)")


if __name__ == "__main__":
    sys.exit(main())
