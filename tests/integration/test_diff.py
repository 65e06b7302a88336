"""`iomonitor diff A B` on two real runs of one script with known differences.

Run A (``bash -c SCRIPT``): ``wc -l data.txt`` once, then ``echo hi`` to the UDP peer 127.0.0.1:9.
Run B: ``wc -l data.txt`` twice, no network. Each run has its own temporary
folder holding its own data.txt; ``--strip`` makes the two paths match.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import iomonitor
from iomonitor import analysis
from iomonitor.cli import main

STRACE = "/usr/bin/strace"
pytestmark = [
    pytest.mark.strace,
    pytest.mark.skipif(not os.access(STRACE, os.X_OK), reason="strace is not installed"),
]

SCRIPT = """cd "$DIR"
wc -l data.txt > /dev/null
if [ "$MODE" = a ]; then echo hi > /dev/udp/127.0.0.1/9; else wc -l data.txt > /dev/null; fi
"""
LINES = 256
#: 256 lines of 8 bytes: exactly 2 KiB, so the table shows round sizes.
DATA = "".join(f"{i:07d}\n" for i in range(LINES))
#: What wc -l writes: "256 data.txt\n".
WC_LINE = len(f"{LINES} data.txt\n")
PEER = "127.0.0.1:9"


@dataclass(frozen=True)
class Runs:
    a: Path
    b: Path
    dir_a: Path
    dir_b: Path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    tmp = tmp_path_factory.mktemp("diff").resolve()
    out = {}
    for mode in ("a", "b"):
        folder = tmp / f"run-{mode}"
        folder.mkdir()
        (folder / "data.txt").write_text(DATA)
        out[mode] = tmp / f"{mode}.parquet"
        env = {**os.environ, "DIR": str(folder), "MODE": mode}
        res = subprocess.run(
            [sys.executable, "-m", "iomonitor", "-o", str(out[mode]), "bash", "-c", SCRIPT],
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert res.returncode == 0, res.stderr
    return Runs(out["a"], out["b"], tmp / "run-a", tmp / "run-b")


def diff_cli(runs: Runs, *args: str, capsys: pytest.CaptureFixture[str]) -> str:
    strip = ["--strip", str(runs.dir_a), "--strip", str(runs.dir_b)]
    assert main(["diff", str(runs.a), str(runs.b), *strip, *args]) == 0
    return capsys.readouterr().out


def row(table, key: str, value: str) -> dict:
    rows = table[table[key] == value].to_dict("records")
    assert len(rows) == 1, table
    return rows[0]


def test_diff_file_read_twice_in_b(runs: Runs) -> None:
    a, b = iomonitor.load(runs.a), iomonitor.load(runs.b)
    table = analysis.diff(a, b, "file", strip=[str(runs.dir_a), str(runs.dir_b)])
    got = row(table, "file", "/data.txt")
    size = len(DATA)
    assert got["present"] == "both"
    assert (got["bytes_a"], got["bytes_b"], got["bytes_change"]) == (size, 2 * size, size)
    assert got["bytes_ratio"] == 2.0
    # wc reads the file whole, then gets 0 at end of file: 2 calls a pass.
    assert (got["calls_a"], got["calls_b"], got["calls_change"], got["calls_ratio"]) == (
        2,
        4,
        2,
        2.0,
    )
    assert (got["read_bytes_a"], got["read_bytes_b"], got["write_bytes_b"]) == (size, 2 * size, 0)


def test_diff_without_strip_keeps_the_two_folders_apart(runs: Runs) -> None:
    table = analysis.diff(iomonitor.load(runs.a), iomonitor.load(runs.b), "file")
    only_a = row(table, "file", str(runs.dir_a / "data.txt"))
    only_b = row(table, "file", str(runs.dir_b / "data.txt"))
    assert (only_a["present"], only_a["bytes_a"], only_a["bytes_b"]) == ("a", len(DATA), 0)
    assert (only_b["present"], only_b["bytes_a"], only_b["bytes_b"]) == ("b", 0, 2 * len(DATA))
    assert only_b["bytes_ratio"] != only_b["bytes_ratio"]  # NaN: nothing in A to divide by


def test_diff_peer_only_in_a(runs: Runs) -> None:
    table = analysis.diff(iomonitor.load(runs.a), iomonitor.load(runs.b), "peer")
    assert table.to_dict("records") == [
        {
            "peer": PEER,
            "present": "a",
            "bytes_a": 3,
            "bytes_b": 0,
            "bytes_change": -3,
            "bytes_ratio": 0.0,
            "calls_a": 1,
            "calls_b": 0,
            "calls_change": -1,
            "calls_ratio": 0.0,
            "read_bytes_a": 0,
            "read_bytes_b": 0,
            "write_bytes_a": 3,
            "write_bytes_b": 0,
        }
    ]


def test_diff_matches_processes_by_command_line_not_pid(runs: Runs) -> None:
    a, b = iomonitor.load(runs.a), iomonitor.load(runs.b)
    table = analysis.diff(a, b, "process", strip=[str(runs.dir_a), str(runs.dir_b)])
    wc = row(table, "process", "wc -l data.txt")
    assert wc["present"] == "both"
    # Two wc processes in B (other pids) add up under one command line.
    assert (wc["calls_b"], wc["bytes_b"]) == (2 * wc["calls_a"], 2 * wc["bytes_a"])
    assert (wc["write_bytes_a"], wc["write_bytes_b"]) == (WC_LINE, 2 * WC_LINE)
    # The same script in both runs: one shell (argv strings as strace shows them, cut at 32 bytes).
    assert len(table) == 2
    bash = table[table["process"].str.startswith("bash -c ")].to_dict("records")
    assert len(bash) == 1 and bash[0]["present"] == "both", table
    assert (bash[0]["write_bytes_a"], bash[0]["write_bytes_b"]) == (3, 0)


def test_diff_per_syscall_adds_up_to_the_events(runs: Runs) -> None:
    a, b = iomonitor.load(runs.a), iomonitor.load(runs.b)
    table = analysis.diff(a, b, "syscall")
    for side, trace in (("a", a), ("b", b)):
        ev = trace.events
        moved = ev[ev["dir"].isin(["R", "W"])]
        nbytes = moved.groupby("syscall", observed=True)["bytes"].sum()
        calls = ev.groupby("syscall", observed=True).size()
        for name in calls.index:
            got = row(table, "syscall", str(name))
            assert got[f"calls_{side}"] == calls[name], name
            assert got[f"bytes_{side}"] == nbytes.get(name, 0), name
    write = row(table, "syscall", "write")
    # A: wc's line and bash's "hi\n"; B: two wc lines.
    assert (write["bytes_a"], write["bytes_b"]) == (WC_LINE + 3, 2 * WC_LINE)


def test_diff_csv_gives_exact_deltas(runs: Runs, capsys: pytest.CaptureFixture[str]) -> None:
    text = diff_cli(runs, "--by", "file", "--format", "csv", "--top", "0", capsys=capsys)
    rows = {r["file"]: r for r in csv.DictReader(io.StringIO(text))}
    data = rows["/data.txt"]
    assert (data["present"], data["bytes_a"], data["bytes_b"], data["bytes_change"]) == (
        "both",
        "2048",
        "4096",
        "2048",
    )
    assert (data["calls_a"], data["calls_b"], data["calls_change"]) == ("2", "4", "2")
    assert float(data["bytes_ratio"]) == 2.0
    assert rows["127.0.0.1"]["present"] == "a" and rows["127.0.0.1"]["bytes_change"] == "-3"


def test_diff_json_gives_exact_deltas(runs: Runs, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(diff_cli(runs, "--format", "json", capsys=capsys))
    assert doc["a"] == str(runs.a) and doc["b"] == str(runs.b)
    assert set(doc) == {"a", "b", "files", "peers", "processes", "syscalls"}
    assert doc["peers"] == [
        {
            "peer": PEER,
            "present": "a",
            "bytes_a": 3,
            "bytes_b": 0,
            "bytes_change": -3,
            "bytes_ratio": 0.0,
            "calls_a": 1,
            "calls_b": 0,
            "calls_change": -1,
            "calls_ratio": 0.0,
            "read_bytes_a": 0,
            "read_bytes_b": 0,
            "write_bytes_a": 3,
            "write_bytes_b": 0,
        }
    ]
    data = next(r for r in doc["files"] if r["file"] == "/data.txt")
    assert (data["bytes_a"], data["bytes_b"], data["calls_change"]) == (2048, 4096, 2)
    wc = next(r for r in doc["processes"] if r["process"] == "wc -l data.txt")
    assert wc["write_bytes_b"] - wc["write_bytes_a"] == WC_LINE


def test_diff_markdown_gives_exact_deltas(runs: Runs, capsys: pytest.CaptureFixture[str]) -> None:
    text = diff_cli(runs, "--format", "markdown", "--top", "0", capsys=capsys)
    lines = text.splitlines()
    assert "## Peers" in lines and "## Files" in lines
    assert f"| {PEER} | only A | 3 B | 0 B | -3 B | 0.00x | 1 | 0 | -1 | 0.00x |" in lines
    assert (
        "| /data.txt | both | 2.0 KiB | 4.0 KiB | +2.0 KiB | 2.00x | 2 | 4 | +2 | 2.00x |" in lines
    )


def test_diff_table_gives_exact_deltas(runs: Runs, capsys: pytest.CaptureFixture[str]) -> None:
    text = diff_cli(runs, "--by", "peer", capsys=capsys)
    lines = text.splitlines()
    assert lines[:2] == [f"A: {runs.a}", f"B: {runs.b}"]
    assert lines[3].split() == [
        "peer", "in", "bytes", "A", "bytes", "B", "change", "ratio",
        "calls", "A", "calls", "B", "change", "ratio",
    ]  # fmt: skip
    assert lines[4].split() == [
        PEER, "only", "A", "3", "B", "0", "B", "-3", "B", "0.00x", "1", "0", "-1", "0.00x",
    ]  # fmt: skip
    assert len(lines) == 5


def test_diff_top_limits_rows(runs: Runs, capsys: pytest.CaptureFixture[str]) -> None:
    text = diff_cli(runs, "--by", "file", "--format", "csv", "--top", "2", capsys=capsys)
    assert len(text.splitlines()) == 3


def test_diff_csv_without_by_is_a_usage_error(
    runs: Runs, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", str(runs.a), str(runs.b), "--format", "csv"]) == 2
    assert capsys.readouterr().err == (
        "iomonitor: --format csv writes a single table: choose it with --by\n"
    )


def test_diff_of_a_missing_trace_says_so_in_one_line(
    runs: Runs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.parquet"
    assert main(["diff", str(runs.a), str(missing)]) == 3
    err = capsys.readouterr().err
    assert err == f"iomonitor: {missing}: no such file\n"


def test_diff_with_a_classic_csv_leaves_out_what_it_does_not_record(
    runs: Runs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A classic CSV has files, bytes and pids, but no programs or system calls.
    a_csv = tmp_path / "a.csv"
    iomonitor.store.write(iomonitor.load(runs.a), a_csv)
    strip = ["--strip", str(runs.dir_a), "--strip", str(runs.dir_b)]
    assert main(["diff", str(a_csv), str(runs.b), "--by", "process"]) == 2
    assert capsys.readouterr().err == (
        "iomonitor: trace A does not name the programs (a classic CSV does not): "
        "it cannot be compared by process\n"
    )
    assert main(["diff", str(a_csv), str(runs.b), *strip, "--format", "json", "--top", "0"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "iomonitor: no processes table: a classic CSV does not record them",
        "iomonitor: no syscalls table: a classic CSV does not record them",
    ]
    doc = json.loads(captured.out)
    assert set(doc) == {"a", "b", "files", "peers"}
    data = next(r for r in doc["files"] if r["file"] == "/data.txt")
    assert (data["bytes_a"], data["bytes_b"], data["calls_a"], data["calls_b"]) == (
        2048,
        4096,
        2,
        4,
    )
    assert [(r["peer"], r["present"], r["bytes_a"]) for r in doc["peers"]] == [(PEER, "a", 3)]
