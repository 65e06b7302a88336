"""Trace writers: classic CSV, Parquet and Parquet datasets, streamed chunk by chunk.

With the readers of :mod:`iomonitor.store`, the only code that touches trace
files. A writer is a *sink*: it takes event chunks as they come
and is closed with the processes, failed calls and metadata, so a capture
streams to disk with flat memory. A sink writing to a path writes a hidden
temporary file beside it and renames it into place when closed, so a failed
run never leaves half a file under the user's name.

Sinks take events as the plain columns of the event builder, Arrow tables
(:func:`iomonitor.columns.events_table`) or events DataFrames; each sink's
:meth:`Sink.chunk` says which form it takes best, and a producer makes its
chunks with it. The processes and failed calls come as records (one list
per column, as the converter gives them) or DataFrames. pandas is never
imported here, and pyarrow only by the Parquet writers: a capture to CSV
starts in a tenth of a second, one to Parquet without pandas' half second.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import io
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from iomonitor import schema
from iomonitor.errors import OutputError
from iomonitor.timeutil import utc_offset

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from iomonitor.trace import Trace

    #: An events chunk: plain columns, an Arrow table of ARROW_EVENTS, or a DataFrame.
    Events = dict[str, list] | pa.Table | pd.DataFrame
    #: The processes or failed-calls table: records (one list per column) or a DataFrame.
    Records = dict[str, list] | pd.DataFrame

CLASSIC_HEADER = ",".join(schema.CLASSIC_COLUMNS)
#: How errors name the standard streams a sink writes to.
_STREAM_NAMES = {"<stdout>": "standard output", "<stderr>": "standard error"}
PARQUET_KEY = b"iomonitor"

#: Parquet row groups hold this many events (flat memory on write and read).
ROW_GROUP = 262144

#: Columns Parquet does not dictionary-encode: ``time`` and ``dt`` are
#: nearly unique per event, so a dictionary for them only grows a hash table
#: that Parquet then abandons (a sixth of a conversion's CPU, mostly the
#: kernel zeroing the table's fresh pages) and the file is no smaller.
PLAIN_COLUMNS = ("time", "dt")

# --- helpers shared by the writers ------------------------------------------


def _tmp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


class OutputFile:
    """Where a writer puts a file the user named: beside it first, or in place.

    A regular file (or a new one) is written as a hidden temporary file beside
    it and renamed into place once complete, so that a failed run never
    leaves half a file under the user's name. A target that exists and is not
    a regular file, such as a device (``/dev/full``, ``/dev/stdout``) or a
    named pipe, is written in place: renaming over it would put a regular
    file where the device or pipe was, and the data would never reach it.

    Parameters
    ----------
    path : path
        The file the user named.

    Attributes
    ----------
    path : pathlib.Path
        The file the user named.
    tmp : pathlib.Path
        The file to open and write: the temporary file, or ``path`` itself.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        # is_file() follows symbolic links: a link to a device is a device.
        self.in_place = self.path.exists() and not self.path.is_file()
        self.tmp = self.path if self.in_place else _tmp_beside(self.path)

    def commit(self) -> None:
        """Put the complete file in place (the caller has closed it)."""
        if not self.in_place:
            os.replace(self.tmp, self.path)

    def discard(self) -> None:
        """Remove what was written after a failure (a device or a pipe is left as it is)."""
        if not self.in_place:
            with contextlib.suppress(FileNotFoundError):
                self.tmp.unlink()

    @contextlib.contextmanager
    def writing(self) -> Iterator[Path]:
        """Write :attr:`tmp` inside the block; when it ends, the file is put in place.

        Whatever fails inside, what was written is removed; an ``OSError`` (a
        full disk, a missing folder) becomes an
        :class:`~iomonitor.errors.OutputError` naming the user's file.

        Examples
        --------
        >>> with OutputFile("sizes.svg").writing() as tmp:  # doctest: +SKIP
        ...     figure.savefig(tmp, format="svg")
        """
        try:
            yield self.tmp
            self.commit()
        except BaseException as exc:
            with contextlib.suppress(OSError):
                self.discard()
            if isinstance(exc, OSError):
                raise OutputError(str(self.path), exc.strerror or str(exc)) from exc
            raise

    def finish(self, close: Callable[[], None], abort: Callable[[], None]) -> None:
        """Close the written file with ``close``, then put it in place.

        A full disk or device shows here, when the last buffered bytes reach
        the file: then ``abort`` releases the file, what was written is
        removed, and the :class:`~iomonitor.errors.OutputError` names the
        user's file.
        """
        try:
            close()
            self.commit()
        except OSError as exc:
            abort()
            raise OutputError(str(self.path), exc.strerror or str(exc)) from exc


def _meta_json(value: Any) -> Any:
    if isinstance(value, _dt.datetime):  # pandas' Timestamp too
        return value.isoformat()
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return value.item()  # numpy's integers and floats
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _arrow(events: Events) -> pa.Table:
    """An events chunk as an Arrow table of :data:`~iomonitor.columns.ARROW_EVENTS`."""
    import pyarrow as pa

    from iomonitor.columns import ARROW_EVENTS, events_table

    if isinstance(events, pa.Table):
        return events
    if isinstance(events, dict):
        return events_table(events)
    frame = events[list(ARROW_EVENTS.names)]  # a loaded trace may carry `run` too
    return pa.Table.from_pandas(frame, preserve_index=False).cast(ARROW_EVENTS)


def _plain(events: Events) -> dict[str, list]:
    """An events chunk as plain columns, ``time`` in whole microseconds (None if unknown)."""
    if isinstance(events, dict):
        # round() is half to even, as events_frame and events_table round.
        us = [None if t is None or t != t else round(t * 1e6) for t in events["time"]]
        return {**events, "time": us}
    table = _arrow(events)
    out = {name: table.column(name).to_pylist() for name in schema.CLASSIC_COLUMNS[1:]}
    out["time"] = _micros(table)
    return out


def _records(table: Records) -> dict[str, list]:
    """The processes, failed calls or execs as records, as the Parquet metadata keeps them."""
    if isinstance(table, dict):
        return table
    import pandas as pd  # a DataFrame was given: pandas is loaded already

    out: dict[str, list] = {}
    for col in table.columns:
        s = table[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            vals = s.astype("int64").where(s.notna(), None)
            out[col] = [None if pd.isna(v) else int(v) for v in vals]
        else:
            out[col] = [None if (v is None or v is pd.NA or v != v) else v for v in s.tolist()]
    return out


# --- sinks --------------------------------------------------------------------


class Sink:
    """Where events go while they are produced.

    Call :meth:`write` with each events chunk, then :meth:`close` once with the
    rest of the trace, or :meth:`abort` on failure.
    """

    def chunk(self, table: pa.Table) -> Events:
        """Make the chunk this sink writes best from the event core's Arrow table."""
        return table

    def write(self, events: Events) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def close(
        self,
        processes: Records,
        errors: Records,
        meta: dict[str, Any],
        execs: Records | None = None,
    ) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def abort(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class CsvSink(Sink):
    """Classic CSV: ``time,dt,pid,fd,dir,bytes,file,port``, RFC 4180 quoting.

    Parameters
    ----------
    target : path or text stream
        A path (written through a temporary file) or an open stream such as
        stderr (written and flushed chunk by chunk).
    offset : int, optional
        UTC offset in seconds for the wall-clock ``time`` column; by default
        the local zone's offset at the first event.
    """

    def __init__(self, target: str | os.PathLike[str] | IO[str], offset: int | None = None) -> None:
        self.offset = offset
        if isinstance(target, (str, os.PathLike)):
            self._out: OutputFile | None = OutputFile(target)
            self._name = str(target)
            try:
                self._fh: IO[bytes] = open(self._out.tmp, "wb")  # noqa: SIM115 - closed in close()
            except OSError as exc:
                raise OutputError(str(target), exc.strerror or str(exc)) from exc
            self._stream: IO[str] | None = None
        else:
            self._out = None
            self._name = _STREAM_NAMES.get(getattr(target, "name", None), "output")
            self._stream = target
            self._fh = target.buffer if hasattr(target, "buffer") else None  # type: ignore[assignment]
        self._quoted: dict[str, str] = {}
        self._emit((CLASSIC_HEADER + "\n").encode())

    def _emit(self, data: bytes) -> None:
        try:
            if self._fh is not None:
                self._fh.write(data)
                if self._stream is not None:
                    self._fh.flush()
            else:
                assert self._stream is not None
                self._stream.write(data.decode("utf-8"))
                self._stream.flush()
        except OSError as exc:
            raise OutputError(self._name, exc.strerror or str(exc)) from exc

    def _quote(self, name: str) -> str:
        q = self._quoted.get(name)
        if q is None:
            buf = io.StringIO()
            # Paths are always quoted (the classic look); labels and addresses
            # only when RFC 4180 requires it. The csv module does the quoting.
            always = name.startswith("/") or name.startswith("@")
            csv.writer(
                buf, quoting=csv.QUOTE_ALL if always else csv.QUOTE_MINIMAL, lineterminator=""
            ).writerow([name])
            q = self._quoted[name] = buf.getvalue()
        return q

    def write(self, events: Events) -> None:
        cols = _plain(events)
        if not cols["time"]:
            return
        if self.offset is None:
            first = next((t for t in cols["time"] if t is not None), None)
            self.offset = 0 if first is None else utc_offset(first / 1e6)
        self._emit(_classic_rows(cols, self.offset, self._quote).encode("utf-8"))

    def close(
        self,
        processes: Records,
        errors: Records,
        meta: dict[str, Any],
        execs: Records | None = None,
    ) -> None:
        if self._out is not None:
            self._out.finish(self._fh.close, self.abort)

    def abort(self) -> None:
        if self._out is not None:
            with contextlib.suppress(OSError):
                self._fh.close()
            self._out.discard()


def _micros(table: pa.Table) -> list[int | None]:
    # The stored integers behind the timestamps (a view: no compute kernels).
    import pyarrow as pa

    out: list[int | None] = []
    for chunk in table.column("time").chunks:
        out += chunk.view(pa.int64()).to_pylist()
    return out


def _classic_rows(cols: dict[str, list], offset: int, quote: Any) -> str:
    times = []
    for us in cols["time"]:
        if us is None:
            times.append("")
            continue
        secs, frac = divmod((us + offset * 1_000_000) % 86_400_000_000, 1_000_000)
        h, rem = divmod(secs, 3600)
        m, s = divmod(rem, 60)
        times.append(f"{h:02d}:{m:02d}:{s:02d}.{frac:06d}")
    dts = ["" if x is None or x != x else f"{x:.6f}" for x in cols["dt"]]
    files = ["" if f is None else quote(f) for f in cols["file"]]
    ports = ["" if p is None else str(p) for p in cols["port"]]
    rows = zip(
        times,
        dts,
        cols["pid"],
        cols["fd"],
        cols["dir"],
        cols["bytes"],
        files,
        ports,
        strict=True,
    )
    return "".join(f"{a},{b},{c},{d},{e},{f},{g},{hh}\n" for a, b, c, d, e, f, g, hh in rows)


class ParquetSink(Sink):
    """Parquet, written row group by row group, with the rest of the trace in its metadata."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        import pyarrow.parquet as pq

        from iomonitor.columns import ARROW_EVENTS

        self._path = Path(path)
        self._out = OutputFile(self._path)
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        try:
            self._writer = pq.ParquetWriter(
                self._out.tmp,
                ARROW_EVENTS,
                compression="zstd",
                use_dictionary=[n for n in ARROW_EVENTS.names if n not in PLAIN_COLUMNS],
            )
        except OSError as exc:
            raise OutputError(str(path), exc.strerror or str(exc)) from exc

    def write(self, events: Events) -> None:
        table = _arrow(events)
        if table.num_rows == 0:
            return
        self._buffer.append(table)
        self._buffered += table.num_rows
        if self._buffered >= ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        import pyarrow as pa

        table = pa.concat_tables(self._buffer).unify_dictionaries()
        self._buffer, self._buffered = [], 0
        try:
            self._writer.write_table(table, row_group_size=ROW_GROUP)
        except OSError as exc:
            self.abort()
            raise OutputError(str(self._path), exc.strerror or str(exc)) from exc

    def close(
        self,
        processes: Records,
        errors: Records,
        meta: dict[str, Any],
        execs: Records | None = None,
    ) -> None:
        self._flush()
        blob = {
            "meta": meta,
            "processes": _records(processes),
            "errors": _records(errors),
        }
        if execs is not None:
            blob["execs"] = _records(execs)

        def seal() -> None:
            self._writer.add_key_value_metadata(
                {PARQUET_KEY: json.dumps(blob, default=_meta_json, ensure_ascii=True)}
            )
            self._writer.close()

        self._out.finish(seal, self.abort)

    def abort(self) -> None:
        import pyarrow as pa

        # Best effort while already failing: the writer may be half-closed.
        with contextlib.suppress(OSError, pa.ArrowException):
            self._writer.close()
        self._out.discard()


def open_sink(
    target: str | os.PathLike[str] | None,
    fmt: str | None = None,
    stream: IO[str] | None = None,
    *,
    host: str | None = None,
) -> Sink:
    """Open a sink by file name or format.

    Parameters
    ----------
    target : path, ``"-"`` or None
        Where to write; ``"-"`` means standard output, None means ``stream``.
        A path ending in a slash, or an existing folder, is a Parquet
        dataset: the trace becomes one run of it (:class:`DatasetSink`).
    fmt : {"csv", "parquet"}, optional
        The format; by default from the extension, in any case (``.parquet``/``.pq``
        for Parquet, anything else CSV).
    stream : text stream, optional
        The stream used when ``target`` is None (stderr in capture mode).
    host : str, optional
        For a dataset: the ``host`` partition (this machine's name by default).

    Returns
    -------
    Sink
    """
    if target is None or str(target) == "-":
        if fmt == "parquet":
            raise OutputError("-", "Parquet cannot be streamed to a terminal or pipe; use -o FILE")
        return CsvSink(stream if target is None and stream is not None else sys.stdout)
    if is_dataset_target(target):
        if fmt not in (None, "parquet"):
            raise OutputError(str(target), "a dataset holds Parquet files only")
        return DatasetSink(target, host=host)
    if fmt is None:
        fmt = "parquet" if str(target).lower().endswith((".parquet", ".pq")) else "csv"
    parent = Path(target).parent
    if not parent.is_dir():
        raise OutputError(str(target), "no such directory")
    return ParquetSink(target) if fmt == "parquet" else CsvSink(target)


def write(trace: Trace, target: str | os.PathLike[str], fmt: str | None = None) -> None:
    """Write a whole trace to ``target`` (CSV or Parquet, by extension or ``fmt``).

    A ``target`` ending in a slash, or an existing folder, gets the trace as
    one run of a dataset, under the host named in its metadata.
    """
    sink = open_sink(target, fmt, host=trace.meta.get("host"))
    try:
        for start in range(0, max(len(trace.events), 1), ROW_GROUP):
            sink.write(trace.events.iloc[start : start + ROW_GROUP])
    except BaseException:
        sink.abort()
        raise
    sink.close(trace.processes, trace.errors, trace.meta, trace.execs)


# --- datasets ------------------------------------------------------------------

#: The partition folders of a dataset, outermost first: ``ROOT/host=H/run=R/``.
PARTITIONS: tuple[str, ...] = ("host", "run")
#: The file name of a run inside its folder.
DATASET_PART = "part-0.parquet"
# Partition values are written as they are, without hive's %XX escapes, so
# they must need none: a host name, a run id.
_PARTITION_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def is_dataset_target(target: str | os.PathLike[str]) -> bool:
    """Whether an output path names a dataset: it ends in a slash or is an existing folder."""
    text = os.fspath(target)
    return text.endswith(("/", os.sep)) or os.path.isdir(text)


def new_run_id(start: float | None = None) -> str:
    """A run id: sortable and unique, e.g. ``20261127T133501Z-3f9a``.

    Parameters
    ----------
    start : float, optional
        The run's start (seconds since the epoch); now by default.

    Returns
    -------
    str
        The start in UTC to the second, a dash and four random hex digits.
    """
    when = _dt.datetime.fromtimestamp(time.time() if start is None else start, _dt.UTC)
    import secrets  # datasets only: hmac and hashlib cost a -i conversion 7 ms

    return f"{when:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


def _check_partition(key: str, value: str, target: Any) -> None:
    if not _PARTITION_VALUE.fullmatch(value):
        raise OutputError(
            str(target), f"{key} {value!r} cannot name a dataset folder (letters, digits, . _ -)"
        )


class DatasetSink(ParquetSink):
    """One run of a Parquet dataset: ``ROOT/host=HOST/run=RUN/part-0.parquet``.

    The events are written like any Parquet trace (same schema, same
    metadata, plus ``host`` and ``run``), into a hidden temporary file in the
    host's folder; closing creates the run's folder and renames the file
    into it, so a reader never sees half a part and a failed run leaves
    none. The run id is chosen then, from the trace's start (see
    :func:`new_run_id`).

    Parameters
    ----------
    root : path
        The dataset's folder; created if missing (its parent must exist).
    host : str, optional
        The ``host`` partition; this machine's host name by default.
    run : str, optional
        The run id; by default made from the trace's start when closing.

    Attributes
    ----------
    path : pathlib.Path or None
        The part file, once closed.
    """

    def __init__(
        self, root: str | os.PathLike[str], host: str | None = None, run: str | None = None
    ) -> None:
        self.root = Path(root)
        import socket  # datasets only, as secrets

        self.host = socket.gethostname() if host is None else host
        self.run = run
        self.path: Path | None = None
        _check_partition("host", self.host, root)
        if run is not None:
            _check_partition("run", run, root)
        self._opened = time.time()
        folder = self.root / f"host={self.host}"
        try:
            self.root.mkdir(exist_ok=True)
            folder.mkdir(exist_ok=True)
        except FileNotFoundError:
            raise OutputError(str(root), "no such directory") from None
        except OSError as exc:
            raise OutputError(str(root), exc.strerror or str(exc)) from exc
        # A name of its own, so that captures writing side by side never share
        # a temporary file; it is never used as such (see close).
        import secrets

        super().__init__(folder / f"part-{secrets.token_hex(4)}.parquet")

    def _start(self, meta: dict[str, Any]) -> float:
        if meta.get("capture_start") is not None:
            return float(meta["capture_start"])
        if meta.get("start"):
            with contextlib.suppress(ValueError):
                return _dt.datetime.fromisoformat(meta["start"]).timestamp()
        return self._opened

    def close(
        self,
        processes: Records,
        errors: Records,
        meta: dict[str, Any],
        execs: Records | None = None,
    ) -> None:
        run = self.run or new_run_id(self._start(meta))
        host_folder = self.root / f"host={self.host}"
        while True:
            folder = host_folder / f"run={run}"
            try:
                folder.mkdir()
                break
            except FileExistsError:
                if self.run is not None:
                    self.abort()
                    raise OutputError(str(folder), "this run is already in the dataset") from None
                run = new_run_id(self._start(meta))  # same second, same suffix: draw again
            except OSError as exc:
                self.abort()
                raise OutputError(str(folder), exc.strerror or str(exc)) from exc
        self.run = run
        self._path = self._out.path = folder / DATASET_PART
        try:
            super().close(processes, errors, {**meta, "host": self.host, "run": run}, execs)
        except OutputError:
            with contextlib.suppress(OSError):
                folder.rmdir()
            raise
        self.path = self._path
