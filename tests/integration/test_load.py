"""Torture and load: many processes, threads and fd changes; lots of events.

The torture program (``tests/programs/torture.c``) makes thousands of
fork/vfork+execve/clone/pthread/dup/close_range/SCM_RIGHTS operations in a
seeded random order and counts every byte it writes per file in shared memory;
each file's total must come out exactly, from logs with and without ``-yy``
and from a live capture. The load program (``tests/programs/load.c``) makes a
known number of events: one million writes, 200 threads alive at once, 1000
short-lived processes; every event must be there and the conversion's memory
must not grow with the log.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import iomonitor

pytestmark = pytest.mark.strace

TORTURE_FLAGS = {
    "ttt-T": ("-ttt", "-T"),
    "ttt-T-yy": ("-ttt", "-T", "-yy"),
    "tt": ("-tt",),
}


def manifest(notes: dict[str, str], out: Path) -> dict[str, int]:
    """file path -> bytes the program wrote there (and the file's size agrees)."""
    files = {str(out / k[5:]): int(v) for k, v in notes.items() if k.startswith("file.")}
    for path, n in files.items():
        assert os.path.getsize(path) == n, f"{path}: size {os.path.getsize(path)}, manifest {n}"
    return files


def totals(trace: iomonitor.Trace, out: Path) -> dict[str, int]:
    ev = trace.events
    mine = ev[ev["file"].astype(str).str.startswith(f"{out}/")]
    assert set(mine["dir"].astype(str)) <= {"W"}, "the torture program only writes its files"
    return {str(k): int(v) for k, v in mine.groupby("file", observed=True)["bytes"].sum().items()}


def check_torture(trace: iomonitor.Trace, notes: dict[str, str], out: Path) -> None:
    expected = manifest(notes, out)
    got = totals(trace, out)
    assert got == expected, "\n".join(
        f"{f}: expected {expected.get(f)}, got {got.get(f)}"
        for f in sorted(set(expected) | set(got))
        if expected.get(f) != got.get(f)
    )
    unknown = trace.events[trace.events["file"].astype(str).str.startswith("unknown:")]
    assert unknown.empty, unknown.to_string()
    assert trace.meta["unknown_fds"] == 0
    assert trace.meta["unparsed_lines"] == 0
    # Every child the program made is in the processes table (plus the program).
    assert len(trace.processes) >= int(notes["processes"]) + 1


def run_torture_log(programs, strace_run, tmp_path: Path, flags, seed: int, ops: int):
    out = tmp_path / "out"
    out.mkdir()
    run = strace_run(
        tmp_path / "strace.log",
        flags,
        [str(programs["torture"]), str(out), str(seed), str(ops)],
        tmp_path,
    )
    return iomonitor.convert_log(str(run.log)), run.notes, out


@pytest.mark.parametrize("flag_id", list(TORTURE_FLAGS))
@pytest.mark.parametrize("seed", [1, 2])
def test_torture_log(programs, strace_run, tmp_path, flag_id, seed) -> None:
    trace, notes, out = run_torture_log(
        programs, strace_run, tmp_path, TORTURE_FLAGS[flag_id], seed, 300
    )
    check_torture(trace, notes, out)


@pytest.mark.slow
@pytest.mark.parametrize("flag_id", list(TORTURE_FLAGS))
@pytest.mark.parametrize("seed", [3, 4, 5])
def test_torture_log_thousands(programs, strace_run, tmp_path, flag_id, seed) -> None:
    trace, notes, out = run_torture_log(
        programs, strace_run, tmp_path, TORTURE_FLAGS[flag_id], seed, 4000
    )
    check_torture(trace, notes, out)


def live_torture(programs, tmp_path: Path, seed: int, ops: int) -> None:
    from conftest import parse_notes

    out = tmp_path / "out"
    out.mkdir()
    stdout = tmp_path / "stdout"
    # The program's notes go to a file: the capture keeps the caller's stdout.
    cmd = [
        "/bin/sh",
        "-c",
        f'exec "$0" "$@" > {stdout}',
        str(programs["torture"]),
        str(out),
        str(seed),
        str(ops),
    ]
    trace = iomonitor.run(cmd)
    assert trace.meta["exit_status"] == 0
    notes = parse_notes(stdout.read_bytes())
    expected = manifest(notes, out)
    assert totals(trace, out) == expected
    assert trace.meta["unparsed_lines"] == 0


@pytest.mark.parametrize("seed", [1])
def test_torture_live(programs, tmp_path, seed) -> None:
    live_torture(programs, tmp_path, seed, 300)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [6, 7])
def test_torture_live_thousands(programs, tmp_path, seed) -> None:
    live_torture(programs, tmp_path, seed, 4000)


# --- Load: one million events, 200 threads at once, 1000 short-lived processes ---


def capture_to_parquet(programs, tmp_path: Path, args: list[str]) -> tuple[iomonitor.Trace, dict]:
    """``python -m iomonitor -o X.parquet load ARGS`` as a subprocess.

    Returns the trace and the run's figures: its notes, wall time and peak RSS
    (``ru_maxrss`` of the iomonitor process, from ``os.wait4``).
    """
    import subprocess
    import sys
    import time

    from conftest import parse_notes

    out = tmp_path / "trace.parquet"
    notes = tmp_path / "notes.txt"
    cmd = [sys.executable, "-m", "iomonitor", "-o", str(out), str(programs["load"]), *args]
    started = time.monotonic()
    with open(notes, "wb") as stdout:
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4
    stderr = proc.stderr.read()
    proc.stderr.close()
    assert proc.returncode == 0, stderr.decode(errors="replace")
    figures = {
        "notes": parse_notes(notes.read_bytes()),
        "seconds": seconds,
        "peak_rss_mb": usage.ru_maxrss / 1024,
    }
    return iomonitor.load(str(out)), figures


def check_events_run(trace: iomonitor.Trace, figures: dict, path: Path, n: int) -> int:
    """Every write and read of ``load events`` is there, with its size; returns the count."""
    import pandas as pd

    notes = figures["notes"]
    assert int(notes["calls"]) == n
    ev = trace.events
    mine = ev[ev["file"].astype(str) == str(path)]
    sizes = 1 + (pd.RangeIndex(n).to_series() % 13)
    expected = sizes.value_counts().sort_index()
    for direction, syscall in (("W", "write"), ("R", "read")):
        part = mine[mine["dir"] == direction]
        assert len(part) == n, (direction, len(part))
        assert set(part["syscall"].astype(str)) == {syscall}
        assert int(part["bytes"].sum()) == int(notes["bytes"]) == int(sizes.sum())
        # Not only the totals: every call with its size, in the program's order.
        got = part["bytes"].astype("int64").to_numpy()
        assert (got == sizes.to_numpy()).all(), direction
        assert part["bytes"].value_counts().sort_index().tolist() == expected.tolist()
    assert len(mine) == 2 * n
    assert trace.meta["unparsed_lines"] == 0
    assert trace.meta["unknown_fds"] == 0
    return len(trace.events)


@pytest.mark.slow
def test_million_events_flat_memory(programs, tmp_path) -> None:
    runs = {}
    for n in (50_000, 500_000):
        folder = tmp_path / f"n{n}"
        folder.mkdir()
        path = folder / "data"
        trace, figures = capture_to_parquet(programs, folder, ["events", str(path), str(n)])
        figures["events"] = check_events_run(trace, figures, path, n)
        del trace
        runs[n] = figures
    small, big = runs[50_000], runs[500_000]
    print(
        "\nload events:",
        *(
            f"{f['events']} events in {f['seconds']:.1f} s, peak RSS {f['peak_rss_mb']:.0f} MB"
            for f in (small, big)
        ),
        sep="\n  ",
    )
    assert big["events"] >= 1_000_000
    assert big["peak_rss_mb"] < 400, big
    assert big["peak_rss_mb"] <= 1.5 * small["peak_rss_mb"], (small, big)


def load_live_or_log(programs, live_run, strace_run, tmp_path: Path, how: str, args: list[str]):
    argv = [str(programs["load"]), *args]
    if how == "live":
        run, trace = live_run(tmp_path, argv, tmp_path)
    else:
        run = strace_run(tmp_path / "strace.log", ("-ttt", "-T", "-yy"), argv, tmp_path)
        trace = iomonitor.convert_log(str(run.log))
    assert trace.meta["unparsed_lines"] == 0
    assert trace.meta["unknown_fds"] == 0
    return run.notes, trace


@pytest.mark.slow
@pytest.mark.parametrize("how", ["live", "log"])
def test_200_threads_at_once(programs, live_run, strace_run, tmp_path, how) -> None:
    n = 200
    out = tmp_path / "out"
    out.mkdir()
    notes, trace = load_live_or_log(
        programs, live_run, strace_run, tmp_path, how, ["threads", str(out), str(n)]
    )
    procs = trace.processes
    main = procs[(procs["pid"] == procs["tgid"]) & (procs["comm"] == "load")]
    assert len(main) == 1, procs.to_string()
    tgid = int(main["pid"].iloc[0])
    tids = {int(notes[f"tid.{i}"]) for i in range(n)}
    assert len(tids) == n and tgid not in tids
    # Every thread is in the processes table, in the program's thread group.
    threads = procs[procs["pid"].isin(tids)]
    assert len(threads) == n and set(threads["tgid"]) == {tgid}

    ev = trace.events
    for i in range(n):
        path = out / f"t{i}"
        mine = ev[ev["file"].astype(str) == str(path)]
        assert path.stat().st_size == 3 * i + 6
        assert mine["bytes"].tolist() == [i + 1, i + 2, i + 3], i
        assert set(mine["dir"].astype(str)) == {"W"}
        assert set(mine["pid"]) == {int(notes[f"tid.{i}"])}, i
        assert set(mine["tgid"]) == {tgid}, i
    # The notes each thread wrote to stdout: one 1-line write per thread, by it.
    out_ev = ev[(ev["file"].astype(str) == "stdout") & ev["pid"].isin(tids)]
    assert sorted(out_ev["pid"]) == sorted(tids) and set(out_ev["tgid"]) == {tgid}


@pytest.mark.slow
@pytest.mark.parametrize("how", ["live", "log"])
def test_1000_short_lived_processes(programs, live_run, strace_run, tmp_path, how) -> None:
    import pandas as pd

    n = 1000
    out = tmp_path / "out"
    out.mkdir()
    notes, trace = load_live_or_log(
        programs,
        live_run,
        strace_run,
        tmp_path,
        how,
        ["procs", str(out), str(n), str(programs["iowriter"])],
    )
    procs = trace.processes.set_index("pid")
    assert len(procs) == n + 1, len(procs)
    ev = trace.events
    files = ev[ev["file"].astype(str).str.startswith(f"{out}/")]
    total = 0
    by_file = {str(k): g for k, g in files.groupby("file", observed=True)}
    for i in range(n):
        pid, status = (int(x) for x in notes[f"proc.{i}"].split())
        assert status == (2 if i % 3 == 0 else 0)
        row = procs.loc[pid]
        assert row["exit_code"] == status, (i, pid, row.to_dict())
        assert row["comm"] == "iowriter" and pd.isna(row["signal"]), (i, row.to_dict())
        mine = by_file.pop(str(out / f"p{i}"))
        assert mine["bytes"].tolist() == [1 + i % 50], i
        assert set(mine["pid"]) == {pid} and set(mine["dir"].astype(str)) == {"W"}, i
        assert (out / f"p{i}").stat().st_size == 1 + i % 50
        total += 1 + i % 50
    assert not by_file, sorted(by_file)
    assert int(files["bytes"].sum()) == total
