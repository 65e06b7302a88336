"""Chrome/Perfetto trace-event JSON: a trace opened in a timeline viewer.

The file follows the trace-event format that Perfetto's UI and
``chrome://tracing`` open: one track per thread (``tid`` = the thread id),
grouped by process (``pid`` = the thread group id) and named by ``M``
metadata events; one complete slice (``ph: X``) per call, with its file,
bytes, fd and direction in ``args``; and per process a counter track
(``ph: C``) of read and write bandwidth in bytes per second.

Events are read batch by batch and written one by one, so a trace of any
size is exported in flat memory: what is held is one batch, the threads seen
and the bandwidth per process and time bucket (a bounded number of buckets:
they widen as the trace turns out to be longer).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import pandas as pd

import iomonitor
from iomonitor import analysis, schema, store
from iomonitor.analysis._common import scan_of
from iomonitor.errors import NoTimeError, UsageError
from iomonitor.store.writers import OutputFile
from iomonitor.trace import Trace

#: Counter buckets are at most this many per trace; beyond, they widen.
MAX_BUCKETS = 2000

#: Bucket widths tried, narrowest first, in microseconds. Each divides the
#: next, so buckets of one width nest in those of the next and sums made at
#: one width add up exactly into the next (buckets start at whole multiples
#: of the width since the epoch, see :func:`iomonitor.analysis.bandwidth`).
WIDTHS_US: tuple[int, ...] = (
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    60_000_000,
    600_000_000,
    3_600_000_000,
    86_400_000_000,
)

#: Events are read this many at a time (a quarter of a Parquet row group:
#: memory stays flat whatever the trace's size).
READ_ROWS = 65536

#: Slices are formatted and written this many at a time.
WRITE_ROWS = 8192

#: Event columns an export reads (all but the socket's local address).
COLUMNS: tuple[str, ...] = tuple(c for c in schema.EVENT_COLUMNS if c != "local")

#: The name of the counter events; each process gets one track per direction.
COUNTER = "bandwidth (B/s)"


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`chrome_trace` wrote.

    Attributes
    ----------
    slices : int
        ``X`` events, one per call.
    counters : int
        ``C`` events.
    processes, threads : int
        Processes and threads that got a named track.
    interval : float
        Width of the counter buckets, in seconds.
    """

    slices: int
    counters: int
    processes: int
    threads: int
    interval: float


def chrome_trace(
    source: str | os.PathLike[str] | Trace,
    target: str | os.PathLike[str],
    *,
    tz: str | None = None,
) -> ExportSummary:
    """Write a trace as Chrome/Perfetto trace-event JSON.

    Parameters
    ----------
    source : path or Trace
        One trace file or folder (as for :func:`iomonitor.load`), read batch
        by batch, or a trace in memory.
    target : path
        The JSON file to write (through a temporary file beside it, renamed
        into place once complete; a device or named pipe is written in place).
    tz : str, optional
        The time zone of a classic CSV source, as for :func:`iomonitor.load`.

    Returns
    -------
    ExportSummary

    Raises
    ------
    UsageError
        When the source holds several runs (pids of different runs would
        share tracks).
    InputError, OutputError
        When the source cannot be read or the target written.

    Examples
    --------
    >>> chrome_trace("run.parquet", "run.json")  # doctest: +SKIP
    ExportSummary(slices=85, counters=12, processes=2, threads=2, interval=0.001)
    """
    with OutputFile(target).writing() as tmp, open(tmp, "w", encoding="utf-8") as fh:
        return _write(source, fh, tz)


def _write(source: str | os.PathLike[str] | Trace, out: IO[str], tz: str | None) -> ExportSummary:
    trace = source if isinstance(source, Trace) else store.scan(source, tz=tz)
    if analysis.has_runs(trace):
        raise UsageError("export takes one trace: several would mix their pids")
    batches = scan_of(trace, COLUMNS, "an export").batches(COLUMNS, READ_ROWS)
    out.write('{"displayTimeUnit": "ms", "traceEvents": [\n')
    first = True
    threads: dict[int, tuple[int, str]] = {}  # pid -> (tgid, comm at its last call)
    slices = 0
    names: dict[str, str] = {}

    def text(value: str) -> str:
        # Names repeat: each is JSON-encoded once.
        encoded = names.get(value)
        if encoded is None:
            encoded = names[value] = json.dumps(value, ensure_ascii=False)
        return encoded

    for events in batches:
        if not len(events):
            continue
        if events["time"].isna().any():
            # Every slice sits at its time on the timeline: without one there is no file.
            raise NoTimeError("a Chrome/Perfetto trace")
        for tid, tgid, comm in _threads(events):
            threads[tid] = (tgid, comm)
        # A slice of a batch at a time: its rows as Python objects and their
        # text cost some hundred bytes each, a whole batch far too many.
        for start in range(0, len(events), WRITE_ROWS):
            lines = []
            for row in _rows(events.iloc[start : start + WRITE_ROWS]):
                ts, dur, tid, tgid, fd, direction, size, name, port, call, kind = row
                args = f'"file": {text(name)}, "bytes": {size}, "fd": {fd}, "dir": "{direction}"'
                if port is not None:
                    args += f', "port": {port}'
                lines.append(
                    f'{{"name": {text(call)}, "cat": {text(kind)}, "ph": "X", "ts": {ts}, '
                    f'"dur": {dur}, "pid": {tgid}, "tid": {tid}, "args": {{{args}}}}}'
                )
            out.write(("" if first else ",\n") + ",\n".join(lines))
            first = False
            slices += len(lines)
    width_us, counter_events = _counters(trace)
    for event in (*_metadata_events(threads, trace), *counter_events):
        out.write(("" if first else ",\n") + json.dumps(event, ensure_ascii=False))
        first = False
    other = {"iomonitor_version": iomonitor.__version__, "source": _source_name(trace)}
    out.write(f'\n], "otherData": {json.dumps(other, ensure_ascii=False)}}}\n')
    return ExportSummary(
        slices=slices,
        counters=len(counter_events),
        processes=len({tgid for tgid, _ in threads.values()}),
        threads=len(threads),
        interval=width_us / 1e6,
    )


def _micros(times: pd.Series) -> np.ndarray:
    """Timestamps as whole microseconds since the epoch."""
    since = times - pd.Timestamp(0, tz="UTC")
    return (since // pd.Timedelta(microseconds=1)).to_numpy("int64")


def _rows(events: pd.DataFrame) -> Iterator[tuple]:
    ts = _micros(events["time"]).tolist()
    # No -T in the log: no duration; the slice is drawn as an instant.
    dur = np.rint(events["dt"].fillna(0.0).to_numpy("float64") * 1e6).astype("int64").tolist()
    ports = events["port"].astype("object").where(events["port"].notna(), None).tolist()
    columns = [events[c].astype("str").tolist() for c in ("dir", "file", "syscall", "kind")]
    direction, name, call, kind = columns
    return zip(
        ts,
        dur,
        events["pid"].tolist(),
        events["tgid"].tolist(),
        events["fd"].tolist(),
        direction,
        events["bytes"].tolist(),
        name,
        [int(p) if p is not None else None for p in ports],
        call,
        kind,
        strict=True,
    )


def _threads(events: pd.DataFrame) -> Iterator[tuple[int, int, str]]:
    last = (
        events[["pid", "tgid", "comm"]].astype({"comm": "str"}).drop_duplicates("pid", keep="last")
    )
    return zip(last["pid"].tolist(), last["tgid"].tolist(), last["comm"].tolist(), strict=True)


def _metadata_events(threads: dict[int, tuple[int, str]], trace: Trace) -> Iterator[dict[str, Any]]:
    """process_name and thread_name events: command lines from the processes table."""
    procs = trace.processes
    line: dict[int, str] = {}
    if len(procs) and "argv" in procs.columns:
        known = procs[procs["argv"].notna().to_numpy(dtype=bool)]
        line = dict(zip(known["pid"].tolist(), known["argv"].astype("str").tolist(), strict=True))
    named: set[int] = set()
    for tid, (tgid, comm) in sorted(threads.items()):
        if tgid not in named:
            named.add(tgid)
            leader = threads.get(tgid, (tgid, comm))[1]
            yield {
                "name": "process_name",
                "ph": "M",
                "pid": tgid,
                "tid": tgid,
                "args": {"name": line.get(tgid, leader)},
            }
        yield {"name": "thread_name", "ph": "M", "pid": tgid, "tid": tid, "args": {"name": comm}}


def _source_name(trace: Trace) -> Any:
    meta = trace.meta or {}
    return meta.get("command") or meta.get("source") or meta.get("pids")


def _counters(trace: Trace) -> tuple[int, list[dict[str, Any]]]:
    """The bandwidth per process as ``C`` events, and the width of their buckets (µs).

    The width is the narrowest of :data:`WIDTHS_US` that cuts the trace into
    fewer than :data:`MAX_BUCKETS` buckets (the widest when none does); the
    sums are those of :func:`iomonitor.analysis.bandwidth` per process at that
    width. Each process gets an event where its rates change, then a final 0.
    """
    for width_us in WIDTHS_US:
        width = pd.Timedelta(microseconds=width_us)
        table = analysis.bandwidth(trace, width, key="tgid", top=None)
        times = table["time"]
        if not len(times) or (times.max() - times.min()) / width < MAX_BUCKETS:
            break
    table = table.sort_values(["tgid", "time"], kind="mergesort")
    rows = zip(
        table["tgid"].tolist(),
        _micros(table["time"]).tolist(),
        table["read_rate"].tolist(),
        table["write_rate"].tolist(),
        strict=True,
    )
    events = []
    previous: dict[Any, tuple[float, float]] = {}
    ends: dict[Any, int] = {}
    for tgid, start, read, write in rows:
        if previous.get(tgid) != (read, write):
            previous[tgid] = (read, write)
            events.append(_counter(tgid, start, read, write))
        ends[tgid] = start + width_us
    for tgid, end in ends.items():
        if previous[tgid] != (0.0, 0.0):
            events.append(_counter(tgid, end, 0.0, 0.0))
    return width_us, events


def _counter(tgid: Any, ts: int, read: float, write: float) -> dict[str, Any]:
    pid = int(tgid)
    return {
        "name": COUNTER,
        "ph": "C",
        "ts": ts,
        "pid": pid,
        "args": {"read": read, "write": write},
    }
