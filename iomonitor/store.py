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
import operator
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
from iomonitor.errors import InputError, UsageError
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
from iomonitor.timeutil import DAY, Zone, first_date, local_midnight, zone, zone_name
from iomonitor.trace import (
    Trace,
    empty_errors,
    empty_execs,
    empty_processes,
    events_frame,
)

_PAR1 = b"PAR1"


def _records_to_table(data: dict[str, list], dtypes: dict[str, object]) -> pd.DataFrame:
    # A column added since the file was written (e.g. argv_cut) is missing there.
    rows = len(next(iter(data.values()), []))
    frame = pd.DataFrame({k: data.get(k, [None] * rows) for k in dtypes})
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


# --- row filters ---------------------------------------------------------------

#: Operators of a row filter: those of ``pyarrow.parquet``'s ``filters``.
FILTER_OPS: tuple[str, ...] = ("=", "==", "!=", "<", "<=", ">", ">=", "in", "not in")

_INT_COLUMNS = frozenset(
    c.name for c in schema.EVENT_SCHEMA if c.spec.lower().startswith(("int", "uint"))
)
_REAL_COLUMNS = frozenset(c.name for c in schema.EVENT_SCHEMA if c.spec.startswith("float"))
_TEXT_COLUMNS = frozenset(c.name for c in schema.EVENT_SCHEMA if c.spec == "category")
_CLOSED = {c.name: c.categories for c in schema.EVENT_SCHEMA if c.categories is not None}

Term = tuple[str, str, Any]

_COMPARE = {
    "==": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class RowFilter:
    """A checked row filter: OR of ANDs of ``(column, op, value)`` terms.

    Make one with :meth:`parse` from what :func:`load` takes as ``filters``.
    Values are already of their column's type (``time``: a UTC
    ``pandas.Timestamp``; ``in`` and ``not in``: a tuple). Missing values
    compare as in pandas: they match ``!=`` and ``not in`` only.

    Attributes
    ----------
    any_of : tuple of tuple of (str, str, object)
        The conjunctions; a row matches when it matches every term of one of
        them. Empty: no row matches.
    """

    any_of: tuple[tuple[Term, ...], ...]

    @classmethod
    def parse(cls, filters: Any) -> RowFilter | None:
        """Check ``filters`` and give their values their columns' types.

        Parameters
        ----------
        filters : list of tuple, list of list of tuple, RowFilter or None
            ``[(column, op, value), ...]`` (all must hold) or a list of such
            lists (any of them must hold), as ``pyarrow.parquet`` takes them.

        Returns
        -------
        RowFilter or None
            None when ``filters`` is None.

        Raises
        ------
        UsageError
            For an unknown column or operator, or a value of the wrong type.

        Examples
        --------
        >>> RowFilter.parse([("pid", "in", [7, 8]), ("time", ">=", "2026-01-05 10:00")]).to_json()
        [[['pid', 'in', [7, 8]], ['time', '>=', '2026-01-05T10:00:00+00:00']]]
        """
        if filters is None or isinstance(filters, RowFilter):
            return filters
        if isinstance(filters, (str, bytes)) or not isinstance(filters, Sequence) or not filters:
            raise UsageError(
                f"filters: expected a list of (column, op, value) tuples, got {filters!r}"
            )
        groups = filters if all(isinstance(g, list) for g in filters) else [filters]
        any_of = []
        for group in groups:
            if not group:
                raise UsageError("filters: an empty list of conditions")
            any_of.append(tuple(_check_term(term) for term in group))
        return cls(tuple(any_of))

    @property
    def columns(self) -> list[str]:
        """The columns the filter names, in order of first use."""
        return list(dict.fromkeys(t[0] for group in self.any_of for t in group))

    def on(self, meta: dict[str, Any]) -> RowFilter | None:
        """The filter for one input, its ``host`` and ``run`` terms decided.

        Parameters
        ----------
        meta : dict
            The input's metadata: ``host`` and ``run`` (a dataset part's
            folders) are read from it; missing, they match nothing.

        Returns
        -------
        RowFilter or None
            None when every row of the input matches; an empty filter
            when none does.
        """
        any_of = []
        for group in self.any_of:
            rest = []
            for term in group:
                if term[0] not in PARTITIONS:
                    rest.append(term)
                elif not _holds(term, meta.get(term[0])):
                    break
            else:
                if not rest:
                    return None
                any_of.append(tuple(rest))
        return RowFilter(tuple(any_of))

    def expression(self) -> Any:
        """The filter as a ``pyarrow.compute.Expression`` (on event columns only)."""
        import pyarrow.compute as pc

        out = pc.scalar(False)
        for i, group in enumerate(self.any_of):
            both = _term_expression(group[0])
            for term in group[1:]:
                both = both & _term_expression(term)
            out = both if i == 0 else out | both
        return out

    def apply(self, events: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``events`` that match (pyarrow evaluates the filter)."""
        if not self.any_of:
            return events.iloc[:0].reset_index(drop=True)
        cols = {c: _arrow_column(events[c]) for c in self.columns}
        cols["__row"] = pa.array(np.arange(len(events)))
        rows = pa.table(cols).filter(self.expression()).column("__row").to_numpy()
        if len(rows) == len(events):
            return events
        return events.take(rows).reset_index(drop=True)

    def to_json(self) -> list[list[list[Any]]]:
        """The filter as JSON-able lists, timestamps as ISO strings (for ``meta["filters"]``)."""

        def plain(value: Any) -> Any:
            if isinstance(value, tuple):
                return [plain(v) for v in value]
            return value.isoformat() if isinstance(value, pd.Timestamp) else value

        return [[[c, op, plain(v)] for c, op, v in group] for group in self.any_of]


def _check_term(term: Any) -> Term:
    if not isinstance(term, tuple | list) or len(term) != 3:
        raise UsageError(f"filters: {term!r} is not a (column, op, value) tuple")
    col, op, value = term
    if col not in schema.EVENT_COLUMNS and col not in PARTITIONS:
        names = ", ".join((*schema.EVENT_COLUMNS, *PARTITIONS))
        raise UsageError(f"filters: unknown column {col!r} (one of {names})")
    if op not in FILTER_OPS:
        raise UsageError(
            f"filters: unknown operator {op!r} in {term!r} (one of {', '.join(FILTER_OPS)})"
        )
    op = "==" if op == "=" else op
    if op in ("in", "not in"):
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            raise UsageError(f"filters: {op!r} needs a list of values in {term!r}")
        return col, op, tuple(_check_value(col, v, term) for v in value)
    return col, op, _check_value(col, value, term)


def _check_value(col: str, value: Any, term: Any) -> Any:
    if col == "time":
        bad = isinstance(value, bool | int | float | np.number)
        try:
            stamp = None if bad else pd.Timestamp(value)
            if stamp is not None and stamp is not pd.NaT:
                stamp = stamp.as_unit("ns")  # the range Arrow compares exactly
        except (ValueError, TypeError):
            stamp = None
        if stamp is None or stamp is pd.NaT:
            raise UsageError(
                f"filters: {term!r}: time needs a pandas Timestamp, datetime or ISO string"
            )
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    if col in _INT_COLUMNS or col in _REAL_COLUMNS:
        if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
            kind = "an integer" if col in _INT_COLUMNS else "a number"
            raise UsageError(f"filters: {term!r}: {col} needs {kind}, not {value!r}")
        return value.item() if isinstance(value, np.number) else value
    if not isinstance(value, str):
        raise UsageError(f"filters: {term!r}: {col} needs a string, not {value!r}")
    if col in _CLOSED and value not in _CLOSED[col]:
        raise UsageError(f"filters: {term!r}: {col} is one of {', '.join(_CLOSED[col])}")
    return value


def _holds(term: Term, value: str | None) -> bool:
    """One term on a value known before reading (a part's host or run), pandas-like."""
    _, op, want = term
    if op == "not in":
        return value is None or value not in want
    if op == "!=":
        return value is None or value != want
    if op == "in":
        return value in want
    return value is not None and _COMPARE[op](value, want)


def _arrow_value(col: str, value: Any) -> Any:
    if col != "time":
        return value
    # Exact: nanoseconds only when the value has some (the column holds microseconds).
    unit = "us" if value.nanosecond == 0 else "ns"
    return pa.scalar(_since_epoch(value, unit), pa.timestamp(unit, "UTC"))


def _since_epoch(stamp: pd.Timestamp, unit: str) -> int:
    return stamp.value // 1000 if unit == "us" else stamp.value


def _term_expression(term: Term) -> Any:
    import pyarrow.compute as pc

    col, op, value = term
    field = pc.field(col)
    if op in ("in", "not in"):
        if col == "time":
            unit = "us" if all(v.nanosecond == 0 for v in value) else "ns"
            since = [_since_epoch(v, unit) for v in value]
            values = pa.array(since, pa.timestamp(unit, "UTC"))
        elif col in _TEXT_COLUMNS or col in PARTITIONS:
            values = pa.array(value, pa.string())
        elif all(isinstance(v, int) for v in value):
            values = pa.array(value, pa.int64())
        else:
            values = pa.array(value, pa.float64())
        found = field.isin(values)
        return ~found if op == "not in" else found
    value = _arrow_value(col, value)
    if op == "!=":
        return (field != value) | field.is_null()  # pandas: a missing value is != anything
    return _COMPARE[op](field, value)


def _arrow_column(series: pd.Series) -> pa.Array:
    if isinstance(series.dtype, pd.CategoricalDtype):
        # Built from the codes: a column with no category yet (comm in a CSV)
        # would otherwise become a dictionary of nulls that cannot be compared.
        codes = series.cat.codes.to_numpy()
        values = pa.array(series.cat.categories.astype(str).tolist(), pa.string())
        return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), values)
    return pa.Array.from_pandas(series)


def _matching_row_groups(pf: pq.ParquetFile, path: Path, rows: RowFilter | None) -> list[int]:
    """The row groups of a Parquet file whose statistics allow a matching row."""
    count = pf.metadata.num_row_groups
    if rows is None:
        return list(range(count))
    import pyarrow.dataset as ds

    arrow = pf.schema_arrow
    # pyarrow skips row groups by their statistics, but not on columns that
    # the file's Arrow schema declares dictionary-encoded (all our strings):
    # for those the string statistics are checked here.
    coded = {f.name for f in arrow if pa.types.is_dictionary(f.type)}
    fragment = None
    keep: set[int] = set()
    for group in rows.any_of:
        plain = [t for t in group if t[0] not in coded]
        if plain:
            if fragment is None:
                fragment = next(iter(ds.dataset(path, format="parquet").get_fragments()))
            kept = RowFilter((tuple(plain),)).expression()
            found = [rg.id for part in fragment.split_by_row_group(kept) for rg in part.row_groups]
        else:
            found = list(range(count))
        strings = [(t, arrow.get_field_index(t[0])) for t in group if t[0] in coded]
        keep.update(i for i in found if _may_match(pf.metadata.row_group(i), strings))
    return sorted(keep)


def _may_match(row_group: pq.RowGroupMetaData, terms: list[tuple[Term, int]]) -> bool:
    """False when a string term cannot hold in the row group, by its min, max and nulls."""
    for (_, op, want), index in terms:
        stats = row_group.column(index).statistics
        if stats is None or not stats.has_min_max or not isinstance(stats.min, str):
            continue
        if not (getattr(stats, "is_min_exact", True) and getattr(stats, "is_max_exact", True)):
            continue  # truncated bounds
        lo, hi = stats.min, stats.max
        single = lo == hi and stats.has_null_count and stats.null_count == 0
        if op == "in":
            possible = any(lo <= v <= hi for v in want)
        elif op == "not in":
            possible = not (single and lo in want)
        elif op == "!=":
            possible = not (single and lo == want)
        elif op == "==":
            possible = lo <= want <= hi
        else:  # some value in [lo, hi] is below (or above) want
            possible = _COMPARE[op](lo if op.startswith("<") else hi, want)
        if not possible:
            return False
    return True


def _parquet_batches(
    pf: pq.ParquetFile,
    path: Path,
    columns: Sequence[str] | None,
    rows: RowFilter | None,
    batch_rows: int,
) -> Iterator[tuple[int, pa.RecordBatch]]:
    """``(rows up to here, batch)``: the matching rows, row group by row group."""
    needed = None if columns is None else list(columns)
    if rows is not None and needed is not None:
        needed += [c for c in rows.columns if c not in needed]
    expression = rows.expression() if rows is not None else None
    starts = np.cumsum([0] + [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)])
    for i in _matching_row_groups(pf, path, rows):
        for batch in pf.iter_batches(batch_size=batch_rows, row_groups=[i], columns=needed):
            if expression is not None:
                batch = batch.filter(expression)
                if columns is not None:
                    batch = batch.select(list(columns))
            yield int(starts[i + 1]), batch


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


#: Bytes read from a log at a time (the core takes any cut of the stream).
LOG_BLOCK = 1 << 20


def feed_log(conv: Any, path: str | os.PathLike[str], progress: Any = None) -> Iterator[Any]:
    """Feed a raw strace log to a converter; yield its chunks of events as they fill up.

    A single log goes to the compiled core as bytes, block by block; the
    per-process files of ``strace -ff`` are merged line by line first (see
    :func:`iter_log_lines`). ``progress``, when given, is called with the
    bytes (or characters) read so far.
    """
    parts = log_parts(path)
    if len(parts) == 1 and parts[0][0] is None:
        read = 0
        try:
            with open(parts[0][1], "rb") as fh:
                while block := fh.read(LOG_BLOCK):
                    read += len(block)
                    if progress is not None:
                        progress(read)
                    yield from conv.feed_bytes(block)
        except OSError as exc:
            raise InputError(str(path), exc.strerror or str(exc)) from exc
        return
    read = 0

    def counted(lines: Iterable[str]) -> Iterator[str]:
        nonlocal read
        for line in lines:
            read += len(line)  # characters: close enough to bytes for progress
            if progress is not None:
                progress(read)
            yield line

    yield from conv.feed(counted(iter_log_lines(path)))


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


def _for_file(rows: RowFilter | None, path: str | os.PathLike[str]) -> RowFilter | None:
    # A CSV or a log knows no host or run but the folders it may sit in.
    return rows.on(partition_values(path)) if rows is not None else None


def _keep(events: pd.DataFrame, rows: RowFilter | None) -> pd.DataFrame:
    return events if rows is None else rows.apply(events)


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
    return Trace(_unify(events), conv.processes(), conv.errors(), _noted(meta, rows), conv.execs())


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
    if kind == "dataset":
        what = "a Parquet dataset" if any(Path(path).rglob("*.parquet")) else "a folder"
        raise InputError(str(path), f"is {what}, not a strace log")
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
        events = _unify(pd.concat(chunks, ignore_index=True)) if len(chunks) > 1 else chunks[0]
    meta = {"mode": "csv", "source": str(path), "events": reader.rows, "csv_tz": zone_name(tz)}
    return Trace(events, empty_processes(), empty_errors(), _noted(meta, rows))


#: Rows per chunk when a classic CSV is read whole (one chunk for most files).
_CSV_WHOLE_ROWS = 1 << 20


def _zone(tz: Zone) -> _dt.tzinfo | None:
    try:
        return zone(tz)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


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
    filters : list of tuple, optional
        Keep only the events that match, as for :func:`load`: row groups
        whose statistics rule out a match are not read, and the other rows
        are filtered in Arrow, before they become pandas objects.

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
        blob = _blob(pf.metadata.metadata, path)
        if rows is None:
            table = pq.read_table(path, columns=list(columns) if columns else None)
        else:
            here = rows.on(blob.get("meta", {}))
            arrow = pf.schema_arrow
            if columns:
                missing = [c for c in columns if c not in arrow.names]
                if missing:
                    raise InputError(str(path), f"no column {missing[0]!r} in this file")
                arrow = pa.schema([arrow.field(c) for c in columns])
            batches = _parquet_batches(pf, Path(path), columns or None, here, BATCH_ROWS)
            table = pa.Table.from_batches([b for _, b in batches], schema=arrow)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(str(path), f"not a readable Parquet file ({exc})") from exc
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
    meta = _noted(dict(blob.get("meta", {})), rows)
    return Trace(events, processes, errors, meta, _execs_of(blob))


def _execs_of(blob: dict[str, Any]) -> pd.DataFrame:
    """The exec history kept beside the processes (absent from files of schema 1)."""
    if not blob.get("execs"):
        return empty_execs()
    return _records_to_table(blob["execs"], schema.EXEC_DTYPES)


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
    filters: Any = None,
    tz: Zone = None,
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
        Rows that do not match never become pandas objects: Parquet row
        groups whose statistics rule out a match are skipped unread, the
        other rows filtered in Arrow; CSVs and logs are filtered chunk by
        chunk as they are read. The processes and failed-calls tables and
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
        When an input is missing, empty or not a trace.
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
    if len(traces) == 1:
        return traces[0]
    trace = combine(traces, [item.name for item in inputs])
    _noted(trace.meta, rows)
    return trace


def combine(traces: Sequence[Trace], names: Iterable[str]) -> Trace:
    """Put several traces into one, keeping them apart by a ``run`` column."""
    names = list(names)
    events, procs, errs, execs = [], [], [], []
    for name, tr in zip(names, traces, strict=True):
        events.append(tr.events.assign(run=name))
        procs.append(tr.processes.assign(run=name))
        errs.append(tr.errors.assign(run=name))
        execs.append(tr.execs.assign(run=name))
    ev = _unify(pd.concat(events, ignore_index=True))
    ev["run"] = pd.Categorical(ev["run"], categories=names)
    pr = pd.concat(procs, ignore_index=True)
    er = pd.concat(errs, ignore_index=True)
    ex = pd.concat(execs, ignore_index=True)
    meta = {"mode": "combined", "runs": {n: t.meta for n, t in zip(names, traces, strict=True)}}
    return Trace(ev, pr, er, meta, ex)


# --- reading batch by batch ------------------------------------------------------

#: Events per chunk when a filtered CSV or Parquet file is read (one Parquet row group).
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


def read_info(item: TraceInput, tz: Zone = None) -> Trace:
    """The processes, failed calls and metadata of a Parquet or CSV input, without its events.

    A Parquet file keeps them in its key-value metadata (only the footer is
    read); a classic CSV has none. A raw log only knows them once converted.

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
        meta = {"mode": "csv", "source": str(item.path), "csv_tz": zone_name(tz)}
        return Trace(schema.empty_events(), meta=meta)
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
    return Trace(
        schema.empty_events(), processes, errors, dict(blob.get("meta", {})), _execs_of(blob)
    )


def scan(*paths: str | os.PathLike[str], date: _dt.date | None = None, tz: Zone = None) -> Trace:
    """Open any traces for analysis without reading their events into memory.

    Parquet files and datasets stay on disk: the analysis functions query
    them in place (:mod:`iomonitor.analysis.engine`), reading only the
    columns and row groups each query needs, so traces larger than memory
    work. A classic CSV or a raw log is converted once, in memory.

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
    from iomonitor.analysis.engine import Scan

    inputs = trace_inputs(*paths)
    if any(item.kind != "parquet" for item in inputs):
        return load(*paths, date=date, tz=tz)
    infos = [read_info(item) for item in inputs]
    names = [item.name for item in inputs]
    files = [item.path for item in inputs]
    if len(inputs) == 1:
        info = infos[0]
        return info.replace(scan=Scan.of_parquet(files))
    procs = pd.concat([t.processes.assign(run=n) for n, t in zip(names, infos, strict=True)])
    errs = pd.concat([t.errors.assign(run=n) for n, t in zip(names, infos, strict=True)])
    execs = pd.concat([t.execs.assign(run=n) for n, t in zip(names, infos, strict=True)])
    meta = {"mode": "combined", "runs": {n: t.meta for n, t in zip(names, infos, strict=True)}}
    return Trace(
        processes=procs.reset_index(drop=True),
        errors=errs.reset_index(drop=True),
        meta=meta,
        execs=execs.reset_index(drop=True),
        scan=Scan.of_parquet(files, runs=names),
    )


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
        return local_midnight(self.date, self.tz) + tod + wraps * DAY
