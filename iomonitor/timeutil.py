"""Timestamps: strace's styles -> seconds since the epoch, and back to wall clock.

strace prints a time of day (``-t``/``-tt``, no date), seconds since the epoch
(``-ttt``) or the time since the previous line (``-r``). Time-of-day logs and
the classic CSV need a date from outside: ``--date`` or the file's
modification time, and they may cross midnight. The clock that applies these
rules line by line is :class:`iomonitor.strace._core.Clock`.
"""

from __future__ import annotations

import datetime as _dt

TOD = "tod"  #: seconds since local midnight (-t, -tt, nanosecond variants)
EPOCH = "epoch"  #: seconds since the Unix epoch (-ttt)
RELATIVE = "rel"  #: seconds since the previous line (-r)

DAY = 86400.0


def local_midnight(date: _dt.date) -> float:
    """Epoch seconds of local midnight at the start of ``date``."""
    return _dt.datetime.combine(date, _dt.time()).timestamp()


def first_date(first_tod: float, mtime: float | None) -> _dt.date:
    """The local date of a time-of-day log's first line.

    A file is last modified when its last line was written: its date is the
    date of the first line too, unless the first time of day is later than the
    modification time of day, in which case the log crossed midnight.
    """
    if mtime is None:
        return _dt.date.today()
    end = _dt.datetime.fromtimestamp(mtime)
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
