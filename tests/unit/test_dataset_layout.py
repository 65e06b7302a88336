"""Parquet datasets: the host=/run= layout, run ids, no half part on failure, reading back."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import socket
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from iomonitor import columns, store
from iomonitor.cli import main
from iomonitor.errors import OutputError
from iomonitor.store import writers
from iomonitor.trace import Trace, events_frame, rows_frame

START = dt.datetime(2026, 3, 4, 10, 0, 0, tzinfo=dt.UTC).timestamp()
RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{4}")

#: A small strace log (strace -f -tt -T -yy): cat reads a file and writes it out.
LOG = """\
700 10:00:00.000100 execve("/bin/cat", ["cat", "/srv/in.txt"], 0x7ffd /* 1 var */) = 0 <0.000200>
700 10:00:00.000400 openat(AT_FDCWD</srv>, "/srv/in.txt", O_RDONLY) = 3</srv/in.txt> <0.000010>
700 10:00:00.000500 read(3</srv/in.txt>, "hello world\\n", 131072) = 12 <0.000008>
700 10:00:00.000600 write(1</dev/null>, "hello world\\n", 12) = 12 <0.000006>
700 10:00:00.000700 read(3</srv/in.txt>, "", 131072) = 0 <0.000005>
700 10:00:00.000800 close(3</srv/in.txt>) = 0 <0.000004>
700 10:00:00.000900 exit_group(0) = ?
700 10:00:00.001000 +++ exited with 0 +++
"""


def small_trace(n: int = 6, start: float = START, **meta: object) -> Trace:
    cols = {
        "time": [start + i for i in range(n)],
        "dt": [1e-6] * n,
        "pid": [10] * n,
        "fd": [3] * n,
        "dir": ["R", "W"] * (n // 2),
        "bytes": [100 * (i + 1) for i in range(n)],
        "file": ["/srv/a", "stdout"] * (n // 2),
        "port": [None] * n,
        "syscall": ["read", "write"] * (n // 2),
        "kind": ["file", "tty"] * (n // 2),
        "tgid": [10] * n,
        "comm": ["prog"] * n,
        "local": [None] * n,
    }
    procs = rows_frame(
        "processes",
        [
            {
                "pid": 10,
                "ppid": None,
                "tgid": 10,
                "comm": "prog",
                "argv": "prog",
                "start": start,
                "end": start + n,
                "exit_code": 0,
                "signal": None,
            }
        ],
    )
    return Trace(events_frame(cols), procs, meta={"mode": "log", "events": n, **meta})


def files_under(root: Path) -> list[str]:
    """Every file under root (hidden ones too), relative, sorted."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_trace_becomes_host_run_part_file(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    trace = small_trace(host="web1")
    store.write(trace, f"{ds}/")  # the trailing slash names a dataset
    [part] = files_under(ds)
    host, run, name = part.split("/")
    assert host == "host=web1"  # the host the trace's metadata names
    assert name == "part-0.parquet"
    run_id = run.removeprefix("run=")
    assert RUN_ID.fullmatch(run_id)
    # The run id sorts by time: without a capture start or a "start" it is
    # when the sink was opened, i.e. about now.
    assert abs(dt.datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ").replace(
        tzinfo=dt.UTC).timestamp() - dt.datetime.now(dt.UTC).timestamp()) < 60  # fmt: skip
    # The events schema is unchanged: no host/run columns inside the file
    # (they live in the path, where hive-partitioned readers find them).
    pf = pq.ParquetFile(ds / part)
    assert pf.schema_arrow.names == list(columns.ARROW_EVENTS.names)
    blob = json.loads(pf.metadata.metadata[writers.PARQUET_KEY])
    assert blob["meta"]["host"] == "web1"
    assert blob["meta"]["run"] == run_id
    assert blob["processes"]["comm"] == ["prog"]


def test_run_id_is_the_trace_start_in_utc(tmp_path: Path) -> None:
    sink = store.DatasetSink(tmp_path, host="h")
    trace = small_trace()
    sink.write(trace.events)
    sink.close(trace.processes, trace.errors, {"capture_start": START + 0.7})
    assert sink.path is not None and sink.run is not None
    assert sink.run.startswith("20260304T100000Z-")
    assert sink.path == tmp_path / "host=h" / f"run={sink.run}" / "part-0.parquet"
    # A converted log has no capture start: its first line's time ("start").
    sink = store.DatasetSink(tmp_path, host="h")
    sink.close(trace.processes, trace.errors, {"start": "2025-12-31T23:59:59.5+00:00"})
    assert sink.run is not None and sink.run.startswith("20251231T235959Z-")


def test_runs_never_overwrite_each_other(tmp_path: Path, monkeypatch) -> None:
    trace = small_trace()
    ids = iter(["20260304T100000Z-aaaa", "20260304T100000Z-aaaa", "20260304T100000Z-bbbb"])
    monkeypatch.setattr(writers, "new_run_id", lambda start=None: next(ids))
    for _ in range(2):
        store.write(trace, f"{tmp_path}/ds/")
    # The second run drew the same id as the first: it drew again.
    assert files_under(tmp_path / "ds") == [
        f"host={socket.gethostname()}/run=20260304T100000Z-aaaa/part-0.parquet",
        f"host={socket.gethostname()}/run=20260304T100000Z-bbbb/part-0.parquet",
    ]
    # A run id given explicitly is never reused.
    sink = store.DatasetSink(tmp_path / "ds", run="20260304T100000Z-aaaa")
    with pytest.raises(OutputError, match="already in the dataset"):
        sink.close(trace.processes, trace.errors, {})
    assert len(files_under(tmp_path / "ds")) == 2


def test_no_half_part_while_writing_or_after_a_failure(tmp_path: Path, monkeypatch) -> None:
    ds = tmp_path / "ds"
    store.write(small_trace(start=START - 3600), f"{ds}/", fmt="parquet")
    [done] = files_under(ds)
    trace = small_trace()
    sink = store.DatasetSink(ds, host="h")
    sink.write(trace.events)
    # While a run is being written, readers of the dataset see only the
    # finished ones: the part in progress is a hidden *.tmp file.
    assert [str(p.relative_to(ds)) for p in ds.rglob("*.parquet")] == [done]
    assert len(store.load(ds).events) == len(trace.events)
    sink.abort()
    assert files_under(ds) == [done]
    assert not list((ds / "host=h").iterdir())  # no run folder either

    # A failure while closing (the rename into place) leaves nothing either.
    def no_rename(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    sink = store.DatasetSink(ds, host="h")
    sink.write(trace.events)
    monkeypatch.setattr(writers.os, "replace", no_rename)
    with pytest.raises(OutputError, match="No space left"):
        sink.close(trace.processes, trace.errors, {})
    monkeypatch.undo()
    assert files_under(ds) == [done]
    assert not list((ds / "host=h").iterdir())


def test_what_names_a_dataset_and_what_is_refused(tmp_path: Path) -> None:
    (tmp_path / "there").mkdir()
    assert store.is_dataset_target(f"{tmp_path}/new/")
    assert store.is_dataset_target(tmp_path / "there")  # an existing folder
    assert not store.is_dataset_target(tmp_path / "new")
    assert not store.is_dataset_target(tmp_path / "t.parquet")
    with pytest.raises(OutputError, match="Parquet files only"):
        store.open_sink(tmp_path / "there", "csv")
    with pytest.raises(OutputError, match="cannot name a dataset folder"):
        store.DatasetSink(tmp_path / "there", host="a/b")
    with pytest.raises(OutputError, match="cannot name a dataset folder"):
        store.DatasetSink(tmp_path / "there", host="web1", run="../x")
    with pytest.raises(OutputError, match="no such directory"):
        store.DatasetSink(tmp_path / "missing" / "ds", host="web1")
    assert files_under(tmp_path) == []


def test_names_and_host_come_from_the_folders(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    for host, start in (("a", START), ("b", START + 60), ("a", START + 120)):
        sink = store.DatasetSink(ds, host=host)
        trace = small_trace(start=start)
        sink.write(trace.events)
        sink.close(trace.processes, trace.errors, {"mode": "log", "start": None})
    # A part moved to another host's folder belongs to that host (as for
    # DuckDB or Spark, which only see the path).
    moved = ds / "host=c" / "run=20200101T000000Z-0000"
    moved.mkdir(parents=True)
    first = sorted(ds.glob("host=b/run=*/part-0.parquet"))[0]
    first.rename(moved / "part-0.parquet")
    trace = store.load(ds)
    names = list(trace.events["run"].cat.categories)
    assert names == sorted(names)  # host, then time
    assert [n.split("/")[0] for n in names] == ["host=a", "host=a", "host=c"]
    for name in names:
        meta = trace.meta["runs"][name]
        assert name == f"host={meta['host']}/run={meta['run']}"
    # One part alone knows its host and run too.
    alone = store.load(moved / "part-0.parquet")
    assert (alone.meta["host"], alone.meta["run"]) == ("c", "20200101T000000Z-0000")
    # A scan of the dataset (queried on disk) names and describes runs the same way.
    scanned = store.scan(ds)
    assert list(scanned.scan.runs) == names
    assert scanned.meta == trace.meta


def test_run_name_and_partition_values() -> None:
    part = "x/ds/host=web%2D1/run=20261127T133501Z-3f9a/part-0.parquet"
    assert store.partition_values(part) == {"host": "web-1", "run": "20261127T133501Z-3f9a"}
    assert store.run_name(part) == "host=web%2D1/run=20261127T133501Z-3f9a"
    assert store.run_name("ds/host=a/run=r/part-3.parquet") == "host=a/run=r/part-3.parquet"
    assert store.run_name("ds/day=1/t.parquet") == "ds/day=1/t.parquet"
    assert store.partition_values("ds/day=1/t.parquet") == {}


def test_cli_convert_into_a_dataset(tmp_path: Path, capsys) -> None:
    log = tmp_path / "cat.log"
    log.write_text(LOG)
    ds = tmp_path / "ds"
    assert main(["-i", str(log), "--date", "2026-03-04", "--dataset", str(ds), "--host", "a"]) == 0
    assert main(["-i", str(log), "--date", "2026-03-04", "-o", f"{ds}/", "--host", "b"]) == 0
    assert main(["-i", str(log), "--date", "2026-03-04", "-o", str(ds)]) == 0  # existing folder
    parts = files_under(ds)
    assert [p.split("/")[0] for p in parts] == ["host=a", "host=b", f"host={socket.gethostname()}"]
    # A log's run id is the UTC time of its first line (local time in a -tt log).
    first = dt.datetime(2026, 3, 4, 10, 0, 0).astimezone(dt.UTC)
    assert all(p.split("/")[1].startswith(f"run={first:%Y%m%dT%H%M%SZ}-") for p in parts)
    trace = store.load(ds)
    per_run = trace.events.groupby(["run", "file", "dir"], observed=True)["bytes"].sum()
    assert per_run.xs(("/srv/in.txt", "R"), level=("file", "dir")).tolist() == [12, 12, 12]
    assert capsys.readouterr().out == ""  # nothing on stdout with a dataset


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "x.parquet", "--dataset", "ds"], "not both"),
        (["--dataset", "ds", "--format", "csv"], "holds Parquet"),
        (["-o", "ds/", "--format", "csv"], "holds Parquet"),
        (["-o", "x.parquet", "--host", "a"], "--host names a dataset"),
        (["--dataset", "ds", "--host", "a b"], "cannot name a folder"),
    ],
)
def test_cli_refuses_before_running(tmp_path: Path, monkeypatch, capsys, args, message) -> None:
    log = tmp_path / "cat.log"
    log.write_text(LOG)
    monkeypatch.chdir(tmp_path)
    # argparse refuses a bad --host itself (exit status 2); the rest main() refuses.
    with pytest.raises(SystemExit) if "a b" in args else contextlib.nullcontext():
        assert main(["-i", str(log), *args]) == 2
    assert message in capsys.readouterr().err
    assert files_under(tmp_path) == ["cat.log"]
