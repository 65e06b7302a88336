"""analysis.LiveTotals: totals so far and rates over the recent window, chunk by chunk."""

from __future__ import annotations

import pytest

from iomonitor.analysis import LIVE_COLUMNS, LiveTotals
from iomonitor.errors import UsageError
from iomonitor.trace import events_frame

T0 = 1_700_000_000.0


def chunk(rows: list[tuple[float, str, int, str]]) -> object:
    """Events from (seconds after T0, dir, bytes, file) rows, all of pid 7."""
    n = len(rows)
    return events_frame(
        {
            "time": [T0 + r[0] for r in rows],
            "dt": [0.001] * n,
            "pid": [7] * n,
            "fd": [3] * n,
            "dir": [r[1] for r in rows],
            "bytes": [r[2] for r in rows],
            "file": [r[3] for r in rows],
            "port": [None] * n,
            "syscall": ["read" if r[1] == "R" else "write" for r in rows],
            "kind": ["file"] * n,
            "tgid": [7] * n,
            "comm": ["prog"] * n,
            "local": [None] * n,
        }
    )


def test_live_totals_add_up_chunks_and_rate_the_last_window() -> None:
    live = LiveTotals(["file", "process"], window=2.0)
    live.add(chunk([(0.0, "R", 100, "/old"), (0.5, "W", 50, "/out")]))
    live.add(chunk([(9.0, "W", 400, "/out"), (9.5, "R", 10, "/new")]))
    assert (live.events, live.read_bytes, live.write_bytes, live.processes) == (4, 110, 450, 1)
    # Window [8 s, 10 s): only the second chunk.
    assert live.rates(T0 + 10.0) == (5.0, 200.0)
    table = live.table("file", T0 + 10.0)
    assert list(table.columns) == ["file", *LIVE_COLUMNS]
    assert table.to_dict("records") == [
        {"file": "/out", "read_rate": 0.0, "write_rate": 200.0, "read_bytes": 0}
        | {"write_bytes": 450, "calls": 2},
        {"file": "/new", "read_rate": 5.0, "write_rate": 0.0, "read_bytes": 10}
        | {"write_bytes": 0, "calls": 1},
        {"file": "/old", "read_rate": 0.0, "write_rate": 0.0, "read_bytes": 100}
        | {"write_bytes": 0, "calls": 1},
    ]
    assert list(live.table("file", T0 + 10.0, top=1)["file"]) == ["/out"]
    # Later, nothing is recent any more: rates fall to zero, totals stay.
    quiet = live.table("process", T0 + 60.0)
    assert quiet.to_dict("records") == [
        {"process": "prog", "read_rate": 0.0, "write_rate": 0.0, "read_bytes": 110}
        | {"write_bytes": 450, "calls": 4}
    ]
    assert live.rates(T0 + 60.0) == (0.0, 0.0)


def test_live_totals_before_any_event() -> None:
    live = LiveTotals(["peer"])
    assert live.rates(T0) == (0.0, 0.0)
    assert len(live.table("peer", T0)) == 0 and live.events == 0


def test_live_totals_refuse_unknown_keys_and_windows() -> None:
    with pytest.raises(UsageError):
        LiveTotals(["nope"])
    with pytest.raises(UsageError):
        LiveTotals(["file"], window=0)
    with pytest.raises(UsageError):
        LiveTotals(["file"]).table("peer", T0)


def test_top_file_column_keeps_the_end_of_long_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import time

    from rich.console import Console

    from iomonitor.cli.top import _View

    monkeypatch.setenv("COLUMNS", "80")
    path = "/srv/" + "deep/" * 20 + "the-file-that-matters.log"
    view = _View("prog", top=5)
    view.add(chunk([(0.0, "W", 4096, path)]))
    out = io.StringIO()
    Console(file=out, width=80, color_system=None).print(view.renderable(time.time(), final=True))
    rows = [line for line in out.getvalue().splitlines() if "the-file-that-matters.log" in line]
    assert len(rows) == 1, out.getvalue()
    assert "..." in rows[0] and "/srv/" not in rows[0]
    assert len(rows[0]) <= 80
