"""The data flow: files and peers read, the processes, what they wrote."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.transforms import IdentityTransform

from iomonitor import analysis
from iomonitor.errors import UsageError
from iomonitor.plot._axes import (
    CHANNEL_COLOR,
    READ_COLOR,
    WRITE_COLOR,
    _note,
    _panels,
    _safe,
    _text,
    _title,
)
from iomonitor.render.figure_data import (
    _OTHER_NODE,
    OTHER_PROCESSES,
    _figure_data,
    _missing_part,
    _of_run,
)
from iomonitor.render.units import (
    format_bytes,
)
from iomonitor.trace import Trace


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
        ``edges:write``; the arrows are one collection ``edges:channel``
        whose ``pairs`` are the (writer, reader) tgids of each arrow.

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
    if data.flow is None or (top, max_processes) not in data.flow:
        raise _missing_part("flow")
    runs, lives, merged = data.runs, data.lifetimes, data.flow[(top, max_processes)]
    plans = [_flow_plan(*merged[run], _of_run(lives, run)) for run in runs]
    heights = [
        max(3.0, 0.42 * max((len(p.columns[c]) for c in p.columns), default=1) + 1.2) / 3.0
        for p in plans
    ]
    fig, axes = _panels(runs, ax, (13.0, 3.0), heights)
    for run, axis, plan in zip(runs, axes, plans, strict=True):
        _title(axis, "Data flow: read from (left) → processes → written to (right)", run, runs)
        _draw_flow(axis, plan)
    return fig


@dataclass
class _Plan:
    edges: pd.DataFrame  # the columns of analysis.flow_edges, after merging the rest into "other"
    columns: dict[str, list[Any]]  # "source", "process", "sink" -> node ids, top to bottom
    labels: dict[tuple[str, Any], str]


def _flow_plan(edges: pd.DataFrame, hidden: dict[str, int], lives: pd.DataFrame) -> _Plan:
    """Where each node of one run goes, and its label, from its merged edges."""
    if not len(edges):
        return _Plan(edges, {"source": [], "process": [], "sink": []}, {})
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
            labels[("process", t)] = f"{hidden['process']} other processes"
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


class _Channels(PolyCollection):
    """Curved arrows from one process label to another, drawn as one collection.

    Each arrow leaves the right end of its writer's label and bends right,
    away from the column, to the right end of its reader's; its tail is
    ``widths`` points wide, its head 5 points wider and 7 long. The shapes
    depend on where the labels end up, so they are made when drawn, in
    display pixels.

    Attributes
    ----------
    pairs : list of (int, int)
        The writer and reader tgid of each arrow.
    widths : numpy.ndarray
        The tail width of each arrow, in points.
    """

    #: Points along each tail: enough for a smooth curve at any size.
    STEPS = 24

    def __init__(
        self,
        ends: list[tuple[Text, Text]],
        pairs: list[tuple[int, int]],
        widths: np.ndarray,
        **kwargs: Any,
    ) -> None:
        super().__init__([], transform=IdentityTransform(), **kwargs)
        self._ends = ends
        self.pairs = pairs
        self.widths = widths
        # Inside the axes' frame by construction: nothing for the layout to make room for.
        self.set_in_layout(False)

    def draw(self, renderer: Any) -> None:
        self.set_verts(self._arrows(renderer))
        super().draw(renderer)

    def _arrows(self, renderer: Any) -> np.ndarray:
        right: dict[int, tuple[float, float]] = {}
        for text in {id(t): t for pair in self._ends for t in pair}.values():
            box = text.get_window_extent(renderer)
            right[id(text)] = (box.x1, (box.y0 + box.y1) / 2)
        a = np.array([right[id(w)] for w, _ in self._ends])
        b = np.array([right[id(r)] for _, r in self._ends])
        d = b - a
        # Bend right of the direction of travel: a quadratic curve whose control
        # point is half the distance off the middle; the screen's y runs upwards.
        rad = np.where(d[:, 1] < 0, -0.5, 0.5)[:, None]
        c = (a + b) / 2 + rad * np.column_stack([d[:, 1], -d[:, 0]])
        scale = renderer.points_to_pixels(1.0)
        tail = self.widths[:, None] * scale / 2
        head, length = tail + 2.5 * scale, 7.0 * scale
        # The tail ends where the curve enters the head: the last point of the
        # curve farther than the head's length from the tip.
        fine = np.linspace(0.0, 1.0, 4 * self.STEPS + 1)
        far = np.hypot(*(_curve(a, c, b, fine) - b[:, None, :]).transpose(2, 0, 1)) > length
        last = np.where(far.any(axis=1), far.shape[1] - 1 - np.argmax(far[:, ::-1], axis=1), 1)
        cut = fine[np.maximum(last, 1)]
        t = np.linspace(0.0, 1.0, self.STEPS)[None, :] * cut[:, None]
        spine = _curve(a, c, b, t)
        normal = _normal(a, c, b, t)
        base, side = spine[:, -1, :], normal[:, -1, :]
        return np.concatenate(
            [
                spine + normal * tail[:, :, None],
                (base + side * head)[:, None, :],
                b[:, None, :],
                (base - side * head)[:, None, :],
                (spine - normal * tail[:, :, None])[:, ::-1, :],
            ],
            axis=1,
        )


def _curve(a: np.ndarray, c: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points of the quadratic curves from ``a`` over ``c`` to ``b`` (one per row) at ``t``."""
    t = np.broadcast_to(t, (len(a), t.shape[-1]))[:, :, None]
    return (1 - t) ** 2 * a[:, None, :] + 2 * (1 - t) * t * c[:, None, :] + t**2 * b[:, None, :]


def _normal(a: np.ndarray, c: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Unit normals (the tangent turned right) of the curves of :func:`_curve` at ``t``."""
    t = np.broadcast_to(t, (len(a), t.shape[-1]))[:, :, None]
    tangent = 2 * (1 - t) * (c - a)[:, None, :] + 2 * t * (b - c)[:, None, :]
    tangent /= np.maximum(np.hypot(tangent[..., 0], tangent[..., 1]), 1e-9)[..., None]
    return np.stack([tangent[..., 1], -tangent[..., 0]], axis=-1)


def _draw_flow(axis: Axes, plan: _Plan) -> None:
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
    # Pipes and sockets between two traced processes: arrows from writer to reader,
    # all in one collection (one artist per arrow cost most of the figure).
    channels = plan.edges[plan.edges["kind"] == "channel"]
    if len(channels):
        pairs = list(zip(channels["writer"], channels["reader"], strict=True))
        axis.add_collection(
            _Channels(
                [(texts[("process", w)], texts[("process", r)]) for w, r in pairs],
                [(int(w), int(r)) for w, r in pairs],
                np.array([width(float(b)) for b in channels["bytes"]]),
                facecolors=CHANNEL_COLOR,
                edgecolors="none",
                alpha=0.55,
                zorder=2,
                gid="edges:channel",
            ),
            autolim=False,
        )
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
