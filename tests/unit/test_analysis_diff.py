"""analysis.diff on literal traces: matching, ratios, order, --strip."""

from __future__ import annotations

import math

import pytest

from iomonitor import analysis
from iomonitor.errors import UsageError
from iomonitor.trace import Trace, events_frame, rows_frame


def trace(rows: list[tuple], procs: list[tuple] = ()) -> Trace:
    """Events from (pid, comm, dir, bytes, file) rows; processes from (pid, comm, argv)."""
    n = len(rows)
    ev = events_frame(
        {
            "time": [float(i) for i in range(n)],
            "dt": [0.001] * n,
            "pid": [r[0] for r in rows],
            "fd": [3] * n,
            "dir": [r[2] for r in rows],
            "bytes": [r[3] for r in rows],
            "file": [r[4] for r in rows],
            "port": [None] * n,
            "syscall": ["read" if r[2] == "R" else "write" for r in rows],
            "kind": ["file"] * n,
            "tgid": [r[0] for r in rows],
            "comm": [r[1] for r in rows],
            "local": [None] * n,
        }
    )
    table = rows_frame(
        "processes",
        [
            {"pid": p, "ppid": None, "tgid": p, "comm": c, "argv": a, "start": None, "end": None}
            for p, c, a in procs
        ],
    )
    return Trace(ev, table)


def test_diff_matches_processes_by_argv_across_pids() -> None:
    a = trace([(10, "cat", "R", 100, "/x/in")], [(10, "cat", "cat /x/in")])
    b = trace(
        [(20, "cat", "R", 100, "/y/in"), (21, "cat", "R", 100, "/y/in")],
        [(20, "cat", "cat /y/in"), (21, "cat", "cat /y/in")],
    )
    plain = analysis.diff(a, b, "process")
    assert list(plain["process"]) == ["cat /y/in", "cat /x/in"]
    assert list(plain["present"]) == ["b", "a"]
    stripped = analysis.diff(a, b, "process", strip=["/x", "/y"])
    assert stripped[["process", "present", "bytes_a", "bytes_b", "calls_a", "calls_b"]].to_dict(
        "records"
    ) == [
        {"process": "cat /in", "present": "both", "bytes_a": 100, "bytes_b": 200}
        | {"calls_a": 1, "calls_b": 2}
    ]


def test_diff_ratio_is_nan_without_anything_in_a_and_rows_sort_by_change() -> None:
    a = trace([(1, "p", "R", 10, "/small"), (1, "p", "W", 0, "/empty")])
    b = trace([(1, "p", "R", 15, "/small"), (1, "p", "W", 500, "/new"), (1, "p", "W", 0, "/empty")])
    table = analysis.diff(a, b, "file")
    assert list(table["file"]) == ["/new", "/small", "/empty"]
    assert list(table["bytes_change"]) == [500, 5, 0]
    assert math.isnan(table["bytes_ratio"][0]) and table["bytes_ratio"][1] == 1.5
    assert math.isnan(table["bytes_ratio"][2]) and table["calls_ratio"][2] == 1.0
    assert list(table.columns) == ["file", *analysis.DIFF_COLUMNS]


def test_diff_strip_only_at_the_start_of_file_names() -> None:
    a = trace([(1, "p", "R", 1, "/tmp/a/f"), (1, "p", "R", 1, "/keep/tmp/a/g")])
    b = trace([(1, "p", "R", 1, "/tmp/b/f")])
    table = analysis.diff(a, b, "file", strip=["/tmp/a", "/tmp/b"])
    assert sorted(zip(table["file"], table["present"], strict=True)) == [
        ("/f", "both"),
        ("/keep/tmp/a/g", "a"),
    ]


@pytest.mark.parametrize("key", ["pid", "tgid", "nope"])
def test_diff_refuses_keys_that_differ_between_runs(key: str) -> None:
    a = trace([(1, "p", "R", 1, "/f")])
    with pytest.raises(UsageError):
        analysis.diff(a, a, key)


def test_diff_refuses_what_is_not_a_trace() -> None:
    a = trace([(1, "p", "R", 1, "/f")])
    with pytest.raises(UsageError, match="two Traces"):
        analysis.diff(a, a.events, "file")  # type: ignore[arg-type]


def test_diff_leaves_out_names_seen_only_in_failed_calls() -> None:
    """A connect refused in both runs moved nothing: no row, whatever the trace format records."""
    a = trace([(1, "p", "W", 3, "/out")])
    b = trace([(1, "p", "W", 5, "/out")])
    refused = rows_frame(
        "errors",
        [
            {"pid": 1, "tgid": 1, "syscall": "connect", "file": "/run/absent.sock"}
            | {"kind": "unix", "errno": "ENOENT", "count": 1}
        ],
    )
    a_failed = Trace(a.events, a.processes, refused)
    assert "/run/absent.sock" in set(analysis.by(a_failed, "file")["file"].astype(str))
    table = analysis.diff(a_failed, Trace(b.events, b.processes, refused), "file")
    assert table[["file", "present", "bytes_a", "bytes_b"]].to_dict("records") == [
        {"file": "/out", "present": "both", "bytes_a": 3, "bytes_b": 5}
    ]
    only_in_b = analysis.diff(a, Trace(b.events, b.processes, refused), "file")
    assert list(only_in_b["file"]) == ["/out"]
