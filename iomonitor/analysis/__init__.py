"""Aggregates over events, as tidy DataFrames.

Pure functions over a :class:`~iomonitor.trace.Trace` or its events
DataFrame; they know nothing of the command line or of plotting. When the
events have a ``run`` column (several traces loaded together) every result
keeps the runs apart.

Totals (:mod:`~iomonitor.analysis.totals`)
    :func:`by`, :func:`by_tree`, :func:`subtree`, and :func:`partial` /
    :func:`combine` for inputs aggregated batch by batch.
Over time (:mod:`~iomonitor.analysis.rates`)
    :func:`bandwidth`.
Distributions (:mod:`~iomonitor.analysis.distributions`)
    :func:`size_histogram`, :func:`latency` (exact), and for inputs read
    batch by batch :func:`size_histogram_partial` / :func:`size_histogram_combine`
    and :func:`latency_partial` / :func:`latency_combine` (percentiles within
    :data:`LATENCY_ACCURACY`).
While a capture runs (:mod:`~iomonitor.analysis.live`)
    :class:`LiveTotals`.
Two traces (:mod:`~iomonitor.analysis.diff`)
    :func:`diff`, :func:`can_compare`.
Overview (:mod:`~iomonitor.analysis.overview`)
    :func:`summary`, :func:`select`, and :func:`summary_partial` /
    :func:`summary_combine` for inputs read batch by batch.
"""

from __future__ import annotations

from iomonitor.analysis._common import KEY_SOURCES, KEYS, OTHER, SOCKET_KINDS
from iomonitor.analysis.diff import DIFF_COLUMNS, DIFF_KEYS, can_compare, diff
from iomonitor.analysis.distributions import (
    HISTOGRAM_COLUMNS,
    LATENCY_ACCURACY,
    LATENCY_COLUMNS,
    LATENCY_PARTIAL_COLUMNS,
    latency,
    latency_combine,
    latency_partial,
    size_histogram,
    size_histogram_combine,
    size_histogram_partial,
)
from iomonitor.analysis.live import LIVE_COLUMNS, LiveTotals
from iomonitor.analysis.overview import (
    BLIND_SPOTS,
    SUMMARY_PARTIAL_COLUMNS,
    select,
    summary,
    summary_combine,
    summary_partial,
)
from iomonitor.analysis.rates import (
    RATE_COLUMNS,
    bandwidth,
    bandwidth_combine,
    bandwidth_partial,
)
from iomonitor.analysis.totals import (
    PARTIAL_COLUMNS,
    TOTAL_COLUMNS,
    TREE_COLUMNS,
    by,
    by_tree,
    combine,
    partial,
    subtree,
    tgid_comms,
)

__all__ = [
    "BLIND_SPOTS",
    "DIFF_COLUMNS",
    "DIFF_KEYS",
    "HISTOGRAM_COLUMNS",
    "KEYS",
    "KEY_SOURCES",
    "LATENCY_ACCURACY",
    "LATENCY_COLUMNS",
    "LATENCY_PARTIAL_COLUMNS",
    "LIVE_COLUMNS",
    "OTHER",
    "PARTIAL_COLUMNS",
    "RATE_COLUMNS",
    "SOCKET_KINDS",
    "SUMMARY_PARTIAL_COLUMNS",
    "TOTAL_COLUMNS",
    "TREE_COLUMNS",
    "LiveTotals",
    "bandwidth",
    "bandwidth_combine",
    "bandwidth_partial",
    "by",
    "by_tree",
    "can_compare",
    "combine",
    "diff",
    "latency",
    "latency_combine",
    "latency_partial",
    "partial",
    "select",
    "size_histogram",
    "size_histogram_combine",
    "size_histogram_partial",
    "subtree",
    "summary",
    "summary_combine",
    "summary_partial",
    "tgid_comms",
]
