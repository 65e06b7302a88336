"""Record the golden logs and regenerate the golden outputs, only on purpose.

The golden outputs pin what the converter gives for a set of logs: the sample
logs of ``data/``, the benchmark seeds, and logs of the ground-truth programs
(``tests/programs``) recorded once under every log shape iomonitor reads.
``tests/unit/test_golden.py`` converts each log again and requires the same
events (all columns, row for row), processes, failed calls and counters.

usage::

    python tests/golden/make_golden.py record   # run the programs under strace again
    python tests/golden/make_golden.py update   # rewrite the outputs from the logs

``update`` is for a change of semantics that the commit says and a test
guards; ``record`` replaces the inputs themselves (new strace, new shapes).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LOGS = HERE / "logs"
OUT = HERE / "out"
PROGRAMS = ROOT / "tests" / "programs"

#: Where the programs run while recording: a fixed, neutral folder, so that the
#: paths inside the logs are the same on every machine that records them.
WORK = Path("/tmp/iomonitor-golden")

#: The log shapes: name -> strace flags (always with -f -o, except "stderr").
SHAPES: dict[str, tuple[str, ...]] = {
    "ttt-T-yy": ("-ttt", "-T", "-yy"),
    "tt-T-yy": ("-tt", "-T", "-yy"),
    "tt-T": ("-tt", "-T"),
    "t-y": ("-t", "-y"),
    "r-T-yy": ("-r", "-T", "-yy"),
    "ns-T-yy": ("--absolute-timestamps=unix,ns", "-T", "-yy"),
    "Y-tt-T": ("-Y", "-tt", "-T"),
    "tt-T-yy-xx": ("-tt", "-T", "-yy", "-xx"),
    "ttt": ("-ttt",),
    # No -o: strace writes to stderr, with `[pid N]` prefixes and its own messages.
    "stderr-tt-T-yy": ("-tt", "-T", "-yy"),
}

#: Program runs: name -> (program, extra arguments), each under every shape.
RUNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "torture": ("torture", ("7", "60")),
    "pipes": ("pipes", ()),
    "dup_fds": ("dup_fds", ()),
    "clone_files": ("clone_files", ()),
    "chdir_open": ("chdir_open", ()),
    "inet_tcp4": ("inet", ("tcp4",)),
    "inet_udp6": ("inet", ("udp6",)),
    "mmsg": ("mmsg", ()),
    "copy_calls": ("copy_calls", ()),
    "exec_cloexec": ("exec_cloexec", ()),
    "rw_vectors": ("rw_vectors", ()),
}

#: The fixed date of time-of-day logs (their file dates vary with checkouts).
DATE = "2026-01-05"


def golden_inputs() -> dict[str, Path]:
    """Every golden log: name -> path (gzip-compressed logs are read as they are)."""
    inputs = {f"data-{p.stem}": p for p in sorted((ROOT / "data").glob("*.log"))}
    for p in sorted((ROOT / "benchmarks" / "seed").glob("*.log.gz")):
        inputs[f"seed-{p.name.removesuffix('.log.gz')}"] = p
    for p in sorted(LOGS.glob("*.log.gz")):
        inputs[p.name.removesuffix(".log.gz")] = p
    return inputs


def _build(tmp: Path) -> dict[str, Path]:
    exes = {}
    for src in sorted(PROGRAMS.glob("*.c")):
        exe = tmp / src.stem
        cmd = ["gcc", "-O0", "-pthread", "-Wall", "-o", str(exe), str(src)]
        if src.stem == "iowriter":
            cmd.insert(1, "-static")
        subprocess.run(cmd, check=True)
        exes[src.stem] = exe
    return exes


def record() -> None:
    """Run every program under every shape and keep the logs (gzip)."""
    LOGS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        exes = _build(Path(tmp))
        for run, (program, extra) in RUNS.items():
            for shape, flags in SHAPES.items():
                shutil.rmtree(WORK, ignore_errors=True)
                out = WORK / "out"
                out.mkdir(parents=True)
                argv = [str(exes[program]), str(out), *extra]
                if program == "exec_cloexec":
                    argv.append(str(exes["iowriter"]))
                log = WORK / "strace.log"
                to_file = not shape.startswith("stderr")
                cmd = ["strace", "-f", *(["-o", str(log)] if to_file else []), *flags, *argv]
                done = subprocess.run(cmd, cwd=out, check=True, capture_output=True, timeout=120)
                data = log.read_bytes() if to_file else done.stderr
                data = data.replace(tmp.encode(), b"/opt/iomonitor-programs")
                (LOGS / f"{run}.{shape}.log.gz").write_bytes(gzip.compress(data, mtime=0))
        shutil.rmtree(WORK, ignore_errors=True)


def convert(path: Path) -> dict[str, object]:
    """Convert one golden log as ``-i`` does: events, processes, errors, counters."""
    import datetime as dt

    from iomonitor import store

    if path.suffix == ".gz":
        with tempfile.TemporaryDirectory() as tmp:
            plain = Path(tmp) / path.name.removesuffix(".gz")
            plain.write_bytes(gzip.decompress(path.read_bytes()))
            os.utime(plain, (0, 0))
            return convert(plain)
    # Time-of-day stamps are local times: pin the zone so that every machine agrees.
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        trace = store.read_log(path, date=dt.date.fromisoformat(DATE), cwd=str(WORK / "out"))
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()
    meta = {k: v for k, v in trace.meta.items() if k not in ("source",)}
    return {
        "events": trace.events,
        "processes": trace.processes,
        "errors": trace.errors,
        "meta": meta,
    }


def update() -> None:
    """Rewrite every golden output from its log with the converter of this checkout."""
    OUT.mkdir(exist_ok=True)
    for name, path in golden_inputs().items():
        got = convert(path)
        got["events"].to_parquet(OUT / f"{name}.events.parquet", index=False)
        got["processes"].to_parquet(OUT / f"{name}.processes.parquet", index=False)
        got["errors"].to_parquet(OUT / f"{name}.errors.parquet", index=False)
        (OUT / f"{name}.meta.json").write_text(
            json.dumps(got["meta"], indent=1, sort_keys=True, default=str) + "\n"
        )
        print(f"{name}: {len(got['events'])} events")


if __name__ == "__main__":
    commands = {"record": record, "update": update}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]]()
