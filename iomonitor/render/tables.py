"""Tables for people and for programs: plain text, markdown, CSV and JSON.

A table is first made into :data:`Cells` (a title, the texts of a column,
and whether it is right-aligned), by one function per kind of analysis
result (:func:`totals_cells`, :func:`tree_cells`, :func:`rate_cells`,
:func:`diff_cells`); :func:`text_table` and :func:`markdown` lay them out.
CSV and JSON write the numbers as numbers. Every function returns text:
only the CLI writes it out.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from iomonitor import analysis
from iomonitor.analysis.engine import Rows
from iomonitor.render.units import (
    count_text,
    duration_text,
    keep_end,
    line_name,
    size_text,
    terminal_width,
)

if TYPE_CHECKING:
    import pandas as pd

#: A table of results: a DataFrame, or the engine's rows (text and markdown need no pandas).
Table = Any

#: Columns of a table: (heading, the text of every row, right-aligned).
Cells = list[tuple[str, list[str], bool]]

#: The text formats every table can be written in.
FORMATS: tuple[str, ...] = ("table", "csv", "json", "markdown")


def text_table(cells: Cells, width: int | None = None, header: bool = True) -> str:
    """Columns padded to fit ``width`` (the terminal's); the widest text column is cut to fit.

    A cut name keeps its end (``...`` in front): the end of a path names the file.
    """
    width = terminal_width() if width is None else width
    widths = [max([len(h) if header else 0, *(len(v) for v in col)]) for h, col, _ in cells]
    over = sum(widths) + 2 * (len(cells) - 1) - width
    texts = [i for i, (_, _, right) in enumerate(cells) if not right]
    if over > 0 and texts:
        widest = max(texts, key=lambda i: widths[i])
        widths[widest] = max(12, widths[widest] - over)
    lines = []
    rows = len(cells[0][1]) if cells else 0
    if header:
        lines.append(_line([h for h, _, _ in cells], widths, cells))
    for r in range(rows):
        lines.append(_line([col[r] for _, col, _ in cells], widths, cells))
    return "".join(line.rstrip() + "\n" for line in lines)


def _line(values: Sequence[str], widths: list[int], cells: Cells) -> str:
    out = []
    for value, width, (_, _, right) in zip(values, widths, cells, strict=True):
        out.append(value.rjust(width) if right else keep_end(value, width).ljust(width))
    return "  ".join(out)


def markdown(cells: Cells) -> str:
    """The cells as a markdown table (``|`` and ``\\`` escaped)."""

    def cell(text: str) -> str:
        return text.replace("\\", "\\\\").replace("|", "\\|")

    heads = [cell(h) or " " for h, _, _ in cells]
    lines = ["| " + " | ".join(heads) + " |"]
    lines.append("|" + "|".join("---:" if right else ":---" for _, _, right in cells) + "|")
    rows = len(cells[0][1]) if cells else 0
    for r in range(rows):
        lines.append("| " + " | ".join(cell(col[r]) for _, col, _ in cells) + " |")
    return "\n".join(lines) + "\n"


def top_rows(table: pd.DataFrame, top: int) -> pd.DataFrame:
    """The first ``top`` rows (of each run, when there are runs); all for 0."""
    if not top:
        return table
    if "run" in table.columns:
        return table.groupby("run", sort=False, observed=True).head(top).reset_index(drop=True)
    return table.head(top)


def write(table: Table, fmt: str, cells: Callable[[Table], Cells]) -> str:
    """One table in format ``fmt`` of :data:`FORMATS`; ``cells`` makes the text forms.

    The engine's rows are written without pandas, number for number as a
    DataFrame of the same values is (:func:`csv_text`, :func:`json_text`).
    """
    if isinstance(table, Rows) and fmt in ("csv", "json"):
        return csv_text(table) if fmt == "csv" else json_text(table) + "\n"
    if fmt == "csv":
        return table.to_csv(index=False)
    if fmt == "json":
        return table.to_json(orient="records", date_format="iso", date_unit="us", indent=2) + "\n"
    if fmt == "markdown":
        return markdown(cells(table))
    return text_table(cells(table))


def sections(tables: dict[str, Table], cells: Callable[[Table], Cells],
             fmt: str) -> list[str]:  # fmt: skip
    """Each table under its capitalized title, as text or markdown; ``(none)`` when empty."""
    out = []
    for title, table in tables.items():
        heading = f"## {title.capitalize()}" if fmt == "markdown" else title.capitalize()
        body = write(table, fmt, cells) if len(table) else "(none)\n"
        out.append(f"{heading}\n{body}")
    return out


# -- cells of each analysis result ------------------------------------------------------


def totals_cells(table: Table) -> Cells:
    """Cells of :func:`iomonitor.analysis.by` totals."""
    key = next(c for c in table.columns if c not in analysis.TOTAL_COLUMNS and c != "run")
    return [
        *_run_cells(table),
        (key, [line_name(v) for v in table[key]], False),
        ("calls", [count_text(v) for v in table["calls"]], True),
        ("read", [size_text(v) for v in table["read_bytes"]], True),
        ("written", [size_text(v) for v in table["write_bytes"]], True),
        ("mapped", [size_text(v) for v in table["mapped_bytes"]], True),
        ("mean size", [size_text(v) for v in table["mean_size"]], True),
        ("errors", [count_text(v) for v in table["errors"]], True),
        ("time", [duration_text(v) for v in table["time"]], True),
    ]


def tree_cells(table: pd.DataFrame) -> Cells:
    """Cells of :func:`iomonitor.analysis.by_tree`: each program indented under its parent."""
    names = [
        "  " * int(depth) + line_name(comm)
        for depth, comm in zip(table["depth"], table["comm"], strict=True)
    ]
    return [
        *_run_cells(table),
        ("pid", [str(int(v)) for v in table["pid"]], True),
        ("process", names, False),
        ("procs", [count_text(v) for v in table["processes"]], True),
        ("calls", [count_text(v) for v in table["calls"]], True),
        ("read", [size_text(v) for v in table["read_bytes"]], True),
        ("written", [size_text(v) for v in table["write_bytes"]], True),
        ("mapped", [size_text(v) for v in table["mapped_bytes"]], True),
        ("errors", [count_text(v) for v in table["errors"]], True),
        ("time", [duration_text(v) for v in table["time"]], True),
    ]


def rate_cells(table: pd.DataFrame) -> Cells:
    """Cells of :func:`iomonitor.analysis.bandwidth`: one row per time bucket (and key)."""
    keys = [c for c in table.columns if c not in analysis.RATE_COLUMNS and c not in ("run", "time")]
    return [
        *_run_cells(table),
        ("time (UTC)", [t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] for t in table["time"]], False),
        *((k, [line_name(v) for v in table[k]], False) for k in keys),
        ("read/s", [size_text(v) + "/s" for v in table["read_rate"]], True),
        ("written/s", [size_text(v) + "/s" for v in table["write_rate"]], True),
    ]


def _run_cells(table: Table) -> Cells:
    return [("run", [line_name(v) for v in table["run"]], False)] if "run" in table.columns else []


_PRESENT = {"both": "both", "a": "only A", "b": "only B"}


def diff_cells(table: pd.DataFrame) -> Cells:
    """Cells of :func:`iomonitor.analysis.diff`: A, B, the change and the ratio."""
    key = table.columns[0]
    return [
        (key, [line_name(v) for v in table[key]], False),
        ("in", [_PRESENT[v] for v in table["present"]], False),
        ("bytes A", [size_text(v) for v in table["bytes_a"]], True),
        ("bytes B", [size_text(v) for v in table["bytes_b"]], True),
        ("change", [_signed(size_text(v), v) for v in table["bytes_change"]], True),
        ("ratio", [_ratio(v) for v in table["bytes_ratio"]], True),
        ("calls A", [f"{v:,}" for v in table["calls_a"]], True),
        ("calls B", [f"{v:,}" for v in table["calls_b"]], True),
        ("change", [_signed(f"{abs(v):,}", v) for v in table["calls_change"]], True),
        ("ratio", [_ratio(v) for v in table["calls_ratio"]], True),
    ]


def _signed(text: str, value: int) -> str:
    return "0" if value == 0 else ("+" if value > 0 else "-") + text.lstrip("-")


def _ratio(value: float) -> str:
    return "-" if value != value else f"{value:.2f}x"


def summary_text(head: pd.Series | dict[str, Any], fmt: str) -> str:
    """The headline numbers of :func:`iomonitor.analysis.summary` as text or markdown."""

    def top(name: str) -> str:
        value = head[f"top_{name}"]
        return (
            "-" if value is None else f"{line_name(value)} ({size_text(head[f'top_{name}_bytes'])})"
        )

    rows = [
        ("runs", count_text(head["runs"])),
        ("duration", duration_text(head["duration"])),
        ("processes", f"{count_text(head['processes'])} ({count_text(head['threads'])} threads)"),
        ("events", count_text(head["events"])),
        ("read", size_text(head["read_bytes"])),
        ("written", size_text(head["write_bytes"])),
        ("mapped", size_text(head["mapped_bytes"])),
        ("top file", top("file")),
        ("top peer", top("peer")),
        ("top process", top("process")),
    ]
    if head["runs"] == 1:
        rows = rows[1:]
    rows += [
        (name.replace("_", " "), "unknown" if head[name] is None else count_text(head[name]))
        for name in analysis.BLIND_SPOTS
    ]
    cells: Cells = [("", [r[0] for r in rows], False), ("", [r[1] for r in rows], False)]
    if fmt == "markdown":
        return "## Summary\n" + markdown(cells)
    return "Summary\n" + text_table(cells, header=False)


# -- CSV and JSON of the engine's rows -----------------------------------------------------
# The CSV and JSON the command line writes were first written by pandas, and scripts read
# them: the writers below keep its forms exactly (a test compares them with pandas).


def csv_text(rows: Rows) -> str:
    """The rows as CSV, as ``DataFrame.to_csv(index=False)`` writes the same values.

    Missing values are empty; floats are written shortest-exact (``repr``);
    times as ``2026-01-05 10:00:00.250+00:00``, with the fewest decimals
    (none, 3 or 6) that every time of the column needs.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(rows.columns)
    columns = [_csv_column(rows[c]) for c in rows.columns]
    writer.writerows(zip(*columns, strict=True))
    return out.getvalue()


def _csv_column(values: list[Any]) -> list[str]:
    stamps = [v for v in values if isinstance(v, _dt.datetime)]
    if not stamps:
        return ["" if v is None or v != v else repr(v) if isinstance(v, float) else str(v)
                for v in values]  # fmt: skip
    micros = {v.microsecond for v in stamps}
    decimals = 6 if any(us % 1000 for us in micros) else 3 if any(micros) else 0
    return ["" if v is None else _clock(v, " ", decimals) + "+00:00" for v in values]


def _clock(stamp: _dt.datetime, sep: str, decimals: int) -> str:
    """A time in UTC as ``YYYY-MM-DD<sep>HH:MM:SS`` with ``decimals`` digits of the second."""
    t = stamp.astimezone(_dt.UTC) if stamp.tzinfo is not None else stamp
    text = f"{t.year:04d}-{t.month:02d}-{t.day:02d}{sep}{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    return text + f".{t.microsecond:06d}"[: decimals + 1] if decimals else text


def json_text(rows: Rows) -> str:
    """The rows as a JSON list of records, as pandas writes the same values.

    That is ``to_json(orient="records", date_format="iso", date_unit="us",
    indent=2)``: no space after ``:``, ``/`` escaped, floats by
    :func:`json_float`, times as ``2026-01-05T10:00:00.000000Z``.
    """
    if not rows.data:
        return "[\n\n]"
    keys = [_json_string(c) for c in rows.columns]
    records = [
        "  {\n"
        + ",\n".join(f"    {k}:{_json_value(v)}" for k, v in zip(keys, row, strict=True))
        + "\n  }"
        for row in rows.data
    ]
    return "[\n" + ",\n".join(records) + "\n]"


def plain(value: Any) -> Any:
    """A value as pandas' JSON gives it back once read: a float rounded as :func:`json_float`
    writes it, a time as its ISO text, NaN as None."""
    if isinstance(value, float):
        return None if value != value or value in (_INF, -_INF) else float(json_float(value))
    if isinstance(value, _dt.datetime):
        return _clock(value, "T", 6) + "Z"
    return value


def plain_records(rows: Rows) -> list[dict[str, Any]]:
    """The rows as JSON-ready records: what pandas' JSON of the same values reads back as."""
    return [{c: plain(v) for c, v in zip(rows.columns, row, strict=True)} for row in rows.data]


def _json_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "null" if value != value or value in (_INF, -_INF) else json_float(value)
    if isinstance(value, _dt.datetime):
        return '"' + _clock(value, "T", 6) + 'Z"'
    raise TypeError(f"no JSON form for {type(value).__name__}")


_INF = float("inf")


def _json_string(text: str) -> str:
    """A JSON string as pandas writes it: Python's ASCII-only escapes, but ``/`` escaped
    and DEL (0x7f) left as it is."""
    parts = (json.dumps(part)[1:-1].replace("/", "\\/") for part in text.split("\x7f"))
    return '"' + "\x7f".join(parts) + '"'


def json_float(value: float) -> str:
    """A finite float as pandas' JSON writer gives it (``double_precision=10``).

    Up to 1e16 it writes the whole part and at most ten decimals, the last
    rounded half up only when the digit before is odd or the decimals are
    all zero, trailing zeros dropped (``0.1 + 0.2`` -> ``0.3``, ``3.0`` ->
    ``3.0``); above 1e16 and below 1e-15 it writes ten significant digits
    in ``%g`` form (``1.5e+16``).

    Examples
    --------
    >>> json_float(0.1 + 0.2), json_float(1e16), json_float(1.5e16), json_float(5e-11)
    ('0.3', '10000000000000000.0', '1.5e+16', '0.0000000001')
    """
    size = abs(value)
    sign = "-" if value < 0 else ""
    if size > 1e16 or (size != 0 and size < 1e-15):
        return sign + f"{size:.10g}"
    whole = int(size)
    # The same double operations as the writer, so that ties land the same way.
    scaled = (size - whole) * 1e10
    frac = int(scaled)
    rest = scaled - frac
    if rest > 0.5 or (rest == 0.5 and (frac == 0 or frac & 1)):
        frac += 1
    if frac >= 10**10:
        frac, whole = 0, whole + 1
    digits = f"{frac:010d}".rstrip("0") if frac else "0"
    return f"{sign}{whole}.{digits}"
