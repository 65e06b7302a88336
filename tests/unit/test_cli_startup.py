"""The ``iomonitor`` program's own start-up and exit (``iomonitor.cli._startup``).

In its own process a conversion imports pyarrow without numpy and ends
without the interpreter's teardown. These tests run the real program
(``python -m iomonitor``) in a child process and hold what it writes against
the same conversion run in-process, where neither applies.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from iomonitor import cli
from iomonitor.cli import _startup

ROOT = Path(__file__).resolve().parent.parent.parent

#: Logs of different shapes: a process-heavy seed, time-of-day stamps without
#: -y, strace's own stderr with [pid N] prefixes, SCM_RIGHTS and split calls.
LOGS = [
    ROOT / "benchmarks" / "seed" / "spawn.log.gz",
    ROOT / "tests" / "golden" / "logs" / "torture.tt-T.log.gz",
    ROOT / "tests" / "golden" / "logs" / "pipes.stderr-tt-T-yy.log.gz",
    ROOT / "data" / "tcp_loopback.log",
]

#: What both runs are given, so that time-of-day stamps and relative paths agree.
OPTIONS = ["--date", "2026-01-05", "--cwd", "/tmp/iomonitor-golden/out"]


def _plain_log(src: Path, tmp_path: Path) -> Path:
    if src.suffix != ".gz":
        return src
    log = tmp_path / src.name.removesuffix(".gz")
    log.write_bytes(gzip.decompress(src.read_bytes()))
    return log


def _child(*args: str, flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *flags, "-m", "iomonitor", *args],
        capture_output=True,
        text=True,
        timeout=120,
        # As a user runs it: stdout buffered, so that the exit must flush it.
        env={**{k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}, "TZ": "UTC"},
    )


def _in_process(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("TZ", "UTC")
    return cli.main(args)


def _imported(importtime: str) -> set[str]:
    """The modules ``python -X importtime`` says it imported."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in importtime.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    } - {"imported package"}


@pytest.mark.parametrize("src", LOGS, ids=lambda p: p.name)
def test_program_writes_the_parquet_of_an_in_process_conversion(
    src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _plain_log(src, tmp_path)
    res = _child("-i", str(log), "-o", str(tmp_path / "child.parquet"), *OPTIONS)
    assert res.returncode == 0, res.stderr
    mine = ["-i", str(log), "-o", str(tmp_path / "here.parquet"), *OPTIONS]
    assert _in_process(mine, monkeypatch) == 0
    child = pq.read_table(tmp_path / "child.parquet")
    here = pq.read_table(tmp_path / "here.parquet")
    assert child.num_rows > 0
    assert child.equals(here)
    # The footer: processes, failed calls, execs and counters.
    assert (
        pq.read_metadata(tmp_path / "child.parquet").metadata
        == pq.read_metadata(tmp_path / "here.parquet").metadata
    )
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".")]  # no temporary


@pytest.mark.parametrize("src", LOGS[:2], ids=lambda p: p.name)
def test_program_writes_every_csv_row_to_a_pipe_before_it_ends(
    src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _plain_log(src, tmp_path)
    res = _child("-i", str(log), *OPTIONS)
    assert res.returncode == 0, res.stderr
    assert (
        _in_process(["-i", str(log), "-o", str(tmp_path / "here.csv"), *OPTIONS], monkeypatch) == 0
    )
    want = (tmp_path / "here.csv").read_text()
    assert want.count("\n") > 100
    assert res.stdout == want


@pytest.mark.parametrize("output", ["out.parquet", "out.csv", "ds/"])
def test_conversion_in_its_own_process_never_imports_numpy(tmp_path: Path, output: str) -> None:
    log = _plain_log(LOGS[0], tmp_path)
    res = _child("-i", str(log), "-o", str(tmp_path / output), flags=("-X", "importtime"))
    assert res.returncode == 0, res.stderr
    imported = _imported(res.stderr)
    assert {"pyarrow.lib", "iomonitor.strace._core"} <= imported
    assert not {m for m in imported if m == "numpy" or m.startswith(("numpy.", "pandas"))}


def test_in_process_conversion_imports_pyarrow_as_usual(tmp_path: Path) -> None:
    # A library user's process (here: main() called directly) keeps pyarrow's
    # numpy: the same conversion there loads numpy with pyarrow, and pandas
    # works on pyarrow's tables after it.
    log = _plain_log(LOGS[0], tmp_path)
    script = (
        "import sys\n"
        "from iomonitor.cli import main\n"
        f"assert main(['-i', {str(log)!r}, '-o', {str(tmp_path / 'x.parquet')!r}]) == 0\n"
        "assert 'numpy' in sys.modules\n"
        "import pyarrow.parquet as pq\n"
        f"frame = pq.read_table({str(tmp_path / 'x.parquet')!r}).to_pandas()\n"
        "print(len(frame))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert int(res.stdout) == pq.read_metadata(tmp_path / "x.parquet").num_rows > 0


def test_import_arrow_does_nothing_outside_the_program(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "OWN_PROCESS", False)
    monkeypatch.delitem(sys.modules, "pyarrow")
    _startup.import_arrow()
    assert "pyarrow" not in sys.modules


def test_numpy_imports_after_pyarrow_came_without_it() -> None:
    # What import_arrow leaves behind: no block on numpy, only a pyarrow that
    # looked for it once and converts nothing to numpy.
    script = (
        "import sys\n"
        "import iomonitor.cli as cli\n"
        "from iomonitor.cli import _startup\n"
        "cli.OWN_PROCESS = True\n"
        "_startup.import_arrow()\n"
        "assert 'pyarrow' in sys.modules and 'numpy' not in sys.modules\n"
        "import numpy\n"
        "print(numpy.arange(3).sum())\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "3"


def test_arrow_version_is_read_from_the_installed_metadata() -> None:
    assert _startup.arrow_major_version() == int(pa.__version__.split(".")[0])


@pytest.mark.parametrize(
    ("version", "major", "needs_numpy"),
    [("15.0.2", 15, True), ("16.1.0", 16, False), ("26.0.1", 26, False), ("x", None, True)],
)
def test_arrow_version_of_a_site_folder(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    version: str,
    major: int | None,
    needs_numpy: bool,
) -> None:
    (tmp_path / "pyarrow").mkdir()
    info = tmp_path / f"pyarrow-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: pyarrow\nVersion: {version}\n\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path / "elsewhere"), str(tmp_path)])
    assert _startup.arrow_major_version() == major
    assert _startup.arrow_needs_numpy() is needs_numpy


def test_arrow_version_unknown_without_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyarrow").mkdir()
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    assert _startup.arrow_major_version() is None
    assert _startup.arrow_needs_numpy()
