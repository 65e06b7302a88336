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
