"""The one declaration of iomonitor's tables: names, dtypes and meanings.

Every other module imports these names instead of spelling column names
again. ``SCHEMA_VERSION`` changes whenever a column is added, removed or
changes meaning, and is stored in every Parquet file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = 2

#: The classic CSV columns, in this order (PRODUCT.md section 3).
CLASSIC_COLUMNS: tuple[str, ...] = ("time", "dt", "pid", "fd", "dir", "bytes", "file", "port")

#: Columns the DataFrame and Parquet carry after the classic eight.
EXTRA_COLUMNS: tuple[str, ...] = ("syscall", "kind", "tgid", "comm", "local")

EVENT_COLUMNS: tuple[str, ...] = CLASSIC_COLUMNS + EXTRA_COLUMNS

#: Directions: data came in, went out, a file was mapped into memory, or data
#: waiting on a socket was peeked at (``MSG_PEEK``: it stays queued and is read
#: again by a later call, so it is kept apart from R like M).
DIRECTIONS: tuple[str, ...] = ("R", "W", "M", "P")

#: What an fd refers to. ``dev`` is a device other than a terminal.
KINDS: tuple[str, ...] = ("file", "dev", "tty", "pipe", "tcp", "udp", "unix", "netlink", "other")


@dataclass(frozen=True)
class Column:
    """One column: its name, its pandas dtype and what it means.

    The dtype is declared by name (``spec``, plus the fixed ``categories`` of
    a closed categorical), so that importing the schema does not import
    pandas: a live capture writes Parquet through pyarrow alone and starts
    faster for it.
    """

    name: str
    spec: str
    meaning: str
    categories: tuple[str, ...] | None = None

    @property
    def dtype(self) -> Any:
        """The pandas dtype (imports pandas)."""
        import pandas as pd

        if self.categories is not None:
            return pd.CategoricalDtype(list(self.categories))
        return pd.api.types.pandas_dtype(self.spec)


_TIME = "datetime64[us, UTC]"


EVENT_SCHEMA: tuple[Column, ...] = (
    Column("time", _TIME, "when the call started (UTC)"),
    Column("dt", "float64", "seconds spent inside the call; NaN when the log lacks -T"),
    Column("pid", "int32", "thread id that made the call, as strace prints it"),
    Column("fd", "int32", "file descriptor number"),
    Column(
        "dir",
        "category",
        "R: data in, W: data out, M: file-backed mmap, P: peek (MSG_PEEK, read again later)",
        DIRECTIONS,
    ),
    Column("bytes", "int64", "bytes moved (mapped length for M, bytes peeked at for P)"),
    Column("file", "category", "path, stdin/stdout/stderr, peer IP, socket path or label"),
    Column("port", "UInt16", "peer port of TCP/UDP sockets, missing otherwise"),
    Column("syscall", "category", "the system call's name"),
    Column("kind", "category", "what the fd refers to", KINDS),
    Column("tgid", "int32", "process (thread group) the thread belongs to"),
    Column("comm", "category", "program name, from the process's last execve"),
    Column("local", "category", "local address:port of a socket, missing otherwise"),
)

PROCESS_SCHEMA: tuple[Column, ...] = (
    Column("pid", "int32", "thread or process id"),
    Column("ppid", "Int32", "parent process id, missing when not seen"),
    Column("tgid", "int32", "thread group (process) id"),
    Column("comm", "string", "program name from the last execve"),
    Column("argv", "string", "arguments of the last execve, joined as a shell would show them"),
    Column(
        "argv_cut",
        "boolean",
        "true when strace cut the program path or argv (-s) and the whole was not to be had",
    ),
    Column("start", _TIME, "first time seen"),
    Column("end", _TIME, "last time seen"),
    Column("exit_code", "Int32", "exit status, missing when killed or still running"),
    Column("signal", "string", "signal that killed it, missing otherwise"),
)

#: Failed calls are not events; they are counted per thread, target and errno. The
#: target of a byte mover is its fd's name; of a failed open, the resolved path; of
#: a failed connect or bind, the address (``ip:port``, a UNIX path); of a failed
#: accept, the listening socket.
ERROR_SCHEMA: tuple[Column, ...] = (
    Column("pid", "int32", "thread id"),
    Column("tgid", "int32", "process id"),
    Column("syscall", "string", "the failed call"),
    Column("file", "string", "the fd's name, the path or the address; missing when unknown"),
    Column("kind", "string", "kind of the target, missing when unknown"),
    Column("errno", "string", "error name, e.g. ENOENT"),
    Column("count", "int64", "how many times"),
)

#: Every successful execve, in order: the processes table keeps only the last
#: program of each process (``bash -c '...; exec cat'`` is bash, then cat).
EXEC_SCHEMA: tuple[Column, ...] = (
    Column("pid", "int32", "the process (thread group leader) after the exec"),
    Column("tgid", "int32", "thread group (process) id"),
    Column("time", _TIME, "when the execve started"),
    Column("path", "string", "the program path as execve was given it"),
    Column("argv", "string", "its arguments, joined as a shell would show them"),
    Column(
        "argv_cut",
        "boolean",
        "true when strace cut the program path or argv (-s) and the whole was not to be had",
    ),
)

PROCESS_COLUMNS: tuple[str, ...] = tuple(c.name for c in PROCESS_SCHEMA)
EXEC_COLUMNS: tuple[str, ...] = tuple(c.name for c in EXEC_SCHEMA)
ERROR_COLUMNS: tuple[str, ...] = tuple(c.name for c in ERROR_SCHEMA)
assert tuple(c.name for c in EVENT_SCHEMA) == EVENT_COLUMNS

#: ``EVENT_DTYPES``, ``PROCESS_DTYPES``, ``ERROR_DTYPES`` and ``EXEC_DTYPES`` map column names
#: to pandas dtypes; they are made on first use (see :class:`Column`).
_DTYPES = {
    "EVENT_DTYPES": EVENT_SCHEMA,
    "PROCESS_DTYPES": PROCESS_SCHEMA,
    "ERROR_DTYPES": ERROR_SCHEMA,
    "EXEC_DTYPES": EXEC_SCHEMA,
}


def __getattr__(name: str) -> dict[str, Any]:
    if name in _DTYPES:
        dtypes = {c.name: c.dtype for c in _DTYPES[name]}
        globals()[name] = dtypes
        return dtypes
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Names that label an fd that is not a path. Kept here so writers and
#: readers agree on what is quoted in the classic CSV.
STD_NAMES: tuple[str, ...] = ("stdin", "stdout", "stderr")

#: Keys of the metadata dictionary, with their meaning.
METADATA_KEYS: dict[str, str] = {
    "command": "the traced command line (list of strings), or null",
    "mode": "run, attach or log",
    "host": "the machine's host name",
    "start": "ISO time of the first line seen",
    "end": "ISO time of the last line seen",
    "strace_version": "strace's version string, when known",
    "strace_args": "the exact strace argument list used, when iomonitor ran it",
    "iomonitor_version": "the iomonitor version that wrote the trace",
    "schema_version": "SCHEMA_VERSION of the writer",
    "exit_status": "the command's exit status (128+N when killed by signal N)",
    "source": "the input log's path for -i",
    "lines": "lines read",
    "unparsed_lines": "lines that could not be read",
    "unparsed_examples": "the first few unreadable lines",
    "unseen_calls": "byte-moving calls whose result could not be seen (the thread died inside "
    "the call, or strace cut the list of message lengths)",
    "unseen_bytes": "bytes those calls asked to move where the log shows the count (for a cut "
    "message list, the lengths it shows)",
    "lost_records": "calls the capture lost (eBPF: a full ring buffer, program runs the kernel "
    "skipped; strace loses none)",
    "lost_records_per_cpu": "eBPF: lost_records by CPU (only CPUs that lost any)",
    "backend": "what captured the calls: strace or ebpf",
    "backend_fallback": "why --backend auto could not use eBPF, when it could not",
    "unknown_fds": "byte-moving calls on fds whose origin is unknown",
    "io_uring_calls": "io_uring calls (their data is invisible to strace)",
    "aio_calls": "Linux AIO calls (their data is invisible to strace)",
    "failed_calls": "byte-moving calls and opens, connects, accepts and binds that failed "
    "(counted in the failed-call table, not events)",
    "pids": "the pids attached to (attach mode)",
    "capture_start": "epoch seconds when the capture began",
    "aborted": "true when the capture ended on an error (the file keeps what was seen)",
    "run": "the run id of a dataset part (also in its path, run=...)",
    "events": "events written",
    "filters": "the row filter the events were loaded with (load(..., filters=)), as lists of "
    "[column, op, value]: any list of conditions holding keeps a row; absent when unfiltered",
    "csv_tz": "a classic CSV read: the time zone its times of day were taken to be in "
    "(load(..., tz=), --tz; the local zone by default)",
}


def empty_events() -> pd.DataFrame:
    """Return an empty events DataFrame with the full schema.

    Returns
    -------
    pandas.DataFrame
        Zero rows, every column of :data:`EVENT_SCHEMA` with its dtype.

    Examples
    --------
    >>> list(empty_events().columns)[:3]
    ['time', 'dt', 'pid']
    """
    import pandas as pd

    return pd.DataFrame({c.name: pd.Series([], dtype=c.dtype) for c in EVENT_SCHEMA})


# --- syscall groups -----------------------------------------------------------
# Declared once, for the capture backends (the -e trace= set) and the event
# core (which calls move bytes, make fds, make processes). The eBPF loader's
# table of traced calls (C) follows TRACED_SYSCALLS.

#: Calls whose return value is the bytes moved through their first argument.
READS = frozenset({"read", "pread64", "readv", "preadv", "preadv2", "recv", "recvfrom", "recvmsg"})
WRITES = frozenset(
    {"write", "pwrite64", "writev", "pwritev", "pwritev2", "send", "sendto", "sendmsg"}
)
#: Calls moving bytes from one fd to another: (source arg index, destination arg index).
TRANSFERS: dict[str, tuple[int, int]] = {
    "sendfile": (1, 0),
    "sendfile64": (1, 0),
    "splice": (0, 2),
    "tee": (0, 1),
    "copy_file_range": (0, 2),
}
MMSG = frozenset({"sendmmsg", "recvmmsg", "recvmmsg_time64"})
MMAPS = frozenset({"mmap", "mmap2"})
BYTE_MOVERS = READS | WRITES | frozenset(TRANSFERS) | MMSG | MMAPS | {"vmsplice"}

IO_URING = frozenset({"io_uring_setup", "io_uring_enter", "io_uring_register"})
AIO = frozenset({"io_setup", "io_submit", "io_getevents", "io_pgetevents", "io_cancel"})

#: Calls creating a new fd that is a kernel object without a path.
ANON_FDS: dict[str, str] = {
    "eventfd": "anon_inode:[eventfd]",
    "eventfd2": "anon_inode:[eventfd]",
    "epoll_create": "anon_inode:[eventpoll]",
    "epoll_create1": "anon_inode:[eventpoll]",
    "timerfd_create": "anon_inode:[timerfd]",
    "signalfd": "anon_inode:[signalfd]",
    "signalfd4": "anon_inode:[signalfd]",
    "inotify_init": "anon_inode:inotify",
    "inotify_init1": "anon_inode:inotify",
    "fanotify_init": "anon_inode:[fanotify]",
    "userfaultfd": "anon_inode:[userfaultfd]",
    "perf_event_open": "anon_inode:[perf_event]",
    "io_uring_setup": "anon_inode:[io_uring]",
    "bpf": "anon_inode:bpf",
    "open_tree": "anon_inode:[mount]",
    "fsopen": "anon_inode:[fscontext]",
    "fsmount": "anon_inode:[mount]",
}

#: Calls that make a new process or thread.
CLONES = frozenset({"clone", "clone2", "clone3", "fork", "vfork"})

#: Every system call iomonitor asks strace to trace. Anything that changes a
#: process's fd table or cwd, moves bytes, or shows a blind spot; nothing else,
#: because with ``--seccomp-bpf`` untraced calls cost nothing while every traced
#: one costs two ptrace stops. Names of other architectures or newer kernels are
#: included on purpose: each is passed as ``?name``, which strace skips when it
#: does not know the name.
# fmt: off
TRACED_SYSCALLS: tuple[str, ...] = (
    # Processes: creation (clone3 for pthreads and posix_spawn), exec, exit, the
    # cwd that relative paths resolve against, and unshare(CLONE_FILES), which
    # gives a thread its own copy of a shared fd table.
    "fork", "vfork", "clone", "clone3", "execve", "execveat", "exit", "exit_group",
    "chdir", "fchdir", "unshare",
    # fds appear, change and disappear. fcntl: F_DUPFD, F_DUPFD_CLOEXEC, F_SETFD.
    # close_range is in no strace class: it must be named.
    "open", "openat", "openat2", "creat", "open_by_handle_at",
    "socket", "socketpair", "accept", "accept4", "pipe", "pipe2",
    "dup", "dup2", "dup3", "fcntl", "fcntl64", "close", "close_range",
    "memfd_create", "eventfd", "eventfd2", "epoll_create", "epoll_create1",
    "timerfd_create", "signalfd", "signalfd4", "inotify_init", "inotify_init1",
    "fanotify_init", "pidfd_open", "pidfd_getfd",
    # Socket addresses: strace caches a socket's -yy details by inode, so a UDP
    # socket bound before connect never shows its peer; connect does.
    "connect", "bind",
    # Bytes move (recv/send: i386 socketcall names). recvmsg also brings fds in
    # (SCM_RIGHTS); mmap of a file is an M event.
    "read", "write", "pread64", "pwrite64", "readv", "writev",
    "preadv", "pwritev", "preadv2", "pwritev2",
    "recv", "send", "recvfrom", "sendto", "recvmsg", "sendmsg", "recvmmsg", "sendmmsg",
    "sendfile", "sendfile64", "splice", "tee", "vmsplice", "copy_file_range",
    "mmap", "mmap2",
    # Blind spots: their data is invisible, their use is counted and reported.
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "io_setup", "io_submit", "io_getevents", "io_pgetevents",
)
# fmt: on
