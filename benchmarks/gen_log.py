"""Benchmark logs: real strace output of a small program, replicated to any size.

The seed logs in ``benchmarks/seed/`` are real strace output of two programs
(their sources are beside them; ``--fresh-seed`` compiles and traces again):

``ioloop`` (the default)
    ``strace -f -ttt -T [-yy] -o LOG ./ioloop 40 /tmp/ioloop.dat``: a
    service-like mix dominated by byte movers on long-lived fds.
``spawn``
    ``./spawn 30 /etc/hostname`` under iomonitor's own strace flags (those of
    ``python -m iomonitor -o X.parquet CMD``): process-heavy, every few dozen
    lines a new process (fork, execve, the dynamic loader's
    openat/read/mmap/close, exit), the shape of a shell script's trace.

A generated log is the seed run repeated back to back, as if a script ran the
program again and again: each repeat gets its own pids (every pid the seed
names, in the prefix, in ``clone`` results (whole or resumed), ``wait4``,
``si_pid=`` and ``parent_tid=[...]``, is moved by the same offset), its own
later timestamps, and jittered ``-T`` durations, so pids, fds and times stay
consistent.

    python benchmarks/gen_log.py OUT.log --lines 3000000 [--no-yy] [--tt] \\
        [--workload spawn] [--seed 1]
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED_DIR = HERE / "seed"

_PREFIX = re.compile(r"^(\d+) +(\d+\.\d+) (.*?)(?: <(\d+\.\d+)>)?$")
_PID_SPOTS = (
    r"(?<=si_pid=)(\d+)",
    r"(?<=parent_tid=\[)(\d+)",
    r"(?<=in pid )(\d+)",
    r"^(?:wait4|waitid)\((\d+)",
)
# Children of fork/clone often print before the parent's call returns, which
# then ends in a resumed half: `<... clone resumed>, child_tidptr=0x7f) = 123`.
_RET_PID = re.compile(
    r"^(?:(?:clone3?|fork|vfork|wait4)\(|<\.\.\. (?:clone3?|fork|vfork|wait4) resumed>)"
    r".*\) = (\d+)$"
)
WORKLOADS = ("ioloop", "spawn")


def seed_path(yy: bool, workload: str = "ioloop") -> Path:
    if workload == "spawn":
        return SEED_DIR / "spawn.log.gz"  # iomonitor's own flags: always -yy
    return SEED_DIR / ("ioloop-yy.log.gz" if yy else "ioloop.log.gz")


def iomonitor_strace_flags() -> list[str]:
    """The strace options of a capture (``python -m iomonitor -o X.parquet CMD``)."""
    root = HERE.parent
    code = (
        "import sys, iomonitor; a = iomonitor.load(sys.argv[1]).meta['strace_args'];"
        "i = a.index('-o'); print('\\n'.join(a[1:i] + a[i + 2 : a.index('--')]))"
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = f"{tmp}/x.parquet"
        run = {"cwd": root, "check": True, "capture_output": True, "text": True}
        subprocess.run([sys.executable, "-m", "iomonitor", "-o", out, "/bin/true"], **run)
        flags = subprocess.run([sys.executable, "-c", code, out], **run).stdout
    return flags.splitlines()


def fresh_seed(yy: bool, workload: str = "ioloop") -> Path:
    """Compile the seed program and trace it again; return the new seed log (gzip)."""
    strace, cc = shutil.which("strace"), shutil.which("cc") or shutil.which("gcc")
    if not strace or not cc:
        sys.exit("--fresh-seed needs strace and a C compiler")
    tmp = Path(tempfile.mkdtemp())
    exe = tmp / workload
    subprocess.run([cc, "-O2", "-pthread", "-o", exe, SEED_DIR / f"{workload}.c"], check=True)
    log = tmp / "seed.log"
    if workload == "spawn":
        flags = iomonitor_strace_flags()
        args = [exe, "30", "/etc/hostname"]
    else:
        flags = ["-f", "-ttt", "-T"] + (["-yy"] if yy else [])
        args = [exe, "40", "/tmp/ioloop.dat"]
    # The std streams show in -yy decorations: name nothing of this machine.
    done = subprocess.run(
        [strace, *flags, "-o", log, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd="/tmp",
    )
    if done.returncode:
        sys.exit(f"tracing {workload} failed: {done.stderr.decode(errors='replace')}")
    out = seed_path(yy, workload)
    with open(log, "rb") as src, gzip.open(out, "wb", compresslevel=9) as dst:
        shutil.copyfileobj(src, dst)
    shutil.rmtree(tmp)
    return out


def load_template(path: Path) -> tuple[list[tuple], float, int]:
    """Seed lines as (pid, rel_time, pieces, pids_in_body, dt) plus duration and pid span."""
    with gzip.open(path, "rt", encoding="utf-8", errors="surrogateescape") as fh:
        lines = fh.read().splitlines()
    parsed = []
    for line in lines:
        m = _PREFIX.match(line)
        if m is None:
            raise ValueError(f"seed line not in -f -ttt form: {line!r}")
        parsed.append((int(m.group(1)), float(m.group(2)), m.group(3), m.group(4)))
    pids = {p for p, *_ in parsed}
    t0 = parsed[0][1]
    spots = [re.compile(s) for s in _PID_SPOTS]
    out = []
    for pid, t, body, dt in parsed:
        cuts = []
        for rx in spots:
            cuts += [(m.start(1), m.end(1)) for m in rx.finditer(body) if int(m.group(1)) in pids]
        mr = _RET_PID.match(body)
        if mr and int(mr.group(1)) in pids:
            cuts.append((mr.start(1), mr.end(1)))
        cuts.sort()
        pieces, body_pids, pos = [], [], 0
        for a, b in cuts:
            pieces.append(body[pos:a])
            body_pids.append(int(body[a:b]))
            pos = b
        pieces.append(body[pos:])
        out.append((pid, t - t0, pieces, body_pids, float(dt) if dt is not None else None))
    duration = parsed[-1][1] - t0
    return out, duration, max(pids) - min(pids) + 1


def generate(
    out: Path,
    lines: int,
    yy: bool = True,
    seed: int = 1,
    start: float | None = None,
    workload: str = "ioloop",
    tod: bool = False,
):
    """Write a log of at least ``lines`` lines (whole repeats of the seed run).

    ``tod`` prints ``-tt`` stamps (local time of day) instead of ``-ttt``.
    """
    template, duration, span = load_template(seed_path(yy, workload))
    rng = random.Random(seed)
    base_pid = min(p for p, *_ in template)
    span = span + 3  # a gap between repeats, as other programs run meanwhile
    t = 1795780000.0 if start is None else start
    written = 0
    repeat = 0
    with open(out, "w", encoding="utf-8", errors="surrogateescape", newline="\n") as fh:
        while written < lines:
            off = repeat * span
            if base_pid + off + span >= 4_000_000:  # stay below PID_MAX_LIMIT
                off = (repeat * span) % (4_000_000 - base_pid - span)
            jitter = rng.uniform(0.9, 1.1)
            buf = []
            for pid, rel, pieces, body_pids, dt in template:
                body = pieces[0]
                for p, piece in zip(body_pids, pieces[1:], strict=True):
                    body += str(p + off) + piece
                stamp = _tod(t + rel * jitter) if tod else f"{t + rel * jitter:.6f}"
                # strace -f -o pads pids to five columns (`%-5u `).
                if dt is None:
                    buf.append(f"{pid + off:<5} {stamp} {body}\n")
                else:
                    d = dt * rng.choice((0.5, 0.8, 1.0, 1.0, 1.3, 2.0))
                    buf.append(f"{pid + off:<5} {stamp} {body} <{d:.6f}>\n")
            fh.write("".join(buf))
            written += len(buf)
            t += duration * jitter + rng.uniform(0.001, 0.05)
            repeat += 1
    return written


def _tod(t: float) -> str:
    """``-tt``'s local ``HH:MM:SS.ffffff`` of epoch seconds ``t``."""
    whole = int(t)
    return time.strftime("%H:%M:%S", time.localtime(whole)) + f".{round((t - whole) * 1e6):06d}"[:7]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--lines", type=int, default=3_000_000)
    ap.add_argument("--no-yy", action="store_true", help="use the seed traced without -yy")
    ap.add_argument("--workload", choices=WORKLOADS, default="ioloop")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fresh-seed", action="store_true", help="re-trace the seed program first")
    ap.add_argument("--tt", action="store_true", help="-tt stamps (time of day), not -ttt")
    ns = ap.parse_args(argv)
    if ns.fresh_seed:
        fresh_seed(not ns.no_yy, ns.workload)
    n = generate(ns.out, ns.lines, yy=not ns.no_yy, seed=ns.seed, workload=ns.workload, tod=ns.tt)
    print(f"{ns.out}: {n} lines, {os.path.getsize(ns.out) / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
