"""Shared pieces of the analysis modules: keys, labels, checks and run handling.

Private: the public names live in :mod:`iomonitor.analysis`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from iomonitor import schema
from iomonitor.analysis.engine import RUN, Scan
from iomonitor.errors import UsageError
from iomonitor.timeutil import parse_duration
from iomonitor.trace import Trace

if TYPE_CHECKING:
    import pandas as pd

TIME, DT, PID, FD, DIR, BYTES, FILE, PORT = schema.CLASSIC_COLUMNS
SYSCALL, KIND, TGID, COMM, LOCAL = schema.EXTRA_COLUMNS
READ, WRITE, MAP, PEEK = schema.DIRECTIONS

#: Socket kinds whose ``file`` is an IP address and ``port`` a port number.
INET_KINDS: tuple[str, ...] = ("tcp", "udp")

#: Label of the keys outside the top N in :func:`bandwidth`.
OTHER = "other"

#: Grouping keys -> the event columns each is computed from.
KEY_SOURCES: dict[str, tuple[str, ...]] = {
    "file": (FILE,),
    "peer": (KIND, FILE, PORT),
    "pid": (PID,),
    "process": (COMM,),
    "syscall": (SYSCALL,),
    "kind": (KIND,),
    "tgid": (TGID,),
}
KEYS: tuple[str, ...] = tuple(KEY_SOURCES)

#: Keys whose values are numbers; the others are text.
NUMERIC_KEYS: tuple[str, ...] = ("pid", "tgid")


def check_key(key: str, allowed: Iterable[str] = KEYS) -> None:
    """Raise UsageError unless ``key`` is one of ``allowed``."""
    allowed = tuple(allowed)
    if key not in allowed:
        raise UsageError(f"unknown key {key!r}; choose one of: {', '.join(allowed)}")


def require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise UsageError naming every column of ``columns`` that ``frame`` lacks."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise UsageError(f"{what} needs a DataFrame of events, not {type(frame).__name__}")
    _require_columns(frame.columns, columns, what)


def _require_columns(have: Iterable[str], columns: Iterable[str], what: str) -> None:
    missing = [c for c in dict.fromkeys(columns) if c not in have]
    if missing:
        raise UsageError(f"{what} needs the column(s) {', '.join(missing)}, which are missing")


def events_of(data: Trace | pd.DataFrame) -> pd.DataFrame:
    """The events DataFrame of a Trace (read into memory if need be), or the DataFrame itself."""
    import pandas as pd

    if isinstance(data, Trace):
        return data.events
    if isinstance(data, pd.DataFrame):
        return data
    raise UsageError(f"expected a Trace or an events DataFrame, not {type(data).__name__}")


def scan_of(data: Trace | pd.DataFrame, columns: Iterable[str], what: str) -> Scan:
    """The engine's view of the events of a Trace or DataFrame, checked for ``columns``.

    A trace whose events are still on disk is queried there; events in
    memory are scanned in place.
    """
    if isinstance(data, Trace) and not data.in_memory:
        _require_columns(data.scan.columns, columns, what)
        return data.scan
    frame = events_of(data)
    require(frame, columns, what)
    return Scan.of_frame(frame)


def has_runs(data: Trace | pd.DataFrame) -> bool:
    """Whether the events of ``data`` hold several runs."""
    if isinstance(data, Trace) and not data.in_memory:
        return data.scan.has_runs
    return RUN in events_of(data).columns


def run_columns(frame: pd.DataFrame) -> list[str]:
    """``["run"]`` when ``frame`` holds several runs, else ``[]``."""
    return [RUN] if RUN in frame.columns else []


def check_runs(events: pd.DataFrame, table: pd.DataFrame | None, name: str) -> None:
    """Refuse a side table that cannot be matched to the runs of ``events``.

    Pids of different runs are unrelated, so a table without ``run`` cannot be
    joined to events that have one without mixing runs up.
    """
    if table is None or not len(table):
        return
    if RUN in events.columns and RUN not in table.columns:
        raise UsageError(
            f"the events hold several runs but the {name} table has no 'run' column; "
            "its rows cannot be matched to a run"
        )


def as_plain(series: pd.Series) -> pd.Series:
    """Categorical or nullable-string text -> the default string dtype; others unchanged.

    Results of different batches must concatenate and compare equal whatever
    categories each batch happened to have.
    """
    import pandas as pd

    if isinstance(series.dtype, pd.CategoricalDtype):
        if series.cat.categories.dtype.kind in "iuf":
            return series.astype(series.cat.categories.dtype)
        return series.astype("str")
    if isinstance(series.dtype, pd.StringDtype) or (
        series.dtype == object and pd.api.types.infer_dtype(series) in ("string", "empty")
    ):
        return series.astype("str")
    return series


def to_timedelta(interval: str | float | pd.Timedelta) -> pd.Timedelta:
    """A bucket width: ``"100ms"``, ``"1s"``, ``"5min"``, a Timedelta or seconds.

    Text is read by :func:`iomonitor.timeutil.parse_duration`, as every
    duration on the command line is.
    """
    import pandas as pd

    try:
        if isinstance(interval, int | float) and not isinstance(interval, bool):
            width = pd.Timedelta(seconds=float(interval))
        elif isinstance(interval, str):
            width = pd.Timedelta(parse_duration(interval), unit="ns")
        else:
            width = pd.Timedelta(interval)
    except (ValueError, TypeError) as exc:
        raise UsageError(
            f"bad interval {interval!r}: give a width such as 100ms, 1s or 5min"
        ) from exc
    if pd.isna(width) or width <= pd.Timedelta(0):
        raise UsageError(f"bad interval {interval!r}: the width must be positive")
    return width


def check_top(top: int | None) -> None:
    """Raise UsageError unless ``top`` is None or a non-negative int."""
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 0):
        raise UsageError(f"top must be a whole number >= 0 (0 = all), not {top!r}")


def sort_rows(frame: pd.DataFrame, by: Sequence[str], ascending: Sequence[bool]) -> pd.DataFrame:
    """Stable sort with missing keys last, then a fresh 0..n-1 index."""
    return frame.sort_values(
        list(by), ascending=list(ascending), kind="mergesort", na_position="last"
    ).reset_index(drop=True)
