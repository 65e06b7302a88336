"""What each strace option of iomonitor's costs over the cheap plain strace.

The live capture's target is the cheap plain strace that records the same
facts, ``strace -f --seccomp-bpf -T -ttt -o FILE -e trace=<iomonitor's set>``
(``capture_overhead.py``). iomonitor's runner asks strace for more; this
runs a workload of ``capture_overhead.py`` under the cheap strace with one
of those additions at a time, and under the runner's whole command line,
every strace writing to a file (no converter), alternating, with one
``SCHED_IDLE`` spinner per CPU as ``capture_overhead.py`` does:

- ``cheap``: the cheap strace itself;
- ``-yy``: fds named with everything (``--decode-fds=all``);
- ``named``: fds named as the runner names them
  (:data:`iomonitor.strace.command.DECODE_FDS`, no devices' numbers);
- ``rest``: ``-s``, ``-e abbrev=!...`` and ``-I 3`` (the runner's other
  options);
- ``tz``: TZ named in strace's environment, ``-E TZ`` for the command's (see
  ``iomonitor.strace.runner._STRACE_TZ``);
- ``runner``: the runner's own command line and environment.

Reported: median wall time and CPU time (strace with the program), each
against ``cheap``. With ``--count``, also the system calls strace itself
makes per run (one run each, strace traced by ``strace -c``): a figure that
the machine's load does not move.

Run: ``python benchmarks/strace_options_cost.py [--runs 9] [--scale 1]
[--workload small_io] [--count]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from capture_overhead import build, idle_spinners, timed

from iomonitor.schema import TRACED_SYSCALLS
from iomonitor.strace.command import DECODE_FDS, STRING_LIMIT, UNABBREVIATED_SYSCALLS
from iomonitor.strace.runner import StraceRunner


def variants(exe: str, log: str) -> dict[str, tuple[list[str], dict[str, str] | None]]:
    """Each way of running strace on ``exe``: its command line and environment."""
    runner = StraceRunner([exe])
    strace = runner.strace
    cheap = [strace, "-f", "--seccomp-bpf", "-T", "-ttt", "-o", log]
    cheap += ["-e", "trace=" + ",".join("?" + n for n in TRACED_SYSCALLS)]
    rest = ["-s", str(STRING_LIMIT), "-I", "3"]
    rest += ["-e", "abbrev=!" + ",".join("?" + n for n in UNABBREVIATED_SYSCALLS)]
    own_tz = {**os.environ, "TZ": ":/etc/localtime"}
    return {
        "cheap": ([*cheap, exe], None),
        "-yy": ([*cheap, "-yy", exe], None),
        "named": ([*cheap, "--decode-fds=" + DECODE_FDS, exe], None),
        "rest": ([*cheap, *rest, exe], None),
        "tz": ([*cheap, "-E", "TZ", exe], own_tz),
        "runner": ([log if a == "<fifo>" else a for a in runner.argv], runner.env),
    }


def count_calls(cmd: list[str], env: dict[str, str] | None, out: Path) -> int:
    """System calls strace makes itself in one run (``strace -c`` on strace, without -f)."""
    subprocess.run(
        ["strace", "-c", "-o", str(out), *cmd],
        env=env,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    for line in out.read_text().splitlines():
        words = line.split()
        if words and words[-1] == "total":
            return int(words[3])
    raise RuntimeError(f"no total in {out}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=9, help="alternating runs per variant (median)")
    ap.add_argument("--scale", type=float, default=1.0, help="the workload's length (as there)")
    ap.add_argument("--workload", default="small_io", help="a workload of capture_overhead.py")
    ap.add_argument("--only", help="comma-separated variants to run (default: all)")
    ap.add_argument("--count", action="store_true", help="also count strace's own system calls")
    ns = ap.parse_args(argv)
    if shutil.which("gcc") is None or shutil.which("chrt") is None:
        sys.exit("strace_options_cost: gcc and chrt are needed")
    with tempfile.TemporaryDirectory(prefix="iomon-opts-") as tmp, idle_spinners(True):
        work = Path(tmp)
        exe = str(build(work, ns.scale)[ns.workload])
        runs = variants(exe, str(work / "x.log"))
        if ns.only:
            keep = {"cheap", *ns.only.split(",")}
            runs = {k: v for k, v in runs.items() if k in keep}
        wall: dict[str, list[float]] = {k: [] for k in runs}
        cpu: dict[str, list[float]] = {k: [] for k in runs}
        for _ in range(ns.runs):
            for name, (cmd, env) in runs.items():
                secs, _, _, (top, below) = timed(cmd, env)
                wall[name].append(secs)
                cpu[name].append(top + below)
        calls = {}
        if ns.count:
            calls = {k: count_calls(c, e, work / "count.txt") for k, (c, e) in runs.items()}
    w = {k: statistics.median(v) for k, v in wall.items()}
    c = {k: statistics.median(v) for k, v in cpu.items()}
    print(f"{ns.workload}, scale {ns.scale}, {ns.runs} runs, medians; ratios against cheap")
    print(f"{'variant':<8} {'wall s':>8} {'ratio':>6} {'cpu s':>8} {'ratio':>6} {'calls':>9}")
    for k in runs:
        n = f"{calls[k]:>9}" if k in calls else ""
        print(
            f"{k:<8} {w[k]:>8.3f} {w[k] / w['cheap']:>6.3f} {c[k]:>8.3f} "
            f"{c[k] / c['cheap']:>6.3f} {n}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
