"""Faults: damaged and unreadable inputs, a full disk, and captures cut short.

Each fault must end with one clear line on stderr (never a traceback), the
documented exit status, no temporary file and no process left behind, and an
output file that is complete and valid for everything seen until then.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import iomonitor

pytestmark = pytest.mark.strace

IOMONITOR = [sys.executable, "-m", "iomonitor"]
#: One write of 8 bytes ("1234567\n") per loop turn, as long as it runs.
WRITE = 8


def cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*IOMONITOR, *args], capture_output=True, text=True, timeout=300, **kw)


def one_line_error(res: subprocess.CompletedProcess, status: int) -> None:
    assert res.returncode == status, res.stderr
    assert "Traceback" not in res.stderr, res.stderr
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("iomonitor: "), res.stderr


def no_hidden_files(folder: Path) -> None:
    assert not [p for p in os.listdir(folder) if p.startswith(".")], os.listdir(folder)


# --- inputs ------------------------------------------------------------------------------


def test_log_ending_mid_line_converts_everything_before(programs, strace_run, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    run = strace_run(
        tmp_path / "strace.log",
        ("-ttt", "-T"),
        [str(programs["torture"]), str(out), "9", "150"],
        tmp_path,
    )
    data = run.log.read_bytes()
    cuts = random.Random(9).sample(range(len(data) // 4, len(data) - 1), 5)
    for cut in cuts:
        if data[cut - 1 : cut] == b"\n":
            cut += 1
        log = tmp_path / f"cut{cut}.log"
        log.write_bytes(data[:cut])
        whole_lines = tmp_path / f"lines{cut}.log"
        whole_lines.write_bytes(data[: data.rfind(b"\n", 0, cut) + 1])
        parquet = tmp_path / f"cut{cut}.parquet"
        res = cli("-i", str(log), "-o", str(parquet))
        assert res.returncode == 0, res.stderr
        assert "Traceback" not in res.stderr
        got = iomonitor.load(parquet).events
        expected = iomonitor.convert_log(whole_lines).events
        cols = ["time", "pid", "fd", "dir", "bytes", "file", "syscall"]
        # Every event of the whole lines is there, in order; the cut line may add one.
        assert got[cols].iloc[: len(expected)].astype(str).equals(expected[cols].astype(str))
        assert len(got) - len(expected) in (0, 1)


def test_directory_as_input_is_bad_input(tmp_path) -> None:
    one_line_error(cli("-i", str(tmp_path), "-o", str(tmp_path / "x.csv")), 3)
    assert not (tmp_path / "x.csv").exists()


def test_unreadable_input_is_bad_input(tmp_path) -> None:
    # Opens fine, but every read fails with EIO (nothing is mapped at offset 0).
    one_line_error(cli("-i", "/proc/self/mem", "-o", str(tmp_path / "x.parquet")), 3)
    assert os.listdir(tmp_path) == []


def test_binary_garbage_is_bad_input(tmp_path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(random.Random(1).randbytes(5000))
    one_line_error(cli("-i", str(junk), "-o", str(tmp_path / "x.parquet")), 3)
    assert sorted(os.listdir(tmp_path)) == ["junk.bin"]


# --- a full disk ---------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs, or (where mounting is not allowed) a 64 KiB file size limit."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
        capture_output=True,
        check=False,
    )
    if res.returncode == 0:
        yield mnt, None
        subprocess.run(["umount", str(mnt)], check=True)
        return

    def limit() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    yield mnt, limit


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_output_on_a_full_disk(small_disk, tmp_path, ext) -> None:
    mnt, preexec = small_disk
    log = tmp_path / "big.log"
    with open(log, "w") as fh:
        fh.write('7 1795000000.000000 openat(AT_FDCWD, "/srv/a", O_WRONLY) = 3\n')
        for i in range(60000):
            fh.write(f'7 {1795000000 + i / 1e5:.6f} write(3, "x", {i % 97 + 1}) = {i % 97 + 1}\n')
    out = mnt / f"out.{ext}"
    res = subprocess.run(
        [*IOMONITOR, "-i", str(log), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=preexec,
    )
    one_line_error(res, 4)
    assert os.listdir(mnt) == [], "no output and no temporary file left"


# --- live captures cut short -------------------------------------------------------------------


def processes_with(marker: bytes) -> list[int]:
    """Live (not zombie) processes whose command line holds ``marker``."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{d}/cmdline").read_bytes()
            state = Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(int(d))
    return found


def children(pid: int) -> list[tuple[int, str]]:
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        comm, rest = stat.split("(", 1)[1].rsplit(")", 1)
        if int(rest.split()[1]) == pid:
            out.append((int(d), comm))
    return out


def capture_and_cut(tmp_path: Path, fault: str, delay: float) -> None:
    """Start a capture of a writing loop, inject ``fault`` after ``delay`` s, check the end."""
    work = tmp_path / f"{fault}-{delay:.3f}"
    tmp = work / "tmp"
    tmp.mkdir(parents=True)
    data, out = work / "data.txt", work / "cap.parquet"
    loop = f"while :; do echo 1234567 >> {data}; done"
    # stderr to a file: a process left behind would hold a pipe open.
    errfile = tmp_path / f"{fault}-{delay:.3f}.stderr"
    with open(errfile, "wb") as errfh:
        proc = subprocess.Popen(
            [*IOMONITOR, "-o", str(out), "/bin/sh", "-c", loop],
            stdout=subprocess.DEVNULL,
            stderr=errfh,
            env={**os.environ, "TMPDIR": str(tmp)},
        )
    try:
        deadline = time.time() + 30
        while not data.exists() and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(delay)
        if fault in ("SIGINT", "SIGTERM", "SIGHUP"):
            proc.send_signal(getattr(signal, fault))
            status = 128 + getattr(signal, fault)
        else:
            tracer = next(pid for pid, comm in children(proc.pid) if comm == "strace")
            if fault == "kill-command":
                os.kill(next(pid for pid, _ in children(tracer)), signal.SIGKILL)
                status = 128 + signal.SIGKILL
            else:  # kill-strace: iomonitor reports strace's failure
                os.kill(tracer, signal.SIGKILL)
                status = 8
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = errfile.read_text()
    left = processes_with(str(data).encode())
    for pid in left:  # ours: do not leave them spinning, whatever the outcome
        os.kill(pid, signal.SIGKILL)
    assert proc.returncode == status, err
    assert "Traceback" not in err, err
    assert not left, f"processes left behind: {left}"
    assert os.listdir(tmp) == [], "temporary files left behind"
    no_hidden_files(work)
    table = pq.read_table(out)  # closed properly: a valid Parquet file
    trace = iomonitor.load(out)
    assert len(table) == len(trace.events)
    ev = trace.events
    written = int(ev[ev["file"].astype(str) == str(data)]["bytes"].sum())
    size = data.stat().st_size
    if fault == "kill-strace":
        # The call the command was in when strace died completes untraced:
        # no tracer is left to print it. Everything strace printed is kept.
        assert size - written in (0, WRITE), (written, size)
        return
    # Every byte written is in the trace, except a last write cut by SIGKILL,
    # which is counted as a call whose result could not be seen, with the bytes it asked for.
    cut = trace.meta["unseen_calls"] >= 1 and trace.meta["unseen_bytes"] >= WRITE
    assert written == size or (size - written == WRITE and cut), (
        written,
        size,
    )


SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"]


@pytest.mark.parametrize("fault", [*SIGNALS, "kill-command"])
def test_capture_cut_short(tmp_path, fault) -> None:
    capture_and_cut(tmp_path, fault, random.Random(fault).uniform(0.05, 0.5))


@pytest.mark.slow
@pytest.mark.parametrize("fault", [*SIGNALS, "kill-command"])
def test_capture_cut_short_many_times(tmp_path, fault) -> None:
    rng = random.Random(f"many-{fault}")
    for _ in range(15):
        capture_and_cut(tmp_path, fault, rng.uniform(0.0, 1.0))


def test_strace_killed_mid_run(tmp_path) -> None:
    """strace 6.1 has no --kill-on-exit: iomonitor stops the orphaned command and says why."""
    capture_and_cut(tmp_path, "kill-strace", 0.3)
