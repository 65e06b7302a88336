"""The trace object: events, processes, failed-call counts and metadata.

This module owns the one function that turns event columns into the typed
events DataFrame (:func:`events_frame`); everything that produces events
(conversion, capture, the readers) goes through it, so the dtypes declared in
:mod:`iomonitor.schema` hold everywhere.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from iomonitor import schema

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: The side tables of a trace, by name -> the schema of their columns.
SIDE_SCHEMAS: dict[str, tuple[schema.Column, ...]] = {
    "processes": schema.PROCESS_SCHEMA,
    "errors": schema.ERROR_SCHEMA,
    "execs": schema.EXEC_SCHEMA,
}


def _side_table(name: str, doc: str) -> property:
    """The attribute of a side table: made a DataFrame on first read, replaced by assigning."""

    def put(self: Trace, frame: pd.DataFrame) -> None:
        self._tables[name] = frame

    return property(lambda self: self._frame(name), put, doc=doc)


class Trace:
    """One or more runs' worth of I/O events, with the processes behind them.

    Parameters
    ----------
    events : pandas.DataFrame, optional
        The events in memory. Leave it out and give ``scan`` for events that
        stay on disk until asked for.
    processes, errors, execs : pandas.DataFrame or dict, optional
        Empty tables of the schema when not given. A dict of column lists (as
        a Parquet footer stores them) is made into a DataFrame on first use,
        so a command that only queries them (:meth:`table`) never imports pandas.
    meta : dict, optional
    scan : iomonitor.analysis.engine.Scan, optional
        Where the events are when they are not in memory (a Parquet file, a
        dataset, several runs). The analysis functions query it in place;
        ``events`` reads it into memory on first use.

    Attributes
    ----------
    events : pandas.DataFrame
        One row per byte-moving call; columns and dtypes of
        :data:`iomonitor.schema.EVENT_SCHEMA` (plus ``run`` when several
        traces were loaded together).
    processes : pandas.DataFrame
        One row per thread or process seen; :data:`iomonitor.schema.PROCESS_SCHEMA`.
    errors : pandas.DataFrame
        Failed byte-moving calls, counted; :data:`iomonitor.schema.ERROR_SCHEMA`.
    meta : dict
        Trace metadata; keys are described in :data:`iomonitor.schema.METADATA_KEYS`.
    execs : pandas.DataFrame
        Every successful exec, in order; :data:`iomonitor.schema.EXEC_SCHEMA`.
    """

    def __init__(
        self,
        events: pd.DataFrame | None = None,
        processes: pd.DataFrame | None = None,
        errors: pd.DataFrame | None = None,
        meta: dict[str, Any] | None = None,
        execs: pd.DataFrame | None = None,
        *,
        scan: Any = None,
    ) -> None:
        if events is None and scan is None:
            raise TypeError("Trace needs its events, in memory or as a scan")
        self._events = events
        self.scan = scan if events is None else None
        self._tables: dict[str, Any] = {"processes": processes, "errors": errors, "execs": execs}
        self.meta = {} if meta is None else meta

    def table(self, name: str) -> Any:
        """The processes, errors or execs table as held: a DataFrame, a dict of
        column lists not made into one yet, or None for an empty one."""
        return self._tables[name]

    def _frame(self, name: str) -> pd.DataFrame:
        held = self._tables[name]
        if held is None or isinstance(held, dict):
            held = records_frame(held, name)
            self._tables[name] = held
        return held

    processes = _side_table("processes", "The processes table (see the class docstring).")
    errors = _side_table("errors", "The failed-calls table (see the class docstring).")
    execs = _side_table("execs", "The exec history (see the class docstring).")

    @property
    def events(self) -> pd.DataFrame:
        """The events DataFrame (read into memory on first use when the trace is a scan)."""
        if self._events is None:
            self._events = self.scan.frame()
            self.scan = None
        return self._events

    @events.setter
    def events(self, frame: pd.DataFrame) -> None:
        self._events = frame
        self.scan = None

    @property
    def in_memory(self) -> bool:
        """Whether the events are a DataFrame in memory (not a scan of files)."""
        return self._events is not None

    def replace(self, **changes: Any) -> Trace:
        """A new Trace with some of its parts changed (``events``, ``scan``, ``processes``...)."""
        parts: dict[str, Any] = {**self._tables, "meta": self.meta}
        if "events" not in changes and "scan" not in changes:
            parts["events"], parts["scan"] = self._events, self.scan
        parts.update(changes)
        return Trace(**parts)

    @classmethod
    def load(cls, *paths: str | os.PathLike[str], **options: Any) -> Trace:
        """Load traces from files: :func:`iomonitor.store.load`, with the same options.

        Examples
        --------
        >>> trace = Trace.load("run.parquet", filters=[("dir", "==", "W")])  # doctest: +SKIP
        """
        from iomonitor.store.readers import load

        return load(*paths, **options)

    def save(self, target: str | os.PathLike[str], fmt: str | None = None) -> None:
        """Write the trace: :func:`iomonitor.store.write` (CSV, Parquet or a dataset's run).

        Examples
        --------
        >>> trace.save("run.parquet")  # doctest: +SKIP
        """
        from iomonitor.store.writers import write

        write(self, target, fmt)

    @classmethod
    def combine(cls, traces: Sequence[Trace], names: Iterable[str]) -> Trace:
        """Put several traces into one, keeping them apart by a ``run`` column.

        Parameters
        ----------
        traces : sequence of Trace
            In memory (their events are read if they are scans).
        names : iterable of str
            One run name per trace, in order; ``run`` is a categorical of them.

        Returns
        -------
        Trace
            ``meta`` is ``{"mode": "combined", "runs": {name: meta}}``.
        """
        import pandas as pd

        names = list(names)
        parts = list(zip(names, traces, strict=True))
        events = unify(pd.concat([t.events.assign(run=n) for n, t in parts], ignore_index=True))
        events["run"] = pd.Categorical(events["run"], categories=names)
        tables = combine_tables(traces, names)
        meta = {"mode": "combined", "runs": {n: t.meta for n, t in parts}}
        return cls(events, meta=meta, **tables)

    def __repr__(self) -> str:
        n = len(self._events) if self._events is not None else self.scan.count()
        return (
            f"<Trace {self.meta.get('mode', '?')} {self.meta.get('command') or ''!s}: "
            f"{n} events, {len(self.processes)} processes>"
        )


def events_frame(columns: Mapping[str, Sequence[Any] | np.ndarray]) -> pd.DataFrame:
    """Build the typed events DataFrame from plain columns.

    Parameters
    ----------
    columns : mapping
        One sequence per name of :data:`iomonitor.schema.EVENT_COLUMNS`.
        ``time`` holds seconds since the epoch (float) or datetimes; ``port``
        and ``local`` may hold None; every other column is complete.

    Returns
    -------
    pandas.DataFrame
        The columns in schema order with schema dtypes.

    Examples
    --------
    >>> cols = {c: [] for c in schema.EVENT_COLUMNS}
    >>> events_frame(cols).dtypes["pid"]
    dtype('int32')
    """
    import numpy as np
    import pandas as pd

    data: dict[str, Any] = {}
    for col in schema.EVENT_SCHEMA:
        values = columns[col.name]
        if col.name == "time":
            data["time"] = _to_time(values)
        elif col.name == "port":
            data["port"] = pd.array(values, dtype=col.dtype)
        elif isinstance(col.dtype, pd.CategoricalDtype) or col.dtype == "category":
            cats = col.dtype.categories if isinstance(col.dtype, pd.CategoricalDtype) else None
            cat = pd.Categorical(values, categories=cats)
            if cats is not None and (cat.codes == -1).sum() != pd.isna(pd.Series(values)).sum():
                bad = sorted(set(map(str, values)) - set(cats) - {"None", "nan"})
                raise ValueError(f"{col.name}: values outside the schema: {bad[:5]}")
            data[col.name] = cat
        else:
            data[col.name] = np.asarray(values, dtype=col.dtype)
    return pd.DataFrame(data)


def unify(events: pd.DataFrame) -> pd.DataFrame:
    """Give the event columns of ``events`` the schema's dtypes again (in place).

    ``pandas.concat`` of categoricals with different categories falls back
    to object, and Arrow and the engine give their own types: this puts the
    schema back. Columns outside the schema (``run``) and missing ones are
    left alone.
    """
    import pandas as pd

    for col in schema.EVENT_COLUMNS:
        if col not in events.columns:
            continue  # a column selection (load(..., columns=...))
        want = schema.EVENT_DTYPES[col]
        if events[col].dtype != want and not (
            want == "category" and isinstance(events[col].dtype, pd.CategoricalDtype)
        ):
            events[col] = events[col].astype(want)
    return events


def _to_time(values: Sequence[Any] | np.ndarray) -> pd.DatetimeIndex:
    import numpy as np
    import pandas as pd

    arr = np.asarray(values)
    if arr.dtype.kind in "fiu" or arr.size == 0:
        # Seconds since the epoch -> whole microseconds, the schema's unit.
        us = np.round(arr.astype("float64") * 1e6)
        return pd.to_datetime(us, unit="us", utc=True).as_unit("us")
    return pd.to_datetime(values, utc=True).as_unit("us")


_ESCAPED_BYTE = re.compile(r"\\x([89a-f][0-9a-f]|5c)")


def raw_name(name: str) -> bytes:
    """The exact bytes of a name from the trace.

    Names are valid UTF-8 text; a path whose bytes are not UTF-8 holds each
    such byte as a ``\\xNN`` escape (NN from 80 to ff), and a backslash that
    would read as one is written ``\\x5c``; this undoes both.

    Examples
    --------
    >>> raw_name("/tmp/caf\\\\xe9")
    b'/tmp/caf\\xe9'
    """
    parts = _ESCAPED_BYTE.split(name)
    out = bytearray(parts[0].encode("utf-8"))
    for i in range(1, len(parts), 2):
        out.append(int(parts[i], 16))
        out += parts[i + 1].encode("utf-8")
    return bytes(out)


def empty_table(name: str) -> pd.DataFrame:
    """An empty ``processes``, ``errors`` or ``execs`` table with its schema dtypes."""
    import pandas as pd

    return pd.DataFrame({c.name: pd.Series([], dtype=c.dtype) for c in SIDE_SCHEMAS[name]})


def rows_frame(name: str, rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """A side table (``processes``, ``errors`` or ``execs``) from one mapping per row.

    Times (``start``, ``end``, ``time``) are seconds since the epoch (float,
    or None when unknown); a key a row lacks is a missing value.
    """
    stamps = {c.name for c in SIDE_SCHEMAS[name] if c.spec.startswith("datetime")}
    records = {
        c.name: [
            round(v * 1e6) if c.name in stamps and v is not None and v == v else v
            for v in (row.get(c.name) for row in rows)
        ]
        for c in SIDE_SCHEMAS[name]
    }
    return records_frame(records, name)


def records_frame(records: Mapping[str, Sequence[Any]] | None, name: str) -> pd.DataFrame:
    """A side table (``processes``, ``errors`` or ``execs``) from its columns as lists.

    That is how a Parquet footer keeps them: times as whole microseconds since
    the epoch. A column added since the file was written (e.g. ``argv_cut``)
    is missing there and comes out empty; a ``run`` column (several runs
    together) is kept as text.
    """
    import pandas as pd

    dtypes = {c.name: c.dtype for c in SIDE_SCHEMAS[name]}
    rows = len(next(iter(records.values()), [])) if records else 0
    if not rows:
        empty = empty_table(name)
        if records and "run" in records:
            empty["run"] = pd.Series([], dtype="str")
        return empty
    frame = pd.DataFrame({k: records.get(k, [None] * rows) for k in dtypes})
    for col, dtype in dtypes.items():
        if isinstance(dtype, pd.DatetimeTZDtype):
            frame[col] = pd.to_datetime(pd.array(frame[col], dtype="Int64"), unit="us", utc=True)
    frame = frame.astype(dtypes)
    if "run" in records:
        frame["run"] = pd.Series(records["run"], dtype="str")
    return frame


def combine_tables(traces: Sequence[Trace], names: Sequence[str]) -> dict[str, Any]:
    """The side tables of several traces as one each, with a ``run`` column naming its trace.

    Tables still held as column lists (read from Parquet footers) stay lists,
    so opening several runs for a query imports no pandas.
    """
    out: dict[str, Any] = {}
    for part in SIDE_SCHEMAS:
        held = [t.table(part) for t in traces]
        if all(h is None or isinstance(h, dict) for h in held):
            columns = dict.fromkeys(c for h in held if h for c in h)
            merged: dict[str, list] = {c: [] for c in columns}
            merged["run"] = []
            for h, name in zip(held, names, strict=True):
                rows = len(next(iter(h.values()), [])) if h else 0
                for c in columns:
                    merged[c].extend(h.get(c, [None] * rows) if h else [])
                merged["run"].extend([name] * rows)
            out[part] = merged
        else:
            import pandas as pd

            frames = [t._frame(part).assign(run=n) for n, t in zip(names, traces, strict=True)]
            out[part] = pd.concat(frames, ignore_index=True)
    return out
