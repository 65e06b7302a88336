"""Reading large inputs batch by batch, shared by the analysis commands.

`iomonitor stats`, `plot` and `report` load small inputs whole and read
larger ones (more than :data:`STREAM_ABOVE` bytes in all) batch by batch
through :class:`iomonitor.store.BatchReader`, with a progress bar on stderr
when it is a terminal.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from typing import IO, Any, Protocol

import numpy as np
import pandas as pd

from iomonitor import analysis
from iomonitor.errors import InputError, UsageError
from iomonitor.store import BatchReader
from iomonitor.trace import Trace

#: Inputs of more than this many bytes in all are read batch by batch from disk.
STREAM_ABOVE = 4 * 2**20


def open_reader(
    paths: Sequence[str],
    columns: Sequence[str] | None,
    above: int | None = None,
    filters: list | None = None,
    tz: str | None = None,
) -> BatchReader | None:
    """A batch reader for inputs of more than ``above`` bytes in all; None to load them whole.

    Parameters
    ----------
    paths : sequence of str
        The inputs named on the command line.
    columns : sequence of str or None
        The event columns to read (None: all).
    above : int, optional
        The size in bytes; :data:`STREAM_ABOVE` by default.
    filters : list, optional
        Row filters for the reader (:func:`pushdown`).
    tz : str, optional
        The time zone of classic CSVs (``--tz``); the local zone by default.

    Returns
    -------
    BatchReader or None
        None also when the inputs cannot be listed: loading them whole then
        reports the problem, in the same words.
    """
    try:
        reader = BatchReader(
            *paths, columns=list(columns) if columns is not None else None, filters=filters, tz=tz
        )
    except InputError:
        return None
    return reader if reader.total_bytes > (STREAM_ABOVE if above is None else above) else None


def pushdown(select: dict[str, Any]) -> list | None:
    """Row filters for the reader that keep at least what ``analysis.select(**select)`` keeps.

    Rows they drop never reach pandas (Parquet row groups are skipped by
    their statistics); ``select`` still runs on what is read, so the result
    is the same. Shell patterns on ``file`` are not pushed down; plain names are.
    """
    terms: list[tuple[str, str, Any]] = []
    if select.get("kind"):
        terms.append(("kind", "in", list(select["kind"])))
    if select.get("dir"):
        terms.append(("dir", "in", list(select["dir"])))
    files = select.get("file")
    if files and not any(set(f) & set("*?[") for f in files):
        terms.append(("file", "in", list(files)))
    if select.get("pid"):
        # A process id selects its threads too: pid or tgid, as select does.
        pids = [int(p) for p in select["pid"]]
        return [[("pid", "in", pids), *terms], [("tgid", "in", pids), *terms]]
    return [terms] if terms else None


def batches(reader: BatchReader, filters: dict[str, Any] | None = None) -> Iterator[pd.DataFrame]:
    """The events of every input, batch by batch, with ``run`` when there are several.

    Parameters
    ----------
    reader : BatchReader
        Where the batches come from.
    filters : dict, optional
        Keyword arguments of :func:`iomonitor.analysis.select`; None keeps every event.

    Yields
    ------
    pandas.DataFrame
        One batch; its ``run`` column (several inputs only) is categorical
        with every input's name, as :func:`iomonitor.load` names the runs.
    """
    filters = {k: v for k, v in (filters or {}).items() if v is not None}
    names = [i.name for i in reader.inputs]
    runs = len(names) > 1
    for name, events in reader:
        if runs:
            code = np.full(len(events), names.index(name), dtype="int32")
            events["run"] = pd.Categorical.from_codes(code, categories=names)
        if filters:
            events = analysis.select(events, **filters)
        yield events


class Collector(Protocol):
    """What :func:`aggregate` feeds: batches, pass after pass."""

    def add(self, events: pd.DataFrame) -> None: ...

    def next_pass(self, info: Trace) -> bool: ...


def aggregate(
    paths: Sequence[str], columns: Sequence[str] | None, collector: Collector, reader: BatchReader
) -> Trace:
    """Feed every batch of the inputs to ``collector``, as many passes as it asks for.

    Parameters
    ----------
    paths : sequence of str
        The inputs (read again from the start for each further pass).
    columns : sequence of str or None
        The event columns to read.
    collector : object
        Has ``add(events)`` and ``next_pass(info) -> bool``
        (e.g. :class:`iomonitor.plot.FigureCollector`).
    reader : BatchReader
        The reader of the first pass.

    Returns
    -------
    Trace
        The inputs' processes, failed calls and metadata (events empty), to
        finish the collector with.
    """
    passes = 1
    while True:
        label = "reading" if passes == 1 else f"reading again ({passes})"
        with Progress(reader.total_bytes, sys.stderr, label=label) as progress:
            for events in batches(reader):
                collector.add(events)
                progress.show(reader.bytes_read)
        info = reader.trace_info()
        if not collector.next_pass(info):
            return info
        passes += 1
        reader = BatchReader(
            *paths, columns=list(columns) if columns is not None else None, tz=reader.tz
        )


class Progress:
    """Bytes read of the total, drawn on one line of a terminal and cleared at the end.

    Draws nothing unless ``stream`` is a terminal; redraws at most ten times a second.
    """

    def __init__(
        self, total: int, stream: IO[str], every: float = 0.1, label: str = "reading"
    ) -> None:
        self.total = max(total, 1)
        self.stream = stream
        self.every = every
        self.label = label
        self.on = _isatty(stream)
        self._next = 0.0
        self._drawn = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def show(self, done: int) -> None:
        """Redraw with ``done`` bytes read, unless the last redraw was very recent."""
        if not self.on:
            return
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.every
        frac = min(max(done / self.total, 0.0), 1.0)
        width = _terminal_width(self.stream)
        text = f" {frac:4.0%}  {size_text(done)} of {size_text(self.total)}"
        bar = max(10, min(40, width - len(text) - len(self.label) - 5))
        filled = int(frac * bar)
        line = f"{self.label} [{'#' * filled}{'.' * (bar - filled)}]{text}"[: width - 1]
        self.stream.write("\r" + line.ljust(self._drawn))
        self.stream.flush()
        self._drawn = len(line)

    def close(self) -> None:
        """Clear the line (if anything was drawn)."""
        if self.on and self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self.stream.flush()
            self._drawn = 0


def size_text(value: Any) -> str:
    """Bytes for people: ``512 B``, ``1.5 KiB``; ``-`` when unknown."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "-"
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(amount) < 1024 or unit == "TiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _terminal_width(stream: IO[str]) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 80


def check_by_process(by: str | None, source: BatchReader | Trace) -> None:
    """Refuse ``--by process`` on classic CSVs only: they carry no program names.

    Grouped by a name that is missing from every event, the table would be
    one row of ``?``; the pid is what a CSV knows.

    Parameters
    ----------
    by : str or None
        The key asked for.
    source : BatchReader or Trace
        The inputs about to be read, or the trace loaded from them.

    Raises
    ------
    UsageError
        When ``by`` is ``"process"`` and every input is a classic CSV.
    """
    if by != "process":
        return
    if isinstance(source, BatchReader):
        kinds = [item.kind for item in source.inputs]
    else:
        meta = source.meta
        runs = meta["runs"].values() if meta.get("mode") == "combined" else [meta]
        kinds = [run.get("mode") for run in runs]
    if all(kind == "csv" for kind in kinds):
        raise UsageError(
            "--by process needs the programs' names, which a classic CSV does not carry: "
            "use --by pid (or tgid), or a Parquet trace or strace log"
        )
