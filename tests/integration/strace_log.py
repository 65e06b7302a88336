"""Read strace logs in tests as whole calls, the way strace prints them unsplit.

Under load, or whenever another process prints in between, strace splits a
call in two lines: ``PID TIME name(args <unfinished ...>`` and later
``PID TIME <... name resumed>rest) = ret <dt>``. A test that looks for a call
with a regex on single lines misses such calls; :func:`whole_calls` glues the
halves back into one line, with the start's pid and time (as iomonitor keeps
them) and the end's return value and duration.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_UNFINISHED = " <unfinished ...>"
#: ``PID TIME <... name resumed>rest`` (strace < 5.0 put a space after ``resumed>``).
_RESUMED = re.compile(r"^(\d+) +\S+ <\.\.\. (\w+) resumed> ?(.*)$")
_START = re.compile(r"^(\d+) +\S+ (\w+)\(")


def whole_calls(lines: Iterable[str]) -> list[str]:
    """The lines of an ``strace -f -o`` log with every split call made whole again.

    Parameters
    ----------
    lines : iterable of str
        The log's lines, with the pid column (``-f -o``) and a timestamp.

    Returns
    -------
    list of str
        One line per call, in the order the calls started; lines that are not
        halves of a split call are kept as they are.
    """
    out: list[str | None] = []
    pending: dict[str, tuple[int, str]] = {}  # pid -> (slot in out, start without the marker)
    for line in lines:
        line = line.rstrip("\n")
        if line.endswith(_UNFINISHED) and _START.match(line):
            pid = line.split(None, 1)[0]
            pending[pid] = (len(out), line[: -len(_UNFINISHED)])
            out.append(None)
            continue
        end = _RESUMED.match(line)
        if end and end.group(1) in pending:
            slot, start = pending.pop(end.group(1))
            name = _START.match(start)
            assert name and name.group(2) == end.group(2), (start, line)
            out[slot] = start + end.group(3)
            continue
        out.append(line)
    # A start that never resumed (the thread died inside the call) stays as printed.
    for slot, start in pending.values():
        out[slot] = start + _UNFINISHED
    return [line for line in out if line is not None]
