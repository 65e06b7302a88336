"""The events summed once per group, for several totals made from one pass.

Totals per file, peer, process, system call, process tree, the headline
numbers and the flow graph are all sums over groups of events. A
:class:`Rollup` is the one engine pass that adds the events up per
combination of the key columns they need (and per direction); each total is
then a small query over its rows, which are far fewer than the events. The
functions of :mod:`iomonitor.analysis` that take a trace take a rollup of it
as well, so a report or a notebook that wants several of them reads the
events once.

Examples
--------
>>> from iomonitor import analysis
>>> totals = analysis.rollup(trace)  # doctest: +SKIP
>>> analysis.by(totals, "file"), analysis.by(totals, "peer")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from iomonitor.analysis._common import (
    BYTES,
    DIR,
    DT,
    KEY_SOURCES,
    RUN,
    TIME,
    scan_of,
)
from iomonitor.analysis.engine import Scan, quote
from iomonitor.errors import UsageError
from iomonitor.trace import Trace

if TYPE_CHECKING:
    import pandas as pd

#: Every column a key is made of, in a fixed order.
KEY_COLUMNS: tuple[str, ...] = tuple(dict.fromkeys(c for cs in KEY_SOURCES.values() for c in cs))

#: What each row of a rollup holds beside its run, key columns and ``dir``: the
#: events (``calls``), their ``bytes`` and largest call (``max_size``), the start
#: of the first and last call (``first``, ``last``), the time inside the calls
#: (``dt``, NULL when none is known) and the longest call (``max_dt``). The end
#: of the last call to end is not among them: computed for every event it cost
#: as much as the rest together, and the summary reads it from the few events
#: that can hold it (those that start at most ``max_dt`` before the last start).
ROLLUP_COLUMNS: tuple[str, ...] = ("calls", "bytes", "max_size", "first", "last", "dt", "max_dt")

# Time inside calls is summed with fsum (compensated): a plain float sum depends on
# the order the engine's threads add the parts in, and a total such as 5.555 ms then
# shows as 5.55 one run and 5.56 the next.
_SQL = (
    f"count(*)::BIGINT AS calls, sum({BYTES})::BIGINT AS bytes, max({BYTES}) AS max_size, "
    f"min({TIME}) AS first, max({TIME}) AS last, fsum({DT}) AS dt, max({DT}) AS max_dt"
)


@dataclass(frozen=True)
class Rollup:
    """The events of a trace added up per run, key columns and direction, by one engine pass.

    Made by :func:`rollup`; give it to :func:`~iomonitor.analysis.by`,
    :func:`~iomonitor.analysis.sums`, :func:`~iomonitor.analysis.by_tree`,
    :func:`~iomonitor.analysis.summary`, :func:`~iomonitor.analysis.flow_edges`
    or :func:`~iomonitor.analysis.process_names` in place of the trace.

    Attributes
    ----------
    trace : Trace or None
        The trace (its failed calls, processes and metadata); None for bare events.
    table : Scan
        The summed rows, held by the engine: ``run`` (several runs), the
        key columns, ``dir``, then :data:`ROLLUP_COLUMNS`.
    columns : tuple of str
        The key columns the rows are grouped by.
    """

    trace: Trace | None
    table: Scan
    columns: tuple[str, ...]

    def covers(self, columns: Iterable[str]) -> bool:
        """Whether every one of ``columns`` is among the grouped ones."""
        return all(c in self.columns for c in columns)


def rollup(data: Trace | pd.DataFrame | Rollup, columns: Iterable[str] | None = None) -> Rollup:
    """Add the events up once per combination of key columns, for several totals.

    Parameters
    ----------
    data : Trace or pandas.DataFrame
        The trace or its events.
    columns : iterable of str, optional
        The key columns to keep apart (of :data:`KEY_COLUMNS`); by default
        every one the events have, which every total can be made from.

    Returns
    -------
    Rollup

    Examples
    --------
    >>> from iomonitor.trace import events_frame
    >>> ev = events_frame({"time": [0.0, 1.0], "dt": [0.1, 0.2], "pid": [7, 7],
    ...     "fd": [3, 1], "dir": ["R", "W"], "bytes": [10, 4],
    ...     "file": ["/a", "stdout"], "port": [None, None],
    ...     "syscall": ["read", "write"], "kind": ["file", "tty"], "tgid": [7, 7],
    ...     "comm": ["cat"] * 2, "local": [None, None]})
    >>> from iomonitor import analysis
    >>> totals = analysis.rollup(Trace(ev))
    >>> analysis.by(totals, "syscall")[["syscall", "bytes"]].values.tolist()
    [['read', 10], ['write', 4]]
    """
    return rolled(data, columns, "totals")


def rolled(data: Trace | pd.DataFrame | Rollup, columns: Iterable[str] | None, what: str) -> Rollup:
    """:func:`rollup`, or ``data`` itself when it is one that keeps ``columns`` apart.

    ``what`` names the result in the error raised when a column is missing.
    """
    if isinstance(data, Rollup):
        if columns is None or data.covers(columns):
            return data
        if data.trace is None:
            kept = ", ".join(data.columns)
            raise UsageError(f"{what} needs a rollup by more columns than {kept}")
        data = data.trace
    if columns is None:
        scan = scan_of(data, (TIME, DT, DIR, BYTES), what)
        keys = [c for c in KEY_COLUMNS if c in scan.columns]
    else:
        wanted = set(columns)
        unknown = wanted - set(KEY_COLUMNS)
        if unknown:
            raise UsageError(f"no key is made of the column(s) {', '.join(sorted(unknown))}")
        keys = [c for c in KEY_COLUMNS if c in wanted]
        scan = scan_of(data, (TIME, DT, DIR, BYTES, *keys), what)
    runs = [scan.run_group] if scan.has_runs else []
    group = ", ".join(quote(c) for c in [*runs, *keys, DIR])
    # The rows name their run (the engine groups by the cheaper code when it has one).
    named = ", ".join(quote(c) for c in [*keys, DIR])
    if runs and scan.run_group != RUN:
        named = f"{quote(scan.run_group)}::VARCHAR AS {RUN}, {named}"
    elif runs:
        named = group
    table = scan.keep(f"SELECT {named}, {_SQL} FROM {{events}} GROUP BY {group}")
    return Rollup(data if isinstance(data, Trace) else None, table, tuple(keys))
