"""Trace files: classic CSV, Parquet (+ datasets) and raw strace logs.

With its writers in :mod:`iomonitor.sinks` (re-exported here), the only code
that opens trace files. Writers are *sinks* that take event chunks as they
come and are closed with the processes, failed calls and metadata, so a
capture streams to disk with flat memory; a sink writing to a path writes a
hidden temporary file beside it and renames it into place when closed, so a
failed run never leaves half a file under the user's name. The readers here
give pandas DataFrames; the writers need only pyarrow.

Names are valid UTF-8 everywhere (bytes that are not become ``\\xNN``
escapes when the events are made; :func:`iomonitor.trace.raw_name` gives the
exact bytes back), so every format stores them as ordinary text.
"""

from __future__ import annotations

import datetime as _dt
import heapq
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from iomonitor import schema
from iomonitor.columns import ARROW_EVENTS  # noqa: F401 - part of the store's API
from iomonitor.errors import InputError
from iomonitor.sinks import (  # noqa: F401 - the writers, re-exported: store is the one front
    CLASSIC_HEADER,
    DATASET_PART,
    PARQUET_KEY,
    PARTITIONS,
    ROW_GROUP,
    CsvSink,
    DatasetSink,
    ParquetSink,
    Sink,
    format_classic,
    is_dataset_target,
    new_run_id,
    open_sink,
    write,
)
from iomonitor.timeutil import DAY, first_date, local_midnight
from iomonitor.trace import (
    Trace,
    empty_errors,
    empty_processes,
    events_frame,
)

_PAR1 = b"PAR1"


def _records_to_table(data: dict[str, list], dtypes: dict[str, object]) -> pd.DataFrame:
    frame = pd.DataFrame({k: data.get(k, []) for k in dtypes})
    for col, dtype in dtypes.items():
        if isinstance(dtype, pd.DatetimeTZDtype):
            frame[col] = pd.to_datetime(pd.array(frame[col], dtype="Int64"), unit="us", utc=True)
    return frame.astype(dtypes)


# --- datasets ------------------------------------------------------------------


def partition_values(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``host`` and ``run`` of a dataset part, read from its ``key=value`` folders.

    Examples
    --------
    >>> partition_values("ds/host=web1/run=20261127T133501Z-3f9a/part-0.parquet")
    {'host': 'web1', 'run': '20261127T133501Z-3f9a'}
    """
    found = {}
    for folder in Path(path).parent.parts:
        key, eq, value = folder.partition("=")
        if eq and key in PARTITIONS:
            found[key] = unquote(value)  # hive escapes, as DuckDB and Spark read them
    return found


def run_name(path: str | os.PathLike[str]) -> str:
    """The name of an input's run when several are loaded together.

    A dataset part is named by its partition folders, ``host=H/run=R``
    (followed by its file name unless that is ``part-0.parquet``); any
    other input by its path.

    Examples
    --------
    >>> run_name("ds/host=web1/run=20261127T133501Z-3f9a/part-0.parquet")
    'host=web1/run=20261127T133501Z-3f9a'
    >>> run_name("traces/monday.parquet")
    'traces/monday.parquet'
    """
    p = Path(path)
    folders = [f for f in p.parent.parts if f.partition("=")[0] in PARTITIONS and "=" in f]
    if not folders:
        return str(p)
    return "/".join(folders if p.name == DATASET_PART else [*folders, p.name])


# --- readers -------------------------------------------------------------------


def detect(path: str | os.PathLike[str]) -> str:
    """Tell what a trace input is: ``"parquet"``, ``"csv"``, ``"dataset"`` or ``"log"``.

    Raises
    ------
    InputError
        When the path is missing, unreadable or empty.
    """
    p = Path(path)
    if p.is_dir():
        return "dataset"
    if not p.exists():
        p = log_parts(path)[0][1]  # strace -ff per-process files, or InputError
        if not p.name.startswith(Path(path).name + "."):
            return "log"
    try:
        with open(p, "rb") as fh:
            head = fh.read(4096)
    except FileNotFoundError:
        raise InputError(str(path), "no such file") from None
    except OSError as exc:
        raise InputError(str(path), exc.strerror or str(exc)) from exc
    if not head.strip():
        raise InputError(str(path), "empty file")
    if head.startswith(_PAR1):
        return "parquet"
    if head.split(b"\n", 1)[0].rstrip(b"\r") == CLASSIC_HEADER.encode():
        return "csv"
    return "log"


def log_parts(path: str | os.PathLike[str]) -> list[tuple[int | None, Path]]:
    """The file(s) of a raw log: the file itself, or the ``PATH.PID`` files of ``strace -ff``.

    Raises
    ------
    InputError
        When neither exists.
    """
    p = Path(path)
    if p.exists():
        return [(None, p)]
    parts = [
        (int(f.name[len(p.name) + 1 :]), f)
        for f in p.parent.glob(f"{p.name}.*")
        if f.name[len(p.name) + 1 :].isdigit()
    ]
    if not parts:
        raise InputError(str(path), "no such file")
    return sorted(parts)


def log_mtime(path: str | os.PathLike[str]) -> float:
    """Modification time of a raw log (the newest of ``-ff`` per-process files)."""
    return max(f.stat().st_mtime for _, f in log_parts(path))


_LEADING_TIME = re.compile(r"\s*(?:(\d\d):(\d\d):(\d\d(?:\.\d+)?)|(\d+\.\d+))\s")


def _open_text(path: Path) -> IO[str]:
    try:
        return open(path, encoding="utf-8", errors="surrogateescape", newline="\n")
    except OSError as exc:
        raise InputError(str(path), exc.strerror or str(exc)) from exc


def iter_log_lines(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield the lines of a raw strace log, decoded losslessly.

    For ``strace -ff -o PATH`` logs, the per-process files ``PATH.PID`` are
    merged by timestamp and each line gets its pid prefix, which those files
    leave out.
    """
    parts = log_parts(path)
    if len(parts) == 1 and parts[0][0] is None:
        with _open_text(parts[0][1]) as fh:
            try:
                yield from fh
            except OSError as exc:
                raise InputError(str(path), exc.strerror or str(exc)) from exc
        return
    handles = [(pid, _open_text(f)) for pid, f in parts]
    try:
        streams = [_keyed(pid, fh) for pid, fh in handles]
        for _, _, line in heapq.merge(*streams):
            yield line
    finally:
        for _, fh in handles:
            fh.close()


def _keyed(pid: int | None, lines: Iterable[str]) -> Iterator[tuple[float, int, str]]:
    # Sort key: the line's own timestamp (start of the call), or the previous
    # one for lines without; ties keep each file's order.
    key = 0.0
    for seq, line in enumerate(lines):
        m = _LEADING_TIME.match(line)
        if m is not None:
            if m.group(4) is not None:
                key = float(m.group(4))
            else:
                key = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
        yield key, seq, f"{pid} {line}"


def read_log(
    path: str | os.PathLike[str],
    *,
    date: _dt.date | None = None,
    cwd: str | None = None,
) -> Trace:
    """Convert a raw strace log into a trace.

    Parameters
    ----------
    path : path
        The log (``strace -f -o LOG``, any flags iomonitor reads).
    date : datetime.date, optional
        The date of the first line for ``-t``/``-tt`` logs; by default taken
        from the file's modification time.
    cwd : str, optional
        The traced program's starting directory, to make relative paths
        absolute in logs without ``-y``.

    Returns
    -------
    Trace

    Raises
    ------
    InputError
        When the file is missing, empty or holds no strace line at all.

    Examples
    --------
    >>> trace = read_log("strace.log")  # doctest: +SKIP
    >>> trace.events.groupby("file", observed=True)["bytes"].sum()  # doctest: +SKIP
    """
    from iomonitor.strace.convert import Converter
    from iomonitor.strace.fastpath import feed_fast

    detect(path)
    conv = Converter(date=date, mtime=log_mtime(path), cwd=cwd)
    chunks = list(feed_fast(conv, iter_log_lines(path)))
    chunks.append(conv.finish())
    check_log(conv, path)
    events = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    meta = {"mode": "log", "source": str(path), **conv.counters()}
    return Trace(_unify(events), conv.processes(), conv.errors(), meta)


def sniff_log(path: str | os.PathLike[str]) -> None:
    """Refuse, before anything is written, an input that does not start like a strace log.

    Raises
    ------
    InputError
        When the file is missing, empty, another trace format, or none of its
        first lines reads as strace output.
    """
    from iomonitor.strace.parser import BLANK, INVALID, parse_line

    kind = detect(path)
    if kind != "log":
        raise InputError(str(path), f"is a {kind} trace, not a strace log")
    for seen, line in enumerate(iter_log_lines(path)):
        if parse_line(line).kind not in (INVALID, BLANK):
            return
        if seen >= 200:
            break
    raise InputError(str(path), "not a strace log (no line reads as strace output)")


def check_log(conv: Any, path: str | os.PathLike[str]) -> None:
    """Refuse an input that held no strace line at all."""
    if conv.builder.procs or conv.joiner.pending:
        return
    if conv.lines and conv.unparsed == 0:
        return  # only messages or blank lines: an empty but genuine log
    raise InputError(str(path), "not a strace log, a classic CSV or a Parquet trace")


def _unify(events: pd.DataFrame) -> pd.DataFrame:
    # concat of categoricals with different categories falls back to object.
    for col in schema.EVENT_COLUMNS:
        if col not in events.columns:
            continue  # a column selection (load(..., columns=...))
        want = schema.EVENT_DTYPES[col]
        if events[col].dtype != want and not (
            want == "category" and isinstance(events[col].dtype, pd.CategoricalDtype)
        ):
            events[col] = events[col].astype(want)
    return events


_CSV_TIME = r"\d\d:\d\d:\d\d(?:\.\d+)?"


def read_csv(path: str | os.PathLike[str], *, date: _dt.date | None = None) -> Trace:
    """Read a classic CSV trace.

    The CSV holds a time of day only: the date comes from ``date`` or the
    file's modification time, like for ``-tt`` logs. Columns the classic CSV
    does not carry are filled where they follow from the others (``tgid`` is
    the pid, ``kind`` from the name) and left missing otherwise.
    """
    reader = _ClassicChunks(Path(path), date)
    chunks = [c for c in reader.events(_CSV_WHOLE_ROWS) if len(c)]
    if not chunks:
        events = events_frame({c: [] for c in schema.EVENT_COLUMNS})
    else:
        events = _unify(pd.concat(chunks, ignore_index=True)) if len(chunks) > 1 else chunks[0]
    meta = {"mode": "csv", "source": str(path), "events": reader.rows}
    return Trace(events, empty_processes(), empty_errors(), meta)


#: Rows per chunk when a classic CSV is read whole (one chunk for most files).
_CSV_WHOLE_ROWS = 1 << 20


def _kind_of_name(name: str, no_port: bool) -> str | None:
    if name.startswith("pipe:"):
        return "pipe"
    if name.startswith("unix:") or name.startswith("@"):
        return "unix"
    if name.startswith("netlink:"):
        return "netlink"
    if name.startswith("/dev/"):
        return "tty" if name.startswith(("/dev/pts/", "/dev/tty")) else "dev"
    if name.startswith("/"):
        return "file"
    return None


def read_parquet(
    path: str | os.PathLike[str],
    columns: Sequence[str] | None = None,
    filters: Any = None,
) -> Trace:
    """Read a Parquet trace written by iomonitor (or any file with the events schema).

    Parameters
    ----------
    path : path
    columns : sequence of str, optional
        Read only these event columns.
    filters : optional
        Row filters in pyarrow's DNF form, applied before rows reach pandas.
    """
    try:
        pf = pq.ParquetFile(path)
        table = pq.read_table(path, columns=list(columns) if columns else None, filters=filters)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(str(path), f"not a readable Parquet file ({exc})") from exc
    blob = _blob(pf.metadata.metadata, path)
    events = table.to_pandas()
    events = _restore_events(events)
    processes = (
        _records_to_table(blob["processes"], schema.PROCESS_DTYPES)
        if blob.get("processes")
        else empty_processes()
    )
    errors = (
        _records_to_table(blob["errors"], schema.ERROR_DTYPES)
        if blob.get("errors")
        else empty_errors()
    )
    return Trace(events, processes, errors, dict(blob.get("meta", {})))


def _blob(metadata: dict[bytes, bytes] | None, path: Any) -> dict[str, Any]:
    blob: dict[str, Any] = {}
    if metadata and PARQUET_KEY in metadata:
        try:
            blob = json.loads(metadata[PARQUET_KEY])
        except ValueError as exc:
            raise InputError(str(path), "corrupt iomonitor metadata") from exc
    # A dataset part's host and run are where its folders say (as DuckDB,
    # Spark and Polars read them), even when it was moved there.
    found = partition_values(path)
    if found:
        blob = {**blob, "meta": {**blob.get("meta", {}), **found}}
    return blob


def _restore_events(events: pd.DataFrame) -> pd.DataFrame:
    for col in events.columns:
        want = schema.EVENT_DTYPES.get(col)
        if want is None:
            continue
        if events[col].dtype != want and not (
            want == "category" and isinstance(events[col].dtype, pd.CategoricalDtype)
        ):
            events[col] = events[col].astype(want)
    return events


def load(
    *paths: str | os.PathLike[str],
    date: _dt.date | None = None,
    columns: Sequence[str] | None = None,
) -> Trace:
    """Load any trace: Parquet, classic CSV, raw strace log, or a Parquet dataset folder.

    Parameters
    ----------
    *paths : path
        One or more inputs. With several (or a folder of several Parquet
        files), events and processes get a ``run`` column naming their input,
        so pids from different runs never merge.
    date : datetime.date, optional
        Date for inputs that carry a time of day only (``-tt`` logs, CSV).
    columns : sequence of str, optional
        Parquet inputs: read only these event columns.

    Returns
    -------
    Trace

    Raises
    ------
    InputError
        When an input is missing, empty or not a trace.

    Examples
    --------
    >>> trace = load("run.parquet")  # doctest: +SKIP
    >>> trace.events.head()  # doctest: +SKIP
    """
    inputs = trace_inputs(*paths)
    traces = []
    for item in inputs:
        if item.kind == "parquet":
            traces.append(read_parquet(item.path, columns=columns))
        elif item.kind == "csv":
            traces.append(read_csv(item.path, date=date))
        else:
            traces.append(read_log(item.path, date=date))
    if len(traces) == 1:
        return traces[0]
    return combine(traces, [item.name for item in inputs])


def combine(traces: Sequence[Trace], names: Iterable[str]) -> Trace:
    """Put several traces into one, keeping them apart by a ``run`` column."""
    names = list(names)
    events, procs, errs = [], [], []
    for name, tr in zip(names, traces, strict=True):
        events.append(tr.events.assign(run=name))
        procs.append(tr.processes.assign(run=name))
        errs.append(tr.errors.assign(run=name))
    ev = _unify(pd.concat(events, ignore_index=True))
    ev["run"] = pd.Categorical(ev["run"], categories=names)
    pr = pd.concat(procs, ignore_index=True)
    er = pd.concat(errs, ignore_index=True)
    meta = {"mode": "combined", "runs": {n: t.meta for n, t in zip(names, traces, strict=True)}}
    return Trace(ev, pr, er, meta)


# --- reading batch by batch ------------------------------------------------------

#: Events per batch of :func:`iter_batches` by default (one Parquet row group).
BATCH_ROWS = ROW_GROUP


@dataclass(frozen=True)
class TraceInput:
    """One input file of :func:`trace_inputs`.

    Attributes
    ----------
    name : str
        The run name :func:`load` gives it when several inputs are loaded together.
    kind : str
        ``"parquet"``, ``"csv"`` or ``"log"``.
    path : pathlib.Path
        The file (for ``strace -ff`` logs, the common prefix of the per-process files).
    size : int
        Bytes on disk (all per-process files of an ``-ff`` log).
    """

    name: str
    kind: str
    path: Path
    size: int


def trace_inputs(*paths: str | os.PathLike[str]) -> list[TraceInput]:
    """The input files behind trace paths, named as :func:`load` names their runs.

    Parameters
    ----------
    *paths : path
        Parquet files, classic CSVs, raw strace logs, or folders searched
        recursively (at any depth, e.g. ``host=a/run=b/part-0.parquet``) for
        Parquet files.

    Returns
    -------
    list of TraceInput
        In :func:`load`'s order; several of them make several runs.

    Raises
    ------
    InputError
        When an input is missing, empty or a folder without Parquet files.
    """
    if not paths:
        raise InputError("-", "no input given")
    found: list[tuple[str, Path]] = []
    for path in paths:
        kind = detect(path)
        if kind == "dataset":
            files = sorted(Path(path).rglob("*.parquet"))
            if not files:
                raise InputError(str(path), "folder holds no Parquet files")
            found.extend(("parquet", f) for f in files)
        else:
            found.append((kind, Path(path)))
    seen: dict[str, int] = {}
    out = []
    for kind, path in found:
        name = run_name(path)
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name}#{seen[name]}"  # the same file twice is two runs, as in load()
        if kind == "log":
            size = sum(f.stat().st_size for _, f in log_parts(path))
        else:
            size = path.stat().st_size
        out.append(TraceInput(name, kind, path, size))
    return out


def read_info(item: TraceInput) -> Trace:
    """The processes, failed calls and metadata of a Parquet or CSV input, without its events.

    A Parquet file keeps them in its key-value metadata (only the footer is
    read); a classic CSV has none. A raw log only knows them once converted:
    see :class:`BatchReader`.

    Returns
    -------
    Trace
        With an empty events table.

    Raises
    ------
    InputError
        For a raw log, or an unreadable Parquet file.
    """
    if item.kind == "csv":
        return Trace(schema.empty_events(), meta={"mode": "csv", "source": str(item.path)})
    if item.kind != "parquet":
        raise InputError(str(item.path), "a raw log's processes are known only after converting it")
    try:
        metadata = pq.read_metadata(item.path).metadata
    except (OSError, pa.ArrowException) as exc:
        raise InputError(str(item.path), f"not a readable Parquet file ({exc})") from exc
    return _info_of(_blob(metadata, item.path))


def _info_of(blob: dict[str, Any]) -> Trace:
    processes = (
        _records_to_table(blob["processes"], schema.PROCESS_DTYPES)
        if blob.get("processes")
        else empty_processes()
    )
    errors = (
        _records_to_table(blob["errors"], schema.ERROR_DTYPES)
        if blob.get("errors")
        else empty_errors()
    )
    return Trace(schema.empty_events(), processes, errors, dict(blob.get("meta", {})))


class BatchReader:
    """Read the events of one or several traces batch by batch, in flat memory.

    Parquet files are read one row group at a time, only the columns asked
    for; classic CSVs in chunks of rows; raw logs are converted as they are
    read, chunk by chunk. Iterating yields ``(run name, events)`` pairs; the
    events have the schema's dtypes (categories differ from batch to batch).

    Parameters
    ----------
    *paths : path
        As for :func:`load`.
    columns : sequence of str, optional
        Only these event columns (CSV and logs are read whole, then cut).
    batch_rows : int, optional
        At most this many events per batch; :data:`BATCH_ROWS` by default.
    date : datetime.date, optional
        Date for inputs that carry a time of day only (``-tt`` logs, CSV).

    Attributes
    ----------
    inputs : list of TraceInput
    total_bytes : int
        Size of all inputs on disk.
    bytes_read : int
        How much of it the batches yielded so far cover.

    Examples
    --------
    >>> reader = BatchReader("big.parquet", columns=["time", "bytes"])  # doctest: +SKIP
    >>> sum(int(batch["bytes"].sum()) for _, batch in reader)  # doctest: +SKIP
    """

    def __init__(
        self,
        *paths: str | os.PathLike[str],
        columns: Sequence[str] | None = None,
        batch_rows: int | None = None,
        date: _dt.date | None = None,
    ) -> None:
        batch_rows = BATCH_ROWS if batch_rows is None else batch_rows
        if batch_rows < 1:
            raise ValueError("batch_rows must be at least 1")
        self.inputs = trace_inputs(*paths)
        self.columns = list(columns) if columns is not None else None
        self.batch_rows = batch_rows
        self.date = date
        self.total_bytes = sum(i.size for i in self.inputs)
        self.bytes_read = 0
        self._info: dict[str, Trace] = {}

    def __iter__(self) -> Iterator[tuple[str, pd.DataFrame]]:
        for item in self.inputs:
            start = self.bytes_read
            if item.kind == "parquet":
                batches = self._parquet(item)
            elif item.kind == "csv":
                batches = self._csv(item)
            else:
                batches = self._log(item)
            for events in batches:
                yield item.name, events
            self.bytes_read = start + item.size

    def info(self, name: str) -> Trace:
        """Processes, failed calls and metadata of one input (events left empty).

        Parquet files tell at once; a log's are known once its batches have
        all been read, a CSV's event count too.
        """
        if name not in self._info:
            item = next((i for i in self.inputs if i.name == name), None)
            if item is None:
                raise KeyError(name)
            if item.kind == "log":
                raise InputError(
                    str(item.path), "read its batches first: a log is known once converted"
                )
            self._info[name] = read_info(item)
        return self._info[name]

    def trace_info(self) -> Trace:
        """The processes, failed calls and metadata of all inputs, as :func:`load` combines them.

        With several inputs, both tables get a ``run`` column and the
        metadata is ``{"mode": "combined", "runs": {name: meta}}``. The events
        table is empty (with a ``run`` column when there are several inputs).
        """
        infos = [self.info(i.name) for i in self.inputs]
        if len(infos) == 1:
            return infos[0]
        names = [i.name for i in self.inputs]
        events = schema.empty_events()
        events["run"] = pd.Categorical([], categories=names)
        procs = pd.concat([t.processes.assign(run=n) for n, t in zip(names, infos, strict=True)])
        errs = pd.concat([t.errors.assign(run=n) for n, t in zip(names, infos, strict=True)])
        meta = {"mode": "combined", "runs": {n: t.meta for n, t in zip(names, infos, strict=True)}}
        return Trace(events, procs.reset_index(drop=True), errs.reset_index(drop=True), meta)

    def _cut(self, events: pd.DataFrame) -> pd.DataFrame:
        return events if self.columns is None else events[self.columns]

    def _parquet(self, item: TraceInput) -> Iterator[pd.DataFrame]:
        try:
            pf = pq.ParquetFile(item.path)
            rows = max(pf.metadata.num_rows, 1)
            self._info[item.name] = _info_of(_blob(pf.metadata.metadata, item.path))
            start = self.bytes_read
            done = 0
            for batch in pf.iter_batches(batch_size=self.batch_rows, columns=self.columns):
                done += batch.num_rows
                self.bytes_read = start + item.size * done // rows
                yield _restore_events(batch.to_pandas())
        except (OSError, pa.ArrowException) as exc:
            raise InputError(str(item.path), f"not a readable Parquet file ({exc})") from exc

    def _csv(self, item: TraceInput) -> Iterator[pd.DataFrame]:
        chunks = _ClassicChunks(item.path, self.date)
        start = self.bytes_read
        for events in chunks.events(self.batch_rows):
            self.bytes_read = start + min(chunks.offset, item.size)
            yield self._cut(events)
        meta = {"mode": "csv", "source": str(item.path), "events": chunks.rows}
        self._info[item.name] = Trace(schema.empty_events(), meta=meta)

    def _log(self, item: TraceInput) -> Iterator[pd.DataFrame]:
        from iomonitor.strace.convert import Converter
        from iomonitor.strace.fastpath import feed_fast

        conv = Converter(date=self.date, mtime=log_mtime(item.path), chunk_events=self.batch_rows)
        start = self.bytes_read
        read = 0

        def counted(lines: Iterable[str]) -> Iterator[str]:
            nonlocal read
            for line in lines:
                read += len(line)  # characters: close enough to bytes for progress
                yield line

        for events in feed_fast(conv, counted(iter_log_lines(item.path))):
            self.bytes_read = start + min(read, item.size)
            yield self._cut(events)
        last = conv.finish()
        check_log(conv, item.path)
        meta = {"mode": "log", "source": str(item.path), **conv.counters()}
        self._info[item.name] = Trace(schema.empty_events(), conv.processes(), conv.errors(), meta)
        if len(last):
            yield self._cut(last)


def iter_batches(
    *paths: str | os.PathLike[str],
    columns: Sequence[str] | None = None,
    batch_rows: int | None = None,
    date: _dt.date | None = None,
) -> Iterator[tuple[str, pd.DataFrame]]:
    """Yield ``(run name, events)`` batch by batch over any traces; see :class:`BatchReader`.

    Examples
    --------
    >>> total = 0  # doctest: +SKIP
    >>> for run, batch in iter_batches("dataset/", columns=["dir", "bytes"]):  # doctest: +SKIP
    ...     total += int(batch["bytes"].sum())
    """
    yield from BatchReader(*paths, columns=columns, batch_rows=batch_rows, date=date)


class _ClassicChunks:
    """A classic CSV read chunk by chunk, giving the same events as :func:`read_csv`.

    The time of day turns into a timestamp exactly as for the whole file: the
    date comes from the first stamped row (or ``date``), and a wrap past
    midnight is noticed across chunk boundaries too.
    """

    def __init__(self, path: Path, date: _dt.date | None) -> None:
        self.path = path
        self.date = date
        self.rows = 0
        self.offset = 0  # bytes of the file read so far (approximately)
        self._prev = np.nan  # time of day of the previous row, as read_csv's np.diff sees it
        self._wraps = 0

    def events(self, chunk_rows: int) -> Iterator[pd.DataFrame]:
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise InputError(str(self.path), exc.strerror or str(exc)) from exc
        try:
            with (
                fh,
                pd.read_csv(
                    fh,
                    dtype={"time": "string", "file": "string", "dir": "string"},
                    keep_default_na=False,
                    na_values={"dt": [""], "port": [""]},
                    encoding="utf-8",
                    chunksize=chunk_rows,
                ) as reader,
            ):
                for raw in reader:
                    events = self._chunk(raw)
                    self.offset = fh.tell()  # the parser reads ahead in blocks: progress only
                    yield events
        except (ValueError, pd.errors.ParserError) as exc:
            raise InputError(str(self.path), f"not a valid classic CSV ({exc})") from exc

    def _chunk(self, raw: pd.DataFrame) -> pd.DataFrame:
        if tuple(raw.columns) != schema.CLASSIC_COLUMNS:
            raise InputError(str(self.path), "not a classic CSV: wrong columns")
        times = raw["time"].fillna("")
        stamped = (times != "").to_numpy()
        bad = ~times.str.fullmatch(_CSV_TIME).fillna(False).to_numpy() & stamped
        if bad.any():
            row = int(np.argmax(bad))
            raise InputError(
                str(self.path),
                f"not a valid classic CSV (time {times.iloc[row]!r} on line {self.rows + row + 2})",
            )
        tod = np.full(len(raw), np.nan)
        if stamped.any():
            parts = times[stamped].str.split(":", expand=True).astype("float64")
            tod[stamped] = (parts[0] * 3600 + parts[1] * 60 + parts[2]).to_numpy()
            if self.date is None:
                self.date = first_date(float(tod[stamped][0]), os.stat(self.path).st_mtime)
        epoch = self._epoch(tod)
        n = len(raw)
        files = raw["file"].tolist()
        cols: dict[str, Any] = {
            "time": epoch,
            "dt": raw["dt"].astype("float64").to_numpy(),
            "pid": raw["pid"].to_numpy(),
            "fd": raw["fd"].to_numpy(),
            "dir": raw["dir"].tolist(),
            "bytes": raw["bytes"].to_numpy(),
            "file": files,
            "port": pd.array(raw["port"], dtype="UInt16"),
            "syscall": [None] * n,
            "kind": [_kind_of_name(f, p) for f, p in zip(files, raw["port"].isna(), strict=True)],
            "tgid": raw["pid"].to_numpy(),
            "comm": [None] * n,
            "local": [None] * n,
        }
        self.rows += n
        return events_frame(cols)

    def _epoch(self, tod: np.ndarray) -> np.ndarray:
        """Times of day -> epoch seconds, with the midnight rule of timeutil.Clock."""
        if tod.size == 0:
            return tod
        # The previous chunk's last row counts in the first difference, as it
        # would in one pass over the whole file.
        steps = np.diff(np.concatenate([[self._prev], tod])) < -DAY / 2
        if self.rows == 0:
            steps[0] = False
        wraps = self._wraps + np.cumsum(steps)
        self._prev, self._wraps = tod[-1], int(wraps[-1])
        if self.date is None:  # no stamp yet: every time here is unknown
            return tod
        return local_midnight(self.date) + tod + wraps * DAY
