"""iomonitor: what a program reads and writes, and to and from where.

The public API::

    import iomonitor
    trace = iomonitor.load("run.parquet")      # Parquet, CSV, raw strace log, dataset dir
    trace = iomonitor.convert_log("strace.log")
    trace.events                               # one row per byte-moving call
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from iomonitor import accessor as _accessor  # noqa: F401  (registers DataFrame.io)
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
from iomonitor.trace import Trace, raw_name

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
    "attach",
    "convert_log",
    "load",
    "raw_name",
    "run",
]

if TYPE_CHECKING:
    from iomonitor.capture import attach, run
    from iomonitor.store import load
    from iomonitor.store import read_log as convert_log

_LAZY = {
    "load": ("iomonitor.store", "load"),
    "convert_log": ("iomonitor.store", "read_log"),
    "run": ("iomonitor.capture", "run"),
    "attach": ("iomonitor.capture", "attach"),
}


def __getattr__(name: str) -> Any:
    # Keep `import iomonitor` light: pyarrow and the capture machinery load
    # only when first used.
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'iomonitor' has no attribute {name!r}")
