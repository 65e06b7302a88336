"""A dataset of runs from several hosts, written by the CLI and read for real by DuckDB.

Two strace logs made here are converted with ``--dataset DIR --host a`` and
``--host b``, and one command is captured live with ``--dataset DIR``; DuckDB
then reads ``DIR/**/*.parquet`` with hive partitioning, as docs/dataset.md
shows, and must agree with ``iomonitor.load(DIR)`` and with the bytes the
programs were given.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import iomonitor
from iomonitor import analysis

duckdb = pytest.importorskip("duckdb")

STRACE = "/usr/bin/strace"
IOMONITOR = [sys.executable, "-m", "iomonitor"]

pytestmark = [
    pytest.mark.strace,
    pytest.mark.skipif(not os.access(STRACE, os.X_OK), reason="strace is not installed"),
]

#: The events schema as DuckDB reads it, plus the two partition columns (docs/dataset.md).
DUCKDB_TYPES = {
    "time": "TIMESTAMP WITH TIME ZONE",
    "dt": "DOUBLE",
    "pid": "INTEGER",
    "fd": "INTEGER",
    "dir": "VARCHAR",
    "bytes": "BIGINT",
    "file": "VARCHAR",
    "port": "USMALLINT",
    "syscall": "VARCHAR",
    "kind": "VARCHAR",
    "tgid": "INTEGER",
    "comm": "VARCHAR",
    "local": "VARCHAR",
    "host": "VARCHAR",
    "run": "VARCHAR",
}


def sh(*args: str, cwd: Path) -> None:
    res = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"{args}: {res.returncode}\n{res.stderr}"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """DIR with three runs; host -> bytes its program copied from in.bin to out.bin."""
    work = tmp_path_factory.mktemp("fleet")
    ds = work / "ds"
    sizes = {"a": 3_001, "b": 70_000, socket.gethostname(): 12_345}
    for host, size in sizes.items():
        (work / host).mkdir()
        (work / host / "in.bin").write_bytes(b"x" * size)
    for host in ("a", "b"):
        log = work / f"{host}.log"
        copy = f"cat {work / host / 'in.bin'} > {work / host / 'out.bin'}"
        sh(STRACE, "-f", "-tt", "-T", "-yy", "-o", str(log), "sh", "-c", copy, cwd=work)
        sh(*IOMONITOR, "-i", str(log), "--dataset", str(ds), "--host", host, cwd=work)
    here = work / socket.gethostname()
    sh(
        *IOMONITOR,
        "--dataset",
        str(ds),
        "sh",
        "-c",
        f"cat {here}/in.bin > {here}/out.bin",
        cwd=work,
    )
    return ds, sizes


def query(sql: str) -> pd.DataFrame:
    return duckdb.connect().sql(sql).df()


def scan(ds: Path) -> str:
    # hive_types_autocast=false: a host named 1234 stays a name, not a number.
    return f"read_parquet('{ds}/**/*.parquet', hive_partitioning=true, hive_types_autocast=false)"


def test_layout_is_one_part_per_host_and_run(fleet) -> None:
    ds, sizes = fleet
    parts = sorted(p.relative_to(ds).parts for p in ds.rglob("*") if p.is_file())
    assert [p[0] for p in parts] == sorted(f"host={h}" for h in sizes)
    assert all(len(p) == 3 and p[1].startswith("run=") and p[2] == "part-0.parquet" for p in parts)


def test_duckdb_types_are_as_documented(fleet) -> None:
    ds, _ = fleet
    got = query(f"DESCRIBE SELECT * FROM {scan(ds)}")
    assert dict(zip(got["column_name"], got["column_type"], strict=True)) == DUCKDB_TYPES


def test_duckdb_totals_per_host_and_run_equal_iomonitor(fleet) -> None:
    ds, sizes = fleet
    trace = iomonitor.load(ds)
    # iomonitor's numbers: per run and file, from the analysis API.
    ours = analysis.by(trace, "file")
    # Files known only from failed opens have rows with errors but no event:
    # the failed calls live beside the events, where DuckDB does not look.
    assert (ours.loc[ours["calls"] == 0, "errors"] > 0).all()
    ours = ours[ours["calls"] > 0]
    ours = ours.assign(run=ours["run"].astype(str)).set_index(["run", "file"])
    theirs = query(
        f"""SELECT 'host=' || host || '/run=' || run AS run, file,
                   count(*) AS calls,
                   coalesce(sum(bytes) FILTER (WHERE dir = 'R'), 0) AS read_bytes,
                   coalesce(sum(bytes) FILTER (WHERE dir = 'W'), 0) AS write_bytes,
                   coalesce(sum(bytes) FILTER (WHERE dir = 'M'), 0) AS mapped_bytes
            FROM {scan(ds)} GROUP BY ALL"""
    ).set_index(["run", "file"])
    cols = ["calls", "read_bytes", "write_bytes", "mapped_bytes"]
    pd.testing.assert_frame_equal(
        theirs.sort_index()[cols].astype("int64"),
        ours.sort_index()[cols].astype("int64"),
        check_names=False,
    )
    # ...and both equal what each host's program was given to copy.
    per_host = query(
        f"""SELECT host, regexp_extract(file, '[^/]+$') AS name, dir, sum(bytes) AS bytes
            FROM {scan(ds)} WHERE file LIKE '%/out.bin' OR file LIKE '%/in.bin'
            GROUP BY ALL"""
    )
    got = {(r.host, r.name, r.dir): int(r.bytes) for r in per_host.itertuples()}
    want = {(h, "in.bin", "R"): n for h, n in sizes.items()}
    want.update({(h, "out.bin", "W"): n for h, n in sizes.items()})
    assert got == want


def test_duckdb_times_are_utc_instants(fleet) -> None:
    ds, _ = fleet
    trace = iomonitor.load(ds)
    theirs = query(
        f"""SELECT 'host=' || host || '/run=' || run AS run,
                   epoch_us(min(time)) AS first, epoch_us(max(time)) AS last
            FROM {scan(ds)} GROUP BY ALL"""
    ).set_index("run")
    times = trace.events["time"].astype("int64").groupby(trace.events["run"], observed=True)
    assert theirs["first"].to_dict() == {str(k): v for k, v in times.min().items()}
    assert theirs["last"].to_dict() == {str(k): v for k, v in times.max().items()}
    # The run id is the run's start in UTC, to the second.
    for name, meta in trace.meta["runs"].items():
        start = pd.Timestamp(theirs.loc[name, "first"], unit="us", tz="UTC")
        assert meta["run"][:16] <= f"{start:%Y%m%dT%H%M%SZ}"


def test_duckdb_reads_processes_and_meta_from_the_file_metadata(fleet) -> None:
    ds, sizes = fleet
    kv = query(
        f"""SELECT file_name, decode(value) AS blob FROM parquet_kv_metadata('{ds}/**/*.parquet')
            WHERE decode(key) = 'iomonitor'"""
    )
    assert len(kv) == len(sizes)
    trace = iomonitor.load(ds)
    for row in kv.itertuples():
        blob = json.loads(row.blob)
        meta = blob["meta"]
        assert f"/host={meta['host']}/run={meta['run']}/part-0.parquet" in row.file_name
        assert meta["mode"] == ("log" if meta["host"] in ("a", "b") else "run")
        ours = trace.processes[trace.processes["run"] == f"host={meta['host']}/run={meta['run']}"]
        assert sorted(blob["processes"]["pid"]) == sorted(ours["pid"].tolist())
        assert "cat" in blob["processes"]["comm"]


def test_stats_queries_the_dataset_on_disk_as_it_loads_it(fleet, monkeypatch) -> None:
    from iomonitor import store
    from iomonitor.cli import main

    ds, _ = fleet
    outputs = []
    for where in ("disk", "memory"):  # queried where it is, then loaded whole
        if where == "memory":
            monkeypatch.setattr(store, "scan", store.load)
        out = ds.parent / f"stats-{where}.json"
        with open(out, "w") as fh:
            monkeypatch.setattr(sys, "stdout", fh)
            assert main(["stats", "--by", "file", "--format", "json", "--top", "0", str(ds)]) == 0
        monkeypatch.undo()
        outputs.append(json.loads(out.read_text()))
    assert outputs[0] == outputs[1]
    assert {r["run"] for r in outputs[0]} == set(iomonitor.load(ds).meta["runs"])


def test_the_documented_duckdb_queries_run(fleet) -> None:
    ds, sizes = fleet
    doc = Path(__file__).resolve().parents[2] / "docs" / "dataset.md"
    [sql] = re.findall(r"```sql\n(.*?)```", doc.read_text(), re.S)
    statements = [s for s in sql.replace("DIR/", f"{ds}/").split(";") if s.strip()]
    assert len(statements) == 3
    con = duckdb.connect()
    per_run, top_files, metas = (con.sql(s).df() for s in statements)
    trace = iomonitor.load(ds)
    totals = analysis.by(trace, "kind").groupby("run", observed=True)[["read_bytes", "write_bytes"]]
    want = totals.sum().rename(index=str).sort_index()
    got = per_run.assign(run="host=" + per_run["host"] + "/run=" + per_run["run"])
    got = got.set_index("run")[["read_bytes", "write_bytes"]].sort_index()
    pd.testing.assert_frame_equal(got.astype("int64"), want.astype("int64"), check_names=False)
    assert set(top_files.columns) == {"file", "calls", "bytes", "hosts"} and len(top_files)
    assert sorted(metas["host"]) == sorted(sizes)
