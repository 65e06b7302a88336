"""The conversion pipeline: strace lines -> parser -> clock -> joiner -> events.

:class:`Converter` is fed lines in the order strace wrote them (from a log file
or live from a running strace) and hands out events in chunks, so that a
caller can stream them to a file while memory stays flat. It does no I/O.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from iomonitor import schema
from iomonitor.strace import parser as p
from iomonitor.strace.events import BYTE_MOVERS, EventBuilder
from iomonitor.strace.joiner import Joiner
from iomonitor.strace.parser import Record, parse_line
from iomonitor.timeutil import Clock

if TYPE_CHECKING:
    import pandas as pd

#: Events per chunk handed to writers: large enough for fast columnar writes,
#: small enough to keep memory flat.
CHUNK_EVENTS = 65536

_MAX_EXAMPLES = 5

#: The last second a timestamp can hold (9999-12-31): later stamps are corrupt.
_MAX_TIME = 253402300799.0


class Converter:
    """Stateful strace-lines-to-events conversion.

    Parameters
    ----------
    date : datetime.date, optional
        Local date of the first line for time-of-day stamps.
    mtime : float, optional
        The log's modification time, for the date when ``date`` is None.
    cwd : str, optional
        Working directory of the first process, when known.
    on_call : callable, optional
        Called with every whole call and process marker as it is understood
        (the ``-v`` view).
    chunk_events : int
        Events per chunk yielded by :meth:`feed`.
    chunk : callable, optional
        Makes a chunk from the event columns: by default
        :func:`iomonitor.trace.events_frame` (a DataFrame); the writers of a
        capture pass :func:`iomonitor.columns.events_table` (an Arrow table),
        so that pandas is never imported.
    tracks_fds : bool
        The lines record every call that reopens an fd, as iomonitor's own
        capture does (see :class:`~iomonitor.strace.events.EventBuilder`).
    attached : bool
        The lines come from processes attached to: no fd is an inherited std stream.
    command, exec_source : optional
        Where a live capture finds the whole argv of an exec that strace's
        ``-s`` cut (see :class:`~iomonitor.strace.events.EventBuilder`).

    Examples
    --------
    >>> conv = Converter()
    >>> lines = ['7 1.5 write(1, "hi", 2) = 2 <0.00001>']
    >>> frames = list(conv.feed(lines)) + [conv.finish()]
    >>> int(sum(len(f) for f in frames))
    1
    """

    def __init__(
        self,
        date: _dt.date | None = None,
        mtime: float | None = None,
        cwd: str | None = None,
        on_call: Callable[[Record], None] | None = None,
        chunk_events: int = CHUNK_EVENTS,
        chunk: Callable[[dict[str, list]], Any] | None = None,
        tracks_fds: bool = False,
        attached: bool = False,
        command: Sequence[str] | None = None,
        exec_source: Callable[[int], tuple[bytes | None, list[bytes]] | None] | None = None,
    ) -> None:
        self.clock = Clock(date, mtime)
        self.joiner = Joiner(counted=BYTE_MOVERS)
        self.builder = EventBuilder(
            cwd=cwd,
            pending=self.joiner.pending,
            tracks_fds=tracks_fds,
            attached=attached,
            command=command,
            exec_source=exec_source,
        )
        self.joiner.on_drop = self.builder.unseen
        self.on_call = on_call
        self.chunk_events = chunk_events
        self.make_chunk = _events_frame if chunk is None else chunk
        self.lines = 0
        self.unparsed = 0
        self.unparsed_examples: list[str] = []
        self.messages: list[str] = []
        self.time_styles: set[str] = set()

    def feed_line(self, line: str) -> None:
        """Take one line of strace output."""
        self.lines += 1
        rec = parse_line(line)
        kind = rec.kind
        if kind == p.INVALID:
            self._unparsed(line)
            return
        if kind == p.BLANK:
            return
        if kind == p.MESSAGE:
            if len(self.messages) < 50:
                self.messages.append(line.strip())
            return
        if rec.time is not None:
            self.time_styles.add(rec.time_style)  # type: ignore[arg-type]
            rec.time = self.clock(rec.time, rec.time_style)  # type: ignore[arg-type]
            if not 0.0 <= rec.time <= _MAX_TIME:
                # A corrupt stamp (a cut or garbled line): no timestamp holds it.
                self._unparsed(line)
                return
        whole = self.joiner.feed(rec)
        if whole is None:
            return
        self.builder.feed(whole)
        if self.on_call is not None:
            self.on_call(whole)

    def _unparsed(self, line: str) -> None:
        self.unparsed += 1
        if len(self.unparsed_examples) < _MAX_EXAMPLES:
            self.unparsed_examples.append(line.rstrip("\n"))

    def feed(self, lines: Iterable[str]) -> Iterator[Any]:
        """Take lines; yield a chunk of events (see ``chunk``) each time one is full."""
        builder = self.builder
        size = self.chunk_events
        feed_line = self.feed_line
        for line in lines:
            feed_line(line)
            if builder.events >= size and len(builder.columns["time"]) >= size:
                yield self.make_chunk(builder.take())

    def finish(self) -> Any:
        """End of input: close open halves and return the last events (a chunk)."""
        self.joiner.finish()
        return self.take()

    def take(self) -> Any:
        """The events buffered so far, as a chunk (emptying the buffer)."""
        cols = self.builder.take()
        if any(t is None for t in cols["time"]):
            # Logs without timestamps: events keep their order, times are unknown.
            cols["time"] = [float("nan") if t is None else t for t in cols["time"]]
        return self.make_chunk(cols)

    def processes(self) -> pd.DataFrame:
        """The processes table for everything seen so far."""
        from iomonitor.trace import processes_frame

        return processes_frame(self.builder.process_rows())

    def errors(self) -> pd.DataFrame:
        """Failed byte-moving calls, counted."""
        from iomonitor.trace import errors_frame

        return errors_frame(self.builder.error_rows())

    def execs(self) -> pd.DataFrame:
        """Every successful exec so far, in order."""
        from iomonitor.trace import execs_frame

        return execs_frame(self.builder.exec_rows)

    def exec_records(self) -> dict[str, list]:
        """The exec history as records (:func:`iomonitor.sinks.exec_records`)."""
        from iomonitor.sinks import exec_records

        return exec_records(self.builder.exec_rows)

    def process_records(self) -> dict[str, list]:
        """The processes table as records (:func:`iomonitor.sinks.process_records`)."""
        from iomonitor.sinks import process_records

        return process_records(self.builder.process_rows())

    def error_records(self) -> dict[str, list]:
        """Failed calls as records (:func:`iomonitor.sinks.error_records`)."""
        from iomonitor.sinks import error_records

        return error_records(self.builder.error_rows())

    def counters(self) -> dict[str, Any]:
        """The blind-spot counters for the trace metadata."""
        b = self.builder
        return {
            "lines": self.lines,
            "unparsed_lines": self.unparsed + self.joiner.orphans + b.malformed,
            "unparsed_examples": (
                self.unparsed_examples + self.joiner.orphan_examples + b.malformed_examples
            ),
            "unseen_calls": b.unseen_calls,
            "unseen_bytes": b.unseen_bytes,
            "unknown_fds": b.unknown_fds,
            "io_uring_calls": b.io_uring_calls,
            "aio_calls": b.aio_calls,
            "failed_calls": b.failed_calls,
            "events": b.events,
            "start": _iso(b.first_time),
            "end": _iso(b.last_time),
            "schema_version": schema.SCHEMA_VERSION,
        }


def _events_frame(columns: dict[str, list]) -> pd.DataFrame:
    from iomonitor.trace import events_frame

    return events_frame(columns)


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return _dt.datetime.fromtimestamp(t, _dt.UTC).isoformat()
