"""How long `iomonitor plot` and `iomonitor report` take on a large trace, and how much memory.

Writes a synthetic, schema-correct trace of ``--events`` events (10 million by
default) as Parquet, then runs ``iomonitor plot`` for every kind and
``iomonitor report`` on it, each in its own process, and prints the wall time
and the peak resident memory of each run::

    python benchmarks/plot_report_scale.py [--events 10000000] [--dir DIR] [--keep]

The trace is queried on disk by the analysis engine, so memory should not
grow with the events. The ``read`` line is the floor under every other
figure: a process that only scans every column of the trace with the engine
and aggregates nothing.

The trace: 40 processes (some with several threads) over ten minutes, reading
and writing 5,000 files, pipes between them, TCP and UDP peers and UNIX
sockets, with power-law call sizes and log-normal call durations.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from iomonitor import schema, store
from iomonitor.trace import empty_table, events_frame, rows_frame

CHUNK = 1_000_000
DURATION = 600.0
START = 1_700_000_000.0
PROCESSES = 40
KINDS = ("bandwidth", "cumulative", "timeline", "sizes", "latency", "flow")
JOBS = ("read", *KINDS, "report")

#: Scans every column of argv[1] and nothing else: the reading's own cost.
READ_ONLY = """\
import sys
from iomonitor import store
scan = store.scan(sys.argv[1]).scan
scan.query("SELECT " + ", ".join(f'count("{c}")' for c in scan.columns) + " FROM {events}")
"""


def _names() -> tuple[list[str], list[str]]:
    """Every fd target of the trace and its kind."""
    names: list[str] = []
    kinds: list[str] = []
    for i in range(5000):
        names.append(f"/srv/data/set{i % 50:02d}/part-{i:05d}.bin")
        kinds.append("file")
    for lib in ("libc.so.6", "libm.so.6", "libz.so.1", "libssl.so.3"):
        names.append(f"/usr/lib/x86_64-linux-gnu/{lib}")
        kinds.append("file")
    for i in range(12):
        names.append(f"pipe:[{40000 + i}]")
        kinds.append("pipe")
    for i in range(6):
        names.append(f"10.0.{i}.7")
        kinds.append("tcp")
    names.append("10.0.9.53")
    kinds.append("udp")
    for i in range(3):
        names.append(f"unix:[{50000 + i}]")
        kinds.append("unix")
    names += ["stdout", "stderr", "/dev/null"]
    kinds += ["tty", "tty", "dev"]
    return names, kinds


def _processes() -> tuple[pd.DataFrame, np.ndarray, np.ndarray, list[str], np.ndarray]:
    """The processes table; each thread's pid, tgid, program and (start, end) in seconds."""
    comms = ["make", "sh", "cc1", "as", "ld", "python3", "gzip", "curl"]
    rows = []
    pids, tgids, programs, lives = [], [], [], []
    pid = 1000
    for p in range(PROCESSES):
        tgid = pid
        start = START + (0.0 if p == 0 else DURATION * p / (PROCESSES + 5))
        end = START + DURATION if p == 0 else min(START + DURATION, start + DURATION / 3)
        comm = comms[p % len(comms)]
        threads = 1 + (p % 4 == 3) * 3
        for t in range(threads):
            rows.append(
                {
                    "pid": pid,
                    "ppid": None if p == 0 else 1000,
                    "tgid": tgid,
                    "comm": comm,
                    "argv": f"{comm} job{p}",
                    "start": start,
                    "end": end,
                    "exit_code": 0,
                    "signal": None,
                }
            )
            pids.append(pid)
            tgids.append(tgid)
            programs.append(comm)
            lives.append((start, end))
            pid += 1 if t < threads - 1 else 7
    return rows_frame("processes", rows), np.array(pids), np.array(tgids), programs, np.array(lives)


#: The host every synthetic trace names in its metadata.
HOST = "synthetic"


def run_id(seed: int) -> str:
    """The fixed run id of the trace made with ``seed``: the same trace is the same run.

    A trace cut into files (``analysis_scale.split``) is thus one run;
    traces of other seeds are other runs.
    """
    return f"{pd.Timestamp(START, unit='s', tz='UTC'):%Y%m%dT%H%M%SZ}-{seed:04x}"


def write_trace(path: Path, events: int, seed: int = 7) -> None:
    """Write a synthetic trace of ``events`` events to ``path`` (Parquet), run :func:`run_id`."""
    rng = np.random.default_rng(seed)
    names, name_kinds = _names()
    kind_of = np.array(name_kinds)
    procs, pids, tgids, programs, lives = _processes()
    sink = store.ParquetSink(path)
    written = 0
    while written < events:
        n = min(CHUNK, events - written)
        lo = START + DURATION * written / events
        hi = START + DURATION * (written + n) / events
        times = np.sort(rng.uniform(lo, hi, n))
        # Each call belongs to a thread of a process alive at that time.
        thread = rng.integers(0, len(pids), n)
        alive = (times >= lives[thread, 0]) & (times <= lives[thread, 1])
        thread = np.where(alive, thread, 0)  # the first process lives throughout
        target = np.minimum(rng.zipf(1.3, n) - 1, len(names) - 1)
        target = (target * 7919 + thread) % len(names)  # spread the busy names around
        kinds = kind_of[target]
        direction = rng.choice(np.array(["R", "W", "M"]), n, p=[0.55, 0.4, 0.05])
        direction = np.where((direction == "M") & (kinds != "file"), "R", direction)
        size = np.minimum(2 ** rng.integers(0, 21, n) + rng.integers(0, 512, n), 1 << 21)
        size = np.where(rng.random(n) < 0.03, 0, size)
        socket = np.isin(kinds, ("tcp", "udp", "unix"))
        syscall = np.where(
            direction == "M",
            "mmap",
            np.where(
                socket,
                np.where(direction == "R", "recvfrom", "sendto"),
                np.where(direction == "R", "read", "write"),
            ),
        )
        inet = np.isin(kinds, ("tcp", "udp"))
        port = pd.arrays.IntegerArray(np.where(inet, 443 + (target % 3), 0).astype("uint16"), ~inet)
        local = np.where(inet, np.char.add("10.0.0.2:", (40000 + target % 20).astype(str)), None)
        cols = {
            "time": times,
            "dt": rng.lognormal(-10.5, 1.2, n),
            "pid": pids[thread],
            "fd": 3 + target % 60,
            "dir": direction,
            "bytes": size,
            "file": pd.Categorical.from_codes(target, names),
            "port": port,
            "syscall": syscall,
            "kind": kinds,
            "tgid": tgids[thread],
            "comm": np.array(programs, dtype=object)[thread],
            "local": local,
        }
        sink.write(events_frame(cols))
        written += n
    meta = {
        "mode": "synthetic",
        "command": ["synthetic", f"{events} events"],
        "start": pd.Timestamp(START, unit="s", tz="UTC").isoformat(),
        "end": pd.Timestamp(START + DURATION, unit="s", tz="UTC").isoformat(),
        "schema_version": schema.SCHEMA_VERSION,
        "events": events,
        **dict.fromkeys(
            ("unparsed_lines", "unseen_bytes", "unknown_fds", "io_uring_calls", "aio_calls"), 0
        ),
        "failed_calls": 0,
        "host": HOST,
        "run": run_id(seed),
    }
    sink.close(procs, empty_table("errors"), meta)


#: Runs argv[1:] and prints its peak resident memory (KiB) and exit status.
#: Linux keeps a process's peak across fork and exec, so a command started
#: straight from this (large) process would report this process's peak: the
#: small launcher in between starts it from a fresh, small one.
LAUNCHER = """\
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def write_dataset(folder: Path, events: int, files: int) -> int:
    """Write ``events`` synthetic events as ``files`` Parquet parts in ``folder``; its bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    per_file = -(-events // files)
    for i in range(files):
        write_trace(folder / f"part-{i}.parquet", min(per_file, events - i * per_file), seed=7 + i)
    return sum(f.stat().st_size for f in folder.glob("*.parquet"))


def measure(argv: list[str]) -> tuple[float, int, int]:
    """Run ``argv``; return (seconds, peak resident KiB, exit status)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *argv], capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - started
    peak, status = (int(x) for x in done.stdout.split())
    if status != 0:
        print(f"  failed ({status}): {done.stderr.strip()}", file=sys.stderr)
    return elapsed, peak, status


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--dir", type=Path, help="work here (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the trace and outputs")
    ap.add_argument("--only", choices=JOBS, action="append", help="run only these")
    ns = ap.parse_args()
    work = ns.dir or Path(tempfile.mkdtemp(prefix="iomonitor-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    trace = work / f"synthetic-{ns.events}.parquet"
    try:
        if not trace.exists():
            started = time.perf_counter()
            write_trace(trace, ns.events)
            took = time.perf_counter() - started
            size = trace.stat().st_size / 2**20
            print(f"wrote {ns.events:,} events in {took:.1f} s: {size:.0f} MiB")
        cli = [sys.executable, "-m", "iomonitor"]
        jobs = [("read", [sys.executable, "-c", READ_ONLY, str(trace)])]
        jobs += [
            (k, [*cli, "plot", str(trace), "-o", str(work / f"{k}.png"), "--kind", k])
            for k in KINDS
        ]
        jobs.append(("report", [*cli, "report", str(trace), "-o", str(work / "report.html")]))
        print(f"{'command':<12} {'seconds':>8} {'peak MiB':>9}")
        failed = 0
        for name, argv in jobs:
            if ns.only and name not in ns.only:
                continue
            seconds, peak, status = measure(argv)
            failed += status != 0
            print(f"{name:<12} {seconds:8.1f} {peak / 1024:9.0f}", flush=True)
        return 1 if failed else 0
    finally:
        if not ns.keep and ns.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
