"""`iomonitor stats`: tables for people, records for machines, errors as one line."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from iomonitor import store
from iomonitor.cli import main
from iomonitor.errors import InputError
from iomonitor.trace import Trace, events_frame, rows_frame

WEIRD = "/weird|na\nme"
FIELDS = ("time", "dt", "pid", "fd", "dir", "bytes", "file", "port", "syscall", "kind", "tgid")


def make_events(rows: list[tuple]) -> pd.DataFrame:
    """rows: (time, dt, pid, fd, dir, bytes, file, port, syscall, kind, tgid, comm)."""
    cols: dict[str, list] = {name: [] for name in (*FIELDS, "comm", "local")}
    for row in rows:
        for name, value in zip((*FIELDS, "comm"), row, strict=True):
            cols[name].append(value)
        cols["local"].append(None)
    return events_frame(cols)


def proc(pid: int, ppid: int | None, tgid: int, comm: str) -> dict:
    return dict(pid=pid, ppid=ppid, tgid=tgid, comm=comm, argv=comm, start=1.0, end=4.0,
                exit_code=0, signal=None)  # fmt: skip


ROWS = [
    (1.0, 0.001, 10, 3, "R", 5000, "/data/big.bin", None, "read", "file", 10, "app"),
    (1.5, 0.002, 10, 4, "W", 1200, "/var/log/app.log", None, "write", "file", 10, "app"),
    (2.0, 0.003, 11, 5, "W", 300, "10.1.2.3", 5432, "sendto", "tcp", 10, "app"),
    (2.5, 0.004, 12, 3, "R", 2048, "10.1.2.3", 5432, "recvfrom", "tcp", 12, "psql"),
    (3.2, 0.010, 12, 4, "M", 65536, "/usr/lib/libpq.so", None, "mmap", "file", 12, "psql"),
    (3.3, 0.0005, 10, 6, "W", 40, WEIRD, None, "write", "file", 10, "app"),
]


def make_trace(rows: list[tuple] = ROWS) -> Trace:
    procs = rows_frame("processes", [proc(10, None, 10, "app"), proc(11, 10, 10, "app"),
                             proc(12, 10, 12, "psql")])  # fmt: skip
    errors = rows_frame("errors", [dict(pid=10, tgid=10, syscall="read", file="/data/missing",
                                kind="file", errno="ENOENT", count=4)])  # fmt: skip
    return Trace(make_events(rows), procs, errors, {"unparsed_lines": 0, "unknown_fds": 1})


@pytest.fixture
def loaded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Make store.scan (how the CLI opens traces) return the fixture trace; record what it was asked."""
    calls: list[tuple[str, ...]] = []

    def fake_scan(*paths: str, date: object = None, tz: str | None = None) -> Trace:
        assert tz is None  # no --tz given: the local zone
        calls.append(paths)
        return make_trace()

    monkeypatch.setattr(store, "scan", fake_scan)
    return calls


def stats(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(["stats", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def records(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    rc, out, err = stats(capsys, *args, "--format", "json", "t.parquet")
    assert (rc, err) == (0, "")
    return json.loads(out)


def pick(rows: list[dict], *names: str) -> list[tuple]:
    return [tuple(r[n] for n in names) for r in rows]


# -- machine formats ----------------------------------------------------------


def test_json_by_file_is_one_record_per_file_sorted_by_bytes(capsys, loaded) -> None:
    got = records(capsys, "--by", "file")
    assert loaded == [("t.parquet",)]
    assert pick(got, "file", "calls", "read_bytes", "write_bytes", "mapped_bytes", "errors") == [
        ("/data/big.bin", 1, 5000, 0, 0, 0),
        ("10.1.2.3", 2, 2048, 300, 0, 0),
        ("/var/log/app.log", 1, 0, 1200, 0, 0),
        (WEIRD, 1, 0, 40, 0, 0),
        ("/usr/lib/libpq.so", 1, 0, 0, 65536, 0),
        ("/data/missing", 0, 0, 0, 0, 4),
    ]
    assert all(type(r["read_bytes"]) is int for r in got)
    assert got[0]["first"] == "1970-01-01T00:00:01.000000Z"
    assert got[0]["time"] == 0.001


def test_json_key_is_named_after_by(capsys, loaded) -> None:
    got = records(capsys, "--by", "pid")
    assert pick(got, "pid", "calls", "read_bytes", "write_bytes") == [
        (10, 3, 5000, 1240),
        (12, 2, 2048, 0),
        (11, 1, 0, 300),
    ]
    got = records(capsys, "--by", "process")
    assert pick(got, "process", "bytes", "mapped_bytes", "errors") == [
        ("app", 6540, 0, 4),
        ("psql", 2048, 65536, 0),
    ]


def test_csv_by_peer_reads_back(capsys, loaded) -> None:
    rc, out, _ = stats(capsys, "--by", "peer", "--format", "csv", "t.parquet")
    assert rc == 0
    got = pd.read_csv(io.StringIO(out))[["peer", "calls", "read_bytes", "write_bytes", "bytes"]]
    expected = pd.DataFrame({"peer": ["10.1.2.3:5432"], "calls": [2], "read_bytes": [2048],
                             "write_bytes": [300], "bytes": [2348]})  # fmt: skip
    assert_frame_equal(got, expected, check_dtype=False)


def test_top_limits_rows_and_zero_means_all(capsys, loaded) -> None:
    assert len(records(capsys, "--by", "file", "--top", "2")) == 2
    assert len(records(capsys, "--by", "file", "--top", "0")) == 6


def test_interval_gives_bytes_per_bucket(capsys, loaded) -> None:
    got = records(capsys, "--interval", "1s")
    assert pick(got, "time", "read_bytes", "write_bytes", "read_rate") == [
        ("1970-01-01T00:00:01.000000Z", 5000, 1200, 5000.0),
        ("1970-01-01T00:00:02.000000Z", 2048, 300, 2048.0),
        ("1970-01-01T00:00:03.000000Z", 0, 40, 0.0),
    ]
    got = records(capsys, "--interval", "2s", "--by", "process", "--top", "1")
    assert pick(got, "time", "process", "read_bytes", "write_bytes") == [
        ("1970-01-01T00:00:00.000000Z", "app", 5000, 1200),
        ("1970-01-01T00:00:00.000000Z", "other", 0, 0),
        ("1970-01-01T00:00:02.000000Z", "app", 0, 340),
        ("1970-01-01T00:00:02.000000Z", "other", 2048, 0),
    ]


def test_json_without_by_holds_summary_and_tables(capsys, loaded) -> None:
    rc, out, _ = stats(capsys, "--format", "json", "t.parquet")
    doc = json.loads(out)
    assert rc == 0
    assert list(doc) == ["summary", "files", "peers", "processes", "syscalls"]
    assert doc["summary"]["read_bytes"] == 7048
    assert doc["summary"]["unknown_fds"] == 1
    assert doc["summary"]["unseen_bytes"] is None
    # Sockets are peers, not files.
    assert "10.1.2.3" not in [r["file"] for r in doc["files"]]
    assert [r["peer"] for r in doc["peers"]] == ["10.1.2.3:5432"]


def test_several_traces_keep_runs(capsys, monkeypatch) -> None:
    def two(*paths: str, date: object = None, tz: str | None = None) -> Trace:
        a, b = make_trace(ROWS[:1]), make_trace(ROWS[1:2])
        ev = pd.concat([a.events.assign(run=paths[0]), b.events.assign(run=paths[1])])
        ev["run"] = pd.Categorical(ev["run"], categories=list(paths))
        procs = pd.concat([a.processes.assign(run=p) for p in paths], ignore_index=True)
        errs = pd.concat([a.errors.assign(run=p) for p in paths], ignore_index=True)
        return Trace(ev.reset_index(drop=True), procs, errs, {})

    monkeypatch.setattr(store, "scan", two)
    rc, out, _ = stats(capsys, "--by", "pid", "--format", "json", "a.parquet", "b.parquet")
    assert rc == 0
    assert pick(json.loads(out), "run", "pid", "read_bytes", "write_bytes", "errors") == [
        ("a.parquet", 10, 5000, 0, 4),
        ("b.parquet", 10, 0, 1200, 4),
    ]


# -- filters ------------------------------------------------------------------


def test_filters(capsys, loaded) -> None:
    files = [r["file"] for r in records(capsys, "--by", "file", "--pid", "12")]
    assert files == ["10.1.2.3", "/usr/lib/libpq.so"]
    got = records(capsys, "--by", "file", "--file", "/data/*")
    assert pick(got, "file", "calls", "errors") == [
        ("/data/big.bin", 1, 0),
        ("/data/missing", 0, 4),
    ]
    got = records(capsys, "--by", "syscall", "--kind", "tcp")
    assert pick(got, "syscall", "bytes") == [("recvfrom", 2048), ("sendto", 300)]


def test_dir_filter_makes_errors_unknown(capsys, loaded) -> None:
    got = records(capsys, "--by", "file", "--dir", "R")
    assert pick(got, "file", "read_bytes", "write_bytes", "errors") == [
        ("/data/big.bin", 5000, 0, None),
        ("10.1.2.3", 2048, 0, None),
    ]


# -- tables for people ----------------------------------------------------------


def test_default_view(capsys, loaded, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    rc, out, _ = stats(capsys, "t.parquet")
    assert rc == 0
    blocks = out.split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == [
        "Summary", "Files", "Peers", "Processes", "Syscalls"
    ]  # fmt: skip
    summary = dict(line.split(None, 1) for line in blocks[0].splitlines()[1:] if "  " in line)
    assert summary["read"].strip() == "6.9 KiB"
    assert summary["mapped"].strip() == "64.0 KiB"
    files = blocks[1].splitlines()
    assert files[1].split()[:2] == ["file", "calls"]
    assert files[2].split()[:5] == ["/data/big.bin", "1", "4.9", "KiB", "0"]
    assert "/weird|na\\nme" in blocks[1]  # a newline in a name is shown escaped
    assert "unseen bytes    unknown" in blocks[0]
    assert blocks[2].splitlines()[2].startswith("10.1.2.3:5432")


def test_table_fits_the_terminal(capsys, monkeypatch) -> None:
    long_name = "/srv/" + "deep/" * 30 + "final.dat"
    rows = [(1.0, 0.1, 1, 3, "R", 10, long_name, None, "read", "file", 1, "x")]
    monkeypatch.setattr(store, "scan", lambda *p, date=None, tz=None: make_trace(rows))
    monkeypatch.setenv("COLUMNS", "72")
    rc, out, _ = stats(capsys, "--by", "file", "t.parquet")
    assert rc == 0
    assert max(len(line) for line in out.splitlines()) <= 72
    assert out.splitlines()[1].startswith("...")
    assert "final.dat" in out


def test_tree_table_indents_children(capsys, loaded) -> None:
    rc, out, _ = stats(capsys, "--by", "tree", "t.parquet")
    lines = out.splitlines()
    assert rc == 0
    assert lines[1].split()[:3] == ["10", "app", "2"]
    assert lines[2].split()[:3] == ["12", "psql", "1"]
    assert lines[2].index("psql") == lines[1].index("app") + 2


def test_markdown_escapes_pipes(capsys, loaded) -> None:
    rc, out, _ = stats(capsys, "--by", "file", "--format", "markdown", "t.parquet")
    assert rc == 0
    assert out.splitlines()[1].startswith("|:---|---:|")
    assert "| /weird\\|na\\\\nme |" in out


def test_escaped_bytes_in_names_pass_through_unchanged(capsys, monkeypatch) -> None:
    name = "/tmp/caf\\xe9.bin"  # how the trace spells the byte 0xe9 of a non-UTF-8 name
    rows = [(1.0, 0.1, 1, 3, "R", 10, name, None, "read", "file", 1, "x")]
    monkeypatch.setattr(store, "scan", lambda *p, date=None, tz=None: make_trace(rows))
    rc, out, _ = stats(capsys, "--by", "file", "t.parquet")
    assert rc == 0 and out.splitlines()[1].startswith("/tmp/caf\\xe9.bin ")
    rc, out, _ = stats(capsys, "--by", "file", "--format", "csv", "t.parquet")
    assert rc == 0 and pd.read_csv(io.StringIO(out))["file"].tolist()[0] == name


# -- errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "csv"], "--format csv writes a single table"),
        (["--by", "tree", "--interval", "1s"], "not by the process tree"),
        (["--interval", "soon"], "bad interval 'soon'"),
    ],
)
def test_usage_errors_are_one_line(capsys, loaded, args, message) -> None:
    rc, out, err = stats(capsys, *args, "t.parquet")
    assert rc == 2
    assert out == ""
    assert err.startswith("iomonitor: ") and message in err
    assert len(err.splitlines()) == 1


def test_input_error_exit_code(capsys, monkeypatch) -> None:
    def broken(*paths: str, date: object = None, tz: str | None = None) -> Trace:
        raise InputError(paths[0], "not a trace")

    monkeypatch.setattr(store, "scan", broken)
    rc, _, err = stats(capsys, "junk.bin")
    assert (rc, err) == (3, "iomonitor: junk.bin: not a trace\n")


def test_help_is_the_docstring(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["stats", "--help"])
    assert exit_.value.code == 0
    assert "Summarize traces" in capsys.readouterr().out


def test_reads_a_real_classic_csv(capsys, tmp_path) -> None:
    path = tmp_path / "wc.csv"
    path.write_text(
        "time,dt,pid,fd,dir,bytes,file,port\n"
        '17:51:39.781925,0.000008,3854,3,R,2022,"/etc/fstab",\n'
        '17:51:39.781961,0.000006,3854,3,R,0,"/etc/fstab",\n'
        "17:51:39.782031,0.000016,3854,1,W,26,stdout,\n"
        '17:51:39.784430,0.000063,3855,1,W,4,"/dev/null",\n'
    )
    rc, out, _ = stats(capsys, "--by", "file", "--format", "json", str(path))
    assert rc == 0
    assert pick(json.loads(out), "file", "calls", "read_bytes", "write_bytes") == [
        ("/etc/fstab", 2, 2022, 0),
        ("stdout", 1, 0, 26),
        ("/dev/null", 1, 0, 4),
    ]


_NO_PANDAS = """\
import sys
from iomonitor.cli import main
status = main(sys.argv[1:])
heavy = sorted(m for m in ("pandas", "matplotlib", "numpy") if m in sys.modules)
print("imported:", " ".join(heavy) or "-")
sys.exit(status)
"""


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("--format", "markdown"),
        ("--by", "peer"),
        ("--format", "json"),
        ("--by", "peer", "--format", "json"),
        ("--by", "peer", "--format", "csv"),
    ],
)
def test_stats_imports_no_pandas(capsys, tmp_path, args) -> None:
    """The views are the engine's rows written out: pandas is never imported for them.

    The same command run here, where pandas is loaded, writes the same text.
    """
    import subprocess
    import sys

    path = tmp_path / "t.parquet"
    make_trace().save(path)
    run = subprocess.run(
        [sys.executable, "-c", _NO_PANDAS, "stats", *args, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    text, _, imported = run.stdout.rpartition("imported: ")
    assert imported == "-\n"
    status, out, _ = stats(capsys, *args, str(path))
    assert status == 0
    assert text == out
    assert "10.1.2.3:5432" in text
    assert ("/data/big.bin" in text) == ("--by" not in args)


def test_top_entries_of_several_runs_add_each_name_up_over_the_runs(capsys, tmp_path) -> None:
    """Each run's table shows its own first rows; the summary's top file sums all runs.

    Run a reads x most, run b reads y most; over both, y (16 bytes) beats x (11).
    """
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    make_trace(
        [
            (1.0, 0.1, 10, 3, "R", 10, "/x", None, "read", "file", 10, "app"),
            (1.1, 0.1, 10, 3, "R", 8, "/y", None, "read", "file", 10, "app"),
        ]
    ).save(a)
    make_trace([(1.0, 0.1, 10, 3, "R", 8, "/y", None, "read", "file", 10, "app"),
                (1.1, 0.1, 10, 3, "R", 1, "/x", None, "read", "file", 10, "app")]).save(b)  # fmt: skip
    rc, out, _ = stats(capsys, "--top", "1", "--format", "json", str(a), str(b))
    doc = json.loads(out)
    assert rc == 0
    assert (doc["summary"]["top_file"], doc["summary"]["top_file_bytes"]) == ("/y", 16)
    assert [(r["run"], r["file"], r["bytes"]) for r in doc["files"]] == [
        (str(a), "/x", 10),
        (str(b), "/y", 8),
    ]
    # The whole tables (no --top) give the same summary.
    rc, out, _ = stats(capsys, "--top", "0", "--format", "json", str(a), str(b))
    assert json.loads(out)["summary"] == doc["summary"]
    # Each run: /x, /y, and /data/missing, whose calls all failed.
    assert sorted((r["run"], r["file"]) for r in json.loads(out)["files"]) == [
        (run, f) for run in (str(a), str(b)) for f in ("/data/missing", "/x", "/y")
    ]


@pytest.mark.parametrize("args", [(), ("--by", "file", "--format", "json")])
def test_byte_totals_past_64_bits_are_one_line_and_exit_3(capsys, tmp_path, args) -> None:
    # Two calls of 2**62 bytes each: their total, 2**63, is no 64-bit integer.
    rows = [(t, 0.001, 10, 3, "R", 2**62, "/big", None, "read", "file", 10, "app") for t in (1, 2)]
    make_trace(rows).save(tmp_path / "big.parquet")
    rc, out, err = stats(capsys, *args, str(tmp_path / "big.parquet"))
    assert rc == 3 and out == ""
    assert err.startswith(f"iomonitor: {tmp_path / 'big.parquet'}: holds numbers too large")
    assert err.count("\n") == 1
