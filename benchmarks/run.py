"""The benchmark suite: one command, a table and ``benchmarks/results.json``.

    python -m benchmarks [--lines 3000000] [--spawn-lines 300000 ...] [--repeats 3]
                         [--big-mb 1000] [--stats-events 10000000] [--capture-runs 5]
                         [--baseline CHECKOUT]

1. Generates the logs (``gen_log.py``: real strace output of ``seed/ioloop.c``
   and ``seed/spawn.c``, replicated): ``--lines`` lines of the byte-mover mix
   with ``-yy`` and without (``--lines 0`` skips them), ``--spawn-lines`` of
   the process-heavy one (many short-lived processes, iomonitor's own strace
   flags; one log per size given, as start-up weighs on a small one), and one of about
   ``--big-mb`` MB for the memory check.
2. Runs, as subprocesses, alternating, ``--repeats`` times each: the plain line
   loop and the one-regex-per-line parser (``yardsticks.py``), and
   ``iomonitor -i LOG -o X.parquet``; wall time and peak RSS per run
   (``measure.py``), medians reported, ratios taken within this run; with
   ``--baseline``, another version's conversion beside this one's.
3. Converts the big log once (peak RSS must stay flat).
4. ``iomonitor stats``, ``plot`` and ``report`` on a synthetic Parquet trace of
   ``--stats-events`` events, as one file and as a dataset of 4 parts, beside
   the same queries written directly for the engine (``analysis_scale.py``).
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


#: The name of the conversion's row; the baseline's is BASELINE.
CONVERT = "iomonitor -i LOG -o X.parquet"
BASELINE = "baseline iomonitor (--baseline)"


def commands(log: Path, work: Path, baseline: Path | None = None) -> dict[str, list[str]]:
    out = str(work / "x.parquet")
    cmds = {
        "plain line loop": [PY, str(HERE / "yardsticks.py"), "loop", str(log)],
        "one regex per line -> DataFrame": [PY, str(HERE / "yardsticks.py"), "regex", str(log)],
        CONVERT: [PY, "-m", "iomonitor", "-i", str(log), "-o", out],
    }
    if baseline is not None:
        # Another checkout's iomonitor (its core built in place), by the same
        # Python; -P keeps the current folder off sys.path so PYTHONPATH wins.
        cmds[BASELINE] = [
            "env",
            f"PYTHONPATH={baseline}",
            PY,
            "-P",
            "-m",
            "iomonitor",
            "-i",
            str(log),
            "-o",
            str(work / "baseline.parquet"),
        ]
    return cmds


def bench_log(log: Path, work: Path, repeats: int, baseline: Path | None = None) -> dict:
    cmds = commands(log, work, baseline)
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
    conv = rows[CONVERT]["wall_s"]
    with open(log, "rb") as fh:
        lines = sum(1 for _ in fh)
    size = log.stat().st_size
    for row in rows.values():
        row["lines_per_s"] = lines / row["wall_s"]
        row["mb_per_s"] = size / 1e6 / row["wall_s"]
        row["mb_per_cpu_s"] = size / 1e6 / row["cpu_s"]
    extra = {}
    if baseline is not None:
        extra["cpu_ratio_vs_baseline"] = rows[CONVERT]["cpu_s"] / rows[BASELINE]["cpu_s"]
    return {
        **extra,
        "log": str(log.name),
        "lines": lines,
        "mb": round(log.stat().st_size / 1e6),
        "rows": rows,
        "ratio_vs_regex": conv / rows["one regex per line -> DataFrame"]["wall_s"],
        "ratio_vs_loop": conv / rows["plain line loop"]["wall_s"],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="iomonitor benchmarks")
    ap.add_argument("--lines", type=int, default=3_000_000, help="byte-mover logs; 0 skips them")
    ap.add_argument(
        "--spawn-lines",
        type=int,
        nargs="+",
        default=[300_000],
        help="process-heavy log(s), one per size given; 0 skips it",
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--big-mb", type=int, default=1000, help="0 skips the big log")
    ap.add_argument(
        "--stats-events", type=int, default=10_000_000, help="stats/plot/report; 0 skips them"
    )
    ap.add_argument("--capture-runs", type=int, default=5, help="capture overhead runs; 0 skips it")
    ap.add_argument("--work", type=Path, help="folder for the logs (default: a temp folder)")
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    ap.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of another version with its core built in place "
        "(python setup.py build_ext --inplace): converted beside this one, alternating",
    )
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
    logs = (
        [("ioloop", True, False, ns.lines), ("ioloop", False, True, ns.lines)] if ns.lines else []
    )
    logs += [("spawn", True, False, n) for n in ns.spawn_lines if n]
    for workload, yy, tt, lines in logs:
        name = "spawn" if workload == "spawn" else "yy" if yy else "plain-tt"
        log = work / f"bench-{name}-{lines}.log"
        if not log.exists():
            gen_log.generate(log, lines, yy=yy, workload=workload, tod=tt)
        row = {
            "workload": workload,
            "yy": yy,
            "tt": tt,
            **bench_log(log, work, ns.repeats, ns.baseline),
        }
        results["logs"].append(row)
        ns.out.write_text(json.dumps(results, indent=2) + "\n")
    if ns.big_mb:
        lines = ns.big_mb * 1_000_000 // 117
        big = work / f"bench-big-{lines}.log"
        if not big.exists():
            gen_log.generate(big, lines, yy=True)
        cmd = commands(big, work)[CONVERT]
        res = measure(cmd)
        results["big"] = {"mb": round(big.stat().st_size / 1e6), **res}
        big.unlink()
        ns.out.write_text(json.dumps(results, indent=2) + "\n")
    if ns.stats_events:
        import analysis_scale

        results["analysis"] = analysis_scale.run(work, ns.stats_events, 4, ns.repeats)
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
            + (
                f", iomonitor / baseline = {r['cpu_ratio_vs_baseline']:.2f}x (CPU)"
                if "cpu_ratio_vs_baseline" in r
                else ""
            )
        )
    if "big" in results:
        b = results["big"]
        out.append(
            f"\nbig log {b['mb']} MB: {b['wall_s']:.1f} s, peak RSS {b['peak_rss_mb']:.0f} MB"
        )
    if "analysis" in results:
        import analysis_scale

        out.append(analysis_scale.report(results["analysis"]))
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
