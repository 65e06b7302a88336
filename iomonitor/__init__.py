"""iomonitor: what a program reads and writes, and to and from where.

The public API::

    import iomonitor
    trace = iomonitor.load("run.parquet")      # Parquet, CSV, raw strace log, dataset dir
    trace = iomonitor.convert_log("strace.log")
    trace.events                               # one row per byte-moving call
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from iomonitor.errors import (
    CommandNotFoundError,
    InputError,
    IomonitorError,
    NoSuchProcessError,
    OutputError,
    PtraceError,
    StraceNotFoundError,
    UsageError,
)
from iomonitor.trace import Trace

__version__ = "0.1.0"

__all__ = [
    "CommandNotFoundError",
    "InputError",
    "IomonitorError",
    "NoSuchProcessError",
    "OutputError",
    "PtraceError",
    "StraceNotFoundError",
    "Trace",
    "UsageError",
    "__version__",
    "convert_log",
    "load",
]

if TYPE_CHECKING:
    from iomonitor.store import load
    from iomonitor.strace.convert import convert_log


def __getattr__(name: str) -> Any:
    # Keep `import iomonitor` light: the readers pull in pyarrow only when used.
    if name == "load":
        from iomonitor.store import load

        return load
    if name == "convert_log":
        from iomonitor.strace.convert import convert_log

        return convert_log
    raise AttributeError(f"module 'iomonitor' has no attribute {name!r}")
