"""iomonitor: what a program reads and writes, and to and from where.

The public API::

    import iomonitor
    trace = iomonitor.load("run.parquet")      # Parquet, CSV, raw strace log, dataset dir
    trace = iomonitor.load("dataset/", columns=["time", "file", "bytes"],
                           filters=[("pid", "==", 4242), ("time", ">=", "2026-01-05 10:00")])
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
    from iomonitor.trace import Trace, raw_name

#: Set by the command line before it imports anything else: only there may
#: ``iomonitor.analysis`` defer pandas (and so the ``df.io`` accessor) until a
#: DataFrame is made. A library user gets ``df.io`` from the import on.
_COMMAND_LINE = False

_LAZY = {
    "Trace": ("iomonitor.trace", "Trace"),
    "raw_name": ("iomonitor.trace", "raw_name"),
    "load": ("iomonitor.store", "load"),
    "convert_log": ("iomonitor.store", "read_log"),
    "run": ("iomonitor.capture", "run"),
    "attach": ("iomonitor.capture", "attach"),
}


def __getattr__(name: str) -> Any:
    # Keep `import iomonitor` light (the CLI starts strace before pandas and
    # pyarrow load): the data side loads when first used, and with it the
    # DataFrame.io accessor (iomonitor.analysis registers it).
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        importlib.import_module("iomonitor.analysis")
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'iomonitor' has no attribute {name!r}")
