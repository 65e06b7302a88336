"""The converter reproduces the golden outputs row for row.

``tests/golden/make_golden.py`` recorded the logs and wrote what the converter
gave for them (events in every column, processes, failed calls, counters)
before the event core was rewritten. A difference here is either a defect of
the new code or a fixed bug, which then gets its own test and a regenerated
golden file (``make_golden.py update``) in the same commit.
"""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path

import pandas as pd
import pytest

_SPEC = importlib.util.spec_from_file_location(
    "make_golden", Path(__file__).resolve().parent.parent / "golden" / "make_golden.py"
)
assert _SPEC is not None and _SPEC.loader is not None
golden = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(golden)

INPUTS = golden.golden_inputs()


def test_golden_set_covers_every_shape() -> None:
    shapes = {name.split(".", 1)[1] for name in INPUTS if "." in name}
    assert shapes == set(golden.SHAPES)
    runs = {name.split(".", 1)[0] for name in INPUTS if "." in name}
    assert runs == set(golden.RUNS)


def _stored(frame: pd.DataFrame) -> pd.DataFrame:
    # The goldens are Parquet: compare what a Parquet round trip keeps (an
    # all-null categorical comes back as float64 on both sides).
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return pd.read_parquet(buf)


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_golden_output(name: str) -> None:
    got = golden.convert(INPUTS[name])
    out = golden.OUT
    want_events = pd.read_parquet(out / f"{name}.events.parquet")
    assert len(got["events"]) == len(want_events)
    pd.testing.assert_frame_equal(_stored(got["events"]), want_events)
    pd.testing.assert_frame_equal(
        _stored(got["processes"]), pd.read_parquet(out / f"{name}.processes.parquet")
    )
    pd.testing.assert_frame_equal(
        _stored(got["errors"]), pd.read_parquet(out / f"{name}.errors.parquet")
    )
    want_meta = json.loads((out / f"{name}.meta.json").read_text())
    assert json.loads(json.dumps(got["meta"], sort_keys=True, default=str)) == want_meta
