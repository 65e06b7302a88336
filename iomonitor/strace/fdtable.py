"""Per-process file-descriptor state, with the kernel's sharing rules.

An :class:`OpenFile` stands for a kernel open file description: ``dup``,
``fork`` and SCM_RIGHTS give new fds that point at the same one, so a
``connect`` seen through one fd names all of them. An :class:`FdTable` maps fd
numbers to open files plus the per-fd close-on-exec flag; threads and
``CLONE_FILES`` children share one table, ``fork`` copies it. A
:class:`Process` holds its table, its working directory (shared under
``CLONE_FS``) and what the processes table reports.
"""

from __future__ import annotations

import os.path
from dataclasses import dataclass, field

# Labels for the three std fds a traced program inherits and never reopens.
STD_NAMES = {0: "stdin", 1: "stdout", 2: "stderr"}


@dataclass(slots=True)
class OpenFile:
    """What one open file description refers to.

    Attributes
    ----------
    name : str
        The value of the ``file`` column: path, std label, peer IP, socket path
        or a stable label.
    kind : str
        One of :data:`iomonitor.schema.KINDS`.
    port : int or None
        Peer port of a TCP/UDP socket.
    local : str or None
        Local ``address:port`` of a socket.
    std : bool
        An inherited std stream that nobody in the trace reopened.
    known : bool
        False when the fd's origin was never seen.
    readable_end : bool or None
        For pipes: True for the read end (``vmsplice`` direction).
    pidfd_pid : int or None
        For pidfds: the process it refers to (``pidfd_getfd``).
    path : str or None
        The path of a directory or file, for ``fchdir`` and ``openat`` dirfds.
    vouched : bool
        For std streams: the log shows every reopen of this fd since the
        process started, so the first decoration seen on it is the stream.
    seen_as : str or None
        For std streams: the decoration's name of the stream, once seen.
    """

    name: str
    kind: str
    port: int | None = None
    local: str | None = None
    std: bool = False
    known: bool = True
    readable_end: bool | None = None
    pidfd_pid: int | None = None
    path: str | None = None
    vouched: bool = False
    seen_as: str | None = None


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

    def exec(self) -> None:
        """execve: close-on-exec fds go away, the rest stays."""
        for fd in [f for f, (_, cloexec) in self.fds.items() if cloexec]:
            del self.fds[fd]

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
