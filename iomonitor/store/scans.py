"""Traces opened for the query engine: events left on disk, side tables from the footers.

:func:`scan` is what the analysis commands open their inputs with. Reading
a Parquet trace's processes, failed calls and metadata takes its footer
only, through the engine, and keeps them as the column lists stored there:
a command that only queries them imports neither pandas nor pyarrow.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

from iomonitor.errors import InputError
from iomonitor.store.inputs import convert_log, detect, partition_values, trace_inputs
from iomonitor.store.writers import PARQUET_KEY, ParquetSink
from iomonitor.timeutil import Zone
from iomonitor.trace import Trace, combine_tables


def scan(*paths: str | os.PathLike[str], date: _dt.date | None = None, tz: Zone = None) -> Trace:
    """Open any traces for analysis without reading their events into memory.

    Parquet files and datasets stay on disk: the analysis functions query
    them in place (:mod:`iomonitor.analysis.engine`), reading only the
    columns and row groups each query needs, so traces larger than memory
    work. A classic CSV or a raw log is converted once, chunk by chunk, to a
    temporary Parquet file that is removed when the scan is done with (when
    the trace's events are read into memory, or the trace is dropped).

    Parameters
    ----------
    *paths : path
        As for :func:`load`; several inputs are kept apart as runs.
    date : datetime.date, optional
        As for :func:`load`.
    tz : str or datetime.tzinfo, optional
        The zone of a classic CSV's times of day, as for :func:`load`.

    Returns
    -------
    Trace
        With the processes, failed calls and metadata :func:`load` would
        give; its events are read on first use of ``trace.events``.

    Raises
    ------
    InputError
        When an input is missing, empty or not a trace.

    Examples
    --------
    >>> from iomonitor import analysis
    >>> trace = scan("dataset/")  # doctest: +SKIP
    >>> analysis.by(trace, "file").head()  # doctest: +SKIP
    """
    from iomonitor.analysis.engine import Scan, connect

    inputs = trace_inputs(*paths)
    con = connect()
    converted = None
    files = []
    try:
        for item in inputs:
            if item.kind == "parquet":
                files.append(item.path)
                continue
            if converted is None:
                converted = _Folder()
            target = converted.path / f"{len(files)}.parquet"
            sink = ParquetSink(target)
            if item.kind == "log":
                detect(item.path)
                convert_log(item.path, sink, date=date)
            else:
                from iomonitor.store.readers import convert_csv

                convert_csv(item.path, sink, date, tz)
            files.append(target)
        infos = [footer(f, con) for f in files]
    except BaseException:
        if converted is not None:
            converted.remove()
        raise
    names = [item.name for item in inputs]
    if len(inputs) == 1:
        return infos[0].replace(scan=Scan.of_parquet(files, keep=converted, con=con))
    scan = Scan.of_parquet(files, runs=names, keep=converted, con=con)
    meta = {"mode": "combined", "runs": {n: t.meta for n, t in zip(names, infos, strict=True)}}
    return Trace(scan=scan, meta=meta, **combine_tables(infos, names))


def blob(metadata: dict[bytes, bytes] | None, path: Any) -> dict[str, Any]:
    """What iomonitor keeps in a Parquet footer (processes, failed calls, metadata).

    Raises
    ------
    InputError
        When the footer's record is not JSON.
    """
    found_blob: dict[str, Any] = {}
    if metadata and PARQUET_KEY in metadata:
        try:
            found_blob = json.loads(metadata[PARQUET_KEY])
        except ValueError as exc:
            raise InputError(str(path), "corrupt iomonitor metadata") from exc
    # A dataset part's host and run are where its folders say (as DuckDB,
    # Spark and Polars read them), even when it was moved there.
    found = partition_values(path)
    if found:
        found_blob = {**found_blob, "meta": {**found_blob.get("meta", {}), **found}}
    return found_blob


def footer(path: Path, con: Any) -> Trace:
    """The processes, failed calls and metadata of a Parquet input, from its footer only.

    ``con`` is the engine's connection that reads it. The events are not
    read: the trace holds an empty scan's place until :func:`scan` gives it
    the real one.
    """
    import duckdb

    try:
        rows = con.execute("SELECT key, value FROM parquet_kv_metadata(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise InputError(str(path), f"not a readable Parquet file ({exc})") from exc
    found = blob({bytes(k): bytes(v) for k, v in rows}, path)
    tables = {part: found.get(part) for part in ("processes", "errors", "execs")}
    return Trace(scan=_NO_EVENTS, meta=dict(found.get("meta", {})), **tables)


#: Stands for the events of a footer read alone (never queried).
_NO_EVENTS = object()


class _Folder:
    """A temporary folder, removed with this object: the scans made from it hold it."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="iomonitor-scan-"))
        self.remove = weakref.finalize(self, shutil.rmtree, self.path, ignore_errors=True)
