"""`stats`, `plot` and `report` on a large trace, beside the same queries written for the engine.

    python benchmarks/analysis_scale.py [--events 10000000] [--parts 4] [--repeats 1] [--dir DIR]
                                        [--only TEXT]

Writes the synthetic trace of ``plot_report_scale.py`` (``--events`` events,
one Parquet file), the same events cut into ``--parts`` Parquet files (a
dataset folder), and a trace of 1,000 events. Then runs, each in a fresh
process, alternating, ``--repeats`` times (medians reported):

- ``iomonitor stats`` (default view), ``stats --by file --format json``,
  ``plot --kind bandwidth`` and ``report`` on the file and on the dataset;
- beside each, its yardstick: the same aggregates written directly as DuckDB
  SQL over the same files, in a process that imports only duckdb and pandas
  (what iomonitor adds on top of the engine: its own start-up, labels,
  failed-call joins, formatting and drawing). The yardsticks draw nothing:
  the report's runs its 16 queries one after the other, its time series
  grouped by every key (no top N), so its figure is the engine's cost of
  the report's numbers without matplotlib, not a floor under the drawing;
- ``stats`` on the 1,000-event trace (start-up cost).

Wall time and peak resident memory of each command come from ``measure.py``.
Ratios are taken within this run. Machines vary; the idle-CPU effect does not
apply (nothing here is traced).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
PY = sys.executable

#: The aggregates each command computes, as plain engine SQL over ``{src}``.
_SUMS = (
    "count(*) AS calls, count(*) FILTER (WHERE dir IN ('R','W')) AS rw_calls, "
    "coalesce(sum(bytes) FILTER (WHERE dir = 'R'), 0) AS r, "
    "coalesce(sum(bytes) FILTER (WHERE dir = 'W'), 0) AS w, "
    "coalesce(sum(bytes) FILTER (WHERE dir = 'M'), 0) AS m, "
    "max(bytes) FILTER (WHERE dir IN ('R','W')) AS mx, "
    "min(time) AS first, max(time) AS last, sum(dt) AS t"
)
_SOCKET = "(kind IN ('tcp','udp','unix','netlink') OR port IS NOT NULL)"
_PEER = "CASE WHEN port IS NULL THEN file ELSE file || ':' || port::VARCHAR END"
_THREADS = (
    "SELECT tgid, pid, min(time),"
    " max(time + to_microseconds(round(coalesce(dt, 0) * 1e6)::BIGINT)), count(*),"
    " sum(bytes) FILTER (WHERE dir = 'R'), sum(bytes) FILTER (WHERE dir = 'W'),"
    " sum(bytes) FILTER (WHERE dir = 'M') FROM {src} GROUP BY ALL"
)
#: The default view in its best plain form: one scan sums the events per
#: combination of every grouping column and direction with plain aggregates;
#: each table is a grouping set over those rows; the end of the last call is
#: read from the events that can hold it.
_FOLD = (
    "sum(n), coalesce(sum(n) FILTER (WHERE dir IN ('R','W')), 0),"
    " coalesce(sum(b) FILTER (WHERE dir = 'R'), 0), coalesce(sum(b) FILTER (WHERE dir = 'W'), 0),"
    " coalesce(sum(b) FILTER (WHERE dir = 'M'), 0), max(mx) FILTER (WHERE dir IN ('R','W')),"
    " min(first), max(last), sum(t)"
)
_FINE = (
    "SELECT kind, file, port, comm, syscall, pid, tgid, dir, count(*) AS n, sum(bytes) AS b,"
    " max(bytes) AS mx, min(time) AS first, max(time) AS last, sum(dt) AS t FROM {src} GROUP BY ALL"
)
_STATS = [
    f"SELECT GROUPING(s, file, kind, port, comm, syscall, pid, tgid), s, file, kind, port, comm,"
    f" syscall, pid, tgid, {_FOLD} FROM (SELECT *, {_SOCKET} AS s FROM ({_FINE})) GROUP BY"
    " GROUPING SETS ((s, file), (s, kind, file, port), (comm), (syscall), (pid), (tgid))",
    "SELECT max(time + to_microseconds(round(coalesce(dt, 0) * 1e6)::BIGINT)) FROM {src} WHERE"
    " time >= (SELECT max(time) - to_microseconds((max(dt) * 1e6)::BIGINT) FROM {src})",
]
_BY_FILE = [f"SELECT file, {_SUMS} FROM {{src}} GROUP BY ALL"]
_BUCKETS = (
    "SELECT (epoch_us(time) // 1000000) * 1000000 AS b, {key} AS k,"
    " coalesce(sum(bytes) FILTER (WHERE dir = 'R'), 0),"
    " coalesce(sum(bytes) FILTER (WHERE dir = 'W'), 0)"
    " FROM {src} WHERE dir IN ('R','W') GROUP BY ALL"
)
_PLOT = [
    f"SELECT tgid, {_SUMS} FROM {{src}} GROUP BY ALL",
    _BUCKETS.replace("{key}", "file"),
]
_REPORT = [
    f"SELECT file, {_SUMS} FROM {{src}} WHERE NOT {_SOCKET} GROUP BY ALL",
    f"SELECT kind, file, port, {_SUMS} FROM {{src}} WHERE {_SOCKET} GROUP BY ALL",
    f"SELECT comm, {_SUMS} FROM {{src}} GROUP BY ALL",
    f"SELECT syscall, {_SUMS} FROM {{src}} GROUP BY ALL",
    _THREADS,
    f"SELECT tgid, {_SUMS} FROM {{src}} GROUP BY ALL",
    "SELECT tgid, arg_max(comm, time) FROM {src} GROUP BY ALL",
    f"SELECT kind, {_SUMS} FROM {{src}} GROUP BY ALL",
    _BUCKETS.replace("{key}", "file"),
    _BUCKETS.replace("{key}", _PEER),
    _BUCKETS.replace("{key}", "comm"),
    _BUCKETS.replace("{key}", "tgid"),
    "SELECT dir, CASE WHEN bytes > 0 THEN floor(log2(bytes)) ELSE -1 END, count(*), sum(bytes)"
    " FROM {src} WHERE dir IN ('R','W') GROUP BY ALL",
    "SELECT count(*), count(dt) FROM {src}",
    "SELECT syscall, count(*), sum(dt), avg(dt), quantile_cont(dt, [0.5, 0.9, 0.99]), max(dt)"
    " FROM {src} WHERE dt IS NOT NULL GROUP BY ALL",
    "SELECT tgid, file, coalesce(sum(bytes) FILTER (WHERE dir = 'R'), 0),"
    " coalesce(sum(bytes) FILTER (WHERE dir = 'W'), 0) FROM {src} GROUP BY ALL",
]

#: Runs argv[1:] (a JSON list of SQL) over argv[1] (a Parquet path or a folder).
YARDSTICK = """\
import json, sys
import duckdb
path, statements = sys.argv[1], json.loads(sys.argv[2])
src = (f"read_parquet('{path}/**/*.parquet')" if not path.endswith(".parquet")
       else f"read_parquet('{path}')")
con = duckdb.connect()
for sql in statements:
    con.sql(sql.replace("{src}", src)).df()
"""


def split(path: Path, folder: Path, parts: int) -> None:
    """The events of ``path`` cut into ``parts`` files of whole row groups, metadata kept.

    Each part is written by iomonitor's Parquet writer (its row groups and
    compression, as a dataset iomonitor writes) and carries the trace's
    footer (host and run id among it), so the parts are one run cut into
    files, as iomonitor reads them.
    """
    from iomonitor import store
    from iomonitor.store.writers import PARQUET_KEY

    folder.mkdir(parents=True, exist_ok=True)
    pf = pq.ParquetFile(path)
    footer = json.loads(pf.metadata.metadata[PARQUET_KEY])
    groups = list(range(pf.metadata.num_row_groups))
    per = -(-len(groups) // parts)
    for i in range(parts):
        mine = groups[i * per : (i + 1) * per]
        if not mine:
            break
        sink = store.ParquetSink(folder / f"part-{i}.parquet")
        for group in mine:
            sink.write(pf.read_row_group(group))
        sink.close(footer["processes"], footer["errors"], footer["meta"], footer.get("execs"))


def measure(cmd: list[str]) -> dict:
    out = subprocess.run(
        [PY, str(HERE / "measure.py"), *cmd], capture_output=True, text=True, check=True
    )
    res = json.loads(out.stdout)
    if res["status"]:
        raise RuntimeError(f"{cmd}: {res.get('stderr', '')}")
    return res


def jobs(one: Path, dataset: Path, small: Path, work: Path) -> dict[str, tuple[list, list]]:
    """Name -> (iomonitor's command, the yardstick's command)."""
    cli = [PY, "-m", "iomonitor"]
    out: dict[str, tuple[list, list]] = {}
    for label, path in (("file", one), ("4 parts", dataset)):
        p = str(path)
        for name, args, sql in (
            ("stats", ["stats", p], _STATS),
            ("stats --by file --format json", ["stats", "--by", "file", "--format", "json", p],
             _BY_FILE),
            ("plot --kind bandwidth", ["plot", p, "-o", str(work / "bw.png")], _PLOT),
            ("report", ["report", p, "-o", str(work / "r.html")], _REPORT),
        ):  # fmt: skip
            out[f"{name} ({label})"] = (
                [*cli, *args],
                [PY, "-c", YARDSTICK, p, json.dumps(sql)],
            )
    out["stats (1,000 events)"] = (
        [*cli, "stats", str(small)],
        [PY, "-c", YARDSTICK, str(small), json.dumps(_STATS)],
    )
    return out


def run(work: Path, events: int, parts: int, repeats: int, only: str | None = None) -> dict:
    """Write the traces into ``work``, measure every job; the results as a dict."""
    sys.path.insert(0, str(HERE))
    from plot_report_scale import write_trace

    one = work / f"analysis-{events}.parquet"
    if not one.exists():
        write_trace(one, events)
    dataset = work / f"analysis-{events}-parts"
    if not dataset.exists():
        split(one, dataset, parts)
    small = work / "analysis-1000.parquet"
    if not small.exists():
        write_trace(small, 1000)
    rows = {}
    for name, (ours, yardstick) in jobs(one, dataset, small, work).items():
        if only is not None and only not in name:
            continue
        got: dict[str, list[dict]] = {"iomonitor": [], "engine": []}
        for _ in range(repeats):  # alternating, so both see the same machine
            got["iomonitor"].append(measure(ours))
            got["engine"].append(measure(yardstick))
        row = {
            side: {
                "wall_s": statistics.median(r["wall_s"] for r in rs),
                "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in rs),
            }
            for side, rs in got.items()
        }
        row["ratio"] = row["iomonitor"]["wall_s"] / row["engine"]["wall_s"]
        rows[name] = row
        print(format_row(name, row), flush=True)
    return {"events": events, "mb": round(one.stat().st_size / 1e6), "parts": parts, "rows": rows}


def format_row(name: str, row: dict) -> str:
    ours, engine = row["iomonitor"], row["engine"]
    return (
        f"  {name:44} {ours['wall_s']:6.2f} s {ours['peak_rss_mb']:5.0f} MB"
        f"   engine {engine['wall_s']:6.2f} s {engine['peak_rss_mb']:5.0f} MB"
        f"   {row['ratio']:4.1f}x"
    )


def report(result: dict) -> str:
    out = [
        f"\nanalysis of {result['events']:,} events ({result['mb']} MB Parquet; "
        f"dataset of {result['parts']} parts): iomonitor beside the same queries in plain SQL"
    ]
    out += [format_row(name, row) for name, row in result["rows"].items()]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--parts", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--dir", type=Path, help="work here and keep the traces")
    ap.add_argument("--only", metavar="TEXT", help="only the commands whose name holds TEXT")
    ns = ap.parse_args(argv)
    work = ns.dir or Path(tempfile.mkdtemp(prefix="iomonitor-analysis-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(report(run(work, ns.events, ns.parts, ns.repeats, ns.only)))
    finally:
        if ns.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
