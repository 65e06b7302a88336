"""What the figures are drawn from: analysis results over a whole trace, gathered once.

Nothing here draws or imports matplotlib: the report gathers these data in
its main process and hands each figure's part to a drawing process as soon
as it is ready (:func:`collect_each`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from iomonitor import analysis
from iomonitor.analysis._common import RUN, TIME, check_key, check_top, scan_of, to_timedelta
from iomonitor.analysis.engine import quote
from iomonitor.errors import NoTimeError, UsageError
from iomonitor.render.units import (
    format_seconds,
)
from iomonitor.trace import Trace

#: Buckets aimed at when the caller gives no interval.
_BANDWIDTH_BUCKETS = 150
_CUMULATIVE_BUCKETS = 1000
#: More buckets than this would cost more memory than any screen can show.
_MAX_BUCKETS = 100_000

#: The figures of :mod:`iomonitor.plot` by name, with the keyword arguments
#: their functions take and the defaults of those.
FIGURE_ARGUMENTS: dict[str, dict[str, Any]] = {
    "bandwidth": {"by": "file", "top": 8, "interval": None},
    "cumulative": {"by": "file", "top": 8, "interval": None},
    "timeline": {"interval": None, "max_marks": 400},
    "sizes": {},
    "latency": {},
    "flow": {"top": 10, "max_processes": 20},
}


# --- traces and runs -------------------------------------------------------------


def _as_trace(data: Trace | pd.DataFrame) -> Trace:
    if isinstance(data, Trace):
        return data
    if isinstance(data, pd.DataFrame):
        return Trace(data)
    raise UsageError(f"expected a Trace or an events DataFrame, not {type(data).__name__}")


def _runs(trace: Trace) -> list[Any]:
    """The runs of a trace in load order; ``[None]`` for a single run."""
    if not trace.in_memory:
        return list(trace.scan.runs) or [None]
    return _run_values(trace.events)


def _run_values(frame: pd.DataFrame) -> list[Any]:
    if RUN not in frame.columns:
        return [None]
    run = frame[RUN]
    values = list(run.cat.categories) if isinstance(run.dtype, pd.CategoricalDtype) else []
    seen = pd.unique(run.dropna()).tolist()
    return values or seen or [None]


def _of_run(frame: pd.DataFrame, run: Any) -> pd.DataFrame:
    if run is None or RUN not in frame.columns:
        return frame
    # Compared as they are: a categorical run column compares by its codes.
    return frame[(frame[RUN] == run).to_numpy(dtype=bool)]


def _width(interval: str | float | pd.Timedelta | None, span: float, target: int) -> pd.Timedelta:
    """The bucket width: the caller's, or a round one giving about ``target`` buckets."""
    if interval is None:
        step = max(span / target, 1e-6)
        exponent = math.floor(math.log10(step))
        for factor in (1, 2, 5, 10):
            if factor * 10.0**exponent >= step * (1 - 1e-9):
                return pd.Timedelta(microseconds=max(1, round(factor * 10.0**exponent * 1e6)))
    width = to_timedelta(interval)
    buckets = span / width.total_seconds()
    if buckets > _MAX_BUCKETS:
        raise UsageError(
            f"interval {interval!r} cuts this trace into {buckets:,.0f} buckets; "
            f"give a width of at least {format_seconds(span / _MAX_BUCKETS)}"
        )
    return width


@dataclass(frozen=True)
class _SeriesSpec:
    """Bucketed totals one figure draws: per ``key``, ``top`` kept, buckets for ``target``."""

    key: str | None
    top: int | None
    interval: str | float | pd.Timedelta | None
    target: int


#: A run's flow edges as the figure shows them, and how many nodes each "other" holds.
_MergedFlow = tuple[pd.DataFrame, dict[str, int]]


@dataclass
class FigureData:
    """What the figures are drawn from: analysis results over a whole trace.

    Made by :func:`collect`; every figure function takes it in place of a
    trace and draws the same picture from it. Only the figures it was
    collected for can be drawn.

    Attributes
    ----------
    runs : list
        Run names in load order; ``[None]`` for a single run.
    origins : dict
        Time zero of each run: its first process start or first call.
    last : dict
        Start of each run's last call (None without calls).
    lifetimes : pandas.DataFrame
        ``run``, ``tgid``, ``comm``, ``start``, ``end`` of every process.
    series : dict
        Finished :func:`iomonitor.analysis.bandwidth` tables and their
        bucket width, per figure that needs one, or the error that says why
        there is none (a trace without timestamps).
    sizes : pandas.DataFrame or None
        :func:`iomonitor.analysis.size_histogram` of reads and writes.
    latency : pandas.DataFrame, UsageError or None
        :func:`iomonitor.analysis.latency` by system call, or the error that
        says why there is none.
    flow : dict or None
        Per ``(top, max_processes)`` of a flow figure, per run: the
        :func:`iomonitor.analysis.flow_edges` of the run with the nodes
        beyond the top merged into "other", and how many each "other" holds.
    """

    runs: list[Any]
    origins: dict[Any, pd.Timestamp | None]
    last: dict[Any, pd.Timestamp | None]
    lifetimes: pd.DataFrame
    series: dict[_SeriesSpec, tuple[pd.DataFrame, pd.Timedelta] | UsageError] = field(
        default_factory=dict
    )
    sizes: pd.DataFrame | None = None
    latency: pd.DataFrame | UsageError | None = None
    flow: (
        dict[tuple[int | None, int | None], dict[Any, tuple[pd.DataFrame, dict[str, int]]]] | None
    ) = None


def _arguments(kind: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """A figure's arguments with its defaults filled in, as the figure function takes them."""
    if kind not in FIGURE_ARGUMENTS:
        raise UsageError(f"unknown figure {kind!r}; choose one of: {', '.join(FIGURE_ARGUMENTS)}")
    defaults = FIGURE_ARGUMENTS[kind]
    for name in kwargs:
        if name not in defaults:
            raise UsageError(f"{kind}: got an unexpected keyword argument {name!r}")
    return {**defaults, **kwargs}


def _series_spec(kind: str, args: dict[str, Any]) -> _SeriesSpec | None:
    if kind == "bandwidth":
        return _SeriesSpec(args["by"], args["top"], args["interval"], _BANDWIDTH_BUCKETS)
    if kind == "cumulative":
        return _SeriesSpec(args["by"], args["top"], args["interval"], _CUMULATIVE_BUCKETS)
    if kind == "timeline":
        return _SeriesSpec("tgid", 0, args["interval"], args["max_marks"])
    return None


def collect(
    trace: Trace | pd.DataFrame | analysis.Rollup, figures: Iterable[tuple[str, dict[str, Any]]]
) -> FigureData:
    """What some figures of a trace are drawn from, as analysis results.

    Each part is one query of :mod:`iomonitor.analysis` over the events where
    they are (in memory, or on disk for a trace from
    :func:`iomonitor.store.scan`), so every figure function, given these
    data instead of a trace, draws the same picture at any size.

    Parameters
    ----------
    trace : Trace, pandas.DataFrame or Rollup
        The trace, or its events; or an :func:`iomonitor.analysis.rollup`
        of a trace, whose totals the per-process parts (lifetimes, flow)
        are made from without reading the events again.
    figures : iterable of (str, dict)
        The figures to draw: a name of :data:`KINDS` and the keyword
        arguments that will be given to its function (``by``, ``top``,
        ``interval``...; defaults as the function's).

    Returns
    -------
    FigureData

    Examples
    --------
    >>> data = collect(trace, [("sizes", {}), ("flow", {"top": 5})])  # doctest: +SKIP
    >>> sizes(data).savefig("sizes.png")  # doctest: +SKIP
    """
    return merged(part for _, part in collect_each(trace, figures))


def merged(parts: Iterable[FigureData]) -> FigureData:
    """The figure data of several figures of one trace (parts of :func:`collect_each`) as one."""
    data = FigureData([], {}, {}, _NO_LIVES)
    for part in parts:
        data.runs, data.origins, data.last = part.runs, part.origins, part.last
        if len(part.lifetimes):
            data.lifetimes = part.lifetimes
        data.series.update(part.series)
        for name in ("sizes", "latency"):
            if getattr(part, name) is not None:
                setattr(data, name, getattr(part, name))
        if part.flow is not None:
            data.flow = {**(data.flow or {}), **part.flow}
    return data


def collect_each(
    trace: Trace | pd.DataFrame | analysis.Rollup, figures: Iterable[tuple[str, dict[str, Any]]]
) -> Iterator[tuple[int, FigureData]]:
    """What each of some figures is drawn from, figure by figure as soon as it is known.

    As :func:`collect`, but each figure's data come out alone, holding only
    what that figure draws, while the next ones are computed: the flow first
    (the figure that takes longest to draw), then call sizes and latency,
    then everything over time (one pass over the events).

    Parameters
    ----------
    trace : Trace, pandas.DataFrame or Rollup
        As for :func:`collect`.
    figures : iterable of (str, dict)
        As for :func:`collect`.

    Yields
    ------
    (int, FigureData)
        The figure's place in ``figures`` and its data.

    Examples
    --------
    >>> for index, data in collect_each(trace, [("sizes", {}), ("flow", {})]):  # doctest: +SKIP
    ...     print(index, data.sizes is not None)
    """
    totals = trace if isinstance(trace, analysis.Rollup) else None
    trace = _as_trace(totals.trace if totals is not None else trace)
    totals = totals or trace
    specs: list[_SeriesSpec | None] = []
    kinds: list[str] = []
    every: list[dict[str, Any]] = []
    for kind, kwargs in figures:
        args = _arguments(kind, kwargs)
        kinds.append(kind)
        every.append(args)
        spec = _series_spec(kind, args)
        specs.append(spec)
        if spec is None:
            continue
        _check_by(spec.key)
        check_top(spec.top)
        if spec.interval is not None:
            to_timedelta(spec.interval)  # a bad width is refused before any reading
    wanted = list(dict.fromkeys(s for s in specs if s is not None))
    lives = "flow" in kinds or "timeline" in kinds
    runs = _runs(trace)
    per_process = analysis.sums(totals, "tgid") if lives else None
    # Without lifetimes to draw, the time axis needs each run's first and last
    # call only: the time column alone, not the totals of every process.
    spans = per_process if per_process is not None else _spans(totals) if wanted else None
    origins, last = _times(trace, runs, spans)
    span = _span(runs, origins, last)
    widths = [_width(spec.interval, span, spec.target) for spec in wanted]
    lifetimes = _lifetimes(totals, runs, per_process) if lives else _NO_LIVES

    def part(kind: str, **parts: Any) -> FigureData:
        mine = lifetimes if kind in ("flow", "timeline") else _NO_LIVES
        return FigureData(runs, origins, last, mine, **parts)

    if "flow" in kinds:
        # Only the merged edges leave: every edge of a large trace weighs tens of MB.
        edges = analysis.flow_edges(totals)
        merged = {
            (a["top"], a["max_processes"]): {
                run: _merge_flow(_of_run(edges, run), a["top"], a["max_processes"]) for run in runs
            }
            for k, a in zip(kinds, every, strict=True)
            if k == "flow"
        }
        del edges
        for i, (k, a) in enumerate(zip(kinds, every, strict=True)):
            if k == "flow":
                key = (a["top"], a["max_processes"])
                yield i, part(k, flow={key: merged[key]})
    if "sizes" in kinds:
        sizes = analysis.size_histogram(trace, dirs=("R", "W"))
        yield from ((i, part(k, sizes=sizes)) for i, k in enumerate(kinds) if k == "sizes")
    if "latency" in kinds:
        try:
            latency: pd.DataFrame | UsageError = analysis.latency(trace, key="syscall")
        except UsageError as exc:
            latency = exc
        yield from ((i, part(k, latency=latency)) for i, k in enumerate(kinds) if k == "latency")
    if not wanted:
        return
    series: dict[_SeriesSpec, tuple[pd.DataFrame, pd.Timedelta] | UsageError] = {}
    # Every series from one pass over the events; the keys ranked from the
    # rollup when there is one.
    try:
        tables = analysis.bandwidths(
            trace,
            [(w, s.key, s.top) for w, s in zip(widths, wanted, strict=True)],
            ranks=totals if isinstance(totals, analysis.Rollup) else None,
        )
        for spec, table, width in zip(wanted, tables, widths, strict=True):
            series[spec] = (table, width)
    except NoTimeError as exc:
        for spec in wanted:
            series[spec] = exc  # the figure says why when it is drawn
    for i, (kind, spec) in enumerate(zip(kinds, specs, strict=True)):
        if spec is not None:
            yield i, part(kind, series={spec: series[spec]})


_NO_LIVES = pd.DataFrame(columns=["run", "tgid", "comm", "start", "end"])

#: The node standing for the processes beyond ``max_processes`` in the flow figure.
OTHER_PROCESSES = -1
#: The node standing for the files or peers beyond ``top`` on one side of the flow; no
#: path or address holds a NUL byte, so no real name can be mistaken for it.
_OTHER_NODE = "\0other"


def _merge_flow(
    edges: pd.DataFrame, top: int | None, max_processes: int | None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The flow edges of one run as the figure shows them, and how many nodes each "other" holds.

    The processes beyond the ``max_processes`` busiest (bytes on all their
    edges) become one node, the files and peers beyond the ``top`` busiest
    of each side another; the edges between the same nodes are added up.
    The counts are those of merged ``read`` and ``write`` names and of
    merged ``process``es.
    """
    if not len(edges):
        return edges, {}
    edges = edges.copy()
    # Processes: the busiest (bytes on all their edges), the rest merged into one node.
    ends = pd.concat(
        [
            edges.loc[edges["writer"] >= 0, ["writer", "bytes"]].set_axis(["tgid", "b"], axis=1),
            edges.loc[edges["reader"] >= 0, ["reader", "bytes"]].set_axis(["tgid", "b"], axis=1),
        ]
    )
    busy = ends.groupby("tgid", as_index=False)["b"].sum()
    busy = busy.sort_values(["b", "tgid"], ascending=[False, True], kind="mergesort")
    kept = busy["tgid"].to_numpy()[:max_processes] if max_processes else busy["tgid"].to_numpy()
    for column in ("writer", "reader"):
        merged = (edges[column] >= 0) & ~edges[column].isin(kept)
        edges.loc[merged, column] = OTHER_PROCESSES
    edges = edges[~((edges["kind"] == "channel") & (edges["writer"] == edges["reader"]))]
    # Parallel pipes between the same two processes make one arc.
    edges.loc[edges["kind"] == "channel", "name"] = ""
    # Files and peers: the busiest per side, the rest as one "other" node.
    hidden: dict[str, int] = {}
    for kind in ("read", "write"):
        rows = edges["kind"] == kind
        totals = edges[rows].groupby("name", as_index=False)["bytes"].sum()
        totals = totals.sort_values(["bytes", "name"], ascending=[False, True], kind="mergesort")
        if top and len(totals) > top:
            rest = totals["name"].iloc[top:]
            hidden[kind] = len(rest)
            edges.loc[rows & edges["name"].isin(rest), "name"] = _OTHER_NODE
    edges = edges.groupby(["kind", "name", "writer", "reader"], sort=False, as_index=False)[
        "bytes"
    ].sum()
    hidden["process"] = len(busy) - len(kept)
    return edges, hidden


def _spans(totals: Trace | analysis.Rollup) -> pd.DataFrame:
    """``run`` (several runs), ``first`` and ``last``: the first and last call start of each run."""
    if isinstance(totals, analysis.Rollup):
        scan, first, last = totals.table, "first", "last"
    else:
        scan, first, last = scan_of(totals, (TIME,), "figures over time"), TIME, TIME
    run = [quote(RUN)] if scan.has_runs else []
    return scan.query(
        f"SELECT {''.join(f'{r}, ' for r in run)}min({quote(first)}) AS first,"
        f" max({quote(last)}) AS last FROM {{events}}" + (f" GROUP BY {run[0]}" if run else "")
    )


def _times(
    trace: Trace, runs: list[Any], spans: pd.DataFrame | None
) -> tuple[dict[Any, pd.Timestamp | None], dict[Any, pd.Timestamp | None]]:
    """Time zero (first process start or call) and last call of each run.

    ``spans`` holds ``first`` and ``last`` call starts, per run (and per process).
    """
    procs = trace.processes
    origins: dict[Any, pd.Timestamp | None] = {}
    last: dict[Any, pd.Timestamp | None] = {}
    for run in runs:
        mine = _of_run(spans, run) if spans is not None else None
        first = mine["first"].min() if mine is not None and len(mine) else None
        final = mine["last"].max() if mine is not None and len(mine) else None
        times = [first]
        if len(procs) and "start" in procs.columns:
            times.append(_of_run(procs, run)["start"].min())
        known = [t for t in times if t is not None and not pd.isna(t)]
        origins[run] = min(known) if known else None
        last[run] = None if final is None or pd.isna(final) else final
    return origins, last


def _lifetimes(
    totals: Trace | analysis.Rollup, runs: list[Any], per_process: pd.DataFrame
) -> pd.DataFrame:
    """One row per process (tgid) and run: ``run``, ``tgid``, ``comm``, ``start``, ``end``.

    From the processes table; processes seen only in the events (a CSV
    input, an attach that missed their start) get their program name, first
    and last call from their per-process totals.
    """
    trace = totals.trace if isinstance(totals, analysis.Rollup) else totals
    procs = trace.processes
    cols = list(_NO_LIVES.columns)
    comms: pd.Series | None = None
    rows = []
    for run in runs:
        part = _of_run(procs, run)
        seen: set[int] = set()
        if len(part):
            # The leader's row names the process; threads extend its lifetime.
            ordered = part.assign(_lead=(part["pid"] != part["tgid"]).astype(int))
            ordered = ordered.sort_values(["tgid", "_lead"], kind="mergesort")
            grouped = ordered.groupby("tgid", sort=False)
            known = pd.DataFrame(
                {
                    "comm": grouped["comm"].first(),
                    "start": grouped["start"].min(),
                    "end": grouped["end"].max(),
                }
            ).reset_index()
            known.insert(0, "run", run)
            rows.append(known[cols])
            seen = set(known["tgid"].astype(int))
        mine = _of_run(per_process, run)
        extra = mine[~mine["tgid"].astype("int64").isin(seen).to_numpy(dtype=bool)]
        if len(extra):
            if comms is None:
                comms = analysis.process_names(totals)
            tgids = extra["tgid"].astype("int64")
            index = [(run, t) for t in tgids] if run is not None else list(tgids)
            found = [comms.get(i) for i in index]
            rows.append(
                pd.DataFrame(
                    {
                        "run": run,
                        "tgid": tgids.to_numpy(),
                        "comm": [None if c is None or pd.isna(c) else str(c) for c in found],
                        "start": extra["first"].to_numpy(),
                        "end": extra["last"].to_numpy(),
                    }
                )
            )
    if not rows:
        return pd.DataFrame(columns=cols)
    return pd.concat(
        [r.astype({"tgid": "int64", "comm": "object"}) for r in rows], ignore_index=True
    )


def _figure_data(data: Trace | pd.DataFrame | FigureData, kind: str, **kwargs: Any) -> FigureData:
    """``data`` itself, or the figure data of one figure of a trace."""
    if isinstance(data, FigureData):
        return data
    return collect(data, [(kind, kwargs)])


def _series_of(
    data: FigureData, spec: _SeriesSpec, figure: str
) -> tuple[pd.DataFrame, pd.Timedelta]:
    if spec not in data.series:
        raise UsageError(
            f"these figure data hold no bucketed totals by {spec.key} (top {spec.top}, "
            f"interval {spec.interval}); collect them for this figure first"
        )
    got = data.series[spec]
    if isinstance(got, NoTimeError):
        raise NoTimeError(f"the {figure} figure") from got
    if isinstance(got, UsageError):
        raise got
    return got


def _missing_part(what: str) -> UsageError:
    return UsageError(f"these figure data were not collected for the {what} figure")


def _span(
    runs: list[Any],
    origins: dict[Any, pd.Timestamp | None],
    last: dict[Any, pd.Timestamp | None],
) -> float:
    """Longest run, in seconds from its origin to its last call."""
    longest = 0.0
    for run in runs:
        if origins[run] is not None and last[run] is not None:
            longest = max(longest, (last[run] - origins[run]).total_seconds())
    return longest


def _check_by(by: str | None) -> None:
    if by is not None:
        check_key(by)
