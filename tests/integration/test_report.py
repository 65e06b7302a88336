"""`iomonitor report` on a real program run under strace: one self-contained, escaped page."""

from __future__ import annotations

import base64
import html
import os
import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

from iomonitor import analysis, store
from iomonitor.cli import main
from iomonitor.render import report, units

STRACE = "/usr/bin/strace"
#: A name a page must escape: markup, an entity, both quotes.
ODD = "in <b>&\"q'.txt"
DATA = b"0123456789abcdef" * 700  # 11200 bytes

pytestmark = pytest.mark.skipif(not os.access(STRACE, os.X_OK), reason="strace is not installed")


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory, strace_run) -> Path:
    """A shell pipeline reading a file with an odd name, under strace; its log."""
    work = tmp_path_factory.mktemp("report")
    (work / ODD).write_bytes(DATA)
    log = work / "pipeline.log"
    script = 'cat "$1" | gzip -c > out.gz; wc -c out.gz > /dev/null'
    strace_run(log, ["-tt", "-T", "-yy"], ["sh", "-c", script, "sh", ODD], work)
    return log


@pytest.fixture(scope="module")
def page(traced: Path) -> str:
    out = traced.with_name("report.html")
    assert main(["report", str(traced), "-o", str(out)]) == 0
    assert not list(out.parent.glob(".*.tmp"))
    return out.read_text(encoding="utf-8")


def test_report_is_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "@import" not in page and "url(" not in page
    images = re.findall(r"<img [^>]*src=\"([^\"]*)\"", page)
    assert len(images) >= 7
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_holds_every_section(page: str) -> None:
    for section in report.SECTIONS:
        assert f'<section id="{section}">' in page, section
    for title in (
        "Data flow",
        "Timeline",
        "Bandwidth by process",
        "Bandwidth by file",
        "Cumulative bytes by file",
        "Call sizes",
        "Latency",
    ):
        assert f"<h3>{title}</h3>" in page, title
    # No socket in this pipeline: the page says why the peer figure is missing.
    assert "No socket I/O in this trace" in page
    for spot in (
        "unparsed lines",
        "unknown fds",
        "unseen calls",
        "unseen bytes",
        "io uring calls",
        "aio calls",
    ):
        assert f"<td>{spot}</td>" in page, spot


def test_report_escapes_names_from_the_trace(page: str, traced: Path) -> None:
    escaped = html.escape(ODD, quote=False)
    assert escaped in page
    assert "<b>" not in page  # the raw name never reaches the markup
    # The odd file's row: its path, then what cat read of it.
    path = html.escape(str(traced.parent / ODD), quote=False)
    row = re.search(rf"<td>{re.escape(path)}</td>\s*<td>([^<]*)</td>", page)
    assert row is not None
    assert row.group(1) == units.format_bytes(len(DATA))


def test_report_numbers_are_the_analysis(page: str, traced: Path) -> None:
    trace = store.load(traced)
    summary = analysis.summary(trace)
    assert f"{summary['read_bytes']:,} bytes" in page
    assert f"{summary['write_bytes']:,} bytes" in page
    tree = analysis.by_tree(trace)
    for pid, comm in zip(tree["pid"], tree["comm"], strict=True):
        assert re.search(rf"<td>[^<]*{re.escape(comm)}</td>\s*<td>{pid}</td>", page), comm
    assert html.escape(str(traced), quote=False) in page  # the metadata names the log


def test_report_of_several_traces_keeps_runs_apart(traced: Path, tmp_path: Path) -> None:
    parquet = tmp_path / "again.parquet"
    store.write(store.load(traced), parquet)
    out = tmp_path / "two.html"
    assert main(["report", str(traced), str(parquet), "-o", str(out), "--top", "5"]) == 0
    page = out.read_text(encoding="utf-8")
    assert page.count("<h3>Run ") == 2
    assert html.escape(str(parquet), quote=False) in page
    # The tables have a run column, and list the busiest of every run.
    assert "<th>run</th>" in page
    files = page.split('<section id="files">')[1].split("</section>")[0]
    for run in (traced, parquet):
        assert f"<td>{html.escape(str(run), quote=False)}</td>" in files, run


def test_report_refuses_other_extensions(traced: Path, tmp_path: Path, capsys) -> None:
    assert main(["report", str(traced), "-o", str(tmp_path / "r.txt")]) == 2
    assert "must end in .html" in capsys.readouterr().err
    assert main(["report", str(traced), "-o", str(tmp_path / "no" / "r.html")]) == 4
