"""The conversion pipeline: strace output -> compiled core (+ parser, joiner, handlers) -> events.

:class:`Converter` is fed bytes (or lines) in the order strace wrote them (from
a log file or live from a running strace) and hands out events in chunks, so
that a caller can stream them to a file while memory stays flat. It does no I/O.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from iomonitor import schema
from iomonitor.schema import BYTE_MOVERS, READS, WRITES
from iomonitor.strace import parser as p
from iomonitor.strace._core import MAX_LINE, Clock, Core
from iomonitor.strace.events import EventBuilder
from iomonitor.strace.joiner import Joiner
from iomonitor.strace.parser import Record, parse_line

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

#: Events per chunk handed to writers: large enough for fast columnar writes,
#: small enough to keep memory flat.
CHUNK_EVENTS = 65536

_MAX_EXAMPLES = 5

#: The last second a timestamp can hold (9999-12-31): later stamps are corrupt.
_MAX_TIME = 253402300799.0


class Converter:
    """Stateful strace-output-to-events conversion.

    The bytes go to the compiled :class:`~iomonitor.strace._core.Core`, which
    handles the common lines itself and hands every other line, decoded, to
    :meth:`_python_line`: the parser, the joiner of split calls and the
    :class:`~iomonitor.strace.events.EventBuilder`'s handlers, on the same state.

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
        Events per chunk yielded by :meth:`feed` and :meth:`feed_bytes`.
    chunk : callable, optional
        Makes a chunk from an events Arrow table
        (:data:`iomonitor.columns.ARROW_EVENTS`): by default the typed
        DataFrame (:func:`iomonitor.columns.table_frame`); writers pass a
        function that keeps the table, so that pandas is never imported.
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
    >>> frames = list(conv.feed_bytes(b'7 1.5 write(1, "hi", 2) = 2 <0.00001>\\n'))
    >>> int(sum(len(f) for f in frames + [conv.finish()]))
    1
    """

    def __init__(
        self,
        date: _dt.date | None = None,
        mtime: float | None = None,
        cwd: str | None = None,
        on_call: Callable[[Record], None] | None = None,
        chunk_events: int = CHUNK_EVENTS,
        chunk: Callable[[pa.Table], Any] | None = None,
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
        self.core = Core(
            self.builder, self.joiner, self.clock, self._python_line, self._released, READS, WRITES
        )
        self.builder.use_core(self.core)
        # -v shows every call as the Python side understands it.
        self.core.verbose = on_call is not None
        self.on_call = on_call
        self.chunk_events = chunk_events
        self.make_chunk = _events_frame if chunk is None else chunk
        self.unparsed = 0
        self.unparsed_examples: list[str] = []
        self.messages: list[str] = []
        self._time_styles: set[str] = set()

    @property
    def lines(self) -> int:
        """Lines seen so far."""
        return self.core.lines

    @property
    def time_styles(self) -> set[str]:
        """The timestamp styles seen (:data:`~iomonitor.timeutil.TOD` and friends)."""
        return self._time_styles | self.core.time_styles()

    def feed_line(self, line: str) -> None:
        """Take one decoded line of strace output (with or without its newline)."""
        self.core.feed_line(line)

    def _python_line(self, line: str) -> None:
        """A line the core hands over: parse it, join it, apply it."""
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
            self._time_styles.add(rec.time_style)  # type: ignore[arg-type]
            rec.time = self.clock(rec.time, rec.time_style)
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

    def _released(self, line: str, time: float | None) -> None:
        """The start of a split call the core held: the joiner keeps it (its time taken)."""
        rec = parse_line(line)
        rec.time = time
        self.joiner.feed(rec)

    def _unparsed(self, line: str) -> None:
        self.unparsed += 1
        if len(self.unparsed_examples) < _MAX_EXAMPLES:
            self.unparsed_examples.append(line.rstrip("\n"))

    def feed_bytes(self, data: bytes | bytearray | memoryview) -> Iterator[Any]:
        """Take bytes as strace wrote them; yield a chunk each time one is full.

        Lines may be cut anywhere between two calls: the rest of a line waits
        for its newline (or :meth:`finish`).
        """
        self.core.feed(data)
        while self.builder.columns.rows >= self.chunk_events:
            yield self.take(self.chunk_events)

    def feed(self, lines: Iterable[str]) -> Iterator[Any]:
        """Take decoded lines; yield a chunk of events (see ``chunk``) each time one is full."""
        columns = self.builder.columns
        size = self.chunk_events
        feed_line = self.core.feed_line
        for line in lines:
            feed_line(line)
            while columns.rows >= size:
                yield self.take(size)

    def finish(self) -> Any:
        """End of input: the last line, open halves closed; return the last events (a chunk)."""
        self.core.finish()
        self.joiner.finish()
        return self.take()

    def take(self, limit: int = -1) -> Any:
        """The first ``limit`` events buffered (all by default), as a chunk."""
        self.core.sync()
        return self.make_chunk(self.builder.take(limit))

    def processes(self) -> pd.DataFrame:
        """The processes table for everything seen so far."""
        from iomonitor.trace import records_frame

        return records_frame(self.process_records(), "processes")

    def errors(self) -> pd.DataFrame:
        """Failed byte-moving calls, counted."""
        from iomonitor.trace import records_frame

        return records_frame(self.error_records(), "errors")

    def execs(self) -> pd.DataFrame:
        """Every successful exec so far, in order."""
        from iomonitor.trace import records_frame

        return records_frame(self.exec_records(), "execs")

    def exec_records(self) -> dict[str, list]:
        """The exec history as the Parquet metadata stores it (``EventBuilder.execs``)."""
        return {name: list(values) for name, values in self.builder.execs.items()}

    def process_records(self) -> dict[str, list]:
        """The processes table as the Parquet metadata stores it."""
        self.core.sync()
        return self.builder.process_records()

    def error_records(self) -> dict[str, list]:
        """Failed calls as the Parquet metadata stores them (``ErrorTally.records``)."""
        return self.builder.tally.records()

    def counters(self) -> dict[str, Any]:
        """The blind-spot counters for the trace metadata."""
        b = self.builder
        core = self.core
        core.sync()
        overlong = core.overlong_lines
        return {
            "lines": core.lines,
            "unparsed_lines": self.unparsed + self.joiner.orphans + b.malformed + overlong,
            "unparsed_examples": (
                self.unparsed_examples
                + self.joiner.orphan_examples
                + b.malformed_examples
                + (
                    [f"({overlong} lines longer than {MAX_LINE} bytes, skipped)"]
                    if overlong
                    else []
                )
            ),
            "unseen_calls": b.unseen_calls,
            "unseen_bytes": b.unseen_bytes,
            "unknown_fds": b.unknown_fds,
            "io_uring_calls": b.io_uring_calls,
            "aio_calls": b.aio_calls,
            "failed_calls": b.failed_calls,
            "events": b.events + core.events,
            "start": _iso(b.first_time),
            "end": _iso(b.last_time),
            "schema_version": schema.SCHEMA_VERSION,
        }


def _events_frame(table: pa.Table) -> pd.DataFrame:
    from iomonitor.columns import table_frame

    return table_frame(table)


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return _dt.datetime.fromtimestamp(t, _dt.UTC).isoformat()
