"""The Parquet footer's JSON, written by the compiled core, is the json module's, byte for byte.

``dumps_json`` replaced ``json.dumps`` for the footer (the processes, failed
calls and execs of a process-heavy log are hundreds of thousands of values):
every reader (``Trace.load``, ``stats``, DuckDB's ``parquet_kv_metadata``)
must see the same document as before.
"""

from __future__ import annotations

import datetime as _dt
import json
import random

import pyarrow.parquet as pq
import pytest
from iomonitor.strace._core import dumps_json

from iomonitor.store import writers

# Every kind of value the footer holds, and the text that needs escapes:
# quotes, backslashes, control characters, DEL, non-ASCII, a character
# outside the BMP (a surrogate pair in JSON), a lone surrogate (a path
# byte that is not UTF-8, kept by surrogateescape), ints past int64.
VALUES = [
    None,
    True,
    False,
    0,
    1,
    -1,
    7,
    2**63 - 1,
    -(2**63),
    2**63,
    2**64,
    -(2**70),
    0.5,
    -1e300,
    1e-7,
    float("nan"),
    float("inf"),
    float("-inf"),
    "",
    "a",
    "/usr/lib/x86_64-linux-gnu/libc.so.6",
    'say "hi"',
    "back\\slash",
    "\x00\x01\x1f",
    "tab\tnew\nline\r",
    "\x7f",
    "~ ",
    "é",
    "日本",
    "\U0001f600",
    "\udcff",
    "bad\udc80name",
    (1, "x"),
    _dt.datetime(2026, 1, 5, 10, 0, 0),
]


def _value(rng: random.Random, depth: int = 0) -> object:
    r = rng.random()
    if depth < 3 and r < 0.2:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    if depth < 3 and r < 0.35:
        keys = ["pid", "fé", 'q"k', "", "\udcff"]
        return {rng.choice(keys): _value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    if depth < 3 and r < 0.38:
        return {1: "int key", "b": 2}  # keys the json module turns into strings
    return rng.choice(VALUES)


@pytest.mark.parametrize("seed", range(20))
def test_dumps_json_is_the_json_modules_bytes(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        value = _value(rng)
        want = json.dumps(value, default=writers._meta_json).encode()
        assert dumps_json(value, writers._meta_json) == want, value


@pytest.mark.parametrize("value", VALUES)
def test_every_single_value(value: object) -> None:
    for wrapped in (value, [value], {"k": [value, value]}):
        want = json.dumps(wrapped, default=writers._meta_json).encode()
        assert dumps_json(wrapped, writers._meta_json) == want


def test_a_value_json_cannot_write_raises_as_json_does() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps_json({"x": [object()]}, writers._meta_json)


def test_the_written_footer_reads_back_as_the_json_modules(tmp_path) -> None:
    processes = {
        "pid": [10, 11],
        "ppid": [None, 10],
        "tgid": [10, 11],
        "comm": ["sh", "bad\udc80"],
        "argv": ["sh -c 'x'", "é"],
        "argv_cut": [False, True],
        "start": [1795780000000000, None],
        "end": [None, 1795780000000488],
        "exit_code": [0, None],
        "signal": [None, "SIGKILL"],
    }
    errors = {
        "pid": [11],
        "tgid": [11],
        "syscall": ["openat"],
        "file": ['/a "b"\n'],
        "kind": ["file"],
        "errno": ["ENOENT"],
        "count": [3],
    }
    execs = {
        "pid": [11],
        "tgid": [11],
        "time": [1795780000000100],
        "path": ["/bin/true"],
        "argv": ["true"],
        "argv_cut": [False],
    }
    meta = {
        "mode": "log",
        "source": "x.log",
        "lines": 12,
        "time_styles": ["epoch"],
        "start": _dt.datetime(2026, 1, 5, tzinfo=_dt.UTC),
    }
    out = tmp_path / "t.parquet"
    sink = writers.ParquetSink(out)
    sink.close(processes, errors, meta, execs)
    stored = pq.ParquetFile(out).metadata.metadata[writers.PARQUET_KEY]
    blob = {"meta": meta, "processes": processes, "errors": errors, "execs": execs}
    assert stored == json.dumps(blob, default=writers._meta_json, ensure_ascii=True).encode()
