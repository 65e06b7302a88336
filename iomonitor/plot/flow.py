"""The data flow: files and peers read, the processes, what they wrote."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from iomonitor import analysis
from iomonitor.errors import UsageError
from iomonitor.plot._axes import (
    _OTHER_NODE,
    CHANNEL_COLOR,
    READ_COLOR,
    WRITE_COLOR,
    _note,
    _of_run,
    _panels,
    _safe,
    _text,
    _title,
)
from iomonitor.plot.data import _figure_data, _missing_part
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
    # No shrinking: each shrink cuts the curved path by bisection when the page is
    # drawn, which cost a third of the figure with a few hundred arrows.
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
                        "alpha": 0.55, "shrinkA": 0, "shrinkB": 0,
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
