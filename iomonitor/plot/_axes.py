"""What every figure shares: colours, byte axes, runs and their panels, names as text."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from iomonitor import analysis
from iomonitor.errors import UsageError
from iomonitor.render.figure_data import _OTHER_NODE
from iomonitor.render.units import (
    NAME_WIDTH,
    iec_name,
    iec_unit,
    printable,
    shorten,
)

#: Colours of the two directions, used wherever a figure shows both.
READ_COLOR = "#1f77b4"
WRITE_COLOR = "#ff7f0e"
#: Colour of data passed between two traced processes (pipes, UNIX sockets).
CHANNEL_COLOR = "#9467bd"
OTHER_COLOR = "#9a9a9a"


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
        self._unit = iec_unit(float(values.max())) if len(values) else 0
        scaled = values / 1024**self._unit
        self._decimals = 0
        while self._decimals < 3 and not np.allclose(
            np.round(scaled, self._decimals), scaled, rtol=0, atol=1e-9
        ):
            self._decimals += 1

    def __call__(self, x: float, pos: int | None = None) -> str:
        # Writes are drawn below zero: their ticks name sizes, which are never negative.
        value = abs(x) / 1024**self._unit
        text = f"{value:.{self._decimals}f} {iec_name(self._unit)}"
        return text + "/s" if self.per_second else text


class _BytesLocator(ticker.MaxNLocator):
    """Ticks at round numbers of the binary unit the axis spans (256 KiB, not 262144)."""

    def __init__(self) -> None:
        super().__init__(nbins="auto", steps=[1, 2, 2.5, 5, 10])

    def tick_values(self, vmin: float, vmax: float) -> np.ndarray:
        scale = 1024 ** iec_unit(max(abs(vmin), abs(vmax)))
        return super().tick_values(vmin / scale, vmax / scale) * scale


def _bytes_axis(axis: Any, per_second: bool = False) -> None:
    axis.set_major_locator(_BytesLocator())
    axis.set_major_formatter(_BytesFormatter(per_second))


# --- traces, runs and panels ------------------------------------------------------


def _seconds(times: pd.Series | pd.DatetimeIndex | np.ndarray, origin: pd.Timestamp) -> np.ndarray:
    delta = pd.DatetimeIndex(times) - origin
    return np.asarray(delta / pd.Timedelta(seconds=1), dtype="float64")


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
