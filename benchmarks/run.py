"""The benchmark suite: one command, a table and ``benchmarks/results.json``.

    python -m benchmarks [--lines 3000000] [--spawn-lines 300000] [--repeats 3]
                         [--big-mb 1000] [--stats-events 10000000] [--capture-runs 5]

1. Generates the logs (``gen_log.py``: real strace output of ``seed/ioloop.c``
   and ``seed/spawn.c``, replicated): ``--lines`` lines of the byte-mover mix
   with ``-yy`` and without, ``--spawn-lines`` of the process-heavy one (many
   short-lived processes, iomonitor's own strace flags), and one of about
   ``--big-mb`` MB for the memory check.
2. Runs, as subprocesses, alternating, ``--repeats`` times each: the plain line
   loop and the one-regex-per-line parser (``yardsticks.py``), and
   ``iomonitor -i LOG -o X.parquet``; wall time and peak RSS per run
   (``measure.py``), medians reported, ratios taken within this run.
3. Converts the big log once (peak RSS must stay flat).
4. ``iomonitor stats`` on a synthetic Parquet trace of ``--stats-events`` events.
5. The capture overhead (``capture_overhead.py``): its workloads of a few
   seconds, ``--capture-runs`` alternating runs (no classic strace: 20M calls
   take it a quarter of an hour), then the same at a tenth of the length with
   one run of the classic strace.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable


def measure(cmd: list[str]) -> dict:
    out = subprocess.run(
        [PY, str(HERE / "measure.py"), *cmd], capture_output=True, text=True, check=True
    )
    res = json.loads(out.stdout)
    if res["status"] != 0:
        raise RuntimeError(f"{cmd} failed: {res.get('stderr')}")
    return res


def commands(log: Path, work: Path) -> dict[str, list[str]]:
    out = str(work / "x.parquet")
    return {
        "plain line loop": [PY, str(HERE / "yardsticks.py"), "loop", str(log)],
        "one regex per line -> DataFrame": [PY, str(HERE / "yardsticks.py"), "regex", str(log)],
        "iomonitor -i LOG -o X.parquet": [PY, "-m", "iomonitor", "-i", str(log), "-o", out],
    }


def bench_log(log: Path, work: Path, repeats: int) -> dict:
    cmds = commands(log, work)
    runs: dict[str, list[dict]] = {name: [] for name in cmds}
    for _ in range(repeats):  # alternate, so that machine noise hits all alike
        for name, cmd in cmds.items():
            runs[name].append(measure(cmd))
    rows = {}
    for name, rs in runs.items():
        rows[name] = {
            "wall_s": statistics.median(r["wall_s"] for r in rs),
            "cpu_s": statistics.median(r["cpu_s"] for r in rs),
            "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in rs),
            "runs_s": [round(r["wall_s"], 2) for r in rs],
        }
    conv = rows["iomonitor -i LOG -o X.parquet"]["wall_s"]
    with open(log, "rb") as fh:
        lines = sum(1 for _ in fh)
    size = log.stat().st_size
    for row in rows.values():
        row["lines_per_s"] = lines / row["wall_s"]
        row["mb_per_s"] = size / 1e6 / row["wall_s"]
        row["mb_per_cpu_s"] = size / 1e6 / row["cpu_s"]
    return {
        "log": str(log.name),
        "lines": lines,
        "mb": round(log.stat().st_size / 1e6),
        "rows": rows,
        "ratio_vs_regex": conv / rows["one regex per line -> DataFrame"]["wall_s"],
        "ratio_vs_loop": conv / rows["plain line loop"]["wall_s"],
    }


def synthetic_parquet(path: Path, n: int) -> None:
    """A Parquet trace with the events schema and ``n`` plausible events."""
    import numpy as np
    import pandas as pd

    from iomonitor import store
    from iomonitor.trace import Trace, events_frame

    rng = np.random.default_rng(1)
    sink = store.open_sink(path)
    files = np.array([f"/data/file{i}" for i in range(200)] + ["10.0.0.1", "stdout"], dtype=object)
    step = 1_000_000
    for start in range(0, n, step):
        k = min(step, n - start)
        fi = rng.integers(0, len(files), k)
        cols = {
            "time": 1795780000.0 + (start + np.arange(k)) * 1e-4,
            "dt": rng.exponential(1e-5, k),
            "pid": rng.integers(1000, 1100, k).astype("int32"),
            "fd": rng.integers(3, 40, k).astype("int32"),
            "dir": np.where(rng.random(k) < 0.5, "R", "W").astype(object),
            "bytes": rng.integers(0, 65536, k),
            "file": files[fi],
            "port": pd.array(np.where(files[fi] == "10.0.0.1", 443, None), dtype="UInt16"),
            "syscall": np.where(rng.random(k) < 0.5, "read", "write").astype(object),
            "kind": np.where(files[fi] == "10.0.0.1", "tcp", "file").astype(object),
            "tgid": np.full(k, 1000, dtype="int32"),
            "comm": np.full(k, "prog", dtype=object),
            "local": np.full(k, None, dtype=object),
        }
        sink.write(events_frame(cols))
    empty = Trace(events_frame({c: [] for c in cols}))
    sink.close(empty.processes, empty.errors, {"mode": "synthetic", "events": n})


def bench_stats(work: Path, n: int, repeats: int) -> dict:
    if not (Path(__file__).resolve().parents[1] / "iomonitor" / "cli" / "stats.py").exists():
        return {"events": n, "status": "not available"}
    path = work / "stats.parquet"
    synthetic_parquet(path, n)
    cmd = [PY, "-m", "iomonitor", "stats", str(path)]
    try:
        rs = [measure(cmd) for _ in range(repeats)]
    except RuntimeError as exc:  # e.g. the stats command is broken right now
        return {"events": n, "status": f"not available: {str(exc)[-200:]}"}
    return {
        "events": n,
        "mb": round(path.stat().st_size / 1e6),
        "wall_s": statistics.median(r["wall_s"] for r in rs),
        "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in rs),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="iomonitor benchmarks")
    ap.add_argument("--lines", type=int, default=3_000_000)
    ap.add_argument(
        "--spawn-lines", type=int, default=300_000, help="process-heavy log; 0 skips it"
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--big-mb", type=int, default=1000, help="0 skips the big log")
    ap.add_argument("--stats-events", type=int, default=10_000_000, help="0 skips stats")
    ap.add_argument("--capture-runs", type=int, default=5, help="capture overhead runs; 0 skips it")
    ap.add_argument("--work", type=Path, help="folder for the logs (default: a temp folder)")
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    ns = ap.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import gen_log

    work = ns.work or Path(tempfile.mkdtemp(prefix="iomonitor-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "logs": [],
    }
    # (workload, -yy, -tt): the byte-mover mix with -yy -ttt, without -y and
    # with -tt, and the process-heavy log.
    logs = [("ioloop", True, False, ns.lines), ("ioloop", False, True, ns.lines)]
    if ns.spawn_lines:
        logs.append(("spawn", True, False, ns.spawn_lines))
    for workload, yy, tt, lines in logs:
        name = "spawn" if workload == "spawn" else "yy" if yy else "plain-tt"
        log = work / f"bench-{name}-{lines}.log"
        if not log.exists():
            gen_log.generate(log, lines, yy=yy, workload=workload, tod=tt)
        row = {"workload": workload, "yy": yy, "tt": tt, **bench_log(log, work, ns.repeats)}
        results["logs"].append(row)
        ns.out.write_text(json.dumps(results, indent=2) + "\n")
    if ns.big_mb:
        lines = ns.big_mb * 1_000_000 // 117
        big = work / f"bench-big-{lines}.log"
        if not big.exists():
            gen_log.generate(big, lines, yy=True)
        cmd = commands(big, work)["iomonitor -i LOG -o X.parquet"]
        res = measure(cmd)
        results["big"] = {"mb": round(big.stat().st_size / 1e6), **res}
        big.unlink()
        ns.out.write_text(json.dumps(results, indent=2) + "\n")
    if ns.stats_events:
        results["stats"] = bench_stats(work, ns.stats_events, ns.repeats)
        ns.out.write_text(json.dumps(results, indent=2) + "\n")
    if ns.capture_runs:
        import capture_overhead

        runs = str(ns.capture_runs)
        results["capture"] = {
            "full": capture_overhead.main(["--runs", runs, "--classic-runs", "0"]),
            "tenth": capture_overhead.main(["--runs", runs, "--scale", "0.1"]),
        }
    ns.out.write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))
    return 0


def report(results: dict) -> str:
    out = [f"machine: {results['machine']['cpus']} cpus, Python {results['machine']['python']}"]
    for r in results["logs"]:
        what = "process-heavy" if r.get("workload") == "spawn" else "byte movers"
        stamps = "-tt" if r.get("tt") else "-ttt"
        out.append(
            f"\n{r['log']}: {r['lines']} lines, {r['mb']} MB, -yy={r['yy']}, {stamps}, {what}"
        )
        out.append(
            f"  {'':34} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'lines/s':>9}"
            f" {'us/line':>8} {'MB/s':>7} {'MB/cpu-s':>8}"
        )
        for name, row in r["rows"].items():
            per_s = row["lines_per_s"]
            out.append(
                f"  {name:34} {row['wall_s']:8.2f} {row['cpu_s']:8.2f} {row['peak_rss_mb']:8.0f}"
                f" {per_s:9.0f} {1e6 / per_s:8.2f} {row['mb_per_s']:7.1f}"
                f" {row['mb_per_cpu_s']:8.1f}"
            )
        out.append(
            f"  iomonitor / regex = {r['ratio_vs_regex']:.2f}x, "
            f"iomonitor / loop = {r['ratio_vs_loop']:.2f}x"
        )
    if "big" in results:
        b = results["big"]
        out.append(
            f"\nbig log {b['mb']} MB: {b['wall_s']:.1f} s, peak RSS {b['peak_rss_mb']:.0f} MB"
        )
    if "stats" in results:
        s = results["stats"]
        if "wall_s" in s:
            out.append(
                f"iomonitor stats, {s['events']} events ({s['mb']} MB Parquet): "
                f"{s['wall_s']:.1f} s, peak RSS {s['peak_rss_mb']:.0f} MB"
            )
        else:
            out.append(f"iomonitor stats, {s['events']} events: {s['status']}")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
