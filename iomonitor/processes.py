"""What ``/proc`` says about running processes, and the checks and signals
that both capture backends (strace and eBPF) share.

The runners own the tracer processes; this module only reads ``/proc``,
checks what the user asked to run or attach to, and sends signals in a way
that tolerates a process that has just gone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
from collections.abc import Sequence
from dataclasses import dataclass

from iomonitor.errors import CommandNotFoundError, UsageError


def check_pids(pids: Sequence[int]) -> list[int]:
    """The pids to attach to, checked and without repeats.

    Raises
    ------
    UsageError
        For a pid that is not a positive int, for iomonitor's own pid, or for none at all.
    """
    out: list[int] = []
    for pid in pids:
        if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
            raise UsageError(f"not a process id: {pid!r}")
        if pid == os.getpid():
            raise UsageError(f"cannot attach to iomonitor itself (pid {pid})")
        if pid not in out:
            out.append(pid)
    if not out:
        raise UsageError("give at least one pid to attach to")
    return out


def check_command(name: str) -> None:
    """Raise CommandNotFoundError unless strace will find an executable ``name``."""
    if "/" in name:
        if not os.path.exists(name):
            raise CommandNotFoundError(name, "no such file or directory")
        if os.path.isdir(name):
            raise CommandNotFoundError(name, "is a directory")
        if not os.access(name, os.X_OK):
            raise CommandNotFoundError(name, "permission denied (not executable)")
        return
    if shutil.which(name) is None:
        raise CommandNotFoundError(name)


@dataclass(frozen=True)
class ProcessInfo:
    """What ``/proc`` says about a running process (all names as raw bytes).

    Attributes
    ----------
    pid, tgid : int
        The process and its thread group (they differ for a thread).
    ppid : int or None
        Its parent (None for pid 1's parent, 0).
    comm : bytes
        The kernel's program name (at most 15 bytes).
    exe : bytes or None
        The program's path, when readable.
    argv : list of bytes
        Its command line.
    threads : list of int
        Every thread of its group (``/proc/PID/task``), the leader first.
    """

    pid: int
    tgid: int
    ppid: int | None
    comm: bytes
    exe: bytes | None
    argv: list[bytes]
    threads: list[int]


def read_process(pid: int) -> ProcessInfo | None:
    """Read ``/proc/PID``; None when the process is gone (or was never there).

    Examples
    --------
    >>> read_process(os.getpid()).pid == os.getpid()
    True
    """
    base = f"/proc/{pid}"
    try:
        with open(f"{base}/status", "rb") as f:
            status = dict(line.split(b":\t", 1) for line in f.read().splitlines() if b":\t" in line)
        with open(f"{base}/cmdline", "rb") as f:
            cmdline = f.read()
        tgid = int(status[b"Tgid"])
        threads = sorted(int(t) for t in os.listdir(f"/proc/{tgid}/task") if t.isdigit())
    except (OSError, KeyError, ValueError):
        return None
    try:
        exe: bytes | None = os.readlink(f"{base}/exe".encode())
    except OSError:  # a kernel thread, a zombie, or not ours to read
        exe = None
    ppid = int(status.get(b"PPid", b"0"))
    threads.sort(key=lambda t: t != tgid)
    return ProcessInfo(
        pid=pid,
        tgid=tgid,
        ppid=ppid or None,
        comm=status.get(b"Name", b""),
        exe=exe,
        argv=cmdline.split(b"\0")[:-1] if cmdline.endswith(b"\0") else [cmdline],
        threads=threads,
    )


def read_exec(pid: int) -> tuple[bytes | None, list[bytes]] | None:
    """The program path and command line of a running process, or None when gone."""
    info = read_process(pid)
    if info is None or not info.argv or info.argv == [b""]:
        return None
    return info.exe, info.argv


def from_terminal(signum: int) -> bool:
    """Whether ``signum`` is one a terminal sends our whole (foreground) job."""
    if signum not in (signal.SIGINT, signal.SIGQUIT):
        return False
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        return False  # no controlling terminal: someone sent the signal to us alone
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


def send_signal(pid: int, signum: int) -> None:
    """Send ``signum`` to ``pid``; a process already gone (or not ours) is no error."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signum)


def tracees(tracer: int) -> list[tuple[int, int]]:
    """(pid, parent pid) of the processes whose tracer (``TracerPid``) is ``tracer``."""
    found: list[tuple[int, int]] = []
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", "rb") as f:
                status = f.read()
        except OSError:
            continue
        fields = dict(
            line.split(b":", 1)
            for line in status.splitlines()
            if line.startswith((b"PPid", b"Tra"))
        )
        try:
            if int(fields.get(b"TracerPid", b"0")) == tracer:
                found.append((int(name), int(fields.get(b"PPid", b"0"))))
        except ValueError:
            continue
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie or a dead process does not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in (b"Z", b"X")


def children() -> dict[int, list[int]]:
    """Every running process's children, by parent pid, as ``/proc`` shows them now."""
    out: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                # The command name may hold spaces and parentheses: fields follow the last ")".
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        out.setdefault(ppid, []).append(int(name))
    return out


def kill_tree(pid: int) -> int:
    """SIGKILL ``pid`` and every descendant it still has; return how many were signalled."""
    tree = children()
    todo, seen = [pid], []
    while todo:
        one = todo.pop()
        seen.append(one)
        todo.extend(tree.get(one, []))
    for one in seen:
        send_signal(one, signal.SIGKILL)
    return len(seen)
