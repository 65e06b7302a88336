"""Fixtures for the integration tests: real programs under real strace.

The ground-truth programs in ``tests/programs`` are compiled once per test
session. Each one does exactly known I/O and prints what the test cannot know
in advance (pids, ports, inodes) as ``key value`` lines on stdout; the tests
turn that into the expected events.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

#: The strace the contract is written against.
STRACE = "/usr/bin/strace"

PROGRAMS_SRC = Path(__file__).resolve().parent.parent / "programs"

#: Built with -static: exec'd by other programs, and must not let a dynamic
#: loader take fd numbers before its own calls run.
STATIC_PROGRAMS = frozenset({"iowriter"})


@dataclass(frozen=True)
class TracedRun:
    """One program run under strace: where its log is and what it reported."""

    log: Path
    notes: dict[str, str]
    stdout: bytes
    started: float
    finished: float


def parse_notes(stdout: bytes) -> dict[str, str]:
    """Parse the programs' ``key value`` lines; a key printed twice is an error."""
    notes: dict[str, str] = {}
    for line in stdout.decode().splitlines():
        key, _, value = line.partition(" ")
        assert key not in notes, f"program printed {key!r} twice: {stdout!r}"
        notes[key] = value
    return notes


def run_under_strace(log: Path, flags: Sequence[str], argv: Sequence[str], cwd: Path) -> TracedRun:
    """Run ``strace -f -o LOG FLAGS argv`` in ``cwd`` and check it succeeded."""
    cmd = [STRACE, "-f", "-o", str(log), *flags, *argv]
    started = time.time()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=60, check=False)
    finished = time.time()
    assert proc.returncode == 0, (
        f"{cmd} exited with {proc.returncode}\nstdout: {proc.stdout!r}\nstderr: {proc.stderr!r}"
    )
    return TracedRun(log, parse_notes(proc.stdout), proc.stdout, started, finished)


@pytest.fixture(scope="session")
def programs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Compile every ``tests/programs/*.c``; name -> executable."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed: the ground-truth programs cannot be built")
    if not os.access(STRACE, os.X_OK):
        pytest.skip(f"{STRACE} is not installed: nothing to trace with")
    out = tmp_path_factory.mktemp("programs")
    jobs = {}
    for src in sorted(PROGRAMS_SRC.glob("*.c")):
        exe = out / src.stem
        cmd = [gcc, "-O0", "-pthread", "-Wall", "-o", str(exe), str(src)]
        if src.stem in STATIC_PROGRAMS:
            cmd.insert(1, "-static")
        jobs[src.stem] = (
            exe,
            subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT),
        )
    built = {}
    for name, (exe, job) in jobs.items():
        output, _ = job.communicate(timeout=120)
        assert job.returncode == 0, f"building {name} failed:\n{output.decode()}"
        built[name] = exe
    return built


@pytest.fixture(scope="session")
def traced_cache() -> dict[object, object]:
    """Runs and conversions shared between tests, keyed by what was run."""
    return {}


def run_under_iomonitor(
    base: Path, argv: Sequence[str], cwd: Path, backend: str = "strace"
) -> tuple[TracedRun, object]:
    """Run ``argv`` in ``cwd`` under ``iomonitor.run`` (live capture, no log) with ``backend``.

    The program's stdout (its notes) goes to ``base/notes.txt``: fd 1 is
    pointed there for the run, since the capture leaves the command's streams
    as they are.
    """
    import iomonitor

    notes = base / "notes.txt"
    saved_cwd, saved_stdout = os.getcwd(), os.dup(1)
    fd = os.open(notes, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    started = time.time()
    try:
        os.chdir(cwd)
        os.dup2(fd, 1)
        trace = iomonitor.run(list(argv), backend=backend)
    finally:
        os.dup2(saved_stdout, 1)
        os.close(saved_stdout)
        os.close(fd)
        os.chdir(saved_cwd)
    finished = time.time()
    assert trace.meta["exit_status"] == 0, trace.meta
    stdout = notes.read_bytes()
    return TracedRun(notes, parse_notes(stdout), stdout, started, finished), trace


@pytest.fixture(scope="session")
def live_run():
    """:func:`run_under_iomonitor`, for test modules (which cannot import conftest)."""
    return run_under_iomonitor


@pytest.fixture(scope="session")
def strace_run():
    """:func:`run_under_strace`, for test modules (which cannot import conftest)."""
    return run_under_strace
