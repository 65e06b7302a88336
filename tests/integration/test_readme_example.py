"""The classic example of the contract (PRODUCT.md section 3), end to end.

``strace -f -tt -T -yy -o LOG bash -c 'wc FILE ; /bin/echo foo > /dev/null'``
converted with the classic CLI ``iomonitor -i LOG`` must show wc's pid reading
FILE (its size, then 0 bytes at end of file), the same pid writing its line to
``stdout``, and echo, another pid, writing 4 bytes to ``"/dev/null"``.
"""

from __future__ import annotations

import csv
import io
import math
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from strace_log import whole_calls

pytestmark = pytest.mark.strace

HEADER = "time,dt,pid,fd,dir,bytes,file,port"
FSTAB = Path("/etc/fstab")
#: Below this size /etc/fstab is not much of an example; use a file of our own.
MIN_SIZE = 200


@dataclass(frozen=True)
class Example:
    log: Path
    path: str
    size: int
    wc_output: bytes
    wc_pid: int
    echo_pid: int
    tmp: Path


def iomonitor_cli(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "iomonitor", *args], capture_output=True, timeout=60, check=False
    )
    assert proc.returncode == 0, f"iomonitor {args} exited {proc.returncode}: {proc.stderr!r}"
    return proc


def pid_of(log_text: str, program: str) -> int:
    """The pid that exec'd ``program`` successfully, from the log (split calls made whole)."""
    execve = re.compile(rf'^(\d+) +\S+ execve\("[^"]*/{program}", .*\) = 0')
    pids = {
        int(m.group(1))
        for m in map(execve.match, whole_calls(log_text.splitlines()))
        if m is not None
    }
    assert len(pids) == 1, f"{program}: pids {pids}"
    return pids.pop()


@pytest.fixture(scope="module")
def example(programs, tmp_path_factory) -> Example:
    # `programs` skips the module when strace or gcc is missing.
    bash = shutil.which("bash")
    assert bash, "bash is needed for the contract's example"
    tmp = tmp_path_factory.mktemp("readme").resolve()
    if FSTAB.is_file() and FSTAB.stat().st_size >= MIN_SIZE:
        path = FSTAB
    else:
        path = tmp / "fstab"
        line = "UUID=0a1b2c3d-0000-4000-8000-00000000cafe / ext4 errors=remount-ro 0 1\n"
        path.write_text(line * 29)
    log = tmp / "strace.log"
    cmd = ["/usr/bin/strace", "-f", "-tt", "-T", "-yy", "-o", str(log), bash, "-c"]
    cmd.append(f"wc {path} ; /bin/echo foo > /dev/null")
    proc = subprocess.run(cmd, cwd=tmp, capture_output=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    text = log.read_text()
    wc_pid, echo_pid = pid_of(text, "wc"), pid_of(text, "echo")
    size = path.stat().st_size
    assert proc.stdout.split()[:3] and int(proc.stdout.split()[2]) == size
    return Example(log, str(path), size, proc.stdout, wc_pid, echo_pid, tmp)


@pytest.fixture(scope="module")
def csv_text(example: Example) -> str:
    out = example.tmp / "out.csv"
    iomonitor_cli("-i", str(example.log), "-o", str(out))
    return out.read_text()


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_header(csv_text: str) -> None:
    assert csv_text.splitlines()[0] == HEADER


def test_wc_reads_the_file(example: Example, csv_text: str) -> None:
    rows = [r for r in rows_of(csv_text) if r["file"] == example.path]
    got = [(int(r["pid"]), r["fd"], r["dir"], int(r["bytes"]), r["port"]) for r in rows]
    wc = example.wc_pid
    assert got == [(wc, "3", "R", example.size, ""), (wc, "3", "R", 0, "")], rows


def test_wc_writes_its_line_to_stdout(example: Example, csv_text: str) -> None:
    rows = [r for r in rows_of(csv_text) if int(r["pid"]) == example.wc_pid and r["dir"] == "W"]
    got = [(r["fd"], int(r["bytes"]), r["file"], r["port"]) for r in rows]
    assert got == [("1", len(example.wc_output), "stdout", "")], rows


def test_echo_writes_to_dev_null(example: Example, csv_text: str) -> None:
    assert example.echo_pid != example.wc_pid
    rows = [r for r in rows_of(csv_text) if r["file"] == "/dev/null"]
    got = [(int(r["pid"]), r["fd"], r["dir"], int(r["bytes"]), r["port"]) for r in rows]
    assert got == [(example.echo_pid, "1", "W", 4, "")], rows


def test_classic_lines_look_like_the_contract(example: Example, csv_text: str) -> None:
    """Time and dt exactly as strace printed them, paths quoted, stdout and port bare."""
    log = "\n".join(whole_calls(example.log.read_text().splitlines()))
    pid = example.wc_pid
    expected = []
    call = re.compile(
        rf"^{pid} +(\S+) read\(3<{re.escape(example.path)}>, .*\) = (\d+) <([\d.]+)>$",
        re.MULTILINE,
    )
    for m in call.finditer(log):
        time, nbytes, dt = m.groups()
        expected.append(f'{time},{dt},{pid},3,R,{nbytes},"{example.path}",')
    write = re.compile(rf"^{pid} +(\S+) write\(1<[^,]*, .*\) = (\d+) <([\d.]+)>$", re.MULTILINE)
    for m in write.finditer(log):
        time, nbytes, dt = m.groups()
        expected.append(f"{time},{dt},{pid},1,W,{nbytes},stdout,")
    echo = re.compile(rf"^{example.echo_pid} +(\S+) write\(1<[^,]*, .*\) = 4 <([\d.]+)>$", re.M)
    for m in echo.finditer(log):
        time, dt = m.groups()
        expected.append(f'{time},{dt},{example.echo_pid},1,W,4,"/dev/null",')
    assert len(expected) == 4, f"unexpected log shape:\n{log}"
    lines = csv_text.splitlines()
    missing = [e for e in expected if e not in lines]
    assert not missing, f"missing lines: {missing}\nCSV:\n{csv_text}"


def test_without_output_prints_the_same_csv_on_stdout(example: Example, csv_text: str) -> None:
    proc = iomonitor_cli("-i", str(example.log))
    assert proc.stdout.decode() == csv_text


def test_parquet_holds_the_same_events(example: Example, csv_text: str) -> None:
    out = example.tmp / "out.parquet"
    iomonitor_cli("-i", str(example.log), "-o", str(out))
    frame = pq.read_table(out).to_pandas()
    rows = rows_of(csv_text)
    assert len(frame) == len(rows)

    def local(ts) -> str:
        return datetime.fromtimestamp(ts.timestamp()).strftime("%H:%M:%S.%f")

    for i, (r, p) in enumerate(zip(rows, frame.itertuples(index=False), strict=True)):
        want = (r["time"], r["pid"], r["fd"], r["dir"], r["bytes"], r["file"], r["port"])
        got = (
            local(p.time),
            str(p.pid),
            str(p.fd),
            str(p.dir),
            str(p.bytes),
            str(p.file),
            "" if pd.isna(p.port) else str(int(p.port)),
        )
        assert got == want, f"row {i}"
        if r["dt"] == "":
            assert math.isnan(p.dt), f"row {i}"
        else:
            assert p.dt == pytest.approx(float(r["dt"]), abs=5e-7), f"row {i}"


def test_pid_of_finds_an_execve_split_in_two_lines() -> None:
    """The CI flake: under load strace splits execve around another process's lines."""
    log = (
        '4101  10:00:00.000100 execve("/usr/bin/wc", ["wc", "/etc/fstab"], 0x55d0 /* 9 vars */ <unfinished ...>\n'
        "4100  10:00:00.000150 wait4(-1,  <unfinished ...>\n"
        "4101  10:00:00.000900 <... execve resumed>) = 0 <0.000800>\n"
        '4102  10:00:00.001000 execve("/bin/echo", ["/bin/echo", "foo"], 0x55d0 /* 9 vars */) = 0 <0.000300>\n'
    )
    assert pid_of(log, "wc") == 4101
    assert pid_of(log, "echo") == 4102
    made_whole = whole_calls(log.splitlines())
    assert made_whole[0].endswith("/* 9 vars */) = 0 <0.000800>")
    assert made_whole[1] == "4100  10:00:00.000150 wait4(-1,  <unfinished ...>"


def test_a_split_read_keeps_its_start_time_and_its_end_duration() -> None:
    lines = [
        "7  10:00:00.000001 read(3</etc/fstab>,  <unfinished ...>",
        '8  10:00:00.000002 write(1<pipe:[5]>, "x", 1) = 1 <0.000001>',
        '7  10:00:00.000009 <... read resumed>"abc", 4096) = 3 <0.000008>',
    ]
    assert whole_calls(lines) == [
        '7  10:00:00.000001 read(3</etc/fstab>, "abc", 4096) = 3 <0.000008>',
        lines[1],
    ]
