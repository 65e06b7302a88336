"""The .io accessor: registered on import, a pass-through with column checks."""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import iomonitor.analysis  # noqa: F401  (registers .io)
from iomonitor.errors import UsageError
from iomonitor.trace import events_frame


@pytest.fixture
def events() -> pd.DataFrame:
    """pid 5 reads 100 then 28 bytes of /a, then writes 3 bytes to stdout."""
    return events_frame({
        "time": [1.0, 1.4, 2.2], "dt": [0.5, 0.25, 0.125], "pid": [5, 5, 5],
        "fd": [3, 3, 1], "dir": ["R", "R", "W"], "bytes": [100, 28, 3],
        "file": ["/a", "/a", "stdout"], "port": [None, None, None],
        "syscall": ["read", "read", "write"], "kind": ["file", "file", "tty"],
        "tgid": [5, 5, 5], "comm": ["sh", "sh", "sh"], "local": [None, None, None],
    })  # fmt: skip


def utc(seconds: float) -> pd.Timestamp:
    return pd.Timestamp(int(seconds * 1e6), unit="us", tz="UTC")


def test_by(events: pd.DataFrame) -> None:
    expected = pd.DataFrame({
        "file": pd.Series(["/a", "stdout"], dtype="str"),
        "calls": [2, 1], "read_bytes": [128, 0], "write_bytes": [0, 3],
        "mapped_bytes": [0, 0], "bytes": [128, 3], "mean_size": [64.0, 3.0],
        "max_size": pd.array([100, 3], dtype="Int64"),
        "errors": pd.array([None, None], dtype="Int64"),
        "time": [0.75, 0.125],
        "first": pd.Series([utc(1.0), utc(2.2)], dtype="datetime64[us, UTC]"),
        "last": pd.Series([utc(1.4), utc(2.2)], dtype="datetime64[us, UTC]"),
    })  # fmt: skip
    assert_frame_equal(events.io.by("file"), expected)


def test_bandwidth(events: pd.DataFrame) -> None:
    expected = pd.DataFrame({
        "time": pd.Series([utc(1.0), utc(2.0)], dtype="datetime64[us, UTC]"),
        "read_bytes": [128, 0], "write_bytes": [0, 3],
        "read_rate": [128.0, 0.0], "write_rate": [0.0, 3.0],
    })  # fmt: skip
    assert_frame_equal(events.io.bandwidth("1s"), expected)


def test_sizes(events: pd.DataFrame) -> None:
    expected = pd.DataFrame({
        "dir": pd.Series(["R", "R", "R", "W"], dtype="str"),
        "low": [16, 32, 64, 2], "high": [31, 63, 127, 3],
        "calls": [1, 0, 1, 1], "bytes": [28, 0, 100, 3],
    })  # fmt: skip
    assert_frame_equal(events.io.sizes(), expected)


def test_latency(events: pd.DataFrame) -> None:
    expected = pd.DataFrame({
        "syscall": pd.Series(["read", "write"], dtype="str"),
        "calls": [2, 1], "time": [0.75, 0.125], "mean": [0.375, 0.125],
        "p50": [0.375, 0.125], "p90": [0.475, 0.125], "p99": [0.4975, 0.125],
        "max": [0.5, 0.125],
    })  # fmt: skip
    assert_frame_equal(events.io.latency(), expected)


@pytest.mark.parametrize(
    ("call", "missing"),
    [
        (lambda df: df.io.by("peer"), "port"),
        (lambda df: df.io.bandwidth("1s", key="process"), "comm"),
        (lambda df: df.io.sizes(), "bytes"),
        (lambda df: df.io.latency(), "dt"),
    ],
)
def test_missing_columns_are_named(events: pd.DataFrame, call, missing: str) -> None:
    with pytest.raises(UsageError, match=f"column\\(s\\) {missing}\\b"):
        call(events.drop(columns=[missing]))


def test_unknown_key_is_a_usage_error(events: pd.DataFrame) -> None:
    with pytest.raises(UsageError, match="unknown key 'host'"):
        events.io.by("host")


@pytest.mark.parametrize(
    "script",
    [
        # The README's way: the trace's own DataFrame.
        "import iomonitor\n"
        "t = iomonitor.load(PATH)\n"
        "print(int(t.events.io.by('file')['read_bytes'].sum()))",
        # pandas imported after the analysis package: df.io is there all the same.
        "import iomonitor.analysis\n"
        "import pandas as pd\n"
        "print(int(pd.read_parquet(PATH).io.by('file')['read_bytes'].sum()))",
    ],
)
def test_io_accessor_is_registered_whatever_the_import_order(tmp_path, script: str) -> None:
    """A fresh interpreter that never imported pandas first still finds ``df.io``."""
    import subprocess
    import sys

    path = tmp_path / "t.parquet"
    frame = events_frame({
        "time": [1.0, 2.0], "dt": [0.5, 0.25], "pid": [5, 5], "fd": [3, 3],
        "dir": ["R", "R"], "bytes": [100, 28], "file": ["/a", "/a"], "port": [None, None],
        "syscall": ["read", "read"], "kind": ["file", "file"], "tgid": [5, 5],
        "comm": ["sh", "sh"], "local": [None, None],
    })  # fmt: skip
    frame.to_parquet(path)
    res = subprocess.run(
        [sys.executable, "-c", script.replace("PATH", repr(str(path)))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "128"
