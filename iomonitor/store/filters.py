"""Row filters: ``load(..., filters=)`` checked once and turned into the engine's SQL.

A filter is pyarrow's form, an OR of ANDs of ``(column, op, value)`` terms.
It is checked against the schema (one clear :class:`~iomonitor.errors.UsageError`
per mistake), its values given their columns' types, and then written as
one SQL condition that the query engine (:mod:`iomonitor.analysis.engine`)
evaluates: on a Parquet file it skips the row groups whose statistics rule
out a match, on a DataFrame it filters in place. The ``host`` and ``run`` of
a dataset part are known from its folders before anything is read, so they
are decided per input (:meth:`RowFilter.on`) and a part of another run is
never opened.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from iomonitor import schema
from iomonitor.analysis.engine import literal, quote
from iomonitor.errors import UsageError
from iomonitor.store.writers import PARTITIONS

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

    Make one with :meth:`parse` from what :func:`iomonitor.store.load` takes
    as ``filters``. Values are already of their column's type (``time``: a
    UTC ``pandas.Timestamp``; ``in`` and ``not in``: a tuple). Missing values
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

    def sql(self) -> str:
        """The filter as one SQL condition on the event columns (after :meth:`on`).

        Examples
        --------
        >>> RowFilter.parse([("dir", "!=", "W"), ("bytes", ">", 10)]).sql()
        '(("dir"::VARCHAR != \\'W\\' OR "dir" IS NULL) AND "bytes" > 10)'
        """
        if not self.any_of:
            return "FALSE"
        ands = ["(" + " AND ".join(_term_sql(t) for t in group) + ")" for group in self.any_of]
        return ands[0] if len(ands) == 1 else "(" + " OR ".join(ands) + ")"

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
                stamp = stamp.as_unit("ns")
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


def _term_sql(term: Term) -> str:
    col, op, value = term
    # Text as VARCHAR: a DataFrame's categorical is an ENUM to the engine,
    # which refuses a value outside its categories instead of not matching.
    field = f"{quote(col)}::VARCHAR" if col in _TEXT_COLUMNS else quote(col)
    show = literal
    if col == "time":
        # The column holds whole microseconds; a bound with nanoseconds compares
        # exactly as the next microsecond up (nothing equals it), so the engine
        # still compares plain timestamps and skips row groups by their statistics.
        show = _stamp
        if op in ("in", "not in"):
            value = tuple(v for v in value if v.nanosecond == 0)
        elif value.nanosecond and op in ("==", "!="):
            return "FALSE" if op == "==" else "TRUE"
        elif value.nanosecond:
            # x <= t <=> x < ceil(t); x > t <=> x >= ceil(t)
            value, op = value.ceil("us"), {"<=": "<", ">": ">="}.get(op, op)
    if op in ("in", "not in"):
        found = f"{field} IN ({', '.join(show(v) for v in value)})"
        # pandas: a missing value is in no list, so it is "not in" every one.
        return f"NOT coalesce({found}, FALSE)" if op == "not in" else found
    if op == "!=":
        return f"({field} != {show(value)} OR {quote(col)} IS NULL)"
    return f"{field} {'=' if op == '==' else op} {show(value)}"


def _stamp(value: pd.Timestamp) -> str:
    return f"TIMESTAMPTZ '{value.strftime('%Y-%m-%d %H:%M:%S.%f')}+00'"
