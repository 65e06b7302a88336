"""What the eBPF backend costs the traced program itself, per traced call.

The loader alone (no converter: its log goes to ``/dev/null``) runs a
workload of ``capture_overhead.py``, alternating with the untraced workload,
and each run of the workload reports its own wall time and its own CPU time
(user + system, from ``getrusage``: the BPF programs run in the traced
program's system time, so this is what they cost it, apart from whatever
else competes for the CPUs). With ``--bpf-stats`` the kernel also counts each
BPF program's run time (``kernel.bpf_stats_enabled``, restored afterwards),
read with ``bpftool`` while the loader runs: ns per run of the entry and exit
programs (they include the counting's own clock reads, ~40 ns a run here).

Several ``--loader`` builds alternate with each other and with the untraced
run, so that a change can be compared with the build before it
(``python -m iomonitor.ebpf.build DIR`` builds one into ``DIR``).

Run (root): ``python benchmarks/ebpf_call_cost.py [--workload small_io]
[--scale 2] [--runs 5] [--bpf-stats] [--loader PATH ...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from capture_overhead import PROGRAMS, build_one, idle_spinners

from iomonitor.ebpf.runner import LOADER, unavailable_reason

#: Every workload reports its wall and CPU seconds on stderr when it ends.
USAGE = r"""
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
static struct timespec t0_;
__attribute__((constructor)) static void start_(void) { clock_gettime(CLOCK_MONOTONIC, &t0_); }
__attribute__((destructor)) static void stop_(void) {
    struct timespec t;
    struct rusage ru;
    clock_gettime(CLOCK_MONOTONIC, &t);
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr, "elapsed %.6f cpu %.6f\n",
            (t.tv_sec - t0_.tv_sec) + (t.tv_nsec - t0_.tv_nsec) / 1e9,
            ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
                + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
}
"""

#: The BPF programs whose run time --bpf-stats reports (bpftool truncates names to 15).
PROGS = ("on_enter", "on_enter3", "on_exit")


def _said(text: bytes) -> tuple[float, float]:
    m = re.search(rb"elapsed ([\d.]+) cpu ([\d.]+)", text)
    if not m:
        raise RuntimeError(f"the workload did not report its times: {text[-200:]!r}")
    return float(m.group(1)), float(m.group(2))


def untraced(exe: Path) -> tuple[float, float]:
    """Wall and CPU seconds of the workload alone."""
    proc = subprocess.run([str(exe)], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, check=True)
    return _said(proc.stderr)


def _progs() -> list[dict]:
    out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, check=False)
    try:
        return json.loads(out.stdout)
    except ValueError:
        return []


def _prog_stats(before: set[int]) -> dict[str, tuple[int, int]]:
    """Run time (ns) and run count of each of PROGS loaded since ``before`` (program ids).

    A loader still detaching from an earlier run keeps its programs (older
    ids) for seconds; of the newer ones, the first loaded of each name is
    this run's.
    """
    found: dict[str, tuple[int, int, int]] = {}
    for p in _progs():
        name, pid = p.get("name"), p.get("id", 0)
        if name in PROGS and pid not in before and (name not in found or pid < found[name][0]):
            found[name] = (pid, p.get("run_time_ns", 0), p.get("run_cnt", 0))
    return {name: (t, n) for name, (_, t, n) in found.items() if n}


def traced(loader: Path, exe: Path, stats: bool) -> tuple[float, float, dict[str, float]]:
    """Wall and CPU seconds of the workload under the loader, and ns per run of its programs."""
    before = {p.get("id", 0) for p in _progs()} if stats else set()
    null = os.open(os.devnull, os.O_WRONLY)
    status_r, status_w = os.pipe()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [str(loader), "--out-fd", str(null), "--status-fd", str(status_w), "--", str(exe)],
            pass_fds=(null, status_w),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        os.close(null)
        os.close(status_w)
        seen: dict[str, tuple[int, int]] = {}
        ended = threading.Event()

        def poll() -> None:
            # The programs' counters go with them at the detach: keep the last reading.
            while not ended.is_set():
                seen.update(_prog_stats(before))
                time.sleep(0.05)

        poller = threading.Thread(target=poll) if stats else None
        if poller:
            poller.start()
        said = b""
        with os.fdopen(status_r, "rb") as status:
            for line in status:  # "done": the log is closed; the detach follows
                said += line
                if line.startswith(b"done"):
                    break
        ended.set()
        if poller:
            poller.join()
        err.seek(0)
        wall, cpu = _said(err.read())
    if not re.search(rb"^drops 0$", said, re.M):
        raise RuntimeError(f"the loader lost records or failed: {said!r}")
    # Wait for the detach: while any syscall tracepoint stays attached, every
    # system call of every task takes the kernel's slow path, so a run that
    # overlapped the detach (the next untraced run) would be slowed by it.
    proc.wait()
    return wall, cpu, {k: t / n for k, (t, n) in seen.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workload", default="small_io", choices=sorted(PROGRAMS))
    ap.add_argument("--scale", type=float, default=2.0, help="multiply the workload's length")
    ap.add_argument("--runs", type=int, default=5, help="alternating rounds (median)")
    ap.add_argument("--loader", type=Path, action="append", help="a loader build (repeatable)")
    ap.add_argument("--bpf-stats", action="store_true", help="also the programs' ns per run")
    ns = ap.parse_args(argv)
    loaders = ns.loader or [LOADER]
    if ns.loader is None and (why := unavailable_reason()):
        sys.exit(f"ebpf_call_cost: {why}")
    if shutil.which("gcc") is None or (ns.bpf_stats and shutil.which("bpftool") is None):
        sys.exit("ebpf_call_cost: gcc (and bpftool for --bpf-stats) are needed")
    stats_file = Path("/proc/sys/kernel/bpf_stats_enabled")
    stats_before = stats_file.read_text().strip()
    with tempfile.TemporaryDirectory(prefix="iomon-callcost-") as tmp, idle_spinners(True):
        exe = build_one(Path(tmp), ns.workload, ns.scale, USAGE)
        if ns.bpf_stats:
            stats_file.write_text("1")
        try:
            runs: dict[str, list[tuple[float, float]]] = {"untraced": []}
            per_run: dict[str, list[dict[str, float]]] = {}
            for _ in range(ns.runs):
                runs["untraced"].append(untraced(exe))
                for loader in loaders:
                    wall, cpu, prog_ns = traced(loader, exe, ns.bpf_stats)
                    runs.setdefault(str(loader), []).append((wall, cpu))
                    per_run.setdefault(str(loader), []).append(prog_ns)
        finally:
            stats_file.write_text(stats_before)
    base_wall = statistics.median(w for w, _ in runs["untraced"])
    base_cpu = statistics.median(c for _, c in runs["untraced"])
    print(f"{ns.workload} x{ns.scale}, {ns.runs} alternating rounds, load {os.getloadavg()}")
    for name, got in runs.items():
        wall = statistics.median(w for w, _ in got)
        cpu = statistics.median(c for _, c in got)
        line = (
            f"{name}: wall {wall:.3f} s ({wall / base_wall:.2f}x), "
            f"cpu {cpu:.3f} s ({cpu / base_cpu:.2f}x)"
        )
        for prog in PROGS:
            vals = [r[prog] for r in per_run.get(name, []) if prog in r]
            if vals:
                line += f", {prog} {statistics.median(vals):.0f} ns/run"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
