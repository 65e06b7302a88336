"""Rough edges of the everyday loop (issue 14), each guarded by a test named after it."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys

import iomonitor
from iomonitor.cli import SUBCOMMANDS
from iomonitor.render import report
from iomonitor.trace import Trace, events_frame


def events(rows: list[tuple]) -> object:
    """Events from (time, pid, dir, bytes, file, kind, port) rows."""
    cols = {c: [] for c in ("time", "pid", "dir", "bytes", "file", "kind", "port")}
    for row in rows:
        for name, value in zip(cols, row, strict=True):
            cols[name].append(value)
    n = len(rows)
    return events_frame(
        {
            **cols,
            "dt": [0.5] * n,
            "fd": [3] * n,
            "syscall": [{"R": "read", "W": "write", "M": "mmap"}[d] for d in cols["dir"]],
            "tgid": cols["pid"],
            "comm": ["prog"] * n,
            "local": [None] * n,
        }
    )


def figure_titles(page: str) -> list[str]:
    return re.findall(r"<h3>([^<]*)</h3>", page)


def test_report_omits_figures_with_nothing_to_show() -> None:
    # Only mmap: no read or write call, so no flow, bandwidth, cumulative or size figure.
    only_maps = Trace(events([(1.0, 7, "M", 4096, "/lib/a.so", "file", None)]))
    page = report.render(only_maps)
    titles = figure_titles(page)
    assert "Timeline" in titles
    for gone in ("Data flow", "Bandwidth by process", "Bandwidth by file", "Call sizes"):
        assert gone not in titles
    assert "No read or write calls in this trace" in page
    assert "no read or write calls" not in page


def test_report_omits_the_peer_figure_without_socket_io() -> None:
    files = Trace(events([(1.0, 7, "R", 10, "/a", "file", None)]))
    titles = figure_titles(report.render(files))
    assert "Bandwidth by file" in titles and "Bandwidth by peer" not in titles
    net = Trace(events([(1.0, 7, "W", 55, "127.0.53.1", "udp", 53)]))
    assert "Bandwidth by peer" in figure_titles(report.render(net))


def test_report_states_durations_of_several_runs_without_contradiction() -> None:
    # Two runs of 2 s each, an hour apart: 4 s traced, not the hour between them.
    a = Trace(events([(0.0, 7, "R", 10, "/a", "file", None), (1.5, 7, "R", 1, "/a", "file", None)]))
    b = Trace(
        events([(3600.0, 9, "R", 5, "/a", "file", None), (3601.5, 9, "W", 1, "/b", "file", None)])
    )
    page = report.render(Trace.combine([a, b], ["a", "b"]))
    assert "From 1970" not in page
    assert "2 runs: the first call at 1970-01-01 00:00:00.000000 UTC" in page
    assert "the last one ending at 1970-01-01 01:00:02.000000 UTC" in page
    card = re.search(r'<div class="k">traced time</div><div class="v">([^<]*)</div>', page)
    assert card is not None and card.group(1) == "4 s", card
    assert "the 2 runs' own spans, added up" in page
    one = report.render(a)
    assert "From 1970-01-01 00:00:00.000000 UTC to 1970-01-01 00:00:02.000000 UTC" in one
    assert '<div class="k">duration</div>' in one


def test_help_lists_every_subcommand_with_one_line() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "iomonitor", "--help"], capture_output=True, text=True, check=True
    ).stdout
    listed = out.split("\ncommands:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    names = [line.split()[0] for line in listed if not line.strip().startswith("(")]
    assert names == list(SUBCOMMANDS)
    for name, (module_name, summary) in SUBCOMMANDS.items():
        # The registry's line is the module's own help, word for word.
        doc = importlib.import_module(module_name).__doc__
        assert doc is not None and doc.strip().splitlines()[0] == summary, name
        assert f"  {name:<8}{summary}" in listed


def test_version_prints_the_version_and_exits_0() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "iomonitor", "--version"], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout == f"iomonitor {iomonitor.__version__}\n"
