"""Issue 13 (trust), defects in output, input and the command line.

Each test is named after the defect it guards and goes through the public
paths (the command line, ``iomonitor.load``), so it keeps guarding whatever
code sits behind them. The traces are literal strace logs written here: the
test knows every byte of them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

IOMONITOR = [sys.executable, "-m", "iomonitor"]

#: Two threads of one process, then a child; epoch stamps (-ttt) and -yy names.
LOG = """\
100 1700000000.000100 openat(AT_FDCWD</tmp>, "/tmp/data.txt", O_RDONLY) = 3</tmp/data.txt> <0.000010>
100 1700000000.000200 read(3</tmp/data.txt>, "hello", 4096) = 5 <0.000005>
100 1700000000.500000 write(1</dev/pts/0>, "hello", 5) = 5 <0.000005>
100 1700000000.600000 clone(child_stack=NULL, flags=SIGCHLD) = 101 <0.000050>
101 1700000000.700000 execve("/bin/cat", ["cat"], 0x7ffd /* 3 vars */) = 0 <0.000100>
101 1700000001.200000 write(1</dev/pts/0>, "0123456789", 10) = 10 <0.000007>
101 1700000001.300000 +++ exited with 0 +++
100 1700000002.000000 +++ exited with 0 +++
"""

#: The same calls, recorded without any timestamp (strace without -t).
LOG_NO_TIME = "\n".join(
    line.split(" ", 2)[0] + " " + line.split(" ", 2)[2] for line in LOG.splitlines()
)


def cli(
    *args: str, env: dict[str, str] | None = None, stdout: object = subprocess.PIPE
) -> subprocess.CompletedProcess:
    full_env = None if env is None else {**os.environ, **env}
    return subprocess.run(
        [*IOMONITOR, *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        env=full_env,
    )


def one_line_error(res: subprocess.CompletedProcess, status: int) -> str:
    assert res.returncode == status, (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr, res.stderr
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("iomonitor: "), res.stderr
    return lines[0]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "trace.log"
    path.write_text(LOG)
    return path


@pytest.fixture
def log_no_time(tmp_path: Path) -> Path:
    path = tmp_path / "notime.log"
    path.write_text(LOG_NO_TIME + "\n")
    return path


# --- defect 6: output lost silently on write errors to non-regular files ---------------------


def full_device(folder: Path, name: str) -> Path:
    """A name in ``folder`` for the full device (every write fails with ENOSPC).

    A symbolic link: were the writer to put a file in its place, only the
    link would go, never the device itself.
    """
    link = folder / name
    link.symlink_to("/dev/full")
    return link


def still_the_device(link: Path) -> None:
    assert link.is_symlink() and os.readlink(link) == "/dev/full"
    assert not [p for p in os.listdir(link.parent) if p.startswith(".")], os.listdir(link.parent)


@pytest.mark.parametrize("name", ["out.csv", "out.parquet"])
def test_defect6_convert_to_full_device_fails(tmp_path, log, name) -> None:
    target = full_device(tmp_path, name)
    line = one_line_error(cli("-i", str(log), "-o", str(target)), 4)
    assert "No space left on device" in line
    still_the_device(target)


def test_defect6_capture_to_full_device_fails(tmp_path) -> None:
    target = full_device(tmp_path, "out.csv")
    line = one_line_error(cli("-o", str(target), "true"), 4)
    assert "No space left on device" in line
    still_the_device(target)


@pytest.mark.parametrize(
    "args",
    [
        ["-i", "{log}"],
        ["-i", "{log}", "-o", "-"],
        ["-o", "-", "true"],
        ["stats", "{log}"],
        ["stats", "{log}", "--format", "json"],
        ["stats", "{log}", "--by", "file", "--format", "csv"],
    ],
)
def test_defect6_stdout_on_full_device_fails(log, args) -> None:
    with open("/dev/full", "w") as full:
        res = cli(*(a.format(log=log) for a in args), stdout=full)
    line = one_line_error(res, 4)
    assert line == "iomonitor: cannot write standard output: No space left on device"


@pytest.mark.parametrize("name", ["out.png", "out.svg"])
def test_defect6_plot_to_full_device_fails(tmp_path, log, name) -> None:
    target = full_device(tmp_path, name)
    line = one_line_error(cli("plot", str(log), "-o", str(target)), 4)
    assert "No space left on device" in line
    still_the_device(target)


def test_defect6_report_to_full_device_fails(tmp_path, log) -> None:
    target = full_device(tmp_path, "out.html")
    line = one_line_error(cli("report", str(log), "-o", str(target)), 4)
    assert "No space left on device" in line
    still_the_device(target)


def test_defect6_output_to_a_fifo_is_written_in_place(tmp_path, log) -> None:
    # A named pipe is written through, not replaced by a file of the same name.
    fifo = tmp_path / "events.csv"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    res = cli("-i", str(log), "-o", str(fifo))
    out, _ = reader.communicate(timeout=60)
    assert res.returncode == 0, res.stderr
    assert out.decode().splitlines()[0] == "time,dt,pid,fd,dir,bytes,file,port"
    assert len(out.decode().splitlines()) == 4  # header + 3 events
    assert fifo.is_fifo()
