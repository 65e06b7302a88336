"""One run in several files: Parquet parts with the same host and run id load as one run.

A run cut into files by rows (each file with the run's footer) gives the
numbers of the one file: loaded, scanned, through the CLI; files whose
footers cannot be one run's are refused with one line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pandas.testing import assert_frame_equal
from test_engine import aggregates, assert_same, synthetic, write_parquet

from iomonitor import analysis, store
from iomonitor.cli import main
from iomonitor.errors import InputError
from iomonitor.store.writers import PARQUET_KEY

RUN = "20231114T221320Z-00aa"


@pytest.fixture
def whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One run in one Parquet file: 3,000 events, failed calls, host and run id."""
    trace = synthetic(3000, seed=3)
    trace.meta.update(host="web7", run=RUN)
    return write_parquet(trace, tmp_path / "whole.parquet", monkeypatch, 250)


def split(path: Path, targets: list[Path], footer: dict | None = None) -> list[Path]:
    """Cut ``path``'s events into ``len(targets)`` files by rows, each with the same footer.

    ``footer`` replaces the stored one (the JSON document) when given.
    """
    table = pq.ParquetFile(path).read()  # with the footer's key-value metadata
    if footer is not None:
        table = table.replace_schema_metadata({PARQUET_KEY: json.dumps(footer)})
    per = -(-len(table) // len(targets))
    for i, target in enumerate(targets):
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table.slice(i * per, per), target)
    return targets


def stored(path: Path) -> dict:
    return json.loads(pq.ParquetFile(path).metadata.metadata[PARQUET_KEY])


def stats_output(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["stats", *args]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("layout", ["loose files", "hive folder"])
def test_parts_of_one_run_give_the_numbers_of_the_one_file(
    whole: Path, tmp_path: Path, layout: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "parts"
    if layout == "loose files":
        names = [folder / f"piece{i}.parquet" for i in range(4)]
    else:
        names = [folder / "host=web7" / f"run={RUN}" / f"part-{i}.parquet" for i in range(4)]
    parts = split(whole, names)
    one = store.load(whole)
    for trace in (store.load(folder), store.load(*parts), store.scan(folder)):
        # One run, not four: no run column, the run's own metadata and tables.
        assert "run" not in trace.processes.columns
        assert trace.meta == one.meta
        assert_frame_equal(trace.processes, one.processes)
        assert_frame_equal(trace.errors, one.errors)
        assert_same(aggregates(trace), aggregates(one))
    assert_frame_equal(store.load(folder).events, one.events)
    for view in ([], ["--by", "file"], ["--by", "process", "--format", "json"]):
        assert stats_output(capsys, *view, str(folder)) == stats_output(capsys, *view, str(whole))


def test_a_run_in_parts_beside_other_runs_is_named_by_host_and_run(
    whole: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = tmp_path / "ds"
    split(whole, [ds / "host=web7" / f"run={RUN}" / f"part-{i}.parquet" for i in range(3)])
    other = synthetic(500, seed=4)
    other.meta.update(host="db2", run="20231114T230000Z-0b0b")
    folder = ds / "host=db2" / "run=20231114T230000Z-0b0b"
    folder.mkdir(parents=True)
    write_parquet(other, folder / "part-0.parquet", monkeypatch, 100)
    names = ["host=db2/run=20231114T230000Z-0b0b", f"host=web7/run={RUN}"]
    loaded, scanned = store.load(ds), store.scan(ds)
    assert list(loaded.events["run"].cat.categories) == names
    assert list(scanned.scan.runs) == names
    assert scanned.meta == loaded.meta
    assert loaded.meta["runs"][names[1]] == store.load(whole).meta
    calls = analysis.by(scanned, "file").groupby("run", observed=True)["calls"].sum()
    assert calls.to_dict() == {names[0]: 500, names[1]: 3000}
    assert_same(aggregates(scanned), aggregates(loaded))
    # Its processes once, not once per part.
    procs = loaded.processes
    assert (procs["run"] == names[1]).sum() == len(store.load(whole).processes)


def test_the_same_files_given_twice_are_two_runs(whole: Path, tmp_path: Path) -> None:
    parts = split(whole, [tmp_path / "p" / f"piece{i}.parquet" for i in range(2)])
    # The second time by another name of the same files.
    again = [tmp_path / "p" / ".." / "p" / p.name for p in parts]
    for trace in (store.load(*parts, *again), store.scan(*parts, *again)):
        assert list(trace.meta["runs"]) == [f"host=web7/run={RUN}", f"host=web7/run={RUN}#2"]
        assert analysis.summary(trace)["events"] == 6000


def test_files_of_other_runs_stay_apart(whole: Path, tmp_path: Path) -> None:
    footer = stored(whole)
    a, b = split(whole, [tmp_path / "a.parquet", tmp_path / "b.parquet"])
    footer["meta"]["run"] = "20231114T221320Z-00bb"
    split(b, [b], footer)
    trace = store.scan(a, b)
    assert list(trace.scan.runs) == [str(a), str(b)]


def test_rows_only_some_parts_hold_are_added(whole: Path, tmp_path: Path) -> None:
    footer = stored(whole)
    first, second = json.loads(json.dumps(footer)), json.loads(json.dumps(footer))
    # The first part knows of the first failed call only, the second of both;
    # the second knows the processes, the first of none.
    first["errors"] = {c: v[:1] for c, v in footer["errors"].items()}
    first["processes"] = {c: [] for c in footer["processes"]}
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    split(whole, [a, b])
    split(a, [a], first)
    split(b, [b], second)
    one = store.load(whole)
    for trace in (store.load(a, b), store.scan(a, b)):
        assert_frame_equal(trace.errors, one.errors)
        assert_frame_equal(trace.processes, one.processes)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda f: f["meta"].update(mode="log"), "disagree on 'mode' ('run', 'log')"),
        (lambda f: f["errors"]["count"].__setitem__(0, 99), "disagree on the errors of pid 100"),
        (lambda f: f["processes"]["end"].__setitem__(0, 1), "disagree on the processes of pid"),
    ],
    ids=["metadata", "failed-call count", "process"],
)
def test_parts_that_cannot_be_one_run_are_refused_in_one_line(
    whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], change, said: str
) -> None:
    footer = stored(whole)
    change(footer)
    _, b = split(whole, [tmp_path / "p" / "a.parquet", tmp_path / "p" / "b.parquet"])
    split(b, [b], footer)
    for opener in (store.load, store.scan):
        with pytest.raises(InputError, match=re.escape(f"host=web7/run={RUN}: its files {said}")):
            opener(tmp_path / "p")
    for command in (["stats"], ["report", "-o", str(tmp_path / "r.html")]):
        assert main([*command, str(tmp_path / "p")]) == 3
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and said in err and "Traceback" not in err
