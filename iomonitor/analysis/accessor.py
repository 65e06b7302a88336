"""The ``.io`` accessor on events DataFrames.

Importing :mod:`iomonitor.analysis` (which :func:`iomonitor.load` does)
registers it::

    trace.events.io.by("file")
    trace.events.io.bandwidth("100ms", key="process")

Each method is a thin pass-through to :mod:`iomonitor.analysis`; the
DataFrame must hold the event columns the method needs, and a missing one is
named in a :class:`~iomonitor.errors.UsageError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

import pandas as pd

from iomonitor import schema

TIME, DT, _PID, _FD, DIR, BYTES, _FILE, _PORT = schema.CLASSIC_COLUMNS


def _analysis() -> ModuleType:
    # Imported on use: the analysis package imports this module to register it.
    from iomonitor import analysis

    return analysis


@pd.api.extensions.register_dataframe_accessor("io")
class IOAccessor:
    """I/O aggregates of an events DataFrame: ``df.io.by("file")`` and friends.

    Parameters
    ----------
    frame : pandas.DataFrame
        Events with the columns of :data:`iomonitor.schema.EVENT_SCHEMA`
        (and ``run`` when several traces were loaded together).

    Examples
    --------
    >>> import iomonitor.analysis  # doctest: +SKIP
    >>> trace.events.io.by("peer").head()  # doctest: +SKIP
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def _need(self, columns: Sequence[str], what: str) -> pd.DataFrame:
        from iomonitor.analysis._common import require

        require(self._frame, columns, what)
        return self._frame

    @staticmethod
    def _key_columns(key: str | None) -> tuple[str, ...]:
        if key is None:
            return ()
        from iomonitor.analysis._common import KEY_SOURCES, check_key

        check_key(key)
        return KEY_SOURCES[key]

    def by(self, key: str) -> pd.DataFrame:
        """Totals per key; see :func:`iomonitor.analysis.by`.

        Parameters
        ----------
        key : {'file', 'peer', 'pid', 'process', 'syscall', 'kind', 'tgid'}
            What to group by.

        Returns
        -------
        pandas.DataFrame
            One row per group with ``calls``, ``read_bytes``,
            ``write_bytes``, ``mapped_bytes``, ``bytes``, ``mean_size``,
            ``max_size``, ``errors`` (NA: a bare DataFrame does not know its
            failed calls; use ``analysis.by(trace, key)`` for them),
            ``time``, ``first``, ``last``; sorted by bytes descending.

        Examples
        --------
        >>> df.io.by("file").head(3)  # doctest: +SKIP
        """
        frame = self._need((TIME, DT, DIR, BYTES, *self._key_columns(key)), f"io.by({key!r})")
        return _analysis().by(frame, key)

    def bandwidth(
        self,
        interval: str | float | pd.Timedelta = "1s",
        key: str | None = None,
        top: int | None = 10,
    ) -> pd.DataFrame:
        """Bytes per time bucket; see :func:`iomonitor.analysis.bandwidth`.

        Parameters
        ----------
        interval : str, float or Timedelta, default '1s'
            Bucket width.
        key : str, optional
            Split by this key.
        top : int or None, default 10
            Keep the top keys, the rest as ``'other'``; 0 or None keeps all.

        Returns
        -------
        pandas.DataFrame
            ``time``, the key, ``read_bytes``, ``write_bytes``,
            ``read_rate``, ``write_rate``.

        Examples
        --------
        >>> df.io.bandwidth("100ms", key="process", top=5)  # doctest: +SKIP
        """
        frame = self._need((TIME, DIR, BYTES, *self._key_columns(key)), "io.bandwidth")
        return _analysis().bandwidth(frame, interval, key=key, top=top)

    def sizes(self, key: str | None = None, dirs: Sequence[str] = ("R", "W")) -> pd.DataFrame:
        """Power-of-two size histogram; see :func:`iomonitor.analysis.size_histogram`.

        Parameters
        ----------
        key : str, optional
            Also split by this key.
        dirs : sequence of {'R', 'W', 'M'}, default ('R', 'W')
            Directions to count.

        Returns
        -------
        pandas.DataFrame
            The key (if given), ``dir``, ``low``, ``high``, ``calls``, ``bytes``.

        Examples
        --------
        >>> df.io.sizes(dirs="R")  # doctest: +SKIP
        """
        frame = self._need((DIR, BYTES, *self._key_columns(key)), "io.sizes")
        return _analysis().size_histogram(frame, key=key, dirs=dirs)

    def latency(self, key: str | None = "syscall") -> pd.DataFrame:
        """Duration percentiles per key; see :func:`iomonitor.analysis.latency`.

        Parameters
        ----------
        key : str or None, default 'syscall'
            Group by this key; None for all calls together.

        Returns
        -------
        pandas.DataFrame
            The key, ``calls``, ``time``, ``mean``, ``p50``, ``p90``,
            ``p99``, ``max`` (seconds).

        Examples
        --------
        >>> df.io.latency("file")  # doctest: +SKIP
        """
        frame = self._need((DT, *self._key_columns(key)), "io.latency")
        return _analysis().latency(frame, key=key)
