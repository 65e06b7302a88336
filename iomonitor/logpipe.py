"""The pipe a tracer writes its log into, read without ever blocking.

Both capture backends hand their log to iomonitor through a pipe: strace
writes into a FIFO (its ``-o`` takes a path), the eBPF loader into an
anonymous pipe it inherits. :class:`LogPipe` owns the read end of either, a
second pipe that lets another thread wake a reader waiting on it, and their
closing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import termios

#: A pipe holds 64 KiB by default; a bigger one lets the tracer (and so the
#: tracee) run on while the consumer is busy. 1 MiB is the unprivileged maximum.
PIPE_SIZE = 1 << 20

#: Bytes per read(): below malloc's mmap threshold.
_READ_SIZE = 1 << 16


class LogPipe:
    """The non-blocking read end of a tracer's log.

    Make one with :meth:`fifo` or :meth:`pipe`; :meth:`close` it when done.

    Attributes
    ----------
    size : int
        The pipe's capacity in bytes (:data:`PIPE_SIZE` unless the user's
        pipe quota is spent).
    eof : bool
        Every writer has closed its end (never for a FIFO, whose write end
        this object holds open).
    """

    def __init__(self, rfd: int, wfd: int = -1) -> None:
        self._rfd = rfd
        self._wfd = wfd
        with contextlib.suppress(OSError):  # over the user's pipe quota: keep 64 KiB
            fcntl.fcntl(rfd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        self.size: int = fcntl.fcntl(rfd, fcntl.F_GETPIPE_SZ)
        self.eof = False
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    @classmethod
    def fifo(cls, path: str) -> LogPipe:
        """Make a FIFO at ``path`` and open it for reading.

        The read end is open before the writer starts, so the writer's
        open() never blocks. Our own write end keeps reads from seeing an end
        of file before the writer opens it: the end of the log is the
        writer's exit instead, which also covers processes that inherited the
        writer's end and outlive it.
        """
        os.mkfifo(path, 0o600)
        rfd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        wfd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        return cls(rfd, wfd)

    @classmethod
    def pipe(cls) -> tuple[LogPipe, int]:
        """An anonymous pipe: the reader, and the write end to pass to the writer.

        The caller closes the write end once the writer has it, so that the
        writer's exit is an end of file here.
        """
        rfd, wfd = os.pipe2(os.O_CLOEXEC)
        os.set_blocking(rfd, False)
        return cls(rfd), wfd

    @property
    def closed(self) -> bool:
        """:meth:`close` was called."""
        return self._rfd < 0

    def read(self, drain: bool = False) -> bytes:
        """What the pipe holds now: up to its size, or everything if ``drain``."""
        chunks = []
        n = 0
        while drain or n < self.size // _READ_SIZE:
            try:
                data = os.read(self._rfd, _READ_SIZE)
            except BlockingIOError:
                break
            if not data:
                self.eof = True
                break
            chunks.append(data)
            n += 1
        return b"".join(chunks)

    def discard(self) -> None:
        """Throw away what the pipe holds, so that a blocked writer goes on."""
        with contextlib.suppress(OSError):
            while os.read(self._rfd, _READ_SIZE):
                pass

    def wait(self, timeout: float) -> bool:
        """Wait until the pipe is readable, :meth:`wake` is called, or ``timeout``.

        Returns
        -------
        bool
            Whether the pipe is readable.
        """
        ready, _, _ = select.select([self._rfd, self._wake_r], [], [], timeout)
        if self._wake_r in ready:
            with contextlib.suppress(OSError):
                os.read(self._wake_r, 64)
        return self._rfd in ready

    def wake(self) -> None:
        """End a :meth:`wait` now; safe from any thread."""
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def backed_up(self) -> bool:
        """The pipe is more than half full: the writer may be waiting on us."""
        try:
            buf = bytearray(4)
            fcntl.ioctl(self._rfd, termios.FIONREAD, buf)
        except OSError:
            return False
        return int.from_bytes(buf, "little") > self.size // 2

    def close(self) -> None:
        """Close every fd this object holds; more than once is fine."""
        for name in ("_rfd", "_wfd", "_wake_r", "_wake_w"):
            fd = getattr(self, name)
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
                setattr(self, name, -1)
