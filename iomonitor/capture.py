"""Live capture: a running strace's lines -> events -> a sink, and the Python API.

:class:`Capture` drives :class:`~iomonitor.strace.runner.StraceRunner` (the
only code that starts strace) and the :class:`~iomonitor.strace.convert.Converter`,
writing events out as they become known. ``stop()`` may be called from a
signal handler or another thread: the capture then ends promptly and
everything seen until then is written and the file closed.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

import iomonitor
from iomonitor.errors import OutputError, UsageError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from iomonitor.store.writers import Sink
    from iomonitor.strace.convert import Converter
    from iomonitor.strace.parser import Record
    from iomonitor.trace import Trace

#: The capture backends (``auto``: eBPF when it can run here, else strace).
BACKENDS: tuple[str, ...] = ("strace", "ebpf", "auto")

#: Flush buffered events to a streaming sink at least this often (seconds).
FLUSH_INTERVAL = 0.25


class _Collector:
    """A sink that keeps the chunks in memory, for the Python API."""

    def __init__(self) -> None:
        self.chunks: list[pd.DataFrame] = []

    def chunk(self, table: pa.Table) -> pd.DataFrame:
        from iomonitor.columns import table_frame

        return table_frame(table)

    def write(self, events: pd.DataFrame) -> None:
        if not events.empty:
            self.chunks.append(events)

    def close(self, *parts: object) -> None:
        pass

    def abort(self) -> None:
        pass


class _Tap:
    """A sink that hands every events chunk to ``tap`` as a DataFrame, then to ``inner`` if any.

    The chunks are DataFrames (which every sink takes), so a live view reads
    them with the analysis functions while the file is written as usual.
    """

    def __init__(self, tap: Callable[[pd.DataFrame], None], inner: Sink | None) -> None:
        self.tap = tap
        self.inner = inner

    def chunk(self, table: pa.Table) -> pd.DataFrame:
        from iomonitor.columns import table_frame

        return table_frame(table)

    def write(self, events: pd.DataFrame) -> None:
        if events.empty:
            return
        self.tap(events)
        if self.inner is not None:
            self.inner.write(events)

    def close(self, *parts: Any) -> None:
        if self.inner is not None:
            self.inner.close(*parts)

    def abort(self) -> None:
        if self.inner is not None:
            self.inner.abort()


class Capture:
    """One capture session: a command to run, or pids to attach to.

    Parameters
    ----------
    command : sequence of str, optional
        The command to trace (with all its children and threads).
    pids : sequence of int, optional
        Processes to attach to (all their threads, and new children).
    strace : str, optional
        The strace executable; found on PATH, else ``/usr/bin/strace``.
    decode_fds : bool, optional
        Ask strace to name fds (their paths, sockets' endpoints, pidfds'
        processes); on by default (see
        :data:`iomonitor.strace.runner.DEFAULT_DECODE_FDS`), always when attaching.
    duration : float, optional
        Stop after this many seconds.
    on_call : callable, optional
        Called with every call as it is understood (the ``-v`` view).
    backend : {"strace", "ebpf", "auto"}, default "strace"
        What captures the calls: strace (ptrace), or the eBPF loader, whose
        lines go through the same converter. ``auto`` takes eBPF when it can
        run here and strace otherwise (:attr:`fallback` then says why).

    Attributes
    ----------
    fallback : str or None
        With ``backend="auto"``: why eBPF could not be used, when it could not.
    """

    def __init__(
        self,
        command: Sequence[str] | None = None,
        pids: Sequence[int] | None = None,
        *,
        strace: str | None = None,
        decode_fds: bool | None = None,
        duration: float | None = None,
        on_call: Callable[[Record], None] | None = None,
        backend: str = "strace",
    ) -> None:
        from iomonitor.ebpf.runner import EbpfRunner, unavailable_reason
        from iomonitor.strace.runner import StraceRunner

        if backend not in BACKENDS:
            raise UsageError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
        self.fallback: str | None = None
        if backend == "auto":
            self.fallback = unavailable_reason()
            backend = "strace" if self.fallback else "ebpf"
        self.backend = backend
        self.runner: StraceRunner | EbpfRunner
        if backend == "ebpf":
            if decode_fds is False or strace is not None:
                raise UsageError("strace and decode_fds are options of the strace backend")
            self.runner = EbpfRunner(command, pids)
        else:
            self.runner = StraceRunner(command, pids, strace=strace, decode_fds=decode_fds)
        self.command = list(command) if command else None
        self.pids = list(pids) if pids else None
        self.duration = duration
        self.on_call = on_call
        self.cwd = os.getcwd() if command else None
        self.converter: Converter | None = None
        self._timer: threading.Timer | None = None

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """End the capture soon; safe from signal handlers and other threads.

        In run mode the command gets ``signum`` (as strace gives it on a
        signal of its own); attached processes are left running.
        """
        self.runner.stop(signum)

    def _pump(
        self, open_sink: Callable[[], Sink | _Collector | _Tap]
    ) -> tuple[Sink | _Collector | _Tap, dict]:
        """Run the capture, writing events to the sink ``open_sink`` makes.

        The events are handed to the sink in the form it takes best (its
        ``chunk``): a CSV sink never loads pyarrow, a Parquet sink never pandas.
        """
        started = time.time()
        sink: Sink | _Collector | _Tap | None = None

        def prepare() -> None:
            nonlocal sink
            from iomonitor.processes import read_exec
            from iomonitor.strace.convert import Converter

            sink = open_sink()
            self.converter = Converter(
                cwd=self.cwd,
                on_call=self.on_call,
                chunk=sink.chunk,
                tracks_fds=True,
                attached=not self.command,
                command=self.command,
                exec_source=read_exec,
            )
            if self.backend == "ebpf":
                # The programs the loader traces never stop, so whatever
                # iomonitor does meanwhile takes CPU from them: the first
                # chunk's libraries (pyarrow, and pandas for a DataFrame sink)
                # load now, while the kernel attaches, not on their first lines.
                self.converter.take()

        if self.backend == "ebpf":
            self.runner.warm_up = prepare
        try:
            with self.runner:
                # The duration counts from when the calls are traced: starting
                # the eBPF backend can wait seconds for the kernel (another
                # capture's detach holds the lock its attach needs).
                if self.duration is not None:
                    self._timer = threading.Timer(self.duration, self.stop)
                    self._timer.daemon = True
                    self._timer.start()
                # The command runs from here on. Under strace the writer's
                # libraries load meanwhile, on the lines strace has buffered in
                # its FIFO, so their import time overlaps the command instead of
                # preceding it (the command stops at each call anyway).
                from iomonitor.processes import read_process

                if sink is None:
                    prepare()
                conv = self.converter
                assert sink is not None and conv is not None
                # The processes attached to, as /proc shows them now that
                # they are traced (whichever backend traces them).
                found = (read_process(pid) for pid in self.pids or ())
                for info in (i for i in found if i is not None):
                    for tid in info.threads:
                        conv.builder.adopt(tid, info.tgid, info.ppid, info.comm, info.argv)
                last_flush = time.monotonic()
                # Bytes come in blocks as the FIFO is read (an empty one when
                # strace is quiet): events are written at least every
                # FLUSH_INTERVAL, and as soon as a chunk fills up.
                for block in _blocks(self.runner, FLUSH_INTERVAL):
                    for events in conv.feed_bytes(block):
                        sink.write(events)
                    now = time.monotonic()
                    if now - last_flush >= FLUSH_INTERVAL:
                        if conv.builder.columns.rows:
                            sink.write(conv.take())
                        last_flush = now
                sink.write(conv.finish())
        except BaseException:
            if sink is not None and self.converter is not None:
                self._close_partial(sink)
            raise
        finally:
            if self._timer is not None:
                self._timer.cancel()
        meta = {
            "mode": "run" if self.command else "attach",
            "command": self.command,
            "pids": self.pids,
            "host": socket.gethostname(),
            "capture_start": started,
            "backend": self.backend,
            "strace_version": self.runner.strace_version,
            "strace_args": self.runner.argv,
            "iomonitor_version": iomonitor.__version__,
            "exit_status": self.runner.exit_status,
            **conv.counters(),
        }
        # ptrace stops the program at every call: strace loses nothing. The
        # eBPF ring buffer drops records when full, counted per CPU.
        meta["lost_records"] = getattr(self.runner, "drops", 0)
        if self.backend == "ebpf":
            meta["lost_records_per_cpu"] = {str(k): v for k, v in self.runner.drops_per_cpu.items()}
        if self.fallback:
            meta["backend_fallback"] = self.fallback
        return sink, meta

    def _close_partial(self, sink: Sink | _Collector | _Tap) -> None:
        # Keep what was captured: close the file with what it holds.
        conv = self.converter
        assert conv is not None
        try:
            sink.write(conv.take())
            meta = {"mode": "run" if self.command else "attach", "aborted": True}
            sink.close(
                conv.process_records(),
                conv.error_records(),
                {**meta, **conv.counters()},
                conv.exec_records(),
            )
        except Exception:
            sink.abort()

    def to_sink(
        self,
        output: str | os.PathLike[str] | None,
        fmt: str | None = None,
        stream: IO[str] | None = None,
        *,
        host: str | None = None,
    ) -> dict[str, Any]:
        """Capture into a file (or ``stream`` when ``output`` is None); return the metadata.

        Parameters
        ----------
        output : path, ``"-"`` or None
            As for :func:`iomonitor.store.open_sink`: ``DIR/`` or an existing
            folder adds the trace to a Parquet dataset.
        fmt : {"csv", "parquet"}, optional
            The format; by default from ``output``'s extension.
        stream : text stream, optional
            Where CSV goes when ``output`` is None.
        host : str, optional
            A dataset's host folder for this trace; this machine's name by default.

        Returns
        -------
        dict
            The trace's metadata.
        """
        _check_output(output)

        def open_sink() -> Sink:
            # Not the store: the writers need no pandas, which saves a capture
            # half a second of start-up (CSV needs no pyarrow either).
            from iomonitor.store import writers

            return writers.open_sink(output, fmt, stream=stream, host=host)

        sink, meta = self._pump(open_sink)
        assert self.converter is not None
        conv = self.converter
        sink.close(conv.process_records(), conv.error_records(), meta, conv.exec_records())
        return meta

    def watch(
        self,
        tap: Callable[[pd.DataFrame], None],
        output: str | os.PathLike[str] | None = None,
        fmt: str | None = None,
        *,
        host: str | None = None,
    ) -> dict[str, Any]:
        """Capture, handing every events chunk to ``tap`` as it is written; return the metadata.

        Parameters
        ----------
        tap : callable
            Called with each chunk of events (a DataFrame of the event
            schema), in order, from the thread that runs the capture.
        output : path, optional
            Also write the trace there, as :meth:`to_sink` does; nothing is
            written when None.
        fmt : {"csv", "parquet"}, optional
            The format of ``output``; by default from its extension.
        host : str, optional
            A dataset's host folder for this trace.

        Returns
        -------
        dict
            The trace's metadata.
        """
        _check_output(output)

        def open_sink() -> _Tap:
            from iomonitor.store import writers

            inner = None if output is None else writers.open_sink(output, fmt, host=host)
            return _Tap(tap, inner)

        sink, meta = self._pump(open_sink)
        assert self.converter is not None
        conv = self.converter
        sink.close(conv.process_records(), conv.error_records(), meta, conv.exec_records())
        return meta

    def to_trace(self, output: str | os.PathLike[str] | None = None) -> Trace:
        """Capture into memory and return the trace (also writing ``output`` if given)."""
        import pandas as pd

        from iomonitor import schema, store
        from iomonitor.trace import Trace, events_frame, unify

        collector, meta = self._pump(_Collector)
        assert isinstance(collector, _Collector) and self.converter is not None
        if collector.chunks:
            events = unify(pd.concat(collector.chunks, ignore_index=True))
        else:
            events = events_frame({c: [] for c in schema.EVENT_COLUMNS})
        conv = self.converter
        trace = Trace(events, conv.processes(), conv.errors(), meta, conv.execs())
        if output is not None:
            store.write(trace, output)
        return trace


def _check_output(output: str | os.PathLike[str] | None) -> None:
    """Refuse an output that cannot be written before the command starts, not after it ran.

    A dataset's existing folder is written into; a new one is made in its parent.
    """
    if output is None or str(output) == "-":
        return
    out = os.fspath(output)
    folder = out if os.path.isdir(out) else os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise OutputError(str(output), "no such directory")
    # A device or a named pipe is written in place (store.writers.OutputFile):
    # it needs write permission itself, not on its folder.
    if os.path.exists(out) and not (os.path.isfile(out) or os.path.isdir(out)):
        writable = os.access(out, os.W_OK)
    else:
        writable = os.access(folder, os.W_OK | os.X_OK)
    if not writable:
        raise OutputError(str(output), "permission denied")


def run(
    command: Sequence[str],
    *,
    output: str | os.PathLike[str] | None = None,
    strace: str | None = None,
    decode_fds: bool | None = None,
    backend: str = "strace",
) -> Trace:
    """Trace a command and all its children; return the trace.

    Parameters
    ----------
    command : sequence of str
        The program and its arguments (no shell: pass ``["sh", "-c", "..."]``
        for one).
    output : path, optional
        Also write the trace there (``.parquet`` or ``.csv``).
    strace : str, optional
        The strace executable to use.
    decode_fds : bool, optional
        Ask strace to name fds too (see :class:`Capture`).
    backend : {"strace", "ebpf", "auto"}, default "strace"
        What captures the calls (see :class:`Capture`).

    Returns
    -------
    Trace
        ``trace.meta["exit_status"]`` holds the command's exit status.

    Examples
    --------
    >>> trace = run(["sh", "-c", "echo hi > /dev/null"])  # doctest: +SKIP
    >>> trace.events.groupby("file", observed=True)["bytes"].sum()  # doctest: +SKIP
    """
    return Capture(command, strace=strace, decode_fds=decode_fds, backend=backend).to_trace(output)


def attach(
    pids: Sequence[int],
    duration: float,
    *,
    output: str | os.PathLike[str] | None = None,
    strace: str | None = None,
    backend: str = "strace",
) -> Trace:
    """Attach to running processes for ``duration`` seconds; return the trace.

    The targets keep running afterwards. fds they opened before the attach
    are named from strace's fd decorations.

    Examples
    --------
    >>> trace = attach([1234], duration=5.0)  # doctest: +SKIP
    """
    return Capture(pids=pids, strace=strace, duration=duration, backend=backend).to_trace(output)


def _blocks(runner: Any, idle: float) -> Iterator[bytes]:
    """The log's bytes as the runner reads them (an empty block when quiet).

    Both runners hand their log's bytes as they are: strace's FIFO, the eBPF
    loader's pipe.
    """
    yield from runner.blocks(idle=idle)
