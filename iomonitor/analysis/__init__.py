"""Aggregates over events, as tidy DataFrames.

Pure functions over a :class:`~iomonitor.trace.Trace` or its events
DataFrame; they know nothing of the command line or of plotting. Each is one
query of the engine (:mod:`~iomonitor.analysis.engine`, DuckDB) over the
events wherever they are: a DataFrame in memory, or Parquet files of any size
(a trace from :func:`iomonitor.store.scan`), so the numbers are the same at
every size. When the events have a ``run`` column (several traces loaded
together) every result keeps the runs apart.

Importing this package registers the ``.io`` accessor on DataFrames. (The
command line alone defers it, with pandas, to the first use of a name below,
so that its text output never imports pandas.)

Tables as engine rows (:mod:`~iomonitor.analysis.queries`)
    The tables of totals and the headline numbers as queries whose rows need
    no pandas; :func:`by`, :func:`finish` and :func:`summary` convert them.
Totals (:mod:`~iomonitor.analysis.totals`)
    :func:`by`, :func:`by_tree`, :func:`subtree`, :func:`process_names`; :func:`sums` (the
    engine's rows behind :func:`by`) and :func:`finish` (those rows made a :func:`by`
    table) for tables of part of the events.
Over time (:mod:`~iomonitor.analysis.rates`)
    :func:`bandwidth`.
Distributions (:mod:`~iomonitor.analysis.distributions`)
    :func:`size_histogram`, :func:`latency` (exact percentiles).
Overview (:mod:`~iomonitor.analysis.overview`)
    :func:`summary`, :func:`select`.
While a capture runs (:mod:`~iomonitor.analysis.live`)
    :class:`LiveTotals`.
Two traces (:mod:`~iomonitor.analysis.diff`)
    :func:`diff`, :func:`can_compare`.
Several totals from one pass (:mod:`~iomonitor.analysis.rollup`)
    :func:`rollup`: the events added up once; :func:`by`, :func:`sums`,
    :func:`by_tree`, :func:`summary`, :func:`flow_edges` and
    :func:`process_names` take it in place of the trace.
Flow (:mod:`~iomonitor.analysis.flow`)
    :func:`flow_edges`: who read what, who wrote where, who fed whom.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import iomonitor
from iomonitor.analysis._common import KEY_SOURCES, KEYS, OTHER, has_runs
from iomonitor.analysis.engine import SOCKET_KINDS
from iomonitor.analysis.queries import BLIND_SPOTS, TOTAL_COLUMNS
from iomonitor.analysis.rollup import ROLLUP_COLUMNS, Rollup, rollup

#: The public names that need pandas, by the module that holds them. Each is
#: loaded with its module on first use: the command line's text tables need
#: the engine's rows only, and a run that makes no DataFrame imports no pandas.
_PUBLIC = {
    "diff": "DIFF_COLUMNS DIFF_KEYS can_compare diff",
    "distributions": "HISTOGRAM_COLUMNS LATENCY_COLUMNS latency size_histogram",
    "flow": "EDGE_COLUMNS NO_PROCESS flow_edges",
    "live": "LIVE_COLUMNS LiveTotals",
    "overview": "select summary",
    "rates": "RATE_COLUMNS bandwidth bandwidths",
    "totals": "SUM_COLUMNS TREE_COLUMNS by by_tree finish process_names subtree sums",
}
_HOME = {name: module for module, names in _PUBLIC.items() for name in names.split()}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        _load()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _load() -> None:
    """Import the modules that need pandas, register ``df.io``, bind the public names."""
    importlib.import_module(f"{__name__}.accessor")
    for home, names in _PUBLIC.items():
        module = importlib.import_module(f"{__name__}.{home}")
        # Bound here, the names stand in place of the submodule of the same
        # name (``diff``) that its import has set on this package.
        for public in names.split():
            globals()[public] = getattr(module, public)


if "pandas" in sys.modules or not iomonitor._COMMAND_LINE:
    # A notebook or a script gets ``df.io`` from the import on, whether it
    # imported pandas before or after; only the command line's text output,
    # which needs no DataFrame, leaves pandas unloaded.
    _load()

__all__ = [
    "BLIND_SPOTS",
    "KEYS",
    "KEY_SOURCES",
    "OTHER",
    "ROLLUP_COLUMNS",
    "SOCKET_KINDS",
    "TOTAL_COLUMNS",
    "Rollup",
    "has_runs",
    "rollup",
]
# and the names loaded on first use
__all__ += sorted(_HOME)
