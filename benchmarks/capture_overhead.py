"""Capture overhead: a program untraced, under iomonitor, and under plain strace.

Three workloads of our own (C, built here with gcc), each a few seconds long
under strace, so that the figures say what tracing costs a program rather than
what starting Python costs (that fixed cost is the fourth row):

- ``small_io``: 100k small writes and 100k small reads (every call is traced);
- ``processes``: 3000 short-lived processes (fork + exec + exit);
- ``mostly_cpu``: 20M non-I/O system calls with a write every 10k;
- ``startup``: ``/bin/true``, the fixed cost of each way of tracing.

Each runs four ways, alternating, several times:

- ``untraced``;
- ``iomonitor``: ``iomonitor -o X.parquet prog`` (the whole tool: strace,
  parsing, fd tables, Parquet);
- ``strace_cheap``: the cheapest plain strace that records the same facts,
  ``strace -f --seccomp-bpf -T -ttt -o FILE -e trace=<iomonitor's I/O set>``;
- ``strace_classic``: ``strace -f -T -tt -v -o FILE`` (every system call).

Reported: median wall time, ratios against ``strace_cheap`` and
``strace_classic``, and peak memory (max RSS of the heaviest process of the
run, tracer included).

Run: ``python benchmarks/capture_overhead.py [--runs N] [--scale F] [--json FILE]``
(``--scale 0.1`` gives the short workloads of earlier figures).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from iomonitor.strace.runner import TRACED_SYSCALLS, find_strace

PROGRAMS = {
    "small_io": r"""
#include <fcntl.h>
#include <unistd.h>
int main(void) {
    char buf[64] = {0};
    int out = open("/dev/null", O_WRONLY), in = open("/dev/zero", O_RDONLY);
    for (long i = 0; i < N; i++) {
        write(out, buf, sizeof buf);
        read(in, buf, sizeof buf);
    }
    return 0;
}
""",
    "processes": r"""
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    for (long i = 0; i < N; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            execl("/bin/true", "true", (char *)0);
            _exit(127);
        }
        waitpid(pid, 0, 0);
    }
    return 0;
}
""",
    "mostly_cpu": r"""
#include <fcntl.h>
#include <unistd.h>
int main(void) {
    int out = open("/dev/null", O_WRONLY);
    long sum = 0;
    for (long i = 0; i < N; i++) {
        sum += getppid();
        if (i % 10000 == 0)
            write(out, "tick\n", 5);
    }
    return sum == 42;
}
""",
}


#: Loop counts (``N``) of the workloads at ``--scale 1``.
COUNTS = {"small_io": 100_000, "processes": 3_000, "mostly_cpu": 20_000_000}


def build(workdir: Path, scale: float = 1.0) -> dict[str, Path]:
    exes = {}
    for name, source in PROGRAMS.items():
        src = workdir / f"{name}.c"
        src.write_text(source)
        exe = workdir / name
        n = max(1, round(COUNTS[name] * scale))
        subprocess.run(["gcc", "-O2", f"-DN={n}L", "-o", str(exe), str(src)], check=True)
        exes[name] = exe
    exes["startup"] = Path("/bin/true")
    return exes


def commands(exe: Path, out: Path, strace: str) -> dict[str, list[str]]:
    trace_set = ",".join(f"?{name}" for name in TRACED_SYSCALLS)
    return {
        "untraced": [str(exe)],
        "iomonitor": [sys.executable, "-m", "iomonitor", "-o", str(out / "t.parquet"), str(exe)],
        "strace_cheap": [
            strace,
            "-f",
            "--seccomp-bpf",
            "-T",
            "-ttt",
            "-o",
            str(out / "cheap.log"),
            "-e",
            f"trace={trace_set}",
            str(exe),
        ],
        "strace_classic": [
            strace,
            "-f",
            "-T",
            "-tt",
            "-v",
            "-o",
            str(out / "classic.log"),
            str(exe),
        ],
    }


def timed(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and the peak RSS (KiB) of the largest process of the run."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]}... exited with {proc.returncode}")
    # ru_maxrss of wait4 covers the process and its waited-for descendants.
    return elapsed, usage.ru_maxrss


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="alternating runs per mode (median)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the workloads' lengths")
    ap.add_argument(
        "--classic-runs",
        type=int,
        default=1,
        help="runs of the classic strace (every call; 20M getppid take it ~15 min): "
        "the first N rounds only, 0 for none",
    )
    ap.add_argument("--json", type=Path, help="also write the results here")
    ns = ap.parse_args(argv)
    if shutil.which("gcc") is None:
        sys.exit("capture_overhead: gcc is needed to build the workloads")
    strace = find_strace()
    results: dict = {
        "runs": ns.runs,
        "scale": ns.scale,
        "classic_runs": ns.classic_runs,
        "cpus": os.cpu_count(),
        "workloads": {},
    }
    with tempfile.TemporaryDirectory(prefix="iomon-bench-") as tmp:
        work = Path(tmp)
        for name, exe in build(work, ns.scale).items():
            cmds = commands(exe, work, strace)
            if ns.classic_runs == 0:
                del cmds["strace_classic"]
            times: dict[str, list[float]] = {m: [] for m in cmds}
            rss: dict[str, int] = {m: 0 for m in cmds}
            for i in range(ns.runs):
                for mode, cmd in cmds.items():  # alternate modes: noise hits all alike
                    if mode == "strace_classic" and i >= ns.classic_runs:
                        continue
                    secs, kib = timed(cmd)
                    times[mode].append(secs)
                    rss[mode] = max(rss[mode], kib)
            med = {m: statistics.median(v) for m, v in times.items()}
            results["workloads"][name] = {
                "median_s": med,
                "peak_rss_mib": {m: round(k / 1024, 1) for m, k in rss.items()},
                "iomonitor_vs_cheap": med["iomonitor"] / med["strace_cheap"],
            }
            if "strace_classic" in med:
                results["workloads"][name]["classic_vs_iomonitor"] = (
                    med["strace_classic"] / med["iomonitor"]
                )
    print(f"{'workload':<12} {'mode':<15} {'median s':>9} {'peak MiB':>9}")
    for name, w in results["workloads"].items():
        for mode, secs in w["median_s"].items():
            print(f"{name:<12} {mode:<15} {secs:>9.3f} {w['peak_rss_mib'][mode]:>9.1f}")
        classic = w.get("classic_vs_iomonitor")
        print(
            f"{name:<12} iomonitor / strace_cheap = {w['iomonitor_vs_cheap']:.2f}x"
            + (f"; strace_classic / iomonitor = {classic:.1f}x" if classic else "")
        )
    if ns.json:
        ns.json.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
