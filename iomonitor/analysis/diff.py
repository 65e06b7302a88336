"""What changed between two traces: totals per key side by side.

Two runs of a program are compared key by key (file, peer, process, syscall,
kind): bytes and calls in each, the change and the ratio, and which keys are
in only one of them. Processes are matched by what they ran (program and
arguments), never by pid, which differs from run to run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from iomonitor.analysis._common import COMM, KIND, RUN, SYSCALL, TGID, check_key, sort_rows
from iomonitor.analysis.totals import by
from iomonitor.errors import UsageError
from iomonitor.trace import Trace

#: The keys two traces can be compared by (pids and tgids differ between runs).
DIFF_KEYS: tuple[str, ...] = ("file", "peer", "process", "syscall", "kind")

#: The event column each key needs, and what its values are called in messages.
_NEEDS: dict[str, tuple[str, str]] = {
    "file": ("file", "files"),
    "peer": (KIND, "kinds of fd"),
    "process": (COMM, "programs"),
    "syscall": (SYSCALL, "system calls"),
    "kind": (KIND, "kinds of fd"),
}

#: The totals compared, each as ``NAME_a``, ``NAME_b`` in the result.
_COMPARED: tuple[str, ...] = ("bytes", "calls", "read_bytes", "write_bytes")

#: Columns of :func:`diff` after the key column.
DIFF_COLUMNS: tuple[str, ...] = (
    "present",
    "bytes_a",
    "bytes_b",
    "bytes_change",
    "bytes_ratio",
    "calls_a",
    "calls_b",
    "calls_change",
    "calls_ratio",
    "read_bytes_a",
    "read_bytes_b",
    "write_bytes_a",
    "write_bytes_b",
)


def diff(
    a: Trace,
    b: Trace,
    key: str = "file",
    *,
    strip: str | Sequence[str] = (),
) -> pd.DataFrame:
    """Totals per key of two traces side by side, biggest change first.

    Parameters
    ----------
    a, b : Trace
        The two traces ("before" and "after"). A trace holding several runs
        is compared as their sum.
    key : {'file', 'peer', 'process', 'syscall', 'kind'}
        What to compare by. ``process`` is the command line a process ran
        (``argv`` of the processes table, falling back on the program name),
        so that processes of two runs match whatever their pids; processes
        that ran the same command line add up. A capture keeps the first 32
        bytes of each argument (strace's ``-s``), so long arguments match
        on their beginning.
    strip : str or sequence of str, optional
        Prefixes removed from file names (at the start) and from command
        lines (anywhere), so that paths under two different temporary
        folders match: ``strip=["/tmp/run1", "/tmp/run2"]`` makes
        ``/tmp/run1/out.txt`` and ``/tmp/run2/out.txt`` both ``/out.txt``.

    Returns
    -------
    pandas.DataFrame
        One row per key value some event of either trace has. A key seen
        only in failed calls (a connect refused in both runs, say) moved
        nothing and is left out: a classic CSV does not record failures, so
        keeping them would make the comparison depend on the format.
        Columns: the key (named as ``key``), ``present`` (``"both"``, ``"a"`` or ``"b"``: where the
        key was seen), then for ``bytes`` (read + written; mapped bytes are
        never added in) and ``calls`` (events, mmap included): the value in
        each (``_a``, ``_b``; 0 where absent), the ``_change`` (b - a) and
        the ``_ratio`` (b / a, NaN when a is 0); then ``read_bytes_a``,
        ``read_bytes_b``, ``write_bytes_a``, ``write_bytes_b``. Sorted by the
        size of the change in bytes, then in calls (largest first), then by key.

    Raises
    ------
    UsageError
        When ``a`` or ``b`` is not a Trace, ``key`` cannot be compared, or
        a trace does not record what ``key`` is made of (:func:`can_compare`).

    Examples
    --------
    >>> before, after = iomonitor.load("a.parquet"), iomonitor.load("b.parquet")  # doctest: +SKIP
    >>> diff(before, after, "file", strip=["/tmp/a", "/tmp/b"]).head()  # doctest: +SKIP
    """
    for side in (a, b):
        if not isinstance(side, Trace):
            raise UsageError(f"diff compares two Traces, not {type(side).__name__}")
    check_key(key, DIFF_KEYS)
    prefixes = [strip] if isinstance(strip, str) else list(strip)
    if any(not isinstance(p, str) or not p for p in prefixes):
        raise UsageError("strip takes non-empty text prefixes")
    for name, side in (("A", a), ("B", b)):
        if not can_compare(side, key):
            raise UsageError(
                f"trace {name} does not name the {_NEEDS[key][1]} (a classic CSV does not): "
                f"it cannot be compared by {key}"
            )
    left = _totals(a, key, prefixes)
    right = _totals(b, key, prefixes)
    both = left.merge(right, on=key, how="outer", suffixes=("_a", "_b"), indicator=True)
    out = pd.DataFrame({key: both[key].astype("str")})
    out["present"] = both["_merge"].map({"both": "both", "left_only": "a", "right_only": "b"})
    out["present"] = out["present"].astype("str")
    for name in _COMPARED:
        for side in ("a", "b"):
            out[f"{name}_{side}"] = both[f"{name}_{side}"].fillna(0).astype("int64")
    for name in ("bytes", "calls"):
        old = out[f"{name}_a"].to_numpy("float64")
        new = out[f"{name}_b"].to_numpy("float64")
        out[f"{name}_change"] = out[f"{name}_b"] - out[f"{name}_a"]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"{name}_ratio"] = np.where(old > 0, new / old, np.nan)
    order = out.assign(_bytes=out["bytes_change"].abs(), _calls=out["calls_change"].abs()).pipe(
        sort_rows, ["_bytes", "_calls", key], [False, False, True]
    )
    return order[[key, *DIFF_COLUMNS]]


def can_compare(trace: Trace, key: str) -> bool:
    """Whether a trace records what ``key`` is made of (a classic CSV has no programs, syscalls).

    Parameters
    ----------
    trace : Trace
    key : str
        One of :data:`DIFF_KEYS`.

    Returns
    -------
    bool
        True when some event has the column ``key`` needs, or there is no
        event at all.
    """
    check_key(key, DIFF_KEYS)
    events = trace.events
    column = _NEEDS[key][0]
    return not len(events) or (column in events.columns and bool(events[column].notna().any()))


def _totals(trace: Trace, key: str, prefixes: list[str]) -> pd.DataFrame:
    """One row per key value of one trace (its runs added up), names stripped."""
    if key == "process":
        trace = _by_command_line(trace)
    table = by(trace, key)
    if RUN in table.columns:
        table = table.drop(columns=RUN)
    names = table[key].astype("str")
    if key == "file":
        names = names.map(lambda name: _strip_start(name, prefixes))
    elif key == "process":
        names = names.map(lambda name: _strip_anywhere(name, prefixes))
    table = table.assign(**{key: names})
    totals = table.groupby(key, sort=False)[list(_COMPARED)].sum().reset_index()
    # `by` also lists names seen only in failed calls (0 calls), see diff's Returns.
    return totals[totals["calls"].to_numpy() > 0]


def _by_command_line(trace: Trace) -> Trace:
    """The trace with each event's ``comm`` replaced by the command line it ran.

    A process's ``argv`` is that of its last execve, so an event keeps its
    own program name when that differs from the process's last one (a shell
    that forked, before it exec'd the program).
    """
    procs = trace.processes
    if not len(procs) or "argv" not in procs.columns:
        return trace
    runs = [RUN] if RUN in trace.events.columns and RUN in procs.columns else []
    leaders = procs[(procs["pid"] == procs[TGID]).to_numpy(dtype=bool)]
    lines = leaders[[*runs, TGID, COMM, "argv"]].drop_duplicates([*runs, TGID], keep="last")
    lines = lines[lines["argv"].notna().to_numpy(dtype=bool)]
    if not len(lines):
        return trace
    events = trace.events
    pairs = events[[*runs, TGID, COMM]].astype({COMM: "str"}).drop_duplicates()
    named = pairs.merge(
        lines.astype({COMM: "str", "argv": "str"}).rename(columns={COMM: "_last"}),
        on=[*runs, TGID],
        how="left",
    )
    same = (named[COMM] == named["_last"]).to_numpy(dtype=bool)
    named["_line"] = np.where(same, named["argv"], named[COMM])
    labels = (
        events[[*runs, TGID, COMM]]
        .astype({COMM: "str"})
        .merge(named[[*runs, TGID, COMM, "_line"]], on=[*runs, TGID, COMM], how="left")["_line"]
    )
    events = events.assign(**{COMM: pd.Categorical(labels.to_numpy())})
    # Failed calls are named through the processes table (pid -> comm).
    line_of = procs["argv"].where(procs["argv"].notna(), procs[COMM])
    processes = procs.assign(**{COMM: line_of.astype("str")})
    return Trace(events, processes, trace.errors, trace.meta)


def _strip_start(name: str, prefixes: Iterable[str]) -> str:
    for prefix in prefixes:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _strip_anywhere(text: str, prefixes: Iterable[str]) -> str:
    for prefix in prefixes:
        text = text.replace(prefix, "")
    return text
