"""Per-process file-descriptor state, with the kernel's sharing rules.

An :class:`OpenFile` (defined in the compiled core) stands for a kernel open
file description: ``dup``, ``fork`` and SCM_RIGHTS give new fds that point at the same one, so a
``connect`` seen through one fd names all of them. An :class:`FdTable` maps fd
numbers to open files plus the per-fd close-on-exec flag; threads and
``CLONE_FILES`` children share one table, ``fork`` copies it. A
:class:`Process` holds its table, its working directory (shared under
``CLONE_FS``) and what the processes table reports.
"""

from __future__ import annotations

import os.path
from dataclasses import dataclass, field

# The open file is defined by the compiled core, which reads its fields on the
# hot path; it is re-exported here, beside the tables that hold it.
from iomonitor.strace._core import OpenFile

__all__ = ["STD_NAMES", "Cwd", "FdTable", "OpenFile", "Process"]

# Labels for the three std fds a traced program inherits and never reopens.
STD_NAMES = {0: "stdin", 1: "stdout", 2: "stderr"}


class FdTable:
    """fd number -> (open file, close-on-exec flag)."""

    __slots__ = ("fds",)

    def __init__(self, fds: dict[int, tuple[OpenFile, bool]] | None = None) -> None:
        self.fds: dict[int, tuple[OpenFile, bool]] = fds if fds is not None else {}

    def copy(self) -> FdTable:
        """The child's table after fork: same open files, same flags."""
        return FdTable(dict(self.fds))

    def get(self, fd: int) -> OpenFile | None:
        entry = self.fds.get(fd)
        return entry[0] if entry is not None else None

    def install(self, fd: int, of: OpenFile, cloexec: bool = False) -> None:
        self.fds[fd] = (of, cloexec)

    def close(self, fd: int) -> None:
        self.fds.pop(fd, None)

    def dup(self, old: int, new: int, cloexec: bool = False) -> OpenFile | None:
        of = self.get(old)
        if of is not None:
            self.fds[new] = (of, cloexec)
        return of

    def set_cloexec(self, fd: int, flag: bool) -> None:
        entry = self.fds.get(fd)
        if entry is not None:
            self.fds[fd] = (entry[0], flag)

    def close_range(self, first: int, last: int, cloexec_only: bool) -> None:
        for fd in [f for f in self.fds if first <= f <= last]:
            if cloexec_only:
                self.set_cloexec(fd, True)
            else:
                del self.fds[fd]

    def exec(self) -> FdTable:
        """The table after execve: its own (execve unshares it), close-on-exec fds gone."""
        return FdTable({fd: entry for fd, entry in self.fds.items() if not entry[1]})

    def check(self) -> None:
        """Self-check of the invariants; tests call it after every scenario."""
        for fd, (of, cloexec) in self.fds.items():
            assert isinstance(fd, int) and fd >= 0, fd
            assert isinstance(of, OpenFile), of
            assert isinstance(cloexec, bool), cloexec
            assert of.name, (fd, of)


@dataclass(slots=True)
class Cwd:
    """A working directory, shared between processes cloned with ``CLONE_FS``."""

    path: str | None


@dataclass(slots=True)
class Process:
    """One traced thread, with its (possibly shared) fd table and cwd."""

    pid: int
    tgid: int
    ppid: int | None
    fdt: FdTable
    cwd: Cwd
    comm: str = ""
    argv: str = ""
    argv_cut: bool = False
    start: float | None = None
    end: float | None = None
    exit_code: int | None = None
    signal: str | None = None
    children: list[int] = field(default_factory=list)

    def resolve(self, path: str, dirfd: int | None = None) -> str:
        """The absolute path of ``path`` as the kernel resolves it for this process.

        Relative paths are resolved against ``dirfd``'s directory when given
        (``openat``), else the cwd. A relative path stays relative when the
        directory is unknown: a name is better than a wrong guess.
        """
        if path.startswith("/"):
            return os.path.normpath(path) if "/." in path or "//" in path else path
        base: str | None
        if dirfd is not None and dirfd >= 0:
            of = self.fdt.get(dirfd)
            base = of.path if of is not None else None
        else:
            base = self.cwd.path
        if base is None:
            return path
        return os.path.normpath(os.path.join(base, path))
