"""Numbers and names for people, written one way everywhere.

Figures and the HTML report write bytes and durations with
:func:`format_bytes` and :func:`format_seconds` and names with
:func:`printable` and :func:`shorten`; the text tables of the CLI use the
fixed-decimal forms (:func:`size_text`, :func:`count_text`,
:func:`duration_text`, :func:`line_name`), whose columns line up.
"""

from __future__ import annotations

import math
import shutil
import sys
from typing import Any

#: Default width of a name in a figure (legends, labels).
NAME_WIDTH = 40

_IEC_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def missing(value: Any) -> bool:
    """Whether ``value`` stands for an unknown number (None, NA, NaT, NaN)."""
    # Only values from pandas can be its NA or NaT, and then pandas is imported.
    pd = sys.modules.get("pandas")
    if pd is None:
        return value is None or (isinstance(value, float) and value != value)
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and value != value)
    )


def format_bytes(n: float, per_second: bool = False) -> str:
    """A byte count in binary units, with at most three significant digits.

    Parameters
    ----------
    n : float
        Bytes (or bytes per second).
    per_second : bool, default False
        Append ``/s``.

    Returns
    -------
    str

    Examples
    --------
    >>> format_bytes(1536)
    '1.5 KiB'
    >>> format_bytes(3 * 1024**2, per_second=True)
    '3 MiB/s'
    """
    unit = iec_unit(abs(n))
    text = f"{_digits(n / 1024**unit)} {_IEC_UNITS[unit]}"
    return text + "/s" if per_second else text


def iec_unit(magnitude: float) -> int:
    """The power of 1024 whose unit writes ``magnitude`` (0 for bytes)."""
    if not magnitude or magnitude < 1 or not math.isfinite(magnitude):
        return 0
    unit = min(int(math.log(magnitude, 1024)), len(_IEC_UNITS) - 1)
    # log() may land just below a whole power; 1024**k itself belongs to unit k.
    if unit + 1 < len(_IEC_UNITS) and magnitude >= 1024 ** (unit + 1):
        unit += 1
    return unit


def iec_name(unit: int) -> str:
    """The name of the unit :func:`iec_unit` chose: ``B``, ``KiB``..."""
    return _IEC_UNITS[unit]


def _digits(value: float) -> str:
    size = abs(value)
    decimals = 0 if size >= 100 or value == int(value) else (1 if size >= 10 else 2)
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_seconds(seconds: float) -> str:
    """A duration in the largest fitting unit: µs, ms, s, min or h.

    Parameters
    ----------
    seconds : float
        The duration.

    Returns
    -------
    str

    Examples
    --------
    >>> format_seconds(0.0005)
    '500 µs'
    >>> format_seconds(90)
    '1.5 min'
    """
    for unit, size in (("h", 3600.0), ("min", 60.0), ("s", 1.0), ("ms", 1e-3)):
        if abs(seconds) >= size:
            return f"{_digits(seconds / size)} {unit}"
    return f"{_digits(seconds / 1e-6)} µs"


def shorten(name: str, width: int = NAME_WIDTH) -> str:
    """Shorten a name in the middle, keeping whole path components where it can.

    Parameters
    ----------
    name : str
        A path, address or label.
    width : int, default 40
        The most characters to keep (the ellipsis counts as one).

    Returns
    -------
    str
        ``name`` itself when it fits; else its first directories and its last
        components around ``…``; else its first and last characters.

    Examples
    --------
    >>> shorten("/usr/lib/x86_64-linux-gnu/libc.so.6", 24)
    '/usr/lib/…/libc.so.6'
    >>> shorten("a" * 30, 9)
    'aaaa…aaaa'
    """
    if len(name) <= width:
        return name
    parts = name.split("/")
    if len(parts) >= 3:
        # Keep the leading "" of an absolute path with its first directory.
        head = 2 if name.startswith("/") else 1
        front, back = parts[:head], parts[-1:]
        rest = parts[head:-1]
        best = "/".join([*front, "…", *back])
        if len(best) <= width:
            # Reveal hidden parts from the end and the start in turn, until
            # neither side has room for its next part.
            open_sides = ["back", "front"]
            while rest and open_sides:
                side = open_sides.pop(0)
                if side == "back":
                    trial = "/".join([*front, "…", rest[-1], *back])
                else:
                    trial = "/".join([*front, rest[0], "…", *back])
                if len(trial) > width:
                    continue  # that side is full; the other may still take a part
                if side == "back":
                    back, rest = [rest[-1], *back], rest[:-1]
                else:
                    front, rest = [*front, rest[0]], rest[1:]
                best = trial
                open_sides.append(side)
            return best
    keep = width - 1
    return name[: (keep + 1) // 2] + "…" + name[len(name) - keep // 2 :]


def printable(name: Any) -> str:
    """A name from a trace with the characters no text can show spelled out.

    Parameters
    ----------
    name : object
        A path, address or label; names that are not valid UTF-8 hold
        surrogates (as Python keeps file names), and paths may hold control
        characters.

    Returns
    -------
    str
        Valid UTF-8 without control characters: raw bytes as ``\\xNN``,
        control characters as ``\\n``, ``\\t``, ``\\x1b``.

    Examples
    --------
    >>> printable("/tmp/a\\nb")
    '/tmp/a\\\\nb'
    >>> printable(b"/tmp/\\xff".decode("utf-8", "surrogateescape"))
    '/tmp/\\\\xff'
    """
    text = str(name)
    # Surrogates cannot be drawn by any font nor written to an SVG or HTML file.
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        text = "".join(
            c.encode("unicode_escape").decode("ascii") if ord(c) < 32 or ord(c) == 127 else c
            for c in text
        )
    return text


def size_text(value: Any) -> str:
    """Bytes for tables: ``512 B``, ``1.5 KiB``; ``-`` when unknown.

    Examples
    --------
    >>> size_text(1536), size_text(None)
    ('1.5 KiB', '-')
    """
    if missing(value):
        return "-"
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(amount) < 1024 or unit == "TiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")


def count_text(value: Any) -> str:
    """A count for tables, with thousands separators; ``-`` when unknown."""
    return "-" if missing(value) else f"{int(value):,}"


def duration_text(value: Any) -> str:
    """Seconds for tables: ``12 us``, ``3.4 ms``, ``1.25 s``; ``-`` when unknown."""
    if missing(value):
        return "-"
    t = float(value)
    if t < 1e-3:
        return f"{t * 1e6:.0f} us"
    if t < 1:
        return f"{t * 1e3:.1f} ms"
    return f"{t:.2f} s"


def line_name(value: Any) -> str:
    """A name as it fits on one line of a table: control characters become escapes."""
    if missing(value):
        return "?"
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in str(value)
    )


def keep_end(name: str, width: int) -> str:
    """``name`` cut to ``width`` characters from the front, ``...`` showing the cut.

    Tables keep the end of a name: the end of a path names the file.

    Examples
    --------
    >>> keep_end("/var/lib/app/data.db", 12)
    '...p/data.db'
    """
    return name if len(name) <= width else "..." + name[len(name) - width + 3 :]


def terminal_width() -> int:
    """The width of the terminal the tables are written to (100 when not a terminal)."""
    return shutil.get_terminal_size((100, 24)).columns
