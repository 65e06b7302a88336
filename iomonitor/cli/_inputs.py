"""Checks the analysis commands make on the traces they opened."""

from __future__ import annotations

from iomonitor.errors import UsageError
from iomonitor.trace import Trace


def check_by_process(by: str | None, trace: Trace) -> None:
    """Refuse ``--by process`` on classic CSVs only: they carry no program names.

    Grouped by a name that is missing from every event, the table would be
    one row of ``?``; the pid is what a CSV knows.

    Parameters
    ----------
    by : str or None
        The key asked for.
    trace : Trace
        The trace opened from the inputs (only its metadata is read).

    Raises
    ------
    UsageError
        When ``by`` is ``"process"`` and every input is a classic CSV.
    """
    if by != "process":
        return
    meta = trace.meta
    runs = meta["runs"].values() if meta.get("mode") == "combined" else [meta]
    if all(run.get("mode") == "csv" for run in runs):
        raise UsageError(
            "--by process needs the programs' names, which a classic CSV does not carry: "
            "use --by pid (or tgid), or a Parquet trace or strace log"
        )
