"""The one query engine under every aggregate: DuckDB over the events' Arrow data.

An aggregate is written once, as SQL over a relation named ``{events}``;
:class:`Scan` says where that relation comes from: a pandas DataFrame in
memory (scanned in place), Parquet files (one trace, several runs, the parts
of a dataset, read with only the columns and row groups a query needs), or
a raw log or CSV converted once. The engine streams the query over any size
of input; the results, one row per group, come back as pandas DataFrames
that the analysis functions finish (labels, joins with the failed calls,
sorting).

DuckDB's ``quantile_cont`` is exact (linear interpolation between the
closest values, as pandas' default), so percentiles are the same at every
size of input.
"""

from __future__ import annotations

import contextlib
import fnmatch
import itertools
import weakref
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from iomonitor import schema
from iomonitor.errors import InputError
from iomonitor.trace import unify

if TYPE_CHECKING:
    import pandas as pd

#: Column that tells runs apart when several traces are read together.
RUN = "run"

#: The run of each event of several Parquet inputs as an ENUM (a small integer to the
#: engine): grouped by it, the events are summed per run faster than by the run's name.
RUN_CODE = "_run"

#: Kinds whose ``file`` names the other end of a socket.
SOCKET_KINDS: tuple[str, ...] = ("tcp", "udp", "unix", "netlink")

_names = itertools.count()


def connect() -> duckdb.DuckDBPyConnection:
    """A connection to a new in-memory engine, set up as every scan needs it.

    Each costs about 20 ms of CPU (and more to start its threads): the
    footers of a dataset's parts and the scan of their events share one.
    """
    con = duckdb.connect()
    # Timestamps come back in UTC, the schema's zone, whatever the machine's.
    con.execute("SET TimeZone = 'UTC'")
    # Only the CLI talks to the user: the engine draws no progress bar of its
    # own on a terminal. Under Jupyter DuckDB refuses the setting unless
    # ipywidgets is installed, and draws no bar without it anyway.
    with contextlib.suppress(duckdb.InvalidInputException):
        con.execute("SET enable_progress_bar = false")
    return con


def quote(name: str) -> str:
    """A column name as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    """A Python value as an SQL literal (str, int, float, bool, None)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def one_of(column: str, values: Sequence[Any]) -> str:
    """``column IN (values)`` as SQL; FALSE for no values."""
    if not values:
        return "FALSE"
    return f"{quote(column)} IN ({', '.join(literal(v) for v in values)})"


class Scan:
    """The events of a trace as one relation the engine scans.

    Build one with :meth:`of_frame` or :meth:`of_parquet`; narrow it with
    :meth:`where`; run SQL over it with :meth:`query`. Cheap to make: nothing
    is read until a query runs.

    Attributes
    ----------
    columns : tuple of str
        The event columns (plus ``run`` when it holds several runs).
    runs : tuple of str
        The names of the runs, in order (empty for one run).
    run_group : str
        The column to group by to keep runs apart: ``run``, or :data:`RUN_CODE`
        beside it (the same runs, cheaper to group by; ``::VARCHAR`` names them).
    source : str
        What the events were read from, for error messages.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        name: str,
        columns: Sequence[str],
        rows: int | None,
        runs: Sequence[str] = (),
        source: str = "events",
        keep: Any = None,
        run_group: str = RUN,
    ) -> None:
        self._con = con
        self.run_group = run_group
        self._keep = keep
        self._base: Scan | None = None
        self.source = source
        self._name = name
        self.columns = tuple(columns)
        self._rows = rows
        self.runs = tuple(runs)

    @classmethod
    def of_frame(cls, frame: pd.DataFrame) -> Scan:
        """The events of a DataFrame in memory (scanned in place, not copied)."""
        con = connect()
        name = f"events_{next(_names)}"
        con.register(name, frame)
        runs = (
            frame[RUN].cat.categories if RUN in frame.columns and hasattr(frame[RUN], "cat") else ()
        )
        return cls(con, name, frame.columns, len(frame), [str(r) for r in runs])

    @classmethod
    def of_parquet(
        cls,
        files: Sequence[Path],
        runs: Sequence[str] | None = None,
        keep: Any = None,
        con: duckdb.DuckDBPyConnection | None = None,
    ) -> Scan:
        """The events of Parquet files, as one relation.

        Parameters
        ----------
        files : sequence of Path
            One trace, or the parts of several runs or of a dataset.
        runs : sequence of str, optional
            The run name of each file (the files of a run cut into several
            share it); given, the relation has a ``run`` column.
        keep : object, optional
            Held for as long as this scan or one made from it lives: the
            temporary folder of files converted for it.
        con : duckdb.DuckDBPyConnection, optional
            The engine to scan with (:func:`connect`); a new one by default.
        """
        con = connect() if con is None else con
        # The dataset's host=/run= folders are not read as columns: the run
        # column below names each file's run the way load() does.
        sources = [f"read_parquet({literal(str(f))}, hive_partitioning = false)" for f in files]
        names = [c for c in _parquet_columns(con, sources[0]) if c in schema.EVENT_COLUMNS]
        cols = ", ".join(quote(c) for c in names)
        if runs is None:
            listed = "[" + ", ".join(literal(str(f)) for f in files) + "]"
            sql = f"SELECT {cols} FROM read_parquet({listed}, hive_partitioning = false)"
        else:
            # One scan per file, so that the same file given twice is two runs.
            codes = f"runs_{next(_names)}"
            con.execute(
                f"CREATE TYPE {codes} AS ENUM ({', '.join(map(literal, dict.fromkeys(runs)))})"
            )
            sql = " UNION ALL ".join(
                f"SELECT {cols}, {literal(r)} AS {RUN}, {literal(r)}::{codes} AS {RUN_CODE} "
                f"FROM {src}"
                for src, r in zip(sources, runs, strict=True)
            )
            names.append(RUN)
        name = f"events_{next(_names)}"
        con.execute(f"CREATE VIEW {name} AS {sql}")
        source = str(files[0]) if len(files) == 1 else f"{files[0]} and {len(files) - 1} more"
        group = RUN if runs is None else RUN_CODE
        return cls(con, name, names, None, list(dict.fromkeys(runs or ())), source, keep, group)

    @property
    def has_runs(self) -> bool:
        """Whether the events hold several runs (a ``run`` column)."""
        return RUN in self.columns

    def where(self, condition: str) -> Scan:
        """The same events, only those where the SQL ``condition`` holds."""
        name = f"events_{next(_names)}"
        self._con.execute(f"CREATE VIEW {name} AS SELECT * FROM {self._name} WHERE {condition}")
        narrowed = Scan(
            self._con, name, self.columns, None, self.runs, self.source, self._keep, self.run_group
        )
        # The view reads this scan's relation, which must live as long (a kept table
        # is dropped with its scan).
        narrowed._base = self
        return narrowed

    def keep(self, sql: str) -> Scan:
        """The rows of ``sql`` (``{events}`` names these events), kept by the engine as a table.

        The table is a relation of its own, queried like any scan (one pass
        over the events, then any number of queries over its rows); it is
        dropped when the returned scan is gone.
        """
        name = f"events_{next(_names)}"
        with self._reading():
            self._con.execute(f"CREATE TEMP TABLE {name} AS {sql.replace('{events}', self._name)}")
        columns = [row[0] for row in self._con.sql(f"DESCRIBE {name}").fetchall()]
        kept = Scan(self._con, name, columns, None, self.runs, self.source, self._keep)
        weakref.finalize(kept, _drop, self._con, name)
        return kept

    def query(self, sql: str) -> pd.DataFrame:
        """Run ``sql``, in which ``{events}`` names the events, and return its result.

        Raises
        ------
        InputError
            When a file under the scan cannot be read (truncated, not Parquet).
        """
        with self._reading():
            return self._con.sql(sql.replace("{events}", self._name)).df()

    def rows(self, sql: str) -> Rows:
        """Run ``sql`` like :meth:`query`; the result as plain Python rows (no pandas)."""
        with self._reading():
            result = self._con.sql(sql.replace("{events}", self._name))
            return Rows(tuple(result.columns), result.fetchall())

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Turn the engine's complaints about the data under the scan into an InputError."""
        try:
            yield
        except (duckdb.IOException, duckdb.InvalidInputException) as exc:
            raise InputError(self.source, f"cannot be read ({exc})") from exc
        except duckdb.DataError as exc:
            # e.g. byte counts whose total passes 2**63: the totals are 64-bit
            # integers, as the schema's columns are.
            said = str(exc).splitlines()[0]
            raise InputError(self.source, f"holds numbers too large to add up ({said})") from exc

    def attach(self, table: Any, columns: Sequence[str]) -> str | None:
        """Give the engine a side table of the trace; the name to query it by.

        ``table`` is held as :meth:`iomonitor.trace.Trace.table` gives it: a
        DataFrame, a dict of column lists, or None (empty). Only ``columns``
        are kept (the ones it lacks are NULL), plus ``_row``, the row's place
        in the table. None when the table has no row.
        """
        name = f"side_{next(_names)}"
        if table is None or not len(table):
            return None
        if isinstance(table, dict):
            n = len(next(iter(table.values())))
            given = [c for c in columns if c in table]
            picks = ", ".join(f"unnest(${i + 2}) AS {quote(c)}" for i, c in enumerate(given))
            self._con.execute(
                f"CREATE TEMP TABLE {name} AS SELECT unnest(range($1)) AS _row"
                + (f", {picks}" if picks else ""),
                [n, *(list(table[c]) for c in given)],
            )
        else:
            given = [c for c in columns if c in table.columns]
            frame = table[given].reset_index(drop=True)
            frame.insert(0, "_row", range(len(frame)))
            self._con.register(name + "_frame", frame)
            self._con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_frame")
            self._con.unregister(name + "_frame")
        nulls = "".join(f", NULL AS {quote(c)}" for c in columns if c not in given)
        view = f"{name}_v"
        self._con.execute(f"CREATE TEMP VIEW {view} AS SELECT *{nulls} FROM {name}")
        return view

    def count(self) -> int:
        """How many events."""
        if self._rows is None:
            self._rows = int(self._con.sql(f"SELECT count(*) FROM {self._name}").fetchall()[0][0])
        return self._rows

    def frame(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The events as a DataFrame with the schema's dtypes (``run`` categorical)."""
        import pandas as pd

        cols = ", ".join(quote(c) for c in (columns or self.columns))
        events = _typed(self._con.sql(f"SELECT {cols} FROM {self._name}").df())
        if RUN in events.columns:
            events[RUN] = pd.Categorical(events[RUN], categories=self.runs)
        return events

    def batches(self, columns: Sequence[str], rows: int) -> Iterator[pd.DataFrame]:
        """The events, ``rows`` at a time, as DataFrames with the schema's dtypes.

        For the few outputs that need every event (an export): memory holds
        one batch, whatever the size of the input.
        """
        cols = ", ".join(quote(c) for c in columns)
        reader = self._con.sql(f"SELECT {cols} FROM {self._name}").to_arrow_reader(rows)
        for batch in reader:
            yield _typed(batch.to_pandas())

    def distinct(self, column: str) -> list[Any]:
        """The distinct values of one column."""
        col = quote(column)
        return self.query(f"SELECT DISTINCT {col} AS v FROM {{events}} WHERE {col} IS NOT NULL")[
            "v"
        ].tolist()

    def matching(self, column: str, patterns: Sequence[str]) -> list[str]:
        """The distinct text values of ``column`` matching any shell pattern (``fnmatch``)."""
        values = [str(v) for v in self.distinct(column)]
        return [v for v in values if any(fnmatch.fnmatchcase(v, p) for p in patterns)]


class Rows:
    """A query's result as plain Python values: for the text writers, which need no pandas.

    Indexing by a column name gives its values as a list, as a DataFrame's
    column iterates; ``len`` is the number of rows.

    Attributes
    ----------
    columns : tuple of str
    data : list of tuple
        One tuple per row.
    """

    def __init__(self, columns: Sequence[str], data: list[tuple]) -> None:
        self.columns = tuple(columns)
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, column: str) -> list[Any]:
        i = self.columns.index(column)
        return [row[i] for row in self.data]

    def records(self) -> list[dict[str, Any]]:
        """One dict per row."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.data]


def _typed(events: pd.DataFrame) -> pd.DataFrame:
    """The schema's dtypes (:func:`~iomonitor.trace.unify`), as :func:`iomonitor.store.load`
    gives them: a category missing throughout has no categories, of object type, as a
    Parquet dictionary gives."""
    import pandas as pd

    for col in unify(events).columns:
        if schema.EVENT_DTYPES.get(col) == "category" and not len(events[col].cat.categories):
            events[col] = events[col].cat.set_categories(pd.Index([], dtype=object))
    return events


def _drop(con: duckdb.DuckDBPyConnection, table: str) -> None:
    # The connection may be closed already (its last scan gone first).
    with contextlib.suppress(duckdb.Error):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _parquet_columns(con: duckdb.DuckDBPyConnection, source: str) -> list[str]:
    return [row[0] for row in con.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()]


# -- the SQL pieces aggregates share -----------------------------------------------------

#: An event on a socket (the ones that have a peer). A classic CSV knows TCP/UDP
#: events by their port.
IS_SOCKET = f"({one_of('kind', SOCKET_KINDS)} OR port IS NOT NULL)"

#: The peer label: ``ip:port`` for TCP/UDP (``[ip]:port`` for IPv6), the name otherwise.
PEER_LABEL = (
    "CASE WHEN port IS NULL THEN file::VARCHAR "
    "WHEN contains(file::VARCHAR, ':') THEN '[' || file::VARCHAR || ']:' || port::VARCHAR "
    "ELSE file::VARCHAR || ':' || port::VARCHAR END"
)


def direction_sums(dirs: Mapping[str, str]) -> str:
    """``sum(bytes)`` per direction, as SQL select items named by ``dirs`` (name -> dir)."""
    return ", ".join(
        f"coalesce(sum(bytes) FILTER (WHERE dir = {literal(d)}), 0)::BIGINT AS {quote(n)}"
        for n, d in dirs.items()
    )
