"""Aggregates of iomonitor.analysis against values worked out by hand.

The fixture trace (times in seconds since the epoch):

    t     dt     pid  dir bytes file          port kind syscall  tgid comm
    10.0  .001   100  R   4096  /etc/passwd   -    file read     100  cat
    10.2  .002   100  R   0     /etc/passwd   -    file read     100  cat
    10.4  .003   100  W   50    stdout        -    tty  write    100  cat
    10.5  .010   101  M   8192  /lib/libc.so  -    file mmap     100  cat   (a thread of 100)
    11.1  .020   200  W   100   10.0.0.1      443  tcp  sendto   200  curl
    11.3  .040   200  R   3000  10.0.0.1      443  tcp  recvfrom 200  curl
    11.6  NaN    200  W   60    /run/sock     -    unix write    200  curl
    12.9  .005   300  R   10    2001:db8::1   53   udp  recvfrom 300  dig

Processes: 100 (cat, root) with thread 101; 200 (curl) forked by thread 101;
300 (dig) child of 200; 400 (sleep) child of 300, no events.
Failed calls: 2 x read /etc/shadow by 100, 1 x sendto 10.0.0.1 by 200,
3 x recvfrom 2001:db8::1 by 300.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from iomonitor import analysis
from iomonitor.errors import UsageError
from iomonitor.trace import Trace, events_frame, rows_frame

NAN = float("nan")
FIELDS = ("time", "dt", "pid", "fd", "dir", "bytes", "file", "port", "syscall", "kind", "tgid")


def make_events(rows: list[tuple]) -> pd.DataFrame:
    """rows: (time, dt, pid, fd, dir, bytes, file, port, syscall, kind, tgid, comm)."""
    cols: dict[str, list] = {name: [] for name in (*FIELDS, "comm", "local")}
    for row in rows:
        for name, value in zip((*FIELDS, "comm"), row, strict=True):
            cols[name].append(value)
        cols["local"].append(None)
    return events_frame(cols)


ROWS = [
    (10.0, 0.001, 100, 3, "R", 4096, "/etc/passwd", None, "read", "file", 100, "cat"),
    (10.2, 0.002, 100, 3, "R", 0, "/etc/passwd", None, "read", "file", 100, "cat"),
    (10.4, 0.003, 100, 1, "W", 50, "stdout", None, "write", "tty", 100, "cat"),
    (10.5, 0.010, 101, 4, "M", 8192, "/lib/libc.so", None, "mmap", "file", 100, "cat"),
    (11.1, 0.020, 200, 5, "W", 100, "10.0.0.1", 443, "sendto", "tcp", 200, "curl"),
    (11.3, 0.040, 200, 5, "R", 3000, "10.0.0.1", 443, "recvfrom", "tcp", 200, "curl"),
    (11.6, NAN, 200, 6, "W", 60, "/run/sock", None, "write", "unix", 200, "curl"),
    (12.9, 0.005, 300, 3, "R", 10, "2001:db8::1", 53, "recvfrom", "udp", 300, "dig"),
]


def proc(pid: int, ppid: int | None, tgid: int, comm: str) -> dict:
    return dict(pid=pid, ppid=ppid, tgid=tgid, comm=comm, argv=comm, start=10.0, end=13.0,
                exit_code=0, signal=None)  # fmt: skip


PROCS = [
    proc(100, None, 100, "cat"),
    proc(101, 100, 100, "cat"),
    proc(200, 101, 200, "curl"),
    proc(300, 200, 300, "dig"),
    proc(400, 300, 400, "sleep"),
]


def err(pid: int, tgid: int, syscall: str, file: str, kind: str, errno: str, count: int) -> dict:
    return dict(pid=pid, tgid=tgid, syscall=syscall, file=file, kind=kind, errno=errno,
                count=count)  # fmt: skip


ERRORS = [
    err(100, 100, "read", "/etc/shadow", "file", "EACCES", 2),
    err(200, 200, "sendto", "10.0.0.1", "tcp", "EPIPE", 1),
    err(300, 300, "recvfrom", "2001:db8::1", "udp", "EAGAIN", 3),
]


@pytest.fixture
def events() -> pd.DataFrame:
    return make_events(ROWS)


@pytest.fixture
def trace(events: pd.DataFrame) -> Trace:
    meta = {"unparsed_lines": 2, "unknown_fds": 0, "unseen_calls": 1, "unseen_bytes": 4096,
            "io_uring_calls": 0, "aio_calls": 0}  # fmt: skip
    return Trace(events, rows_frame("processes", PROCS), rows_frame("errors", ERRORS), meta)


def ts(seconds: float | None) -> pd.Timestamp:
    if seconds is None:
        return pd.NaT
    return pd.Timestamp(round(seconds * 1e6), unit="us", tz="UTC")


def totals(key: str, rows: list[tuple], key_dtype: str = "str", run: list | None = None):
    """rows: (key, calls, read, write, mapped, bytes, mean, max, errors, time, first, last)."""
    names = ["calls", "read_bytes", "write_bytes", "mapped_bytes", "bytes", "mean_size",
             "max_size", "errors", "time", "first", "last"]  # fmt: skip
    cols = list(zip(*rows, strict=True)) if rows else [[] for _ in range(12)]
    data = {} if run is None else {"run": pd.Series(run, dtype="str")}
    data[key] = pd.Series(list(cols[0]), dtype=key_dtype)
    dtypes = ["int64"] * 5 + ["float64", "Int64", "Int64", "float64"]
    for name, values, dtype in zip(names[:9], cols[1:10], dtypes, strict=True):
        data[name] = pd.Series(list(values), dtype=dtype)
    for name, values in zip(names[9:], cols[10:], strict=True):
        data[name] = pd.Series([ts(v) for v in values], dtype="datetime64[us, UTC]")
    return pd.DataFrame(data)


NA = pd.NA

# (key, calls, read, write, mapped, bytes, mean, max, errors, time, first, last)
BY_FILE = [
    ("/etc/passwd", 2, 4096, 0, 0, 4096, 2048.0, 4096, 0, 0.003, 10.0, 10.2),
    ("10.0.0.1", 2, 3000, 100, 0, 3100, 1550.0, 3000, 1, 0.060, 11.1, 11.3),
    ("/run/sock", 1, 0, 60, 0, 60, 60.0, 60, 0, NAN, 11.6, 11.6),
    ("stdout", 1, 0, 50, 0, 50, 50.0, 50, 0, 0.003, 10.4, 10.4),
    ("2001:db8::1", 1, 10, 0, 0, 10, 10.0, 10, 3, 0.005, 12.9, 12.9),
    ("/lib/libc.so", 1, 0, 0, 8192, 0, NAN, NA, 0, 0.010, 10.5, 10.5),
    ("/etc/shadow", 0, 0, 0, 0, 0, NAN, NA, 2, NAN, None, None),
]
BY_PEER = [
    ("10.0.0.1:443", 2, 3000, 100, 0, 3100, 1550.0, 3000, 1, 0.060, 11.1, 11.3),
    ("/run/sock", 1, 0, 60, 0, 60, 60.0, 60, 0, NAN, 11.6, 11.6),
    ("[2001:db8::1]:53", 1, 10, 0, 0, 10, 10.0, 10, 3, 0.005, 12.9, 12.9),
]
BY_PID = [
    (100, 3, 4096, 50, 0, 4146, 1382.0, 4096, 2, 0.006, 10.0, 10.4),
    (200, 3, 3000, 160, 0, 3160, 3160 / 3, 3000, 1, 0.060, 11.1, 11.6),
    (300, 1, 10, 0, 0, 10, 10.0, 10, 3, 0.005, 12.9, 12.9),
    (101, 1, 0, 0, 8192, 0, NAN, NA, 0, 0.010, 10.5, 10.5),
]
BY_PROCESS = [
    ("cat", 4, 4096, 50, 8192, 4146, 1382.0, 4096, 2, 0.016, 10.0, 10.5),
    ("curl", 3, 3000, 160, 0, 3160, 3160 / 3, 3000, 1, 0.060, 11.1, 11.6),
    ("dig", 1, 10, 0, 0, 10, 10.0, 10, 3, 0.005, 12.9, 12.9),
]
BY_TGID = [(100, *BY_PROCESS[0][1:]), (200, *BY_PROCESS[1][1:]), (300, *BY_PROCESS[2][1:])]
BY_SYSCALL = [
    ("read", 2, 4096, 0, 0, 4096, 2048.0, 4096, 2, 0.003, 10.0, 10.2),
    ("recvfrom", 2, 3010, 0, 0, 3010, 1505.0, 3000, 3, 0.045, 11.3, 12.9),
    ("write", 2, 0, 110, 0, 110, 55.0, 60, 0, 0.003, 10.4, 11.6),
    ("sendto", 1, 0, 100, 0, 100, 100.0, 100, 1, 0.020, 11.1, 11.1),
    ("mmap", 1, 0, 0, 8192, 0, NAN, NA, 0, 0.010, 10.5, 10.5),
]
BY_KIND = [
    ("file", 3, 4096, 0, 8192, 4096, 2048.0, 4096, 2, 0.013, 10.0, 10.5),
    ("tcp", 2, 3000, 100, 0, 3100, 1550.0, 3000, 1, 0.060, 11.1, 11.3),
    ("unix", 1, 0, 60, 0, 60, 60.0, 60, 0, NAN, 11.6, 11.6),
    ("tty", 1, 0, 50, 0, 50, 50.0, 50, 0, 0.003, 10.4, 10.4),
    ("udp", 1, 10, 0, 0, 10, 10.0, 10, 3, 0.005, 12.9, 12.9),
]
EXPECTED = {
    "file": (BY_FILE, "str"),
    "peer": (BY_PEER, "str"),
    "pid": (BY_PID, "int32"),
    "process": (BY_PROCESS, "str"),
    "syscall": (BY_SYSCALL, "str"),
    "kind": (BY_KIND, "str"),
    "tgid": (BY_TGID, "int32"),
}


# -- by -----------------------------------------------------------------------


@pytest.mark.parametrize("key", analysis.KEYS)
def test_by_every_key_matches_hand_totals(trace: Trace, key: str) -> None:
    rows, dtype = EXPECTED[key]
    assert_frame_equal(analysis.by(trace, key), totals(key, rows, dtype))


def test_by_on_bare_events_reports_errors_as_unknown(events: pd.DataFrame) -> None:
    rows = [(*r[:8], NA, *r[9:]) for r in BY_FILE if r[0] != "/etc/shadow"]
    assert_frame_equal(analysis.by(events, "file"), totals("file", rows))


def test_mapped_bytes_never_count_as_bytes(trace: Trace) -> None:
    table = analysis.by(trace, "file").set_index("file")
    assert table.loc["/lib/libc.so", "mapped_bytes"] == 8192
    assert table.loc["/lib/libc.so", "bytes"] == 0
    assert table["bytes"].sum() == 4096 + 3100 + 60 + 50 + 10


def test_failed_tcp_call_stays_on_bare_address_when_port_is_ambiguous() -> None:
    ev = make_events([
        (1.0, 0.1, 5, 3, "W", 10, "10.0.0.9", 80, "write", "tcp", 5, "app"),
        (2.0, 0.1, 5, 4, "W", 20, "10.0.0.9", 8080, "write", "tcp", 5, "app"),
    ])  # fmt: skip
    errors = rows_frame("errors", [err(5, 5, "write", "10.0.0.9", "tcp", "EPIPE", 4)])
    expected = totals("peer", [
        ("10.0.0.9:8080", 1, 0, 20, 0, 20, 20.0, 20, 0, 0.1, 2.0, 2.0),
        ("10.0.0.9:80", 1, 0, 10, 0, 10, 10.0, 10, 0, 0.1, 1.0, 1.0),
        ("10.0.0.9", 0, 0, 0, 0, 0, NAN, NA, 4, NAN, None, None),
    ])  # fmt: skip
    assert_frame_equal(analysis.by(ev, "peer", errors=errors), expected)


def test_peer_of_tcp_socket_without_port_is_its_address() -> None:
    ev = make_events([(1.0, 0.1, 5, 3, "R", 7, "192.168.1.2", None, "read", "tcp", 5, "x")])
    assert analysis.by(ev, "peer")["peer"].tolist() == ["192.168.1.2"]


def test_by_rejects_unknown_key_and_names_missing_columns(events: pd.DataFrame) -> None:
    with pytest.raises(UsageError, match="unknown key 'host'"):
        analysis.by(events, "host")
    with pytest.raises(UsageError, match="dt, comm"):
        analysis.by(events.drop(columns=["dt", "comm"]), "process")


def test_empty_events_give_empty_typed_table() -> None:
    got = analysis.by(make_events([]), "file")
    assert_frame_equal(got, totals("file", []))


# -- the engine's sums -------------------------------------------------------------


def test_sums_holds_sums_per_group(events: pd.DataFrame) -> None:
    got = analysis.sums(events.iloc[:4], "tgid")
    expected = pd.DataFrame({
        "tgid": pd.Series([100], dtype="int32"),
        "calls": [4], "rw_calls": [3], "read_bytes": [4096], "write_bytes": [50],
        "mapped_bytes": [8192], "max_size": pd.array([4096], dtype="Int64"),
        "time": [0.016], "first": [ts(10.0)], "last": [ts(10.5)],
    })  # fmt: skip
    expected["first"] = expected["first"].astype("datetime64[us, UTC]")
    expected["last"] = expected["last"].astype("datetime64[us, UTC]")
    assert_frame_equal(got, expected)


WANTED = [("file", False), ("peer", None), ("process", None), ("syscall", None), ("pid", None),
          ("tgid", None), ("kind", True), ("file", None)]  # fmt: skip


@pytest.mark.parametrize("data", ["one run", "two runs"])
def test_one_rollup_gives_each_table_of_stats_as_its_own_scan(
    events: pd.DataFrame, data: str
) -> None:
    # One pass makes every table of the default stats view; each must equal the
    # table summed alone over the events it keeps (sockets picked out here).
    frame = events if data == "one run" else two_runs().events
    sockets = frame["kind"].astype("str").isin(analysis.SOCKET_KINDS).to_numpy()
    totals = analysis.rollup(frame)
    for key, keep in WANTED:
        got = analysis.sums(totals, key, sockets=keep)
        part = frame if keep is None else frame[sockets == keep]
        expected = analysis.sums(part.reset_index(drop=True), key)
        order = list(got.columns[: len(got.columns) - len(analysis.SUM_COLUMNS)])
        assert_frame_equal(
            got.sort_values(order).reset_index(drop=True),
            expected.sort_values(order).reset_index(drop=True),
            check_categorical=False,
        )


def test_summary_end_is_the_call_that_ends_last_not_the_last_to_start() -> None:
    # The 5 s read started first and ends after the later, short calls.
    events = make_events([
        (10.0, 5.0, 7, 3, "R", 1, "/slow", None, "read", "file", 7, "a"),
        (12.0, 0.1, 7, 3, "R", 1, "/fast", None, "read", "file", 7, "a"),
        (13.0, 0.5, 8, 3, "W", 1, "/fast", None, "write", "file", 8, "b"),
    ])  # fmt: skip
    got = analysis.summary(Trace(events))
    assert got["start"] == ts(10.0)
    assert got["end"] == ts(15.0)
    assert got["duration"] == 5.0


# -- runs -------------------------------------------------------------------------


def two_runs() -> Trace:
    """Run a: pid 7 reads 10 bytes of /x; run b: pid 7 (another process) writes 3 to /x."""
    a = make_events([(1.0, 0.5, 7, 3, "R", 10, "/x", None, "read", "file", 7, "one")])
    b = make_events([(1.0, 0.25, 7, 3, "W", 3, "/x", None, "write", "file", 7, "two")])
    events = pd.concat([a.assign(run="a"), b.assign(run="b")], ignore_index=True)
    events["run"] = pd.Categorical(events["run"], categories=["a", "b"])
    procs = pd.concat([
        rows_frame("processes", [proc(7, None, 7, "one")]).assign(run="a"),
        rows_frame("processes", [proc(7, None, 7, "two")]).assign(run="b"),
    ], ignore_index=True)  # fmt: skip
    errors = rows_frame("errors", [err(7, 7, "read", "/x", "file", "EIO", 5)]).assign(run="b")
    meta = {"runs": {"a": {"unparsed_lines": 1}, "b": {"unparsed_lines": 4}}}
    return Trace(events, procs, errors, meta)


def test_runs_never_merge() -> None:
    got = analysis.by(two_runs(), "pid")
    expected = totals("pid", [
        (7, 1, 10, 0, 0, 10, 10.0, 10, 0, 0.5, 1.0, 1.0),
        (7, 1, 0, 3, 0, 3, 3.0, 3, 5, 0.25, 1.0, 1.0),
    ], "int32", run=["a", "b"])  # fmt: skip
    assert_frame_equal(got, expected)


def test_side_table_without_run_is_refused() -> None:
    tr = two_runs()
    errors = tr.errors.drop(columns=["run"])
    with pytest.raises(UsageError, match="errors table has no 'run' column"):
        analysis.by(tr.events, "file", errors=errors)


# -- process tree ---------------------------------------------------------------------


def tree_table(rows: list[tuple]) -> pd.DataFrame:
    """rows: (pid, ppid, comm, depth, processes, *totals without the key)."""
    head = pd.DataFrame({
        "pid": pd.Series([r[0] for r in rows], dtype="int32"),
        "ppid": pd.array([r[1] for r in rows], dtype="Int32"),
        "comm": pd.Series([r[2] for r in rows], dtype="str"),
        "depth": pd.Series([r[3] for r in rows], dtype="int64"),
        "processes": pd.Series([r[4] for r in rows], dtype="int64"),
    })  # fmt: skip
    body = totals("k", [("", *r[5:]) for r in rows]).drop(columns=["k"])
    return pd.concat([head, body], axis=1)


TREE = [
    (100, None, "cat", 0, 4, 8, 7106, 210, 8192, 7316, 7316 / 7, 4096, 6, 0.081, 10.0, 12.9),
    (200, 100, "curl", 1, 3, 4, 3010, 160, 0, 3170, 792.5, 3000, 4, 0.065, 11.1, 12.9),
    (300, 200, "dig", 2, 2, 1, 10, 0, 0, 10, 10.0, 10, 3, 0.005, 12.9, 12.9),
    (400, 300, "sleep", 3, 1, 0, 0, 0, 0, 0, NAN, NA, 0, NAN, None, None),
]


def test_by_tree_sums_each_subtree(trace: Trace) -> None:
    assert_frame_equal(analysis.by_tree(trace), tree_table(TREE))


def test_subtree_of_a_thread_is_its_process(trace: Trace) -> None:
    assert_frame_equal(analysis.subtree(trace, 101), tree_table(TREE[:1]))
    assert_frame_equal(analysis.subtree(trace, 300), tree_table(TREE[2:3]))
    with pytest.raises(UsageError, match="no process 999"):
        analysis.subtree(trace, 999)


def test_tree_order_is_depth_first_with_siblings_by_bytes() -> None:
    ev = make_events([
        (1.0, 0.1, 2, 3, "W", 10, "/a", None, "write", "file", 2, "small"),
        (1.0, 0.1, 3, 3, "W", 20, "/b", None, "write", "file", 3, "big"),
        (1.0, 0.1, 4, 3, "W", 1, "/c", None, "write", "file", 4, "leaf"),
    ])  # fmt: skip
    procs = rows_frame("processes", [proc(1, None, 1, "sh"), proc(2, 1, 2, "small"),
                             proc(3, 1, 3, "big"), proc(4, 3, 4, "leaf")])  # fmt: skip
    tree = analysis.by_tree(Trace(ev, procs))
    assert tree["pid"].tolist() == [1, 3, 4, 2]
    assert tree["depth"].tolist() == [0, 1, 2, 1]
    assert tree["bytes"].tolist() == [31, 21, 1, 10]


def test_tree_keeps_runs_apart() -> None:
    tree = analysis.by_tree(two_runs())
    assert tree[["run", "pid", "comm", "bytes", "errors"]].values.tolist() == [
        ["a", 7, "one", 10, 0],
        ["b", 7, "two", 3, 5],
    ]


def test_tree_refuses_reused_pids(events: pd.DataFrame) -> None:
    procs = rows_frame("processes", [proc(100, None, 100, "cat"), proc(100, None, 100, "cat")])
    with pytest.raises(UsageError, match="pid 100 more than once"):
        analysis.by_tree(Trace(events, procs))


# -- bandwidth ----------------------------------------------------------------------


def rates(rows: list[tuple], width: float, key: str | None = None, run=None) -> pd.DataFrame:
    """rows: (bucket start, [key,] read, write)."""
    data = {} if run is None else {"run": pd.Series(run, dtype="str")}
    data["time"] = pd.Series([ts(r[0]) for r in rows], dtype="datetime64[us, UTC]")
    if key is not None:
        data[key] = pd.Series([r[1] for r in rows], dtype="str")
    data["read_bytes"] = pd.Series([r[-2] for r in rows], dtype="int64")
    data["write_bytes"] = pd.Series([r[-1] for r in rows], dtype="int64")
    data["read_rate"] = data["read_bytes"] / width
    data["write_rate"] = data["write_bytes"] / width
    return pd.DataFrame(data)


def test_bandwidth_per_second(events: pd.DataFrame) -> None:
    expected = rates([(10, 4096, 50), (11, 3000, 160), (12, 10, 0)], 1.0)
    assert_frame_equal(analysis.bandwidth(events, "1s"), expected)


def test_bandwidth_fills_quiet_buckets_and_scales_rates(events: pd.DataFrame) -> None:
    expected = rates(
        [(10.0, 4096, 50), (10.5, 0, 0), (11.0, 3000, 100), (11.5, 0, 60), (12.0, 0, 0),
         (12.5, 10, 0)],
        0.5,
    )  # fmt: skip
    assert_frame_equal(analysis.bandwidth(events, "500ms"), expected)
    assert_frame_equal(analysis.bandwidth(events, 0.5), expected)


def test_bandwidth_top_keys_and_other(events: pd.DataFrame) -> None:
    expected = rates(
        [(10, "cat", 4096, 50), (10, "other", 0, 0), (11, "cat", 0, 0),
         (11, "other", 3000, 160), (12, "cat", 0, 0), (12, "other", 10, 0)],
        1.0, key="process",
    )  # fmt: skip
    assert_frame_equal(analysis.bandwidth(events, "1s", key="process", top=1), expected)


def test_bandwidth_engine_adds_up_other_ties_broken_by_name_as_text() -> None:
    # The engine ranks the keys and adds up the rest; the ranking must be the
    # one the table shows: bytes, then the key as text ("10" before "9").
    ev = events_frame({"time": [10.2, 10.4, 11.1, 11.3], "dt": [0.0] * 4,
        "pid": [9, 10, 11, 9], "fd": [3] * 4, "dir": ["R", "W", "R", "R"],
        "bytes": [5, 5, 3, 0], "file": ["/a"] * 4, "port": [None] * 4,
        "syscall": ["read", "write", "read", "read"], "kind": ["file"] * 4,
        "tgid": [9, 10, 11, 9], "comm": ["a"] * 4, "local": [None] * 4})  # fmt: skip
    got = analysis.bandwidth(ev, "1s", key="tgid", top=1)
    expected = rates(
        [(10, "10", 0, 5), (10, "other", 5, 0), (11, "10", 0, 0), (11, "other", 3, 0)],
        1.0, key="tgid",
    )  # fmt: skip
    assert_frame_equal(got, expected)


def test_bandwidth_top_zero_keeps_every_key(events: pd.DataFrame) -> None:
    got = analysis.bandwidth(events, "1s", key="peer", top=0)
    expected = rates(
        [(11, "10.0.0.1:443", 3000, 100), (11, "/run/sock", 0, 60),
         (11, "[2001:db8::1]:53", 0, 0), (12, "10.0.0.1:443", 0, 0),
         (12, "/run/sock", 0, 0), (12, "[2001:db8::1]:53", 10, 0)],
        1.0, key="peer",
    )  # fmt: skip
    assert_frame_equal(got, expected)


def test_bandwidth_pid_keys_are_text_so_other_fits(events: pd.DataFrame) -> None:
    got = analysis.bandwidth(events, "10s", key="pid", top=2)
    expected = rates([(10, "100", 4096, 50), (10, "200", 3000, 160), (10, "other", 10, 0)],
                     10.0, key="pid")  # fmt: skip
    assert_frame_equal(got, expected)


def test_bandwidth_keeps_runs_apart() -> None:
    got = analysis.bandwidth(two_runs(), "1s")
    assert_frame_equal(got, rates([(1, 10, 0), (1, 0, 3)], 1.0, run=["a", "b"]))


@pytest.mark.parametrize("bad", ["0s", "-1s", "soon", "1M"])
def test_bandwidth_rejects_bad_interval(events: pd.DataFrame, bad: str) -> None:
    with pytest.raises(UsageError, match="bad interval"):
        analysis.bandwidth(events, bad)


def test_bandwidth_rejects_negative_top(events: pd.DataFrame) -> None:
    with pytest.raises(UsageError, match="top"):
        analysis.bandwidth(events, "1s", key="file", top=-1)


def test_bandwidths_in_one_pass_equal_each_table_alone(trace: Trace) -> None:
    # Widths of one family (500 ms divides 1 s and 2 s) are summed in one pass,
    # 300 ms has its own; keys ranked from a rollup or from the events alike.
    asked = [("1s", "process", 1), ("500ms", "peer", 2), ("2s", "tgid", 0), ("1s", None, 0),
             ("300ms", "file", 1), ("2s", "process", 1)]  # fmt: skip
    alone = [analysis.bandwidth(trace, *a) for a in asked]
    for got in (
        analysis.bandwidths(trace, asked),
        analysis.bandwidths(trace, asked, ranks=analysis.rollup(trace)),
    ):
        assert len(got) == len(asked)
        for table, expected in zip(got, alone, strict=True):
            assert_frame_equal(table, expected)
    # The peer table holds sockets only; the top 2 by bytes and the rest as other.
    assert set(alone[1]["peer"]) == {"10.0.0.1:443", "/run/sock", "other"}
    assert alone[1]["read_bytes"].sum() == 3010 and alone[1]["write_bytes"].sum() == 160


def test_bandwidths_keep_runs_apart_and_refuse_a_bad_request() -> None:
    got = analysis.bandwidths(two_runs(), [("1s", None, 0), ("2s", "file", 1)])
    assert_frame_equal(got[0], rates([(1, 10, 0), (1, 0, 3)], 1.0, run=["a", "b"]))
    assert got[1]["run"].tolist() == ["a", "b"]
    with pytest.raises(UsageError, match="top"):
        analysis.bandwidths(two_runs(), [("1s", None, 0), ("1s", "file", -1)])


# -- sizes ----------------------------------------------------------------------------


def hist(rows: list[tuple], key: str | None = None) -> pd.DataFrame:
    """rows: ([key,] dir, low, high, calls, bytes)."""
    data = {}
    if key is not None:
        data[key] = pd.Series([r[0] for r in rows], dtype="str")
        rows = [r[1:] for r in rows]
    data["dir"] = pd.Series([r[0] for r in rows], dtype="str")
    for i, name in enumerate(("low", "high", "calls", "bytes"), start=1):
        data[name] = pd.Series([r[i] for r in rows], dtype="int64")
    return pd.DataFrame(data)


def test_size_histogram_power_of_two_buckets(events: pd.DataFrame) -> None:
    reads = [("R", 0, 0, 1, 0), ("R", 1, 1, 0, 0)]
    reads += [("R", 2**k, 2 ** (k + 1) - 1, 0, 0) for k in range(1, 12)]
    reads[4] = ("R", 8, 15, 1, 10)
    reads[12] = ("R", 2048, 4095, 1, 3000)
    reads.append(("R", 4096, 8191, 1, 4096))
    writes = [("W", 32, 63, 2, 110), ("W", 64, 127, 1, 100)]
    assert_frame_equal(analysis.size_histogram(events), hist(reads + writes))


def test_size_histogram_bucket_edges() -> None:
    sizes = [1, 2, 3, 4, 7, 8, 2**40 - 1, 2**40]
    ev = make_events([(1.0, 0.1, 1, 3, "W", n, "/f", None, "write", "file", 1, "x") for n in sizes])
    got = analysis.size_histogram(ev)
    got = got[got["calls"] > 0]
    assert got[["low", "high", "calls"]].values.tolist() == [
        [1, 1, 1],
        [2, 3, 2],
        [4, 7, 2],
        [8, 15, 1],
        [2**39, 2**40 - 1, 1],
        [2**40, 2**41 - 1, 1],
    ]


def test_size_histogram_per_key_with_mappings(events: pd.DataFrame) -> None:
    got = analysis.size_histogram(events[events["kind"] == "file"], key="file", dirs="RM")
    reads = [("/etc/passwd", "R", 0, 0, 1, 0), ("/etc/passwd", "R", 1, 1, 0, 0)]
    reads += [("/etc/passwd", "R", 2**k, 2 ** (k + 1) - 1, 0, 0) for k in range(1, 12)]
    reads.append(("/etc/passwd", "R", 4096, 8191, 1, 4096))
    maps = [("/lib/libc.so", "M", 8192, 16383, 1, 8192)]
    assert_frame_equal(got, hist(reads + maps, key="file"))


def test_size_histogram_rejects_unknown_direction(events: pd.DataFrame) -> None:
    with pytest.raises(UsageError, match="dirs"):
        analysis.size_histogram(events, dirs=["X"])


# -- latency ------------------------------------------------------------------------------


def test_latency_percentiles_per_syscall(events: pd.DataFrame) -> None:
    def row(name, dts):
        a, b = (dts[0], dts[-1])  # two calls at most: linear between them
        q = [a + p * (b - a) for p in (0.5, 0.9, 0.99)]
        return (name, len(dts), sum(dts), sum(dts) / len(dts), *q, b)

    expected_rows = [
        row("recvfrom", [0.005, 0.040]),
        row("sendto", [0.020]),
        row("mmap", [0.010]),
        row("read", [0.001, 0.002]),
        row("write", [0.003]),
    ]
    cols = list(zip(*expected_rows, strict=True))
    expected = pd.DataFrame({
        "syscall": pd.Series(cols[0], dtype="str"),
        "calls": pd.Series(cols[1], dtype="int64"),
        **{n: pd.Series(c, dtype="float64")
           for n, c in zip(("time", "mean", "p50", "p90", "p99", "max"), cols[2:], strict=True)},
    })  # fmt: skip
    assert_frame_equal(analysis.latency(events), expected)


def test_latency_overall_matches_numpy_percentiles(events: pd.DataFrame) -> None:
    dts = np.array([0.001, 0.002, 0.003, 0.010, 0.020, 0.040, 0.005])
    got = analysis.latency(events, key=None)
    assert got["calls"].tolist() == [7]
    for name, q in (("p50", 50), ("p90", 90), ("p99", 99)):
        assert math.isclose(got[name].iloc[0], float(np.percentile(dts, q)))
    assert math.isclose(got["max"].iloc[0], 0.040)


def test_latency_without_durations_is_an_error_not_an_empty_table(events: pd.DataFrame) -> None:
    with pytest.raises(UsageError, match="no call has a duration"):
        analysis.latency(events.assign(dt=NAN))


# -- summary and select --------------------------------------------------------------------


def test_summary_headline_numbers(trace: Trace) -> None:
    expected = pd.Series({
        "runs": 1, "start": ts(10.0), "end": ts(12.905), "duration": 2.905,
        "processes": 4, "threads": 5, "events": 8,
        "read_bytes": 7106, "write_bytes": 210, "mapped_bytes": 8192, "bytes": 7316,
        "top_file": "/etc/passwd", "top_file_bytes": 4096,
        "top_peer": "10.0.0.1:443", "top_peer_bytes": 3100,
        "top_process": "cat", "top_process_bytes": 4146,
        "unparsed_lines": 2, "unknown_fds": 0, "unseen_calls": 1, "unseen_bytes": 4096,
        "io_uring_calls": 0, "aio_calls": 0, "failed_calls": 6, "lost_records": None,
    }, dtype=object, name="summary")  # fmt: skip
    got = analysis.summary(trace)
    got["duration"] = round(got["duration"], 9)
    assert_series_equal(got, expected)


def test_summary_uses_traced_span_and_says_unknown(events: pd.DataFrame) -> None:
    meta = {"start": "2024-05-01T10:00:00+00:00", "end": "2024-05-01T10:00:30+00:00"}
    got = analysis.summary(Trace(events, meta=meta))
    assert got["duration"] == 30.0
    assert got["unparsed_lines"] is None
    assert got["failed_calls"] is None


def test_summary_adds_up_runs() -> None:
    got = analysis.summary(two_runs())
    assert got["runs"] == 2
    assert got["processes"] == 2
    assert got["duration"] == 0.75
    assert got["unparsed_lines"] == 5
    assert got["unknown_fds"] is None
    assert got["top_file"] == "/x"
    assert got["top_file_bytes"] == 13


def test_select_filters_events_and_failed_calls(trace: Trace) -> None:
    got = analysis.select(trace, pid=[100])
    assert got.events["pid"].tolist() == [100, 100, 100, 101]
    assert got.errors["file"].tolist() == ["/etc/shadow"]
    got = analysis.select(trace, file="/etc/*", dir=["R"])
    assert got.events["file"].astype(str).tolist() == ["/etc/passwd", "/etc/passwd"]
    # A failed call has no direction: only the file pattern applies to it.
    assert got.errors["file"].tolist() == ["/etc/shadow"]
    got = analysis.select(trace.events, kind=["tcp", "udp"])
    assert got["bytes"].tolist() == [100, 3000, 10]


def test_select_rejects_unknown_kind(trace: Trace) -> None:
    with pytest.raises(UsageError, match="unknown kind 'disk'"):
        analysis.select(trace, kind="disk")
