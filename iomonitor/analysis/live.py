"""Totals so far and recent rates, for events that arrive while a capture runs.

A live view (``iomonitor top``) hands every chunk of events to
:class:`LiveTotals` as the capture writes it and asks, about once a second,
for the busiest keys: bytes and calls since the start (each chunk's
:func:`~iomonitor.analysis.by` table added to the running totals) and read
and write rates over the last few seconds of the events' own
timestamps.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from iomonitor.analysis._common import (
    BYTES,
    DIR,
    DT,
    KEY_SOURCES,
    READ,
    TGID,
    TIME,
    WRITE,
    check_key,
    sort_rows,
)
from iomonitor.analysis.totals import by
from iomonitor.errors import UsageError

#: The running totals kept per key value.
_SUMS = ("read_bytes", "write_bytes", "calls")

#: Columns of :meth:`LiveTotals.table` after the key column.
LIVE_COLUMNS: tuple[str, ...] = (
    "read_rate",
    "write_rate",
    "read_bytes",
    "write_bytes",
    "calls",
)


class LiveTotals:
    """Running totals per key, and rates over a recent window.

    Parameters
    ----------
    keys : iterable of str
        The keys tables are asked for (see :func:`iomonitor.analysis.by`).
    window : float, default 2.0
        Rates are the bytes of the events that started in the last
        ``window`` seconds before ``now``, divided by ``window``.

    Examples
    --------
    >>> live = LiveTotals(["file"])  # doctest: +SKIP
    >>> live.add(chunk)  # doctest: +SKIP
    >>> live.table("file", now=time.time(), top=10)  # doctest: +SKIP
    """

    def __init__(self, keys: Iterable[str] = ("file",), window: float = 2.0) -> None:
        self.keys = tuple(keys)
        for key in self.keys:
            check_key(key)
        if not window > 0:
            raise UsageError(f"the rate window must be positive, not {window!r}")
        self.window = pd.Timedelta(seconds=window)
        self._totals: dict[str, pd.DataFrame | None] = dict.fromkeys(self.keys)
        self._recent: list[pd.DataFrame] = []
        self._columns = sorted(
            {TIME, DT, DIR, BYTES, TGID, *(c for k in self.keys for c in KEY_SOURCES[k])}
        )
        self.events = 0
        self.read_bytes = 0
        self.write_bytes = 0
        self._tgids: set[int] = set()

    def add(self, events: pd.DataFrame) -> None:
        """Count one chunk of events (in the order the capture wrote them)."""
        if not len(events):
            return
        for key in self.keys:
            table = by(events, key)[[key, *_SUMS]]
            table[key] = table[key].astype("str")
            held = self._totals[key]
            if held is not None:
                both = pd.concat([held, table], ignore_index=True)
                table = both.groupby(key, sort=False, dropna=False)[list(_SUMS)].sum()
                table = table.reset_index()
            self._totals[key] = table
        direction = events[DIR]
        size = events[BYTES].to_numpy(dtype="int64")
        self.events += len(events)
        self.read_bytes += int(size[(direction == READ).to_numpy(dtype=bool)].sum())
        self.write_bytes += int(size[(direction == WRITE).to_numpy(dtype=bool)].sum())
        self._tgids.update(events[TGID].unique().tolist())
        self._recent.append(events[[c for c in self._columns if c in events.columns]])

    @property
    def processes(self) -> int:
        """Processes seen doing I/O so far."""
        return len(self._tgids)

    def rates(self, now: float | pd.Timestamp) -> tuple[float, float]:
        """Bytes read and written per second over the window before ``now``."""
        recent = self._window(now)
        direction = recent[DIR]
        size = recent[BYTES].to_numpy(dtype="int64")
        seconds = self.window.total_seconds()
        read = float(size[(direction == READ).to_numpy(dtype=bool)].sum()) / seconds
        write = float(size[(direction == WRITE).to_numpy(dtype=bool)].sum()) / seconds
        return read, write

    def table(self, key: str, now: float | pd.Timestamp, top: int | None = None) -> pd.DataFrame:
        """The busiest values of ``key``: recent rates, then totals so far.

        Parameters
        ----------
        key : str
            One of the keys given when made.
        now : float or Timestamp
            The end of the rate window (seconds since the epoch, or a timestamp).
        top : int, optional
            Keep this many rows.

        Returns
        -------
        pandas.DataFrame
            The key (as text), ``read_rate`` and ``write_rate`` (bytes per
            second over the window), ``read_bytes``, ``write_bytes`` and
            ``calls`` since the start. Sorted by the rates added up, then by
            bytes so far, largest first, then by key.
        """
        if key not in self._totals:
            raise UsageError(f"{key!r} is not a key of this view: {', '.join(self.keys)}")
        columns = [key, *LIVE_COLUMNS]
        held = self._totals[key]
        if held is None:
            return pd.DataFrame({c: [] for c in columns})
        totals = held.copy()
        recent = self._window(now)
        seconds = self.window.total_seconds()
        if len(recent):
            rates = by(recent, key)[[key, "read_bytes", "write_bytes"]]
            rates = rates.assign(**{key: rates[key].astype("str")})
            rates = rates.rename(columns={"read_bytes": "read_rate", "write_bytes": "write_rate"})
            table = totals.merge(rates, on=key, how="left")
        else:
            table = totals.assign(read_rate=0.0, write_rate=0.0)
        for side in ("read_rate", "write_rate"):
            table[side] = table[side].fillna(0).to_numpy("float64") / seconds
        table["_rate"] = table["read_rate"] + table["write_rate"]
        table["_bytes"] = table["read_bytes"] + table["write_bytes"]
        table = sort_rows(table, ["_rate", "_bytes", key], [False, False, True])[columns]
        return table.head(top) if top else table

    def _window(self, now: float | pd.Timestamp) -> pd.DataFrame:
        end = now if isinstance(now, pd.Timestamp) else pd.Timestamp(now, unit="s", tz="UTC")
        start = end - self.window
        # Chunks come in time order, give or take the calls in flight: drop
        # whole chunks that ended before the window, cut the rest.
        while self._recent and self._recent[0][TIME].max() < start:
            self._recent.pop(0)
        if not self._recent:
            return pd.DataFrame({c: [] for c in self._columns})
        recent = pd.concat(self._recent, ignore_index=True)
        keep = ((recent[TIME] >= start) & (recent[TIME] < end)).to_numpy(dtype=bool)
        return recent[keep] if not np.all(keep) else recent
