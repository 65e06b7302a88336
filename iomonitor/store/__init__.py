"""The stored trace: the only code that reads and writes trace files.

- :mod:`~iomonitor.store.inputs`: what a path holds (detection by content),
  the merged lines of ``strace -ff`` logs, the parts of a dataset;
- :mod:`~iomonitor.store.filters`: ``load(..., filters=)`` checked and
  turned into the query engine's SQL;
- :mod:`~iomonitor.store.readers`: :func:`load` (events in pandas), the per-format readers;
- :mod:`~iomonitor.store.scans`: :func:`scan` (events left on disk for the engine, side
  tables from the Parquet footers, without pandas);
- :mod:`~iomonitor.store.writers`: the sinks that stream classic CSV,
  Parquet and dataset parts to disk, and :class:`~iomonitor.store.writers.OutputFile`,
  the one way a file the user named is written (beside it, then renamed).

Names are valid UTF-8 everywhere (bytes that are not become ``\\xNN``
escapes when the events are made; :func:`iomonitor.trace.raw_name` gives the
exact bytes back), so every format stores them as ordinary text.

The names below are this package's public face; each is loaded with its
module on first use, so that a capture writing Parquet imports the writers
(pyarrow only) and not the readers (pandas and the engine).
"""

from __future__ import annotations

import importlib
from typing import Any

#: The public names, by the module that holds them (the writers need pyarrow only).
_PUBLIC = {
    "writers": "CsvSink DatasetSink OutputFile ParquetSink Sink is_dataset_target open_sink write",
    "inputs": "convert_log detect feed_log log_mtime partition_values run_name sniff_log",
    "filters": "FILTER_OPS RowFilter",
    "readers": "BATCH_ROWS load read_csv read_log read_parquet",
    "scans": "scan",
}
_HOME = {name: module for module, names in _PUBLIC.items() for name in names.split()}
__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
