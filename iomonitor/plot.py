"""Figures of a trace, drawn with matplotlib from what :mod:`iomonitor.analysis` computes.

Every function takes a :class:`~iomonitor.trace.Trace` (or a bare events
DataFrame) and an optional ``ax``, and returns the Figure it drew on. Without
``ax`` a new :class:`matplotlib.figure.Figure` is made directly (not through
pyplot), so nothing stays open in a global figure list; nothing here calls
``show()``. Save with ``fig.savefig("x.png")`` or show it in a notebook.

Conventions shared by all figures: reads are drawn above the axis (or in
blue), writes below it (or in orange); time runs in seconds since the start of
the trace; byte axes use binary units (KiB, MiB); long names are shortened in
the middle. A trace holding several runs gets one panel per run, so pids and
times of different runs never mix.

Every aggregate is computed by :mod:`iomonitor.analysis` on the whole trace;
this module only arranges its rows (stacking, cumulating, placing), so a figure
of ten million events costs little more than the analysis does.

Examples
--------
>>> import iomonitor, iomonitor.plot
>>> trace = iomonitor.load("run.parquet")  # doctest: +SKIP
>>> iomonitor.plot.bandwidth(trace, by="process", top=5).savefig("bw.png")  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from iomonitor import analysis
from iomonitor.analysis._common import check_top, to_timedelta
from iomonitor.errors import NoTimeError, UsageError
from iomonitor.trace import Trace

__all__ = [
    "KINDS",
    "FigureData",
    "bandwidth",
    "collect",
    "cumulative",
    "flow",
    "format_bytes",
    "latency",
    "printable",
    "shorten",
    "sizes",
    "timeline",
]

#: Colours of the two directions, used wherever a figure shows both.
READ_COLOR = "#1f77b4"
WRITE_COLOR = "#ff7f0e"
#: Colour of data passed between two traced processes (pipes, UNIX sockets).
CHANNEL_COLOR = "#9467bd"
OTHER_COLOR = "#9a9a9a"

#: Buckets aimed at when the caller gives no interval.
_BANDWIDTH_BUCKETS = 150
_CUMULATIVE_BUCKETS = 1000
#: More buckets than this would cost more memory than any screen can show.
_MAX_BUCKETS = 100_000

#: Names are shortened to this many characters in legends and labels.
NAME_WIDTH = 40

_IEC_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
_RUN = "run"


# --- units and names ------------------------------------------------------------


def format_bytes(n: float, per_second: bool = False) -> str:
    """A byte count in binary units, with at most three significant digits.

    Parameters
    ----------
    n : float
        Bytes (or bytes per second).
    per_second : bool, default False
        Append ``/s``.

    Returns
    -------
    str

    Examples
    --------
    >>> format_bytes(1536)
    '1.5 KiB'
    >>> format_bytes(3 * 1024**2, per_second=True)
    '3 MiB/s'
    """
    unit = _iec_unit(abs(n))
    text = f"{_digits(n / 1024**unit)} {_IEC_UNITS[unit]}"
    return text + "/s" if per_second else text


def _iec_unit(magnitude: float) -> int:
    if not magnitude or magnitude < 1 or not math.isfinite(magnitude):
        return 0
    unit = min(int(math.log(magnitude, 1024)), len(_IEC_UNITS) - 1)
    # log() may land just below a whole power; 1024**k itself belongs to unit k.
    if unit + 1 < len(_IEC_UNITS) and magnitude >= 1024 ** (unit + 1):
        unit += 1
    return unit


def _digits(value: float) -> str:
    size = abs(value)
    decimals = 0 if size >= 100 or value == int(value) else (1 if size >= 10 else 2)
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_seconds(seconds: float) -> str:
    """A duration in the largest fitting unit: µs, ms, s, min or h.

    Parameters
    ----------
    seconds : float
        The duration.

    Returns
    -------
    str

    Examples
    --------
    >>> format_seconds(0.0005)
    '500 µs'
    >>> format_seconds(90)
    '1.5 min'
    """
    for unit, size in (("h", 3600.0), ("min", 60.0), ("s", 1.0), ("ms", 1e-3)):
        if abs(seconds) >= size:
            return f"{_digits(seconds / size)} {unit}"
    return f"{_digits(seconds / 1e-6)} µs"


def shorten(name: str, width: int = NAME_WIDTH) -> str:
    """Shorten a name in the middle, keeping whole path components where it can.

    Parameters
    ----------
    name : str
        A path, address or label.
    width : int, default 40
        The most characters to keep (the ellipsis counts as one).

    Returns
    -------
    str
        ``name`` itself when it fits; else its first directories and its last
        components around ``…``; else its first and last characters.

    Examples
    --------
    >>> shorten("/usr/lib/x86_64-linux-gnu/libc.so.6", 24)
    '/usr/lib/…/libc.so.6'
    >>> shorten("a" * 30, 9)
    'aaaa…aaaa'
    """
    if len(name) <= width:
        return name
    parts = name.split("/")
    if len(parts) >= 3:
        # Keep the leading "" of an absolute path with its first directory.
        head = 2 if name.startswith("/") else 1
        front, back = parts[:head], parts[-1:]
        rest = parts[head:-1]
        best = "/".join([*front, "…", *back])
        if len(best) <= width:
            # Reveal hidden parts from the end and the start in turn, until
            # neither side has room for its next part.
            open_sides = ["back", "front"]
            while rest and open_sides:
                side = open_sides.pop(0)
                if side == "back":
                    trial = "/".join([*front, "…", rest[-1], *back])
                else:
                    trial = "/".join([*front, rest[0], "…", *back])
                if len(trial) > width:
                    continue  # that side is full; the other may still take a part
                if side == "back":
                    back, rest = [rest[-1], *back], rest[:-1]
                else:
                    front, rest = [*front, rest[0]], rest[1:]
                best = trial
                open_sides.append(side)
            return best
    keep = width - 1
    return name[: (keep + 1) // 2] + "…" + name[len(name) - keep // 2 :]


def printable(name: Any) -> str:
    """A name from a trace with the characters no text can show spelled out.

    Parameters
    ----------
    name : object
        A path, address or label; names that are not valid UTF-8 hold
        surrogates (as Python keeps file names), and paths may hold control
        characters.

    Returns
    -------
    str
        Valid UTF-8 without control characters: raw bytes as ``\\xNN``,
        control characters as ``\\n``, ``\\t``, ``\\x1b``.

    Examples
    --------
    >>> printable("/tmp/a\\nb")
    '/tmp/a\\\\nb'
    >>> printable(b"/tmp/\\xff".decode("utf-8", "surrogateescape"))
    '/tmp/\\\\xff'
    """
    text = str(name)
    # Surrogates cannot be drawn by any font nor written to an SVG or HTML file.
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        text = "".join(
            c.encode("unicode_escape").decode("ascii") if ord(c) < 32 or ord(c) == 127 else c
            for c in text
        )
    return text


def _safe(value: Any) -> str:
    return "other" if value == _OTHER_NODE else printable(value)


def _text(value: Any, width: int = NAME_WIDTH) -> str:
    """Any name from a trace, made safe to draw as matplotlib text."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "?"
    name = shorten(_safe(value), width)
    # "$" would start mathtext, and legends hide labels starting with "_".
    name = name.replace("$", r"\$")
    return " " + name if name.startswith("_") else name


class _BytesFormatter(ticker.Formatter):
    """Tick labels in one binary unit per axis, as few decimals as tell them apart."""

    def __init__(self, per_second: bool = False) -> None:
        self.per_second = per_second
        self._unit = 0
        self._decimals = 0

    def set_locs(self, locs: Sequence[float]) -> None:
        super().set_locs(locs)
        values = np.abs(np.asarray(locs, dtype="float64"))
        self._unit = _iec_unit(float(values.max())) if len(values) else 0
        scaled = values / 1024**self._unit
        self._decimals = 0
        while self._decimals < 3 and not np.allclose(
            np.round(scaled, self._decimals), scaled, rtol=0, atol=1e-9
        ):
            self._decimals += 1

    def __call__(self, x: float, pos: int | None = None) -> str:
        # Writes are drawn below zero: their ticks name sizes, which are never negative.
        value = abs(x) / 1024**self._unit
        text = f"{value:.{self._decimals}f} {_IEC_UNITS[self._unit]}"
        return text + "/s" if self.per_second else text


class _BytesLocator(ticker.MaxNLocator):
    """Ticks at round numbers of the binary unit the axis spans (256 KiB, not 262144)."""

    def __init__(self) -> None:
        super().__init__(nbins="auto", steps=[1, 2, 2.5, 5, 10])

    def tick_values(self, vmin: float, vmax: float) -> np.ndarray:
        scale = 1024 ** _iec_unit(max(abs(vmin), abs(vmax)))
        return super().tick_values(vmin / scale, vmax / scale) * scale


def _bytes_axis(axis: Any, per_second: bool = False) -> None:
    axis.set_major_locator(_BytesLocator())
    axis.set_major_formatter(_BytesFormatter(per_second))


# --- traces, runs and panels ------------------------------------------------------


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
    if _RUN not in frame.columns:
        return [None]
    run = frame[_RUN]
    values = list(run.cat.categories) if isinstance(run.dtype, pd.CategoricalDtype) else []
    seen = pd.unique(run.dropna()).tolist()
    return values or seen or [None]


def _of_run(frame: pd.DataFrame, run: Any) -> pd.DataFrame:
    if run is None or _RUN not in frame.columns:
        return frame
    # Compared as they are: a categorical run column compares by its codes.
    return frame[(frame[_RUN] == run).to_numpy(dtype=bool)]


def _seconds(times: pd.Series | pd.DatetimeIndex | np.ndarray, origin: pd.Timestamp) -> np.ndarray:
    delta = pd.DatetimeIndex(times) - origin
    return np.asarray(delta / pd.Timedelta(seconds=1), dtype="float64")


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


def _panels(
    runs: list[Any], ax: Axes | None, size: tuple[float, float], heights: Sequence[float] = ()
) -> tuple[Figure, list[Axes]]:
    """The Figure and one Axes per run: the caller's ``ax``, or new ones."""
    if ax is not None:
        if len(runs) > 1:
            raise UsageError(
                f"the trace holds {len(runs)} runs, which need one panel each; "
                "leave ax=None, or select one run first"
            )
        return _root(ax), [ax]
    ratios = list(heights) if heights else [1.0] * len(runs)
    fig = Figure(figsize=(size[0], size[1] * sum(ratios)), layout="constrained")
    grid = fig.subplots(len(runs), 1, squeeze=False, height_ratios=ratios)
    return fig, list(grid[:, 0])


def _root(ax: Axes) -> Figure:
    fig = ax.figure
    # A SubFigure's .figure is the Figure that holds it.
    while not isinstance(fig, Figure):
        fig = fig.figure
    return fig


def _title(ax: Axes, text: str, run: Any, runs: list[Any]) -> None:
    ax.set_title(text if len(runs) == 1 else f"{text} — {_text(run)}", loc="left")


def _note(ax: Axes, text: str) -> None:
    """Say in the panel why it is empty, instead of leaving a blank frame."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def _key_colors(keys: Sequence[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    # Grey is kept for "other": leave the greys of tab10 and tab20 out.
    palette = [c for i, c in enumerate(colormaps["tab10"].colors) if i != 7]
    palette += [c for i, c in enumerate(colormaps["tab20"].colors) if i % 2 and i != 15]
    colors: dict[str, Any] = {}
    for i, k in enumerate(k for k in keys if k != analysis.OTHER):
        colors[k] = palette[i % len(palette)]
    colors[analysis.OTHER] = OTHER_COLOR
    return colors


def _legend_outside(ax: Axes, handles: list[Any] | None = None, title: str | None = None) -> None:
    if handles is None:
        handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            borderaxespad=0.0,
            fontsize="small",
            title=title,
            title_fontsize="small",
        )


def _time_axis(ax: Axes) -> None:
    ax.set_xlabel("seconds since start")


# --- what the figures are drawn from -------------------------------------------------


@dataclass(frozen=True)
class _SeriesSpec:
    """Bucketed totals one figure draws: per ``key``, ``top`` kept, buckets for ``target``."""

    key: str | None
    top: int | None
    interval: str | float | pd.Timedelta | None
    target: int


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
    flow : pandas.DataFrame or None
        :func:`iomonitor.analysis.flow_edges` of the trace.
    """

    runs: list[Any]
    origins: dict[Any, pd.Timestamp | None]
    last: dict[Any, pd.Timestamp | None]
    lifetimes: pd.DataFrame
    series: dict[_SeriesSpec, tuple[pd.DataFrame, pd.Timedelta] | UsageError]
    sizes: pd.DataFrame | None = None
    latency: pd.DataFrame | UsageError | None = None
    flow: pd.DataFrame | None = None


def _arguments(kind: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """A figure's arguments with its defaults filled in, as the figure function takes them."""
    if kind not in KINDS:
        raise UsageError(f"unknown figure {kind!r}; choose one of: {', '.join(KINDS)}")
    try:
        bound = inspect.signature(KINDS[kind]).bind(None, **kwargs)
    except TypeError as exc:
        raise UsageError(f"{kind}: {exc}") from None
    bound.apply_defaults()
    return {k: v for k, v in bound.arguments.items() if k not in ("trace", "ax")}


def _series_spec(kind: str, args: dict[str, Any]) -> _SeriesSpec | None:
    if kind == "bandwidth":
        return _SeriesSpec(args["by"], args["top"], args["interval"], _BANDWIDTH_BUCKETS)
    if kind == "cumulative":
        return _SeriesSpec(args["by"], args["top"], args["interval"], _CUMULATIVE_BUCKETS)
    if kind == "timeline":
        return _SeriesSpec("tgid", 0, args["interval"], args["max_marks"])
    return None


def collect(
    trace: Trace | pd.DataFrame, figures: Iterable[tuple[str, dict[str, Any]]]
) -> FigureData:
    """What some figures of a trace are drawn from, as analysis results.

    Each part is one query of :mod:`iomonitor.analysis` over the events where
    they are (in memory, or on disk for a trace from
    :func:`iomonitor.store.scan`), so every figure function, given these
    data instead of a trace, draws the same picture at any size.

    Parameters
    ----------
    trace : Trace or pandas.DataFrame
        The trace, or its events.
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
    trace = _as_trace(trace)
    specs: list[_SeriesSpec] = []
    kinds = set()
    for kind, kwargs in figures:
        args = _arguments(kind, kwargs)
        kinds.add(kind)
        spec = _series_spec(kind, args)
        if spec is None or spec in specs:
            continue
        _check_by(spec.key)
        check_top(spec.top)
        if spec.interval is not None:
            to_timedelta(spec.interval)  # a bad width is refused before any reading
        specs.append(spec)
    lives = "flow" in kinds or "timeline" in kinds
    runs = _runs(trace)
    per_process = analysis.sums(trace, "tgid") if specs or lives else None
    origins, last = _times(trace, runs, per_process)
    span = _span(runs, origins, last)
    series: dict[_SeriesSpec, tuple[pd.DataFrame, pd.Timedelta] | UsageError] = {}
    for spec in specs:
        width = _width(spec.interval, span, spec.target)
        try:
            series[spec] = (analysis.bandwidth(trace, width, key=spec.key, top=spec.top), width)
        except NoTimeError as exc:
            series[spec] = exc  # the figure says why when it is drawn
    cols = ["run", "tgid", "comm", "start", "end"]
    lifetimes = _lifetimes(trace, runs, per_process) if lives else pd.DataFrame(columns=cols)
    data = FigureData(runs, origins, last, lifetimes, series)
    if "sizes" in kinds:
        data.sizes = analysis.size_histogram(trace, dirs=("R", "W"))
    if "latency" in kinds:
        try:
            data.latency = analysis.latency(trace, key="syscall")
        except UsageError as exc:
            data.latency = exc
    if "flow" in kinds:
        data.flow = analysis.flow_edges(trace)
    return data


def _times(
    trace: Trace, runs: list[Any], per_process: pd.DataFrame | None
) -> tuple[dict[Any, pd.Timestamp | None], dict[Any, pd.Timestamp | None]]:
    """Time zero (first process start or call) and last call of each run."""
    procs = trace.processes
    origins: dict[Any, pd.Timestamp | None] = {}
    last: dict[Any, pd.Timestamp | None] = {}
    for run in runs:
        mine = _of_run(per_process, run) if per_process is not None else None
        first = mine["first"].min() if mine is not None and len(mine) else None
        final = mine["last"].max() if mine is not None and len(mine) else None
        times = [first]
        if len(procs) and "start" in procs.columns:
            times.append(_of_run(procs, run)["start"].min())
        known = [t for t in times if t is not None and not pd.isna(t)]
        origins[run] = min(known) if known else None
        last[run] = None if final is None or pd.isna(final) else final
    return origins, last


def _lifetimes(trace: Trace, runs: list[Any], per_process: pd.DataFrame) -> pd.DataFrame:
    """One row per process (tgid) and run: ``run``, ``tgid``, ``comm``, ``start``, ``end``.

    From the processes table; processes seen only in the events (a CSV
    input, an attach that missed their start) get their program name, first
    and last call from their per-process totals.
    """
    procs = trace.processes
    cols = ["run", "tgid", "comm", "start", "end"]
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
                comms = analysis.process_names(trace)
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


# --- bandwidth and cumulative ----------------------------------------------------


@dataclass
class _Series:
    """Bucketed totals of one run, one column per key, as analysis returned them."""

    edges: np.ndarray  # seconds since the run's origin, one more than buckets
    keys: list[str]
    colors: dict[str, Any]
    read: np.ndarray  # buckets x keys
    write: np.ndarray


def _bucketed(
    data: FigureData, spec: _SeriesSpec, rates: bool
) -> tuple[list[Any], dict[Any, _Series | None], pd.Timedelta]:
    runs, origins, by = data.runs, data.origins, spec.key
    table, width = _series_of(data, spec, "bandwidth" if rates else "cumulative")
    columns = ("read_rate", "write_rate") if rates else ("read_bytes", "write_bytes")
    label = "all" if by is None else None
    keys_all = [label] if by is None else pd.unique(table[by]).tolist() if len(table) else []
    # Runs are ranked together, so one key keeps one colour in every panel;
    # "other" goes last wherever the first run put it.
    keys_all = [k for k in keys_all if k != analysis.OTHER] + (
        [analysis.OTHER] if analysis.OTHER in keys_all else []
    )
    colors = _key_colors(keys_all)
    out: dict[Any, _Series | None] = {}
    for run in runs:
        part = _of_run(table, run)
        if not len(part):
            out[run] = None
            continue
        if by is None:
            part = part.assign(_key=label)
            key = "_key"
        else:
            key = by
        keys = [k for k in keys_all if k in set(part[key])]
        wide = [
            part.pivot(index="time", columns=key, values=c).reindex(columns=keys).fillna(0)
            for c in columns
        ]
        starts = wide[0].index
        edges = _seconds(starts.append(pd.DatetimeIndex([starts[-1] + width])), origins[run])
        out[run] = _Series(
            edges, keys, colors, wide[0].to_numpy("float64"), wide[1].to_numpy("float64")
        )
    return runs, out, width


def _check_by(by: str | None) -> None:
    if by is not None and by not in analysis.KEYS:
        raise UsageError(f"unknown key {by!r}; choose one of: {', '.join(analysis.KEYS)}")


def bandwidth(
    trace: Trace | pd.DataFrame,
    by: str | None = "file",
    top: int | None = 8,
    interval: str | float | pd.Timedelta | None = None,
    *,
    ax: Axes | None = None,
) -> Figure:
    """Read and write rates over time, stacked by key: reads above the axis, writes below.

    Parameters
    ----------
    trace : Trace or pandas.DataFrame
        The trace, or its events.
    by : {'file', 'peer', 'process', 'pid', 'tgid', 'syscall', 'kind'} or None
        Stack one area per value of this key (see :func:`iomonitor.analysis.by`);
        None draws the total only.
    top : int or None, default 8
        Keep the keys with most bytes and add the rest up as ``other``;
        0 or None keeps every key.
    interval : str, float or Timedelta, optional
        Bucket width (``'10ms'``, ``1.0``); by default a round width giving
        about 150 buckets.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new Figure.

    Returns
    -------
    matplotlib.figure.Figure
        One stepped area per key and direction (from
        :func:`iomonitor.analysis.bandwidth`), in bytes per second.

    Examples
    --------
    >>> fig = bandwidth(trace, by="process", top=5, interval="100ms")  # doctest: +SKIP
    >>> fig.savefig("bandwidth.png")  # doctest: +SKIP
    """
    _check_by(by)
    data = _figure_data(trace, "bandwidth", by=by, top=top, interval=interval)
    spec = _SeriesSpec(by, top, interval, _BANDWIDTH_BUCKETS)
    runs, series, width = _bucketed(data, spec, rates=True)
    fig, axes = _panels(runs, ax, (10.0, 4.5))
    what = "" if by is None else f" by {by}"
    for run, axis in zip(runs, axes, strict=True):
        _title(
            axis, f"Bandwidth{what} (buckets of {format_seconds(width.total_seconds())})", run, runs
        )
        data = series[run]
        if data is None:
            _note(axis, "no read or write calls")
            continue
        colors = data.colors
        read_top = np.cumsum(data.read, axis=1)
        write_top = np.cumsum(data.write, axis=1)
        for i, key in enumerate(data.keys):
            below_r = read_top[:, i - 1] if i else np.zeros(len(read_top))
            below_w = write_top[:, i - 1] if i else np.zeros(len(write_top))
            name = _text(key)
            axis.stairs(
                read_top[:, i], data.edges, baseline=below_r, fill=True,
                color=colors[key], label=name, gid=f"read:{_safe(key)}",
            )  # fmt: skip
            axis.stairs(
                -write_top[:, i], data.edges, baseline=-below_w, fill=True,
                color=colors[key], alpha=0.75, gid=f"write:{_safe(key)}",
            )  # fmt: skip
        axis.axhline(0.0, color="0.2", linewidth=0.8)
        axis.set_xlim(min(0.0, data.edges[0]), data.edges[-1])
        # Filled steps stick to their extremes; leave room on both sides so
        # the tallest stack does not touch the frame and an empty side shows.
        high = float(read_top.max()) if read_top.size else 0.0
        low = float(write_top.max()) if write_top.size else 0.0
        room = 0.06 * max(high, low, 1.0)
        axis.set_ylim(-(low + room), high + room)
        _bytes_axis(axis.yaxis, per_second=True)
        axis.set_ylabel("← written      bytes per second      read →")
        _time_axis(axis)
        _legend_outside(axis, title=by)
    return fig


def cumulative(
    trace: Trace | pd.DataFrame,
    by: str | None = "file",
    top: int | None = 8,
    interval: str | float | pd.Timedelta | None = None,
    *,
    ax: Axes | None = None,
) -> Figure:
    """Bytes read and written so far, one line per key.

    Parameters
    ----------
    trace : Trace or pandas.DataFrame
        The trace, or its events.
    by : {'file', 'peer', 'process', 'pid', 'tgid', 'syscall', 'kind'} or None
        One line per value of this key; None draws the total only.
    top : int or None, default 8
        Keep the keys with most bytes and add the rest up as ``other``;
        0 or None keeps every key.
    interval : str, float or Timedelta, optional
        Time resolution of the lines; by default about 1000 steps.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new Figure.

    Returns
    -------
    matplotlib.figure.Figure
        Each line is the running sum of the buckets of
        :func:`iomonitor.analysis.bandwidth`; its last point is the key's
        ``bytes`` in :func:`iomonitor.analysis.by` (read + written, mappings
        excluded).

    Examples
    --------
    >>> cumulative(trace, by="peer", top=3).savefig("cumulative.svg")  # doctest: +SKIP
    """
    _check_by(by)
    data = _figure_data(trace, "cumulative", by=by, top=top, interval=interval)
    spec = _SeriesSpec(by, top, interval, _CUMULATIVE_BUCKETS)
    runs, series, _ = _bucketed(data, spec, rates=False)
    fig, axes = _panels(runs, ax, (10.0, 4.5))
    what = "" if by is None else f" by {by}"
    for run, axis in zip(runs, axes, strict=True):
        _title(axis, f"Cumulative bytes read + written{what}", run, runs)
        data = series[run]
        if data is None:
            _note(axis, "no read or write calls")
            continue
        colors = data.colors
        running = np.cumsum(data.read + data.write, axis=0)
        for i, key in enumerate(data.keys):
            axis.plot(
                data.edges,
                np.concatenate([[0.0], running[:, i]]),
                color=colors[key],
                label=_text(key),
                gid=f"total:{_safe(key)}",
            )
        axis.set_xlim(min(0.0, data.edges[0]), data.edges[-1])
        axis.set_ylim(bottom=0)
        _bytes_axis(axis.yaxis)
        axis.set_ylabel("bytes so far")
        _time_axis(axis)
        _legend_outside(axis, title=by)
    return fig


# --- processes ---------------------------------------------------------------------


def timeline(
    trace: Trace | pd.DataFrame,
    *,
    interval: str | float | pd.Timedelta | None = None,
    max_marks: int = 400,
    ax: Axes | None = None,
) -> Figure:
    """One lane per process: its lifetime, and marks for the bytes it read and wrote.

    Parameters
    ----------
    trace : Trace or pandas.DataFrame
        The trace (lifetimes come from its processes table), or its events
        (lifetimes then span each process's first to last call).
    interval : str, float or Timedelta, optional
        Calls are added up per process in buckets of this width, so a lane
        holds one mark per bucket and direction; by default wide enough for
        at most about ``max_marks`` buckets.
    max_marks : int, default 400
        The most marks per lane and direction when ``interval`` is not given.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new Figure.

    Returns
    -------
    matplotlib.figure.Figure
        Lanes labelled ``pid program``, the earliest-started process on top.
        A grey bar spans each process's lifetime; reads are marked above
        the lane's middle (blue), writes below (orange), with marker areas
        growing with the logarithm of the bytes per bucket (from
        :func:`iomonitor.analysis.bandwidth` by ``tgid``).

    Examples
    --------
    >>> timeline(trace).savefig("timeline.png")  # doctest: +SKIP
    """
    if isinstance(max_marks, bool) or not isinstance(max_marks, int) or max_marks < 1:
        raise UsageError(f"max_marks must be a whole number >= 1, not {max_marks!r}")
    data = _figure_data(trace, "timeline", interval=interval, max_marks=max_marks)
    runs, origins, lives = data.runs, data.origins, data.lifetimes
    marks, width = _series_of(data, _SeriesSpec("tgid", 0, interval, max_marks), "timeline")
    per_run = {run: _of_run(lives, run) if run is not None else lives for run in runs}
    heights = [max(3.0, 0.32 * len(per_run[run]) + 1.4) / 3.0 for run in runs]
    fig, axes = _panels(runs, ax, (11.0, 3.0), heights)
    biggest = float(marks[["read_bytes", "write_bytes"]].to_numpy().max()) if len(marks) else 0.0
    scale = math.log2(1.0 + biggest) or 1.0

    def area(b: np.ndarray) -> np.ndarray:
        return 8.0 + 140.0 * np.log2(1.0 + b) / scale

    for run, axis in zip(runs, axes, strict=True):
        _title(
            axis,
            f"Processes over time (marks: bytes per {format_seconds(width.total_seconds())})",
            run,
            runs,
        )
        lanes = per_run[run]
        origin = origins[run]
        if not len(lanes) or origin is None:
            _note(axis, "no processes")
            continue
        end_of_trace = data.last[run]
        lanes = lanes.assign(
            start=lanes["start"].fillna(origin),
            end=lanes["end"].fillna(end_of_trace if not pd.isna(end_of_trace) else origin),
        )
        lanes = lanes.sort_values(["start", "tgid"], kind="mergesort").reset_index(drop=True)
        lane_of = {int(t): i for i, t in enumerate(lanes["tgid"])}
        start = _seconds(lanes["start"], origin)
        end = _seconds(lanes["end"], origin)
        axis.barh(
            np.arange(len(lanes)), np.maximum(end - start, 0.0), left=start, height=0.7,
            color="0.88", edgecolor="0.7", linewidth=0.5, label="lifetime", gid="lifetimes",
        )  # fmt: skip
        part = _of_run(marks, run)
        if len(part):
            lane = part["tgid"].astype("int64").map(lane_of).to_numpy()
            x = _seconds(part["time"], origin) + width.total_seconds() / 2
            for column, offset, color, marker, label in (
                ("read_bytes", -0.17, READ_COLOR, "^", "read"),
                ("write_bytes", 0.17, WRITE_COLOR, "v", "written"),
            ):
                size = part[column].to_numpy("float64")
                hit = size > 0
                axis.scatter(
                    x[hit], lane[hit] + offset, s=area(size[hit]), c=color, marker=marker,
                    alpha=0.8, linewidths=0, label=label, gid=f"marks:{label}",
                )  # fmt: skip
        axis.set_yticks(
            np.arange(len(lanes)),
            [f"{int(t)} {_text(c, 24)}" for t, c in zip(lanes["tgid"], lanes["comm"], strict=True)],
        )
        axis.set_ylim(len(lanes) - 0.5, -0.5)
        axis.tick_params(axis="y", labelsize="small" if len(lanes) < 40 else "x-small")
        _time_axis(axis)
        axis.set_ylabel("process")
        handles, _ = axis.get_legend_handles_labels()
        for b in _size_examples(biggest):
            handles.append(
                Line2D([], [], linestyle="", marker="o", color="0.5",
                       markersize=math.sqrt(float(area(np.array([b]))[0])), label=format_bytes(b))
            )  # fmt: skip
        _legend_outside(axis, handles)
    return fig


def _size_examples(biggest: float) -> list[float]:
    """A few round sizes up to the largest bucket, for the marker-size legend."""
    if biggest < 1:
        return []
    top = 2 ** math.floor(math.log2(biggest))
    picks = sorted({top, 2 ** math.floor(math.log2(top) / 2), 1.0} - {0})
    return [float(p) for p in picks if p <= biggest][-3:]


# --- distributions -------------------------------------------------------------------


def _size_label(low: int) -> str:
    if low == 0:
        return "0"
    unit = _iec_unit(low)
    return f"{low // 1024**unit}{'' if unit == 0 else _IEC_UNITS[unit][0]}"


def sizes(trace: Trace | pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """How many calls moved how many bytes: power-of-two buckets, reads and writes side by side.

    Parameters
    ----------
    trace : Trace or pandas.DataFrame
        The trace, or its events.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new Figure.

    Returns
    -------
    matplotlib.figure.Figure
        Two bars per bucket of :func:`iomonitor.analysis.size_histogram`
        (reads left, writes right), labelled by the bucket's lower bound
        (``4K`` holds 4096 to 8191 bytes). The count axis turns logarithmic
        when the tallest bar is over 100 times the smallest.

    Examples
    --------
    >>> sizes(trace).savefig("sizes.png")  # doctest: +SKIP
    """
    data = _figure_data(trace, "sizes")
    runs, table = data.runs, data.sizes
    if table is None:
        raise _missing_part("sizes")
    fig, axes = _panels(runs, ax, (10.0, 4.0))
    for run, axis in zip(runs, axes, strict=True):
        _title(axis, "Sizes of read and write calls", run, runs)
        part = _of_run(table, run)
        if not len(part):
            _note(axis, "no read or write calls")
            continue
        lows = np.sort(part["low"].unique())
        position = {int(v): i for i, v in enumerate(lows)}
        for direction, shift, color, label in (
            ("R", -0.2, READ_COLOR, "read"),
            ("W", 0.2, WRITE_COLOR, "written"),
        ):
            rows = part[part["dir"] == direction]
            if not len(rows):
                continue
            x = rows["low"].map(position).to_numpy("float64") + shift
            axis.bar(x, rows["calls"].to_numpy(), width=0.4, color=color, label=label, gid=label)
        axis.set_xticks(np.arange(len(lows)), [_size_label(int(v)) for v in lows])
        if len(lows) > 16:
            axis.tick_params(axis="x", labelrotation=90)
        counts = part["calls"].to_numpy()
        counts = counts[counts > 0]
        if len(counts) and counts.max() > 100 * counts.min():
            axis.set_yscale("log")
        axis.yaxis.set_major_formatter(ticker.EngFormatter(sep=""))
        axis.set_xlabel("bytes per call (power-of-two buckets, lower bound)")
        axis.set_ylabel("calls")
        _legend_outside(axis)
    return fig


def latency(trace: Trace | pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """How long calls took, per system call: median to 90th and 99th percentile, and the maximum.

    Parameters
    ----------
    trace : Trace or pandas.DataFrame
        The trace, or its events; calls need durations (strace ``-T``).
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new Figure.

    Returns
    -------
    matplotlib.figure.Figure
        One row per system call of :func:`iomonitor.analysis.latency`, the
        one with most time in total on top: a thick bar from p50 to p90, a
        thin line on to p99, a tick at the mean and a cross at the maximum,
        on a logarithmic time axis.

    Raises
    ------
    UsageError
        When no call has a duration.

    Examples
    --------
    >>> latency(trace).savefig("latency.png")  # doctest: +SKIP
    """
    data = _figure_data(trace, "latency")
    runs, table = data.runs, data.latency
    if table is None:
        raise _missing_part("latency")
    if isinstance(table, UsageError):
        raise table
    n_max = max((len(_of_run(table, r)) for r in runs), default=0)
    fig, axes = _panels(runs, ax, (10.0, max(2.5, 0.4 * n_max + 1.3)))
    for run, axis in zip(runs, axes, strict=True):
        _title(axis, "Time spent per call, by system call", run, runs)
        part = _of_run(table, run).reset_index(drop=True)
        if not len(part):
            _note(axis, "no calls with a duration")
            continue
        y = np.arange(len(part))
        values = part[["mean", "p50", "p90", "p99", "max"]].to_numpy("float64")
        positive = values[values > 0]
        floor = positive.min() / 2 if len(positive) else 1e-6
        shown = np.maximum(values, floor)  # a 0-second call sits at the axis' left edge
        mean, p50, p90, p99, high = shown.T
        axis.hlines(y, p50, p90, color=READ_COLOR, linewidth=8, label="p50 – p90", gid="p50-p90")
        axis.hlines(y, p90, p99, color=READ_COLOR, linewidth=1.5, label="p90 – p99", gid="p90-p99")
        axis.scatter(mean, y, marker="|", s=200, color="black", label="mean", gid="mean", zorder=3)
        axis.scatter(high, y, marker="x", s=40, color=WRITE_COLOR, label="max", gid="max", zorder=3)
        axis.set_xscale("log")
        axis.set_xlim(floor, shown.max() * 2)
        axis.xaxis.set_major_formatter(ticker.EngFormatter(unit="s"))
        axis.set_yticks(
            y,
            [
                f"{_text(s, 24)} ({c:,} calls)"
                for s, c in zip(part["syscall"], part["calls"], strict=True)
            ],
        )
        axis.set_ylim(len(part) - 0.5, -0.5)
        axis.set_xlabel("seconds inside the call")
        _legend_outside(axis)
    return fig


# --- flow ----------------------------------------------------------------------------


def _layout(order: list[Any], height: float) -> dict[Any, float]:
    if len(order) == 1:
        return {order[0]: height / 2}
    step = height / (len(order) - 1)
    return {node: i * step for i, node in enumerate(order)}


def flow(
    trace: Trace | pd.DataFrame,
    *,
    top: int | None = 10,
    max_processes: int | None = 20,
    ax: Axes | None = None,
) -> Figure:
    """Where the bytes went: files and peers read (left), processes (middle), written (right).

    Parameters
    ----------
    trace : Trace or pandas.DataFrame
        The trace, or its events.
    top : int or None, default 10
        Keep this many files/peers on each side (most bytes first) and add the
        rest up in one ``other`` node; 0 or None keeps all.
    max_processes : int or None, default 20
        Keep this many processes (most bytes first), the rest as one node.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new Figure.

    Returns
    -------
    matplotlib.figure.Figure
        Nodes are labelled boxes; edges are lines whose widths grow linearly
        with bytes (1 point plus 11 for the biggest edge). Totals come from
        :func:`iomonitor.analysis.by` per process. A pipe or UNIX socket whose
        two ends are both traced is an arrow from the writing process to the
        reading one (an arc on the right of the process column); when the
        writer's bytes went to several readers, they are shared in proportion
        to what each read. A channel with one end outside the trace is a node
        like a file. Mappings (``M``) move no bytes and are left out. Artists
        carry gids: texts ``node:source:NAME``, ``node:process:TGID``,
        ``node:sink:NAME``; line collections ``edges:read`` and
        ``edges:write``; arrows ``edge:channel:TGID->TGID``.

    Examples
    --------
    >>> flow(trace, top=5).savefig("flow.svg")  # doctest: +SKIP
    """
    for name, value in (("top", top), ("max_processes", max_processes)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            raise UsageError(f"{name} must be a whole number >= 0 (0 = all), not {value!r}")
    data = _figure_data(trace, "flow", top=top, max_processes=max_processes)
    if data.flow is None:
        raise _missing_part("flow")
    runs, lives = data.runs, data.lifetimes
    plans = [
        _flow_plan(_of_run(data.flow, run), _of_run(lives, run), top, max_processes) for run in runs
    ]
    heights = [
        max(3.0, 0.42 * max((len(p.columns[c]) for c in p.columns), default=1) + 1.2) / 3.0
        for p in plans
    ]
    fig, axes = _panels(runs, ax, (13.0, 3.0), heights)
    for run, axis, plan in zip(runs, axes, plans, strict=True):
        _title(axis, "Data flow: read from (left) → processes → written to (right)", run, runs)
        _draw_flow(axis, plan)
    return fig


#: The node standing for the processes beyond ``max_processes``.
OTHER_PROCESSES = -1
#: The node standing for the files or peers beyond ``top`` on one side; no
#: path or address holds a NUL byte, so no real name can be mistaken for it.
_OTHER_NODE = "\0other"


@dataclass
class _Plan:
    edges: pd.DataFrame  # the columns of analysis.flow_edges, after merging the rest into "other"
    columns: dict[str, list[Any]]  # "source", "process", "sink" -> node ids, top to bottom
    labels: dict[tuple[str, Any], str]


def _flow_plan(
    edges: pd.DataFrame, lives: pd.DataFrame, top: int | None, max_processes: int | None
) -> _Plan:
    if not len(edges):
        return _Plan(edges, {"source": [], "process": [], "sink": []}, {})
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

    lives = lives.sort_values(["start", "tgid"], kind="mergesort", na_position="last")
    start_rank = {int(t): i for i, t in enumerate(lives["tgid"])}
    comm = {int(t): _text(c, 24) for t, c in zip(lives["tgid"], lives["comm"], strict=True)}
    procs = sorted(
        {int(p) for p in pd.concat([edges["writer"], edges["reader"]]) if p != analysis.NO_PROCESS},
        key=lambda t: (t == OTHER_PROCESSES, start_rank.get(t, len(start_rank)), t),
    )
    proc_y = _layout(procs, float(max(len(procs), 1) - 1))
    columns: dict[str, list[Any]] = {"process": procs}
    labels: dict[tuple[str, Any], str] = {}
    for t in procs:
        if t == OTHER_PROCESSES:
            labels[("process", t)] = f"{len(busy) - len(kept)} other processes"
        else:
            labels[("process", t)] = f"{t} {comm.get(t, '?')}"
    for kind, partner, column in (("read", "reader", "source"), ("write", "writer", "sink")):
        rows = edges[edges["kind"] == kind]
        weight = rows["bytes"].to_numpy("float64")
        ys = rows[partner].map(proc_y).to_numpy("float64")
        centre = (
            pd.DataFrame({"n": rows["name"].to_numpy(), "wy": weight * ys, "w": weight})
            .groupby("n", sort=False)
            .sum()
        )
        # Barycentre order: each file sits near the processes it feeds, fewer crossings.
        order = (centre["wy"] / centre["w"]).sort_values(kind="mergesort")
        nodes = [n for n in order.index if n != _OTHER_NODE]
        if _OTHER_NODE in order.index:
            nodes.append(_OTHER_NODE)
        columns[column] = nodes
        for n in nodes:
            total = format_bytes(float(centre.loc[n, "w"]))
            name = f"{hidden.get(kind, 0)} others" if n == _OTHER_NODE else _text(n)
            labels[(column, n)] = f"{name}  ({total})"
    return _Plan(edges.reset_index(drop=True), columns, labels)


def _draw_flow(axis: Axes, plan: _Plan) -> None:
    from matplotlib.collections import LineCollection

    axis.set_axis_off()
    if not len(plan.edges):
        _note(axis, "no read or write calls")
        return
    height = float(max((len(v) for v in plan.columns.values()), default=1) - 1)
    x = {"source": -1.0, "process": 0.0, "sink": 1.0}
    align = {"source": "right", "process": "center", "sink": "left"}
    face = {"source": "#e8f0f8", "process": "#f0f0f0", "sink": "#fdf0e4"}
    y: dict[tuple[str, Any], float] = {}
    texts: dict[tuple[str, Any], Any] = {}
    for column, nodes in plan.columns.items():
        for node, where in _layout(nodes, height).items():
            y[(column, node)] = where
            texts[(column, node)] = axis.text(
                x[column], where, plan.labels[(column, node)], ha=align[column], va="center",
                fontsize="small", zorder=3, gid=f"node:{column}:{_safe(node)}",
                bbox={"boxstyle": "round,pad=0.3", "facecolor": face[column], "edgecolor": "0.6"},
            )  # fmt: skip
    biggest = float(plan.edges["bytes"].max()) or 1.0

    def width(b: float) -> float:
        return 1.0 + 11.0 * b / biggest

    # Reads and writes: one collection each, straight from box to box (their
    # ends hide under the opaque boxes); direction is the layout's, left to right.
    for kind, color in (("read", READ_COLOR), ("write", WRITE_COLOR)):
        rows = plan.edges[plan.edges["kind"] == kind]
        segments = [
            [(-1.0, y[("source", n)]), (0.0, y[("process", p)])]
            if kind == "read"
            else [(0.0, y[("process", p)]), (1.0, y[("sink", n)])]
            for n, p in zip(
                rows["name"], rows["reader" if kind == "read" else "writer"], strict=True
            )
        ]
        axis.add_collection(
            LineCollection(
                segments,
                linewidths=[width(b) for b in rows["bytes"]],
                colors=color,
                alpha=0.5,
                zorder=1,
                gid=f"edges:{kind}",
                capstyle="butt",
            ),
            autolim=False,
        )
    # Pipes and sockets between two traced processes: arrows from writer to reader.
    for row in plan.edges[plan.edges["kind"] == "channel"].itertuples(index=False):
        start, end = texts[("process", row.writer)], texts[("process", row.reader)]
        # Bend right, away from the column. arc3 bends to the left of the
        # direction of travel for a positive radius, and lanes run downwards
        # on screen as their y grows (the axis is inverted).
        downwards = start.get_position()[1] < end.get_position()[1]
        b = width(float(row.bytes))
        axis.annotate(
            "", xy=(1.0, 0.5), xycoords=end, xytext=(1.0, 0.5), textcoords=start,
            arrowprops={"arrowstyle": f"simple,tail_width={b},head_width={b + 5},head_length=7",
                        "mutation_scale": 1.0, "facecolor": CHANNEL_COLOR, "edgecolor": "none",
                        "alpha": 0.55, "shrinkA": 2, "shrinkB": 2,
                        "connectionstyle": f"arc3,rad={'-0.5' if downwards else '0.5'}"},
            zorder=2, gid=f"edge:channel:{row.writer}->{row.reader}",
        )  # fmt: skip
    axis.set_xlim(-1.95, 1.95)
    axis.set_ylim(height + 0.6, -0.6)
    axis.legend(
        handles=[
            Line2D([], [], color=READ_COLOR, linewidth=4, label="read"),
            Line2D([], [], color=WRITE_COLOR, linewidth=4, label="written"),
            Line2D([], [], color=CHANNEL_COLOR, linewidth=4, label="pipe / UNIX socket"),
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncols=3,
        fontsize="small",
        frameon=False,
    )


#: The figures by name, as the command line and the report know them.
KINDS: dict[str, Callable[..., Figure]] = {
    "bandwidth": bandwidth,
    "cumulative": cumulative,
    "timeline": timeline,
    "sizes": sizes,
    "latency": latency,
    "flow": flow,
}
