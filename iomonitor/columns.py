"""Event columns as Arrow tables: the writers' currency, made without pandas.

The event builder hands out plain columns (one list per name of
:data:`iomonitor.schema.EVENT_COLUMNS`). :func:`iomonitor.trace.events_frame`
turns them into the typed DataFrame for analysis; :func:`events_table` turns
them into the Arrow table the writers store, with the same values and the
same dictionaries, and without importing pandas (a capture to Parquet
imports only pyarrow, which halves its start-up).
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from iomonitor import schema

_STRING = pa.dictionary(pa.int32(), pa.string())

#: The Arrow type of each dtype the schema declares (names dictionary-encoded:
#: a few distinct paths repeat over millions of events).
_ARROW_TYPES = {
    "datetime64[us, UTC]": pa.timestamp("us", tz="UTC"),
    "float64": pa.float64(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "UInt16": pa.uint16(),
    "category": _STRING,
}

#: The Parquet/Arrow schema of the events, derived from :data:`iomonitor.schema.EVENT_SCHEMA`.
ARROW_EVENTS = pa.schema([(c.name, _ARROW_TYPES[c.spec]) for c in schema.EVENT_SCHEMA])

_CLOSED = {c.name: c.categories for c in schema.EVENT_SCHEMA if c.categories is not None}


def table_frame(table: pa.Table) -> Any:
    """The typed events DataFrame of an events table (:data:`ARROW_EVENTS`).

    The same dtypes as :func:`iomonitor.trace.events_frame`: categories as the
    table's dictionaries lay them out, ``port`` a nullable ``UInt16``.
    """
    import pandas as pd

    frame = table.to_pandas()
    for col in schema.EVENT_SCHEMA:
        values = frame[col.name]
        if col.spec != "category":
            if values.dtype != col.dtype:
                frame[col.name] = values.astype(col.dtype)
        elif col.categories is None and len(values.cat.categories) == 0:
            # pandas gives an all-missing categorical float categories.
            frame[col.name] = values.cat.set_categories(pd.Index([], dtype="float64"))
    return frame


def events_table(columns: Mapping[str, Sequence[Any]]) -> pa.Table:
    """Build the events' Arrow table from plain columns.

    Parameters
    ----------
    columns : mapping
        One sequence per name of :data:`iomonitor.schema.EVENT_COLUMNS`, as
        :meth:`iomonitor.strace.events.EventBuilder.take` gives them: ``time``
        in seconds since the epoch (NaN when unknown), ``dt`` in seconds (NaN
        when unknown), ``port`` and ``local`` may hold None.

    Returns
    -------
    pyarrow.Table
        :data:`ARROW_EVENTS`, with the values :func:`iomonitor.trace.events_frame`
        gives: times rounded to the microsecond (half to even), unknown times
        and durations null, and string dictionaries laid out as pandas lays
        out categories (sorted; the closed ``dir`` and ``kind`` in schema order).

    Examples
    --------
    >>> cols = {c: [] for c in schema.EVENT_COLUMNS}
    >>> events_table(cols).num_rows
    0
    """
    arrays = []
    for field in ARROW_EVENTS:
        values = columns[field.name]
        if field.name == "time":
            # round() is half to even, as numpy's rounding in events_frame.
            us = [None if t is None or t != t else round(t * 1e6) for t in values]
            arrays.append(_fixed(us, "q", pa.int64()).view(field.type))
        elif field.name == "dt":
            arrays.append(_fixed([None if x != x else x for x in values], "d", field.type))
        elif field.type == _STRING:
            arrays.append(_dictionary(values, _CLOSED.get(field.name)))
        else:
            arrays.append(_fixed(values, _TYPECODES[field.type], field.type))
    return pa.Table.from_arrays(arrays, schema=ARROW_EVENTS)


# The arrays are assembled from their buffers: pa.array() on a Python list
# imports pandas (to ask whether the list is a pandas object), which costs a
# capture half a second of start-up.
_TYPECODES = {pa.int32(): "i", pa.int64(): "q", pa.uint16(): "H"}


def _fixed(values: Sequence[Any], typecode: str, type_: pa.DataType) -> pa.Array:
    """A fixed-width array; None becomes null."""
    n = len(values)
    if None not in values:
        data = pa.py_buffer(array(typecode, values))
        return pa.Array.from_buffers(type_, n, [None, data], null_count=0)
    # One pass: the validity bitmap (bit i set = value i present) and the data.
    bits = bytearray((n + 7) // 8)
    filled = array(typecode)
    for i, v in enumerate(values):
        if v is None:
            filled.append(0)
        else:
            bits[i >> 3] |= 1 << (i & 7)
            filled.append(v)
    nulls = n - int.from_bytes(bits, "little").bit_count()
    return pa.Array.from_buffers(
        type_, n, [pa.py_buffer(bits), pa.py_buffer(filled)], null_count=nulls
    )


def strings_array(words: Sequence[str]) -> pa.Array:
    """A plain string array of ``words`` (no nulls), made from its buffers."""
    encoded = [w.encode("utf-8") for w in words]
    offsets = array("i", [0])
    total = 0
    for e in encoded:
        total += len(e)
        offsets.append(total)
    data = pa.py_buffer(b"".join(encoded))
    return pa.Array.from_buffers(pa.string(), len(words), [None, pa.py_buffer(offsets), data])


def _dictionary(values: Sequence[Any], closed: Sequence[str] | None) -> pa.DictionaryArray:
    # A closed category lists all its values even when unused; an open one
    # holds the values seen, sorted: the dictionaries pandas would make.
    words = list(closed) if closed is not None else sorted({v for v in values if v is not None})
    index = {w: i for i, w in enumerate(words)}
    codes = _fixed([None if v is None else index[v] for v in values], "i", pa.int32())
    return pa.DictionaryArray.from_arrays(codes, strings_array(words))
