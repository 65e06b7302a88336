"""Timestamps: strace's styles -> seconds since the epoch, and back to wall clock.

strace prints a time of day (``-t``/``-tt``, no date), seconds since the epoch
(``-ttt``) or the time since the previous line (``-r``). Time-of-day logs and
the classic CSV need a date from outside: ``--date`` or the file's
modification time, and they may cross midnight. The clock that applies these
rules line by line is :class:`iomonitor.strace._core.Clock`.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from fractions import Fraction
from pathlib import Path

TOD = "tod"  #: seconds since local midnight (-t, -tt, nanosecond variants)
EPOCH = "epoch"  #: seconds since the Unix epoch (-ttt)
RELATIVE = "rel"  #: seconds since the previous line (-r)

DAY = 86400.0


#: Nanoseconds per unit of a duration (:func:`parse_duration`).
DURATION_UNITS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "sec": 1_000_000_000,
    "m": 60_000_000_000,
    "min": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
}
_DURATION_TERM = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z\u00b5]*)\s*")


def parse_duration(text: str) -> int:
    """A duration as every option and function taking one reads it, in nanoseconds.

    A number alone is seconds (``"2.5"``); otherwise numbers with units, one
    after the other: ``"100ms"``, ``"1.5s"``, ``"5min"``, ``"1h30m"`` (ns,
    us, ms, s, m or min, h, d). The sum is exact (no binary fractions):
    ``"100us"`` is 100,000 ns, not a hair less.

    Parameters
    ----------
    text : str

    Returns
    -------
    int
        Nanoseconds, at least 1.

    Raises
    ------
    ValueError
        When the text is no such duration, or not positive.

    Examples
    --------
    >>> parse_duration("1h30m") / 1e9, parse_duration("250ms"), parse_duration("2")
    (5400.0, 250000000, 2000000000)
    """
    total = Fraction(0)
    at, stripped = 0, text.strip()
    while at < len(stripped):
        term = _DURATION_TERM.match(stripped, at)
        if term is None:
            unit = None
        elif not term.group(2):
            # Only a lone number goes without a unit: "2" is 2 s, "1s2" is a mistake.
            unit = DURATION_UNITS["s"] if at == 0 and term.end() == len(stripped) else None
        else:
            # Case matters: "1M" could mean a month as well as a minute.
            unit = DURATION_UNITS.get(term.group(2))
        if term is None or unit is None:
            raise ValueError(
                f"{text!r} is not a duration: give seconds, or e.g. 100ms, 1.5s, 5min, 1h30m"
            )
        total += Fraction(term.group(1)) * unit
        at = term.end()
    if round(total) < 1:
        raise ValueError(f"{text!r} is not a duration: it must be longer than zero")
    return round(total)


#: A time zone as the loaders take it: an IANA name, a tzinfo, or None for the local zone.
Zone = str | _dt.tzinfo | None


def zone(tz: Zone) -> _dt.tzinfo | None:
    """The tzinfo of a zone given by name (``"Asia/Tokyo"``, ``"UTC"``); None stays local.

    Raises
    ------
    ValueError
        When no zone has that name.
    """
    if tz is None or isinstance(tz, _dt.tzinfo):
        return tz
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {tz!r}: give a name such as UTC or Europe/Paris"
        ) from None


def zone_name(tz: Zone) -> str:
    """What to call a zone in a trace's metadata: its name, or the local zone's.

    The local zone is named by ``TZ`` or by the zone file ``/etc/localtime``
    links to; failing both, by its abbreviation now (``CET``).
    """
    if isinstance(tz, str):
        return tz
    if tz is not None:
        return str(getattr(tz, "key", None) or tz)
    env = os.environ.get("TZ", "").lstrip(":")
    if env:
        return env
    link = Path("/etc/localtime")
    if link.is_symlink():
        target = str(link.resolve())
        if "/zoneinfo/" in target:
            return target.split("/zoneinfo/", 1)[1]
    return _dt.datetime.now().astimezone().tzname() or "local"


def local_midnight(date: _dt.date, tz: _dt.tzinfo | None = None) -> float:
    """Epoch seconds of midnight at the start of ``date`` in ``tz`` (the local zone if None)."""
    return _dt.datetime.combine(date, _dt.time(), tzinfo=tz).timestamp()


def first_date(first_tod: float, mtime: float | None, tz: _dt.tzinfo | None = None) -> _dt.date:
    """The date, in ``tz`` (the local zone if None), of a time-of-day log's first line.

    A file is last modified when its last line was written: its date is the
    date of the first line too, unless the first time of day is later than the
    modification time of day, in which case the log crossed midnight.
    """
    if mtime is None:
        return _dt.datetime.now(tz).date()
    end = _dt.datetime.fromtimestamp(mtime, tz)
    end_tod = end.hour * 3600 + end.minute * 60 + end.second + end.microsecond / 1e6
    date = end.date()
    # Slack for clocks that tick while the file is closed.
    if first_tod > end_tod + 1.0:
        date -= _dt.timedelta(days=1)
    return date


def utc_offset(epoch: float) -> int:
    """The local time zone's offset from UTC, in seconds, at ``epoch``."""
    off = _dt.datetime.fromtimestamp(epoch).astimezone().utcoffset()
    return int(off.total_seconds()) if off is not None else 0
