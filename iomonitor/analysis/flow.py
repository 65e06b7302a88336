"""Where the bytes went: edges between files, peers and processes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from iomonitor.analysis._common import (
    FILE,
    KIND,
    PORT,
    READ,
    RUN,
    TGID,
    WRITE,
    as_plain,
)
from iomonitor.analysis.engine import IS_SOCKET, PEER_LABEL, direction_sums, one_of, quote
from iomonitor.analysis.rollup import Rollup, rolled
from iomonitor.trace import Trace

#: Sockets whose events name the peer at the other end.
SOCKETS_WITH_PEERS: tuple[str, ...] = ("tcp", "udp", "netlink")
#: Kinds whose two ends may both be traced processes.
CHANNEL_KINDS: tuple[str, ...] = ("pipe", "unix")

#: No process at this end of an edge: that end is a file or a peer.
NO_PROCESS = -2
#: Columns of :func:`flow_edges` after the run column.
EDGE_COLUMNS: tuple[str, ...] = ("kind", "name", "writer", "reader", "bytes")

# name -> (the node's engine expression, the events it covers)
_NOT_PEER_OR_CHANNEL = (
    f"({KIND} IS NULL OR NOT {one_of(KIND, (*CHANNEL_KINDS, *SOCKETS_WITH_PEERS))})"
)
_TABLES: dict[str, tuple[str, str]] = {
    "files": (f"{FILE}::VARCHAR", _NOT_PEER_OR_CHANNEL),
    "peers": (PEER_LABEL, f"{one_of(KIND, SOCKETS_WITH_PEERS)} AND {IS_SOCKET}"),
    "channels": (f"{FILE}::VARCHAR", one_of(KIND, CHANNEL_KINDS)),
}


def flow_edges(trace: Trace | pd.DataFrame | Rollup) -> pd.DataFrame:
    """The edges of the data-flow graph: who read what, who wrote where, who fed whom.

    Parameters
    ----------
    trace : Trace, pandas.DataFrame or Rollup
        The events (``dir``, ``bytes``, ``file``, ``port``, ``kind``, ``tgid``),
        or a :func:`~iomonitor.analysis.rollup` of them.

    Returns
    -------
    pandas.DataFrame
        ``run`` (when the events have it), ``kind`` (``read``: process
        ``reader`` read ``bytes`` from ``name``; ``write``: ``writer`` wrote
        them to ``name``; ``channel``: ``writer`` wrote them into the pipe or
        UNIX socket ``name`` and ``reader`` read them at its other end),
        ``name`` (a file, a peer as :func:`~iomonitor.analysis.by` names
        peers, or a channel), ``writer`` and ``reader`` (tgids, or
        :data:`NO_PROCESS`), ``bytes``. A writer whose bytes went to several
        readers shares them in proportion to what each read; a channel with
        one end outside the trace is a file to the end inside. Mappings move
        no bytes and are left out.

    Examples
    --------
    >>> flow_edges(trace).query("kind == 'channel'")  # doctest: +SKIP
    """
    scan = rolled(trace, (FILE, PORT, KIND, TGID), "the flow graph").table
    runs = [RUN] if scan.has_runs else []
    parts = []
    for name, (node, events) in _TABLES.items():
        keys = [*(quote(r) for r in runs), quote(TGID), f"{node} AS name"]
        # Sorted: the engine returns groups in no set order, and the figure's
        # layout must not depend on it.
        positions = ", ".join(str(i + 1) for i in range(len(keys)))
        rows = scan.where(events).query(
            f"SELECT {', '.join(keys)}, "
            + direction_sums({"read_bytes": READ, "write_bytes": WRITE})
            + f" FROM {{events}} GROUP BY {positions} ORDER BY {positions}"
        )
        rows = rows[(rows["read_bytes"] > 0) | (rows["write_bytes"] > 0)]
        parts.append(rows.assign(_table=name))
    tables = pd.concat(parts, ignore_index=True)
    tables[TGID] = tables[TGID].astype("int64")
    tables["name"] = as_plain(tables["name"])
    out = []
    for run, mine in tables.groupby(runs, sort=False) if runs else [(None, tables)]:
        edges = _edges({n: mine[mine["_table"] == n] for n in _TABLES})
        if runs:
            edges.insert(0, RUN, run[0] if isinstance(run, tuple) else run)
        out.append(edges)
    if not out:
        return _edges({n: tables for n in _TABLES}).assign(**{r: "" for r in runs})[
            [*runs, *EDGE_COLUMNS]
        ]
    return pd.concat(out, ignore_index=True)[[*runs, *EDGE_COLUMNS]]


def _edge_frame(
    kind: str, name: object, writer: object, reader: object, size: object
) -> pd.DataFrame:
    frame = pd.DataFrame({"name": name, "writer": writer, "reader": reader, "bytes": size})
    frame.insert(0, "kind", kind)
    return frame.astype(
        {"name": "object", "writer": "int64", "reader": "int64", "bytes": "float64"}
    )


def _edges(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The edges of one run from its per-process totals (``tgid``, ``name``, read/write)."""
    parts = []
    for table in (tables["files"], tables["peers"]):
        r = table[table["read_bytes"] > 0]
        w = table[table["write_bytes"] > 0]
        parts.append(_edge_frame("read", r["name"], NO_PROCESS, r[TGID], r["read_bytes"]))
        parts.append(_edge_frame("write", w["name"], w[TGID], NO_PROCESS, w["write_bytes"]))

    ends = tables["channels"]
    writers = ends.loc[ends["write_bytes"] > 0, ["name", TGID, "write_bytes"]]
    readers = ends.loc[ends["read_bytes"] > 0, ["name", TGID, "read_bytes"]]
    pairs = writers.merge(readers, on="name", suffixes=("_w", "_r"))
    pairs = pairs[pairs["tgid_w"] != pairs["tgid_r"]]
    # A writer whose bytes went to several readers shares them in proportion
    # to what each read.
    share = pairs["read_bytes"] / pairs.groupby(["name", "tgid_w"])["read_bytes"].transform("sum")
    parts.append(
        _edge_frame(
            "channel", pairs["name"], pairs["tgid_w"], pairs["tgid_r"], pairs["write_bytes"] * share
        )
    )
    # An end with nobody else traced at the other end: the channel is a file to it.
    lone_w = writers[~_pair_in(writers, pairs, "tgid_w")]
    lone_r = readers[~_pair_in(readers, pairs, "tgid_r")]
    parts.append(
        _edge_frame("write", lone_w["name"], lone_w[TGID], NO_PROCESS, lone_w["write_bytes"])
    )
    parts.append(
        _edge_frame("read", lone_r["name"], NO_PROCESS, lone_r[TGID], lone_r["read_bytes"])
    )
    return pd.concat(parts, ignore_index=True)[list(EDGE_COLUMNS)]


def _pair_in(ends: pd.DataFrame, pairs: pd.DataFrame, column: str) -> np.ndarray:
    seen = pd.MultiIndex.from_arrays([pairs["name"], pairs[column]])
    mine = pd.MultiIndex.from_arrays([ends["name"], ends[TGID]])
    return np.asarray(mine.isin(seen), dtype=bool)
