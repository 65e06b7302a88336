"""`iomonitor top`: the live view in a real terminal (tmux) and the plain lines on a pipe."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import iomonitor

STRACE = "/usr/bin/strace"
pytestmark = [
    pytest.mark.strace,
    pytest.mark.skipif(not os.access(STRACE, os.X_OK), reason="strace is not installed"),
]

#: Writes CHUNK bytes to a file every 0.1 s, COUNT times.
WRITER = textwrap.dedent(
    """
    import os, sys, time
    fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    for _ in range(int(sys.argv[2])):
        os.write(fd, b"w" * 1000)
        time.sleep(0.1)
    os.close(fd)
    """
)
CHUNK = 1000
UNITS = {"B": 1, "KiB": 1024, "MiB": 1024**2}


def written_to(trace_path: Path, target: Path) -> int:
    ev = iomonitor.load(trace_path).events
    mine = ev[(ev["file"] == str(target)) & (ev["dir"] == "W")]
    return int(mine["bytes"].sum())


class Pane:
    """A terminal of our own: one command in a session of a private tmux server.

    A server of its own (``-L``, no configuration file) so that another tmux
    on the machine, or its options, cannot change the window's size.
    """

    def __init__(self, name: str, command: str, width: int = 160, height: int = 40) -> None:
        self.name = name
        self.tmux = ["tmux", "-L", name, "-f", os.devnull]
        size = ["-x", str(width), "-y", str(height)]
        # A shell first, the command typed once the window has its size: a
        # command started with the session may still see the default 80x24.
        shell = "env -u COLUMNS -u LINES PS1='$ ' sh"
        subprocess.run([*self.tmux, "new-session", "-d", "-s", name, *size, shell], check=True)
        subprocess.run([*self.tmux, "resize-window", "-t", name, *size], check=True)
        self.wait_for(r"^\$", timeout=10)
        self.keys(command, "Enter")

    def text(self) -> str:
        return subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", self.name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, *keys], check=True)

    def wait_for(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.text(), re.M)
            if m:
                return m
            time.sleep(0.2)
        raise AssertionError(f"{pattern!r} never showed:\n{self.text()}")

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


def size_of(text: str) -> float:
    number, unit = text.split()
    return float(number) * UNITS[unit]


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_top_in_tmux_updates_while_a_program_writes_and_quits_on_q(tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    trace = tmp_path / "top.parquet"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    rc = tmp_path / "rc"
    top = [sys.executable, "-m", "iomonitor", "top", "-o", str(trace)]
    top += [sys.executable, str(script), str(out), "600"]
    command = f"cd {shlex.quote(str(tmp_path))}; {shlex.join(top)}; echo $? > rc"
    pane = Pane(f"iomonitor-top-{os.getpid()}", command)
    try:
        # The files table shows our file with its bytes written so far and its calls.
        row = rf"^│ {re.escape(str(out))} +│ +(\S+ \S+)/s │ +(\S+ \S+)/s │ +(\S+ \S+) │ +(\S+ \S+) │ +(\d+) │"
        first = pane.wait_for(row)
        assert "[f] Files *" in pane.text()
        time.sleep(2.5)
        later = pane.wait_for(row)
        assert int(later.group(5)) > int(first.group(5)), "the table did not update"
        assert size_of(later.group(4)) > size_of(first.group(4))
        assert size_of(later.group(2)) > 0, "a program writing now has a write rate"
        pane.keys("p")
        pane.wait_for(r"\[p\] Processes \*")
        pane.wait_for(r"^│ python\S* +│")
        pane.keys("q")
        deadline = time.monotonic() + 30
        while not rc.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        # q ends the command with SIGTERM: its status is 128 + 15.
        assert rc.read_text().strip() == "143"
        final = pane.text()
        assert "ended" in final and "Processes" in final
    finally:
        pane.close()
    size = out.stat().st_size
    assert size > 0 and size % CHUNK == 0
    assert written_to(trace, out) == size, "every write the program made is in the trace"


def test_top_on_a_pipe_prints_one_line_per_interval(tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    trace = tmp_path / "top.parquet"
    count = 25
    top = [sys.executable, "-m", "iomonitor", "top", "--interval", "0.5", "-o", str(trace)]
    res = subprocess.run(
        [*top, sys.executable, "-c", WRITER, str(out), str(count)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    ticks = [line for line in lines if re.match(r" *\d+\.\ds  read ", line)]
    assert len(ticks) >= 3, res.stdout
    written = [
        size_of(re.search(r"total read \S+ \S+  written (\S+ \S+)", t).group(1)) for t in ticks
    ]
    assert written == sorted(written) and written[-1] > 0, res.stdout
    assert lines[-1].startswith("end  read ")
    assert "written 24.4 KiB" in lines[-1], lines[-1]
    assert written_to(trace, out) == count * CHUNK


def test_top_refuses_stdout_as_its_output(capsys: pytest.CaptureFixture[str]) -> None:
    from iomonitor.cli import main

    assert main(["top", "-o", "-", "true"]) == 2
    assert (
        capsys.readouterr().err == "iomonitor: top draws on the terminal: -o wants a file, not -\n"
    )


def test_top_needs_a_command_or_a_pid(capsys: pytest.CaptureFixture[str]) -> None:
    from iomonitor.cli import main

    assert main(["top"]) == 2
    assert capsys.readouterr().err == (
        "iomonitor: give a command to watch or -p PID (see iomonitor top --help)\n"
    )
