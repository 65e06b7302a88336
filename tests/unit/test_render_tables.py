"""render.tables: the one table writer of `stats` and `diff`, on literal cells."""

from __future__ import annotations

import datetime
import json
import random

import pandas as pd
import pytest

from iomonitor.analysis.engine import Rows
from iomonitor.render import tables


def test_text_table_cuts_the_widest_name_in_front_to_fit_the_width() -> None:
    cells: tables.Cells = [
        ("file", ["/a/very/long/directory/name/holding/the/file.txt", "/b"], False),
        ("bytes", ["1.0 KiB", "2 B"], True),
    ]
    # 49 + 2 + 7 characters do not fit in 30: the name column gives up 28, from the front.
    assert tables.text_table(cells, width=30) == (
        "file                     bytes\n"
        "...lding/the/file.txt  1.0 KiB\n"
        "/b                         2 B\n"
    )


def test_markdown_escapes_bars_and_backslashes_in_names() -> None:
    cells: tables.Cells = [("file", ["a|b\\c"], False), ("n", ["1"], True)]
    assert tables.markdown(cells) == "| file | n |\n|:---|---:|\n| a\\|b\\\\c | 1 |\n"


# -- CSV and JSON of the engine's rows, as pandas wrote them before -------------------------

_UTC = datetime.UTC
_EDGES = [
    # (name, a count, a float, a nullable count, a time)
    ("/srv/é/ü", 1, 0.1 + 0.2, 4, datetime.datetime(2026, 1, 5, 10, 0, 0, 250000, tzinfo=_UTC)),
    ("tab\there", 2**62, 1e16, None, datetime.datetime(2026, 1, 5, 10, 0, 1, tzinfo=_UTC)),
    ('😀 "q" a,b', -3, 1.5e16, 0, None),
    ("x\x7fy\x01", 0, float("nan"), 7, datetime.datetime(2026, 1, 5, 10, 0, 2, 1, tzinfo=_UTC)),
    (None, 5, 5e-11, 1, datetime.datetime(1999, 12, 31, tzinfo=_UTC)),
    ("ties", 6, 2.5e-11, 2, None),
    ("tie odd", 7, 0.00000000015, 3, None),
    ("small", 8, 1e-16, 3, None),
    ("neg", 9, -1234.56789012345678, 3, None),
    ("whole", 10, 3.0, 3, None),
]
_COLUMNS = ("file", "calls", "mean_size", "errors", "first")


def _frame(data: list[tuple]) -> pd.DataFrame:
    """The values as a table of totals holds them: the dtypes of ``analysis.by``."""
    columns = list(zip(*data, strict=True)) if data else [[]] * len(_COLUMNS)
    return pd.DataFrame(
        {
            "file": pd.Series(columns[0], dtype="str"),
            "calls": pd.Series(columns[1], dtype="int64"),
            "mean_size": pd.Series(columns[2], dtype="float64"),
            "errors": pd.array(columns[3], dtype="Int64"),
            "first": pd.Series(pd.to_datetime(list(columns[4]), utc=True)).astype(
                "datetime64[us, UTC]"
            ),
        }
    )


@pytest.mark.parametrize("data", [_EDGES, _EDGES[:1], _EDGES[4:], []])
def test_rows_are_written_as_pandas_writes_the_same_table(data) -> None:
    """Ties, 1e16 and beyond, NaN, NA, ints, unicode and control characters, no row at all."""
    rows = Rows(_COLUMNS, list(data))
    frame = _frame(data)
    assert tables.json_text(rows) == frame.to_json(
        orient="records", date_format="iso", date_unit="us", indent=2
    )
    assert tables.csv_text(rows) == frame.to_csv(index=False)
    assert tables.plain_records(rows) == json.loads(
        frame.to_json(orient="records", date_format="iso", date_unit="us")
    )


def test_times_in_csv_keep_the_decimals_their_column_needs() -> None:
    def csv_of(*micros: int) -> list[str]:
        stamps = [(datetime.datetime(2026, 1, 5, 10, 0, 0, us, tzinfo=_UTC),) for us in micros]
        return tables.csv_text(Rows(("t",), stamps)).splitlines()[1:]

    assert csv_of(0, 0) == ["2026-01-05 10:00:00+00:00"] * 2
    assert csv_of(0, 250000) == ["2026-01-05 10:00:00.000+00:00", "2026-01-05 10:00:00.250+00:00"]
    assert csv_of(1, 0) == ["2026-01-05 10:00:00.000001+00:00", "2026-01-05 10:00:00.000000+00:00"]


def test_json_floats_round_as_pandas_does() -> None:
    """Ten decimals, ties broken the writer's way, %g beyond 1e16: compared on many values."""
    rng = random.Random(12)
    values = [k / 2**n for k in range(1, 300) for n in (1, 11, 33, 34, 35)]
    values += [rng.uniform(-1, 1) * 10 ** rng.uniform(-17, 18) for _ in range(20000)]
    values += [1e16, 1e16 + 2, 9999999999999998.0, 1e-15, 0.0, 2**53, 1.00000000005]
    written = pd.Series(values).to_json(orient="values")[1:-1].split(",")
    assert [tables.json_float(v) for v in values] == written


def test_every_character_is_escaped_as_pandas_escapes_it() -> None:
    everything = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    names = [everything[i : i + 50000] for i in range(0, len(everything), 50000)]
    rows = Rows(("name",), [(n,) for n in names])
    frame = pd.DataFrame({"name": pd.Series(names, dtype="str")})
    assert tables.json_text(rows) == frame.to_json(orient="records", indent=2)
