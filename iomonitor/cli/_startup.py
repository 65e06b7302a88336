"""The start-up and the exit of the ``iomonitor`` program's own process.

A conversion (``iomonitor -i LOG``) is short: on a 49 MB log the work takes
about as long as starting Python, importing pyarrow and tearing the
interpreter down again. Two of those can be cut, but only in the program's
own process (:data:`iomonitor.cli.OWN_PROCESS`, set by
:func:`iomonitor.cli.entry_point` alone), never in a process that imported
iomonitor as a library or runs :func:`iomonitor.cli.main` in-process, which
may need numpy and its own exit afterwards:

- pyarrow imports numpy when it can (a tenth of a second), and since
  version 16 works without it. Nothing a conversion does needs numpy, so
  pyarrow is imported with numpy held back (:func:`import_arrow`). pyarrow
  then hands no numpy arrays out for the rest of the process, and pandas
  would fail on it: only a command that loads no pandas may ask for this.
- Tearing the interpreter down frees every object one by one. A command
  whose files are all closed asks to skip it (:func:`skip_teardown`);
  :func:`iomonitor.cli.entry_point` then flushes the standard streams and
  ends the process at once (:func:`os._exit`).
"""

from __future__ import annotations

import gc
import os
import sys

import iomonitor.cli as cli

#: The first pyarrow whose import does not need numpy.
ARROW_WITHOUT_NUMPY = 16


def import_arrow() -> None:
    """Import pyarrow without numpy, in the program's own process.

    Outside :data:`iomonitor.cli.OWN_PROCESS` this does nothing: pyarrow is
    imported as usual where it is used. Inside it, the cyclic collector is
    switched off first (the import makes thousands of objects and no garbage;
    a conversion keeps it off anyway, and the process ends without it), and
    numpy is held back only while pyarrow imports, only when the installed
    pyarrow does not need it. An ``import numpy`` afterwards works, but
    pyarrow will not convert to or from numpy in this process (its core,
    ``pyarrow.lib``, looks for numpy once; :mod:`pyarrow.parquet` does not).
    """
    if not cli.OWN_PROCESS or "pyarrow" in sys.modules:
        return
    gc.disable()
    held_back = "numpy" not in sys.modules and not arrow_needs_numpy()
    if held_back:
        # None in sys.modules makes `import numpy` raise ImportError, which
        # pyarrow takes as "numpy is not installed".
        sys.modules["numpy"] = None  # type: ignore[assignment]
    try:
        import pyarrow  # noqa: F401
    finally:
        if held_back:
            del sys.modules["numpy"]


def arrow_needs_numpy() -> bool:
    """Whether the installed pyarrow needs numpy to import (True when its version is unknown)."""
    major = arrow_major_version()
    return major is None or major < ARROW_WITHOUT_NUMPY


def arrow_major_version() -> int | None:
    """The installed pyarrow's major version, read from its metadata without importing it.

    Returns
    -------
    int or None
        The major version of the pyarrow the import system would find first
        on :data:`sys.path`; None when it is not found there with a
        ``.dist-info`` folder beside it (then nothing is assumed).
    """
    # importlib.metadata would answer the same in 20 ms of imports.
    for entry in sys.path:
        folder = entry or os.curdir
        if not os.path.isdir(os.path.join(folder, "pyarrow")):
            continue
        try:
            names = os.listdir(folder)
        except OSError:
            return None
        for name in names:
            if name.startswith("pyarrow-") and name.endswith(".dist-info"):
                return _metadata_major(os.path.join(folder, name, "METADATA"))
        return None
    return None


def _metadata_major(path: str) -> int | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("Version:"):
                    major = line.split(":", 1)[1].strip().split(".", 1)[0]
                    return int(major) if major.isdigit() else None
                if not line.strip():
                    break  # the headers end at the first blank line
    except OSError:
        pass
    return None


def skip_teardown() -> None:
    """Say that every file this command wrote is closed: the process may end at once.

    In the program's own process, :func:`iomonitor.cli.entry_point` then
    flushes standard output and error and ends with :func:`os._exit`,
    skipping the interpreter's teardown (freeing every object, ``atexit``
    handlers). Call it only when nothing is left for that teardown to do.
    """
    cli.TEARDOWN_NEEDED = False
