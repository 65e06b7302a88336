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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from iomonitor.errors import InputError
from iomonitor.store.inputs import convert_log, detect, partition_values, runs_of, trace_inputs
from iomonitor.store.writers import PARQUET_KEY, ParquetSink
from iomonitor.timeutil import Zone
from iomonitor.trace import Trace, combine_tables, unify


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
        As for :func:`load`; several runs are kept apart, the files of one
        run are one run (:func:`one_run`).
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
        When an input is missing, empty or not a trace, or the files of one
        run disagree about its processes, failed calls or metadata.

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
        runs = runs_of(inputs, [t.meta for t in infos])
        merged = [one_run([infos[i] for i in run.members], run.name) for run in runs]
    except BaseException:
        if converted is not None:
            converted.remove()
        raise
    if len(runs) == 1:
        return merged[0].replace(scan=Scan.of_parquet(files, keep=converted, con=con))
    names = [run.name for run in runs]
    of_file = [""] * len(files)
    for run in runs:
        for i in run.members:
            of_file[i] = run.name
    scan = Scan.of_parquet(files, runs=of_file, keep=converted, con=con)
    meta = {"mode": "combined", "runs": {n: t.meta for n, t in zip(names, merged, strict=True)}}
    return Trace(scan=scan, meta=meta, **combine_tables(merged, names))


def one_run(parts: Sequence[Trace], name: str) -> Trace:
    """The files of one run as one trace: their footers merged (:func:`merge_parts`).

    The events of traces in memory are put one after the other; a footer read
    alone (:func:`footer`) stays without events until :func:`scan` gives them.
    """
    if len(parts) == 1:
        return parts[0]
    footers = merge_parts(parts, name)
    if not parts[0].in_memory:
        return Trace(scan=_NO_EVENTS, **footers)
    import pandas as pd

    events = unify(pd.concat([p.events for p in parts], ignore_index=True))
    return Trace(events, **footers)


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


#: The columns that name a row of each side table: parts of one run that give
#: one key different rows disagree (an exec is named by all of its columns).
_ROW_KEYS: dict[str, tuple[str, ...] | None] = {
    "processes": ("pid", "start"),
    "errors": ("pid", "tgid", "syscall", "file", "kind", "errno"),
    "execs": None,
}


def merge_parts(parts: Sequence[Trace], name: str) -> dict[str, Any]:
    """The footers of the files of one run as the run's one footer.

    Every part of a run carries the run's processes, failed calls and
    metadata (a run cut into files by rows repeats them in each): rows and
    keys the parts share are kept once, a row or a key only some parts have
    is added. Tables stay column lists, as footers hold them.

    Parameters
    ----------
    parts : sequence of Trace
        The parts, with their side tables as read from their footers.
    name : str
        The run's name, for the error.

    Returns
    -------
    dict
        ``meta``, ``processes``, ``errors`` and ``execs``, as :class:`Trace` takes them.

    Raises
    ------
    InputError
        When two parts tell different things about the same thing: a
        metadata key, a process (pid and start), a failed-call count.
    """
    meta: dict[str, Any] = {}
    for part in parts:
        for key, value in part.meta.items():
            if key in meta and meta[key] != value:
                raise InputError(
                    name, f"its files disagree on {key!r} ({meta[key]!r}, {value!r}): not one run"
                )
            meta[key] = value
    out: dict[str, Any] = {"meta": meta}
    for table, key in _ROW_KEYS.items():
        out[table] = _merge_rows([p.table(table) for p in parts], key, table, name)
    return out


def _merge_rows(
    held: Sequence[Any], key: tuple[str, ...] | None, table: str, name: str
) -> dict[str, list] | None:
    # Footers hold column lists (dicts), or nothing for an empty table.
    tables = [h for h in held if h]
    if len(tables) <= 1:
        return tables[0] if tables else None
    columns = list(dict.fromkeys(c for h in tables for c in h))
    at = [columns.index(c) for c in key] if key is not None else None
    seen: dict[tuple, tuple] = {}
    for h in tables:
        rows = len(next(iter(h.values()), []))
        for row in zip(*(h.get(c, [None] * rows) for c in columns), strict=True):
            k = row if at is None else tuple(row[i] for i in at)
            if k not in seen:
                seen[k] = row
            elif seen[k] != row:
                what = ", ".join(f"{c} {v!r}" for c, v in zip(key or columns, k, strict=True))
                raise InputError(name, f"its files disagree on the {table} of {what}: not one run")
    return {c: [row[i] for row in seen.values()] for i, c in enumerate(columns)}


#: Stands for the events of a footer read alone (never queried).
_NO_EVENTS = object()


class _Folder:
    """A temporary folder, removed with this object: the scans made from it hold it."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="iomonitor-scan-"))
        self.remove = weakref.finalize(self, shutil.rmtree, self.path, ignore_errors=True)
