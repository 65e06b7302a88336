"""Numbers and names for people, written one way everywhere."""

from __future__ import annotations

from typing import Any


def missing(value: Any) -> bool:
    """Whether ``value`` stands for an unknown number (None, NA, NaN)."""
    import pandas as pd

    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


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
