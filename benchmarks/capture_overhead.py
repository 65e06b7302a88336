"""Capture overhead: a program untraced, under iomonitor, and under plain strace.

Three workloads of our own (C, built here with gcc), each a few seconds long
under strace, so that the figures say what tracing costs a program rather than
what starting Python costs (that fixed cost is the fourth row):

- ``small_io``: 100k small writes and 100k small reads (every call is traced);
- ``processes``: 3000 short-lived processes (fork + exec + exit);
- ``mostly_cpu``: 20M non-I/O system calls with a write every 10k;
- ``startup``: ``/bin/true``, the fixed cost of each way of tracing.

Each runs these ways, alternating, several times:

- ``untraced``;
- ``iomonitor``: ``iomonitor -o X.parquet prog`` (the whole tool: strace,
  parsing, fd tables, Parquet);
- ``iomonitor_ebpf``: the same with ``--backend ebpf`` (when this machine can
  run it: root, BTF, the loader built);
- ``iomonitor_baseline``: with ``--baseline CHECKOUT``, another version's
  ``iomonitor -o X.parquet prog`` (its core built in place), to compare two
  versions in the same run;
- ``strace_cheap``: the cheapest plain strace that records the same facts,
  ``strace -f --seccomp-bpf -T -ttt -o FILE -e trace=<iomonitor's I/O set>``;
- ``strace_classic``: ``strace -f -T -tt -v -o FILE`` (every system call).

Reported: median wall time of the whole run, median time of the traced
program itself (it prints its own elapsed time: what tracing costs the
program, apart from the tool's start, drain and Parquet), ratios against
``strace_cheap``, ``strace_classic`` and ``untraced``, and peak memory (max
RSS of the heaviest process of the run, tracer included), and the CPU time of
iomonitor's own Python process against that of the strace it runs (with the
traced program, which strace reaps) and of the cheap strace alone, read from
each run's ``/proc/PID/stat`` before it is reaped.

Waking an idle CPU is slow on these machines, and ptrace switches CPUs at
every stop, so the idle-CPU effect is controlled the same way for every mode:
one ``SCHED_IDLE`` spinner per CPU (``chrt -i 0``) runs for the whole
benchmark, keeping the CPUs out of idle while taking no time from anything
else (``--no-spin`` turns it off).

Run: ``python benchmarks/capture_overhead.py [--runs N] [--scale F]
[--workloads a,b] [--baseline CHECKOUT] [--json FILE]`` (``--scale 0.1``
gives the short workloads of earlier figures; ``--scale 2 --workloads
small_io`` the issue's 200,000 writes + 200,000 reads of 64 B).
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
from contextlib import contextmanager
from pathlib import Path

from iomonitor.ebpf.runner import unavailable_reason
from iomonitor.schema import TRACED_SYSCALLS
from iomonitor.strace.command import find_strace

#: Every workload prints its own elapsed time last, as "elapsed SECONDS".
ELAPSED = r"""
#include <stdio.h>
#include <time.h>
static struct timespec t0_;
__attribute__((constructor)) static void start_(void) { clock_gettime(CLOCK_MONOTONIC, &t0_); }
__attribute__((destructor)) static void stop_(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    printf("elapsed %.6f\n", (t.tv_sec - t0_.tv_sec) + (t.tv_nsec - t0_.tv_nsec) / 1e9);
}
"""

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


def build_one(workdir: Path, name: str, scale: float, prefix: str) -> Path:
    """Compile workload ``name`` with ``prefix`` (how it reports its time) into ``workdir``."""
    src = workdir / f"{name}.c"
    src.write_text(prefix + PROGRAMS[name])
    exe = workdir / name
    n = max(1, round(COUNTS[name] * scale))
    subprocess.run(["gcc", "-O2", f"-DN={n}L", "-o", str(exe), str(src)], check=True)
    return exe


def build(workdir: Path, scale: float = 1.0) -> dict[str, Path]:
    exes = {name: build_one(workdir, name, scale, ELAPSED) for name in PROGRAMS}
    exes["startup"] = Path("/bin/true")
    return exes


def commands(
    exe: Path, out: Path, strace: str, baseline: Path | None = None
) -> dict[str, list[str]]:
    trace_set = ",".join(f"?{name}" for name in TRACED_SYSCALLS)
    cmds = {
        "untraced": [str(exe)],
        "iomonitor": [sys.executable, "-m", "iomonitor", "-o", str(out / "t.parquet"), str(exe)],
        "iomonitor_ebpf": [
            sys.executable,
            "-m",
            "iomonitor",
            "--backend",
            "ebpf",
            "-o",
            str(out / "e.parquet"),
            str(exe),
        ],
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
    if baseline is not None:
        # As run.py's --baseline: env execs Python, so the process timed is
        # still iomonitor's own; -P keeps the current folder off sys.path.
        cmds["iomonitor_baseline"] = [
            "env",
            f"PYTHONPATH={baseline}",
            sys.executable,
            "-P",
            "-m",
            "iomonitor",
            "-o",
            str(out / "b.parquet"),
            str(exe),
        ]
    return cmds


#: Clock ticks per second of /proc's CPU times.
_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_split(pid: int) -> tuple[float, float]:
    """CPU seconds of an exited, not yet reaped process: its own, and its reaped children's.

    For ``iomonitor`` that is the Python process alone, then strace with the
    traced program (strace reaps it); for a plain strace, strace alone, then
    the program.
    """
    with open(f"/proc/{pid}/stat", "rb") as fh:
        # Fields after the command name (which may hold spaces): utime is the 14th.
        fields = fh.read().rsplit(b")", 1)[1].split()
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    return (utime + stime) / _TICK, (cutime + cstime) / _TICK


def timed(
    cmd: list[str], env: dict[str, str] | None = None
) -> tuple[float, float | None, int, tuple[float, float]]:
    """Wall seconds, the program's own seconds, the peak RSS (KiB) and the CPU split of the run."""
    with tempfile.TemporaryFile() as said:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=said, stderr=subprocess.DEVNULL, env=env)
        # Wait without reaping, so that the zombie's /proc entry still holds its times.
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        cpu = _cpu_split(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"{cmd[:3]}... exited with {proc.returncode}")
        said.seek(0)
        words = said.read().split()
    own = float(words[-1]) if len(words) >= 2 and words[-2] == b"elapsed" else None
    # ru_maxrss of wait4 covers the process and its waited-for descendants.
    return elapsed, own, usage.ru_maxrss, cpu


@contextmanager
def idle_spinners(on: bool):
    """One SCHED_IDLE busy loop per CPU while the block runs (see the module's notes)."""
    procs = []
    if on:
        if shutil.which("chrt") is None:
            sys.exit("capture_overhead: chrt is needed for the idle spinners (or --no-spin)")
        for _ in range(os.cpu_count() or 1):
            procs.append(subprocess.Popen(["chrt", "-i", "0", "sh", "-c", "while :; do :; done"]))
    try:
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()


def _share(part: float, whole: float) -> float | None:
    """``part / whole``, or None when ``whole`` is under one clock tick.

    CPU times come from /proc/PID/stat in clock ticks: a share of less than
    one tick says nothing.
    """
    return part / whole if whole >= 1 / _TICK else None


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{share:.0%}"


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
    ap.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of another version with its core built in place "
        "(python setup.py build_ext --inplace): captured beside this one, alternating",
    )
    ap.add_argument("--workloads", help="comma-separated workloads to run (default: all)")
    ap.add_argument(
        "--no-spin", action="store_true", help="no SCHED_IDLE spinners (CPUs may go idle)"
    )
    ns = ap.parse_args(argv)
    if shutil.which("gcc") is None:
        sys.exit("capture_overhead: gcc is needed to build the workloads")
    strace = find_strace()
    results: dict = {
        "runs": ns.runs,
        "scale": ns.scale,
        "classic_runs": ns.classic_runs,
        "cpus": os.cpu_count(),
        "idle_spinners": not ns.no_spin,
        "workloads": {},
    }
    ebpf_missing = unavailable_reason()
    if ebpf_missing:
        print(f"capture_overhead: no eBPF column: {ebpf_missing}", file=sys.stderr)
    wanted = set(ns.workloads.split(",")) if ns.workloads else None
    with tempfile.TemporaryDirectory(prefix="iomon-bench-") as tmp, idle_spinners(not ns.no_spin):
        work = Path(tmp)
        for name, exe in build(work, ns.scale).items():
            if wanted is not None and name not in wanted:
                continue
            cmds = commands(exe, work, strace, ns.baseline)
            if ns.classic_runs == 0:
                del cmds["strace_classic"]
            if ebpf_missing:
                del cmds["iomonitor_ebpf"]
            times: dict[str, list[float]] = {m: [] for m in cmds}
            own: dict[str, list[float]] = {m: [] for m in cmds}
            rss: dict[str, int] = {m: 0 for m in cmds}
            top_cpu: dict[str, list[float]] = {m: [] for m in cmds}
            below_cpu: dict[str, list[float]] = {m: [] for m in cmds}
            for i in range(ns.runs):
                for mode, cmd in cmds.items():  # alternate modes: noise hits all alike
                    if mode == "strace_classic" and i >= ns.classic_runs:
                        continue
                    secs, own_secs, kib, (top, below) = timed(cmd)
                    times[mode].append(secs)
                    top_cpu[mode].append(top)
                    below_cpu[mode].append(below)
                    if own_secs is not None:
                        own[mode].append(own_secs)
                    rss[mode] = max(rss[mode], kib)
            med = {m: statistics.median(v) for m, v in times.items()}
            med_own = {m: statistics.median(v) for m, v in own.items() if v}
            w = results["workloads"][name] = {
                "median_s": med,
                "program_median_s": med_own,
                "peak_rss_mib": {m: round(k / 1024, 1) for m, k in rss.items()},
                "iomonitor_vs_cheap": med["iomonitor"] / med["strace_cheap"],
                # CPU of the process started, and of what it reaped (see _cpu_split).
                "top_cpu_median_s": {m: statistics.median(v) for m, v in top_cpu.items() if v},
                "below_cpu_median_s": {m: statistics.median(v) for m, v in below_cpu.items() if v},
            }
            # iomonitor's own Python process against the strace it runs (with
            # the program, which strace reaps), and against the cheap strace alone.
            own_py = w["top_cpu_median_s"]["iomonitor"]
            w["iomonitor_python_vs_its_strace"] = _share(
                own_py, w["below_cpu_median_s"]["iomonitor"]
            )
            w["iomonitor_python_vs_cheap_strace"] = _share(
                own_py, w["top_cpu_median_s"]["strace_cheap"]
            )
            if "iomonitor_baseline" in med:
                w["baseline_vs_cheap"] = med["iomonitor_baseline"] / med["strace_cheap"]
            if "strace_classic" in med:
                w["classic_vs_iomonitor"] = med["strace_classic"] / med["iomonitor"]
            if "iomonitor_ebpf" in med:
                w["ebpf_vs_strace_backend"] = med["iomonitor_ebpf"] / med["iomonitor"]
                if med_own.get("untraced") and "iomonitor_ebpf" in med_own:
                    w["ebpf_program_vs_untraced"] = med_own["iomonitor_ebpf"] / med_own["untraced"]
    print(f"{'workload':<12} {'mode':<15} {'median s':>9} {'program s':>10} {'peak MiB':>9}")
    for name, w in results["workloads"].items():
        for mode, secs in w["median_s"].items():
            prog = w["program_median_s"].get(mode)
            prog_s = f"{prog:>10.3f}" if prog is not None else f"{'':>10}"
            print(f"{name:<12} {mode:<15} {secs:>9.3f} {prog_s} {w['peak_rss_mib'][mode]:>9.1f}")
        print(
            f"{name:<12} iomonitor's Python process: "
            f"{w['top_cpu_median_s']['iomonitor']:.2f} s CPU, "
            f"{_percent(w['iomonitor_python_vs_its_strace'])} of its strace + program "
            f"({w['below_cpu_median_s']['iomonitor']:.2f} s), "
            f"{_percent(w['iomonitor_python_vs_cheap_strace'])} of the cheap strace alone "
            f"({w['top_cpu_median_s']['strace_cheap']:.2f} s)"
        )
        classic = w.get("classic_vs_iomonitor")
        print(
            f"{name:<12} iomonitor / strace_cheap = {w['iomonitor_vs_cheap']:.2f}x"
            + (f"; strace_classic / iomonitor = {classic:.1f}x" if classic else "")
        )
        if "baseline_vs_cheap" in w:
            print(f"{name:<12} baseline iomonitor / strace_cheap = {w['baseline_vs_cheap']:.2f}x")
        if "ebpf_vs_strace_backend" in w:
            prog = w.get("ebpf_program_vs_untraced")
            print(
                f"{name:<12} iomonitor --backend ebpf / strace backend = "
                f"{w['ebpf_vs_strace_backend']:.2f}x"
                + (f"; program under eBPF / untraced = {prog:.2f}x" if prog else "")
            )
    if ns.json:
        ns.json.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
