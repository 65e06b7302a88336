"""Trace readers: any input to a :class:`~iomonitor.trace.Trace`, in memory or as a scan.

:func:`load` reads events into pandas; :func:`scan` opens inputs for the
query engine without reading their events (a raw log or classic CSV is
converted once to a temporary Parquet file, removed when the scan is done).
Row filters go through the engine in both cases (:mod:`iomonitor.store.filters`).
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from iomonitor import schema
from iomonitor.errors import InputError, UsageError
from iomonitor.store.filters import RowFilter
from iomonitor.store.inputs import (
    check_log,
    detect,
    feed_log,
    log_mtime,
    partition_values,
    runs_of,
    trace_inputs,
)
from iomonitor.store.scans import blob as footer_blob
from iomonitor.store.scans import one_run
from iomonitor.store.writers import ROW_GROUP, Sink
from iomonitor.timeutil import DAY, Zone, first_date, local_midnight, zone, zone_name
from iomonitor.trace import Trace, empty_table, events_frame, unify

#: Events per chunk when a classic CSV is read or converted (one Parquet row group).
BATCH_ROWS = ROW_GROUP


def _for_file(rows: RowFilter | None, path: str | os.PathLike[str]) -> RowFilter | None:
    # A CSV or a log knows no host or run but the folders it may sit in.
    return rows.on(partition_values(path)) if rows is not None else None


def _keep(events: pd.DataFrame, rows: RowFilter | None) -> pd.DataFrame:
    """The events that match ``rows``, chosen by the query engine."""
    if rows is None:
        return events
    from iomonitor.analysis.engine import Scan

    # The engine picks row numbers; the rows keep their dtypes (a categorical
    # would come back from the engine as an ordered ENUM).
    numbered = events[rows.columns].assign(__row=np.arange(len(events)))
    picked = Scan.of_frame(numbered).query(f"SELECT __row FROM {{events}} WHERE {rows.sql()}")
    if len(picked) == len(events):
        return events
    return events.take(np.sort(picked["__row"].to_numpy())).reset_index(drop=True)


def _noted(meta: dict[str, Any], rows: RowFilter | None) -> dict[str, Any]:
    if rows is not None:
        meta["filters"] = rows.to_json()
    return meta


def read_log(
    path: str | os.PathLike[str],
    *,
    date: _dt.date | None = None,
    cwd: str | None = None,
    filters: Any = None,
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
    filters : list of tuple, optional
        Keep only the events that match, as for :func:`load`: the whole log
        is converted (processes and failed calls are complete), each chunk of
        events filtered as it comes.

    Returns
    -------
    Trace

    Raises
    ------
    InputError
        When the file is missing, empty or holds no strace line at all.
    UsageError
        For a bad filter.

    Examples
    --------
    >>> trace = read_log("strace.log")  # doctest: +SKIP
    >>> trace.events.groupby("file", observed=True)["bytes"].sum()  # doctest: +SKIP
    """
    from iomonitor.strace.convert import Converter

    rows = RowFilter.parse(filters)
    here = _for_file(rows, path)
    detect(path)
    conv = Converter(date=date, mtime=log_mtime(path), cwd=cwd)
    chunks = [_keep(c, here) for c in feed_log(conv, path)]
    chunks.append(_keep(conv.finish(), here))
    check_log(conv, path)
    events = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    meta = {"mode": "log", "source": str(path), **conv.counters()}
    return Trace(unify(events), conv.processes(), conv.errors(), _noted(meta, rows), conv.execs())


_CSV_TIME = r"\d\d:\d\d:\d\d(?:\.\d+)?"


def read_csv(
    path: str | os.PathLike[str],
    *,
    date: _dt.date | None = None,
    filters: Any = None,
    tz: Zone = None,
) -> Trace:
    """Read a classic CSV trace.

    The CSV holds a time of day only, on the wall clock of the zone it was
    written in: the date comes from ``date`` or the file's modification time,
    like for ``-tt`` logs, and the zone from ``tz``. Columns the classic CSV
    does not carry are filled where they follow from the others (``tgid`` is
    the pid, ``kind`` from the name) and left missing otherwise.

    Parameters
    ----------
    path : path
    date : datetime.date, optional
    filters : list of tuple, optional
        Keep only the events that match, as for :func:`load`; the file is
        read in chunks and each chunk filtered before they are put together.
    tz : str or datetime.tzinfo, optional
        The zone of the times of day (``"Asia/Tokyo"``); the local zone by
        default. ``meta["csv_tz"]`` names the zone assumed.
    """
    rows = RowFilter.parse(filters)
    here = _for_file(rows, path)
    reader = _ClassicChunks(Path(path), date, tz)
    # Filtered, the chunks are smaller: memory holds one chunk and what matched.
    chunk_rows = _CSV_WHOLE_ROWS if rows is None else BATCH_ROWS
    chunks = [c for c in (_keep(c, here) for c in reader.events(chunk_rows)) if len(c)]
    if not chunks:
        events = events_frame({c: [] for c in schema.EVENT_COLUMNS})
    else:
        events = unify(pd.concat(chunks, ignore_index=True)) if len(chunks) > 1 else chunks[0]
    meta = {"mode": "csv", "source": str(path), "events": reader.rows, "csv_tz": zone_name(tz)}
    return Trace(events, empty_table("processes"), empty_table("errors"), _noted(meta, rows))


#: Rows per chunk when a classic CSV is read whole (one chunk for most files).
_CSV_WHOLE_ROWS = 1 << 20


def _zone(tz: Zone) -> _dt.tzinfo | None:
    try:
        return zone(tz)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _kind_of_name(name: str) -> str | None:
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
    filters : list of tuple, optional
        Keep only the events that match, as for :func:`load`: the query
        engine skips the row groups whose statistics rule out a match and
        filters the other rows before they become pandas objects.

    Raises
    ------
    InputError
        When the file is not a readable Parquet file.
    UsageError
        For a bad filter.
    """
    rows = RowFilter.parse(filters)
    try:
        pf = pq.ParquetFile(path)
        blob = footer_blob(pf.metadata.metadata, path)
        names = pf.schema_arrow.names
        missing = [c for c in columns or () if c not in names]
        if missing:
            raise InputError(str(path), f"no column {missing[0]!r} in this file")
        here = rows.on(blob.get("meta", {})) if rows is not None else None
        if here is None:
            table = pq.read_table(path, columns=list(columns) if columns else None)
            events = unify(table.to_pandas())
        elif not here.any_of:  # another run's part: its events are not read at all
            kept = [c for c in columns or names if c in schema.EVENT_COLUMNS]
            events = unify(schema.empty_events()[kept])
        else:
            from iomonitor.analysis.engine import Scan

            events = Scan.of_parquet([Path(path)]).where(here.sql()).frame(columns)
    except (OSError, pa.ArrowException, duckdb.Error) as exc:
        raise InputError(str(path), f"not a readable Parquet file ({exc})") from exc
    meta = _noted(dict(blob.get("meta", {})), rows)
    return Trace(events, blob.get("processes"), blob.get("errors"), meta, blob.get("execs"))


def load(
    *paths: str | os.PathLike[str],
    date: _dt.date | None = None,
    columns: Sequence[str] | None = None,
    filters: Any = None,
    tz: Zone = None,
) -> Trace:
    """Load any trace: Parquet, classic CSV, raw strace log, or a Parquet dataset folder.

    Parameters
    ----------
    *paths : path
        One or more inputs. With several runs (several inputs, or a folder
        of several Parquet files), events and processes get a ``run``
        column naming their run, so pids from different runs never merge.
        Parquet files of one run (the same ``host`` and ``run`` in their
        footers or folders) are one run, named ``host=H/run=R``, with their
        footers merged (see ``docs/dataset.md``).
    date : datetime.date, optional
        Date for inputs that carry a time of day only (``-tt`` logs, CSV).
    columns : sequence of str, optional
        Parquet inputs: read only these event columns.
    filters : list of tuple, or list of lists of tuples, optional
        Keep only the events that match, in pyarrow's form:
        ``[(column, op, value), ...]`` must all hold; a list of such lists
        keeps a row when any of them holds. ``op`` is one of ``=``, ``==``,
        ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``in``, ``not in`` (with a
        list). ``column`` is an event column (it need not be in
        ``columns``), or ``host`` or ``run``: the folders of a dataset part
        (``host=H/run=R``; other inputs have none, so they match only
        ``!=`` and ``not in``). Values: ``time`` takes a
        ``pandas.Timestamp``, a ``datetime`` or an ISO string, taken as UTC
        when it names no zone; names (``file``, ``comm``, ``syscall``, ...)
        take strings; numbers take numbers. A missing value (NaN, no
        ``comm``) matches ``!=`` and ``not in`` only, as in pandas.
        The query engine evaluates the filter: on Parquet, row groups
        whose statistics rule out a match are skipped unread and the other
        rows filtered before they become pandas objects; CSVs and logs are
        filtered chunk by chunk as they are read. The processes and failed-calls tables and
        the metadata are those of the whole trace (``meta["events"]``
        counts all its events); ``meta["filters"]`` records the filter.
    tz : str or datetime.tzinfo, optional
        The time zone a classic CSV's times of day are in (an IANA name such
        as ``"Asia/Tokyo"``, or a tzinfo); the local zone by default. Parquet
        and raw logs carry their own times. ``meta["csv_tz"]`` of a CSV
        names the zone assumed.

    Returns
    -------
    Trace

    Raises
    ------
    InputError
        When an input is missing, empty or not a trace, or the files of one
        run disagree about its processes, failed calls or metadata.
    UsageError
        For a bad filter: an unknown column or operator, a value of the
        wrong type.

    Examples
    --------
    >>> trace = load("run.parquet")  # doctest: +SKIP
    >>> trace.events.head()  # doctest: +SKIP

    One thread's writes after 10:00 UTC, from a dataset of many runs:

    >>> trace = load(  # doctest: +SKIP
    ...     "dataset/",
    ...     filters=[("pid", "==", 4242), ("dir", "==", "W"),
    ...              ("time", ">=", "2026-01-05 10:00"), ("host", "==", "web7")],
    ... )
    """
    rows = RowFilter.parse(filters)
    tz = _zone(tz)
    inputs = trace_inputs(*paths)
    traces = []
    for item in inputs:
        if item.kind == "parquet":
            traces.append(read_parquet(item.path, columns=columns, filters=rows))
        elif item.kind == "csv":
            traces.append(read_csv(item.path, date=date, filters=rows, tz=tz))
        else:
            traces.append(read_log(item.path, date=date, filters=rows))
    runs = runs_of(inputs, [t.meta for t in traces])
    traces = [one_run([traces[i] for i in run.members], run.name) for run in runs]
    if len(traces) == 1:
        return traces[0]
    trace = Trace.combine(traces, [run.name for run in runs])
    _noted(trace.meta, rows)
    return trace


def convert_csv(path: Path, sink: Sink, date: _dt.date | None, tz: Zone) -> None:
    """A classic CSV into a sink, chunk by chunk (the events :func:`read_csv` gives)."""
    tz = _zone(tz)
    reader = _ClassicChunks(path, date, tz)
    try:
        for events in reader.events(BATCH_ROWS):
            sink.write(events)
    except BaseException:
        sink.abort()
        raise
    meta = {"mode": "csv", "source": str(path), "events": reader.rows, "csv_tz": zone_name(tz)}
    sink.close(empty_table("processes"), empty_table("errors"), meta)


class _ClassicChunks:
    """A classic CSV read chunk by chunk, giving the same events as :func:`read_csv`.

    The time of day turns into a timestamp exactly as for the whole file: the
    date comes from the first stamped row (or ``date``), and a wrap past
    midnight is noticed across chunk boundaries too.
    """

    def __init__(self, path: Path, date: _dt.date | None, tz: Zone = None) -> None:
        self.path = path
        self.date = date
        self.tz = _zone(tz)
        self.rows = 0
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
                    yield self._chunk(raw)
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
                mtime = os.stat(self.path).st_mtime
                self.date = first_date(float(tod[stamped][0]), mtime, self.tz)
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
            "kind": [_kind_of_name(f) for f in files],
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
        return local_midnight(self.date, self.tz) + tod + wraps * DAY
