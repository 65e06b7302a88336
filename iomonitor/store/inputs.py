"""Trace inputs: what a path holds, the files behind it, and the lines of a raw log.

Detection is by content (a Parquet magic number, the classic CSV header,
anything else a strace log), so a trace keeps working under any name. The
per-process files of ``strace -ff -o PATH`` are merged here into one log;
a folder is a dataset whose ``host=H/run=R`` parts are named by their
folders.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import gc
import heapq
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote

from iomonitor.errors import InputError
from iomonitor.store.writers import CLASSIC_HEADER, DATASET_PART, PARTITIONS, Sink

_PAR1 = b"PAR1"


def detect(path: str | os.PathLike[str]) -> str:
    """Tell what a trace input is: ``"parquet"``, ``"csv"``, ``"dataset"`` or ``"log"``.

    Raises
    ------
    InputError
        When the path is missing, unreadable or empty.
    """
    p = Path(path)
    if p.is_dir():
        return "dataset"
    if not p.exists():
        p = log_parts(path)[0][1]  # strace -ff per-process files, or InputError
        if not p.name.startswith(Path(path).name + "."):
            return "log"
    try:
        with open(p, "rb") as fh:
            head = fh.read(4096)
    except FileNotFoundError:
        raise InputError(str(path), "no such file") from None
    except OSError as exc:
        raise InputError(str(path), exc.strerror or str(exc)) from exc
    if not head.strip():
        raise InputError(str(path), "empty file")
    if head.startswith(_PAR1):
        return "parquet"
    if head.split(b"\n", 1)[0].rstrip(b"\r") == CLASSIC_HEADER.encode():
        return "csv"
    return "log"


def log_parts(path: str | os.PathLike[str]) -> list[tuple[int | None, Path]]:
    """The file(s) of a raw log: the file itself, or the ``PATH.PID`` files of ``strace -ff``.

    Raises
    ------
    InputError
        When neither exists.
    """
    p = Path(path)
    if p.exists():
        return [(None, p)]
    parts = [
        (int(f.name[len(p.name) + 1 :]), f)
        for f in p.parent.glob(f"{p.name}.*")
        if f.name[len(p.name) + 1 :].isdigit()
    ]
    if not parts:
        raise InputError(str(path), "no such file")
    return sorted(parts)


def log_mtime(path: str | os.PathLike[str]) -> float:
    """Modification time of a raw log (the newest of ``-ff`` per-process files)."""
    return max(f.stat().st_mtime for _, f in log_parts(path))


_LEADING_TIME = re.compile(r"\s*(?:(\d\d):(\d\d):(\d\d(?:\.\d+)?)|(\d+\.\d+))\s")


def _open_text(path: Path) -> IO[str]:
    try:
        return open(path, encoding="utf-8", errors="surrogateescape", newline="\n")
    except OSError as exc:
        raise InputError(str(path), exc.strerror or str(exc)) from exc


def iter_log_lines(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield the lines of a raw strace log, decoded losslessly.

    For ``strace -ff -o PATH`` logs, the per-process files ``PATH.PID`` are
    merged by timestamp and each line gets its pid prefix, which those files
    leave out.
    """
    parts = log_parts(path)
    if len(parts) == 1 and parts[0][0] is None:
        with _open_text(parts[0][1]) as fh:
            try:
                yield from fh
            except OSError as exc:
                raise InputError(str(path), exc.strerror or str(exc)) from exc
        return
    handles = [(pid, _open_text(f)) for pid, f in parts]
    try:
        streams = [_keyed(pid, fh) for pid, fh in handles]
        for _, _, line in heapq.merge(*streams):
            yield line
    finally:
        for _, fh in handles:
            fh.close()


#: Bytes read from a log at a time (the core takes any cut of the stream).
LOG_BLOCK = 1 << 20


def feed_log(conv: Any, path: str | os.PathLike[str], progress: Any = None) -> Iterator[Any]:
    """Feed a raw strace log to a converter; yield its chunks of events as they fill up.

    A single log goes to the compiled core as bytes, block by block; the
    per-process files of ``strace -ff`` are merged line by line first (see
    :func:`iter_log_lines`). ``progress``, when given, is called with the
    bytes (or characters) read so far.
    """
    parts = log_parts(path)
    if len(parts) == 1 and parts[0][0] is None:
        read = 0
        try:
            # One buffer for every block: a fresh 1 MiB bytes per read is a
            # fresh mapping whose pages the kernel zeroes each time (a tenth
            # of a conversion's CPU). The core copies what it keeps of a block.
            buf = bytearray(LOG_BLOCK)
            view = memoryview(buf)
            with open(parts[0][1], "rb", buffering=0) as fh:
                while n := fh.readinto(buf):
                    read += n
                    if progress is not None:
                        progress(read)
                    yield from conv.feed_bytes(view[:n])
        except OSError as exc:
            raise InputError(str(path), exc.strerror or str(exc)) from exc
        return
    read = 0

    def counted(lines: Iterable[str]) -> Iterator[str]:
        nonlocal read
        for line in lines:
            read += len(line)  # characters: close enough to bytes for progress
            if progress is not None:
                progress(read)
            yield line

    yield from conv.feed(counted(iter_log_lines(path)))


def _keyed(pid: int | None, lines: Iterable[str]) -> Iterator[tuple[float, int, str]]:
    # Sort key: the line's own timestamp (start of the call), or the previous
    # one for lines without; ties keep each file's order.
    key = 0.0
    for seq, line in enumerate(lines):
        m = _LEADING_TIME.match(line)
        if m is not None:
            if m.group(4) is not None:
                key = float(m.group(4))
            else:
                key = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
        yield key, seq, f"{pid} {line}"


def sniff_log(path: str | os.PathLike[str]) -> None:
    """Refuse, before anything is written, an input that does not start like a strace log.

    Raises
    ------
    InputError
        When the file is missing, empty, another trace format, or none of its
        first lines reads as strace output.
    """
    from iomonitor.strace.parser import BLANK, INVALID, parse_line

    kind = detect(path)
    if kind == "dataset":
        what = "a Parquet dataset" if any(Path(path).rglob("*.parquet")) else "a folder"
        raise InputError(str(path), f"is {what}, not a strace log")
    if kind != "log":
        raise InputError(str(path), f"is a {kind} trace, not a strace log")
    for seen, line in enumerate(iter_log_lines(path)):
        if parse_line(line).kind not in (INVALID, BLANK):
            return
        if seen >= 200:
            break
    raise InputError(str(path), "not a strace log (no line reads as strace output)")


def check_log(conv: Any, path: str | os.PathLike[str]) -> None:
    """Refuse an input that held no strace line at all."""
    if conv.builder.procs or conv.joiner.pending:
        return
    if conv.lines and conv.unparsed == 0:
        return  # only messages or blank lines: an empty but genuine log
    raise InputError(str(path), "not a strace log, a classic CSV or a Parquet trace")


def convert_log(
    path: str | os.PathLike[str],
    sink: Sink,
    *,
    date: _dt.date | None = None,
    cwd: str | None = None,
    on_call: Any = None,
) -> dict[str, Any]:
    """Convert a raw strace log into a sink, chunk by chunk (what ``iomonitor -i`` does).

    Parameters
    ----------
    path : path
        The log, or the common prefix of ``strace -ff`` per-process files.
    sink : Sink
        Where the events go; closed with the processes, failed calls and
        metadata, or aborted on failure.
    date, cwd : optional
        As for :func:`iomonitor.store.read_log`.
    on_call : callable, optional
        Called with every call as it is understood (the ``-v`` view).

    Returns
    -------
    dict
        The metadata written.

    Raises
    ------
    InputError
        When the file is missing, empty or holds no strace line at all.
    """
    from iomonitor.strace.convert import Converter

    conv = Converter(date=date, mtime=log_mtime(path), cwd=cwd, on_call=on_call, chunk=sink.chunk)
    with _no_collections():
        try:
            for chunk in feed_log(conv, path):
                sink.write(chunk)
            sink.write(conv.finish())
            check_log(conv, path)
        except BaseException:
            sink.abort()
            raise
        meta = {"mode": "log", "source": str(path), **conv.counters()}
        sink.close(conv.process_records(), conv.error_records(), meta, conv.exec_records())
    return meta


@contextlib.contextmanager
def _no_collections() -> Iterator[None]:
    """Keep the cyclic collector off while a log is converted, as it was after.

    A conversion keeps what it builds (processes, fd tables, failed-call
    keys) to the end and makes hardly any cycles, so every collection walks
    live objects for nothing: on the 319 MB process-heavy log the collector
    took 0.57-0.63 s of CPU at the default threshold, 0.18-0.23 s with young
    collections every 50,000 allocations instead of 700, and none off, with
    the same peak memory (351 MiB). Off covers the writing of the footer
    too; whatever cycles there are go at the first collection after.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


# --- datasets and several inputs ------------------------------------------------


def partition_values(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``host`` and ``run`` of a dataset part, read from its ``key=value`` folders.

    Examples
    --------
    >>> partition_values("ds/host=web1/run=20261127T133501Z-3f9a/part-0.parquet")
    {'host': 'web1', 'run': '20261127T133501Z-3f9a'}
    """
    found = {}
    for folder in Path(path).parent.parts:
        key, eq, value = folder.partition("=")
        if eq and key in PARTITIONS:
            found[key] = unquote(value)  # hive escapes, as DuckDB and Spark read them
    return found


def run_name(path: str | os.PathLike[str]) -> str:
    """The name of an input's run when several are loaded together.

    A dataset part is named by its partition folders, ``host=H/run=R``
    (followed by its file name unless that is ``part-0.parquet``); any
    other input by its path.

    Examples
    --------
    >>> run_name("ds/host=web1/run=20261127T133501Z-3f9a/part-0.parquet")
    'host=web1/run=20261127T133501Z-3f9a'
    >>> run_name("traces/monday.parquet")
    'traces/monday.parquet'
    """
    p = Path(path)
    folders = [f for f in p.parent.parts if f.partition("=")[0] in PARTITIONS and "=" in f]
    if not folders:
        return str(p)
    return "/".join(folders if p.name == DATASET_PART else [*folders, p.name])


@dataclass(frozen=True)
class TraceInput:
    """One input file of :func:`trace_inputs`.

    Attributes
    ----------
    name : str
        The run name :func:`load` gives it when several inputs are loaded together.
    kind : str
        ``"parquet"``, ``"csv"`` or ``"log"``.
    path : pathlib.Path
        The file (for ``strace -ff`` logs, the common prefix of the per-process files).
    """

    name: str
    kind: str
    path: Path


def trace_inputs(*paths: str | os.PathLike[str]) -> list[TraceInput]:
    """The input files behind trace paths, named as :func:`load` names their runs.

    Parameters
    ----------
    *paths : path
        Parquet files, classic CSVs, raw strace logs, or folders searched
        recursively (at any depth, e.g. ``host=a/run=b/part-0.parquet``) for
        Parquet files.

    Returns
    -------
    list of TraceInput
        In :func:`load`'s order; several of them make several runs, but for
        Parquet files of one run (:func:`runs_of`).

    Raises
    ------
    InputError
        When an input is missing, empty or a folder without Parquet files.
    """
    if not paths:
        raise InputError("-", "no input given")
    found: list[tuple[str, Path]] = []
    for path in paths:
        kind = detect(path)
        if kind == "dataset":
            files = sorted(Path(path).rglob("*.parquet"))
            if not files:
                raise InputError(str(path), "folder holds no Parquet files")
            found.extend(("parquet", f) for f in files)
        else:
            found.append((kind, Path(path)))
    seen: dict[str, int] = {}
    out = []
    for kind, path in found:
        name = run_name(path)
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name}#{seen[name]}"  # the same file twice is two runs, as in load()
        out.append(TraceInput(name, kind, path))
    return out


@dataclass(frozen=True)
class Run:
    """One run of :func:`runs_of`: the inputs that hold it.

    Attributes
    ----------
    name : str
        The run's name when several runs are loaded together.
    members : tuple of int
        The places of its inputs in the list given to :func:`runs_of`, in order.
    """

    name: str
    members: tuple[int, ...]


def runs_of(inputs: Sequence[TraceInput], metas: Sequence[Mapping[str, Any]]) -> list[Run]:
    """Which inputs hold one run: Parquet files whose metadata name the same host and run id.

    A run cut into several files (parts in one ``host=H/run=R`` folder, or
    files whose footers carry the same ``host`` and ``run``) is one run,
    named ``host=H/run=R``; every other input is a run of its own, named as
    :func:`trace_inputs` names it. The same file given twice is two runs,
    as it always was.

    Parameters
    ----------
    inputs : sequence of TraceInput
    metas : sequence of mapping
        The metadata of each input (a dataset part's ``host`` and ``run``
        are its folders, see :func:`iomonitor.store.scans.blob`).

    Returns
    -------
    list of Run
        In the order of each run's first input.
    """
    groups: list[list[int]] = []
    # Each open run with the resolved paths of its files, to tell a second
    # part from the same file given again (a dataset may have thousands).
    open_runs: dict[tuple[str, str], tuple[int, set[Path]]] = {}
    for i, (item, meta) in enumerate(zip(inputs, metas, strict=True)):
        host, run = meta.get("host"), meta.get("run")
        key = (host, run) if isinstance(host, str) and isinstance(run, str) else None
        if item.kind != "parquet":
            key = None
        at = open_runs.get(key) if key is not None else None
        here = item.path.resolve() if key is not None else None
        if at is not None and here not in at[1]:
            groups[at[0]].append(i)
            at[1].add(here)
            continue
        if key is not None:
            open_runs[key] = (len(groups), {here})  # the same file again opens a second run
        groups.append([i])
    taken = {inputs[g[0]].name for g in groups if len(g) == 1}
    out = []
    for group in groups:
        name = inputs[group[0]].name
        if len(group) > 1:
            meta = metas[group[0]]
            name = base = f"host={meta['host']}/run={meta['run']}"
            copies = 1
            while name in taken:
                copies += 1
                name = f"{base}#{copies}"
            taken.add(name)
        out.append(Run(name, tuple(group)))
    return out
