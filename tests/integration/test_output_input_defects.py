"""Issue 13 (trust), defects in output, input and the command line.

Each test is named after the defect it guards and goes through the public
paths (the command line, ``iomonitor.load``), so it keeps guarding whatever
code sits behind them. The traces are literal strace logs written here: the
test knows every byte of them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import iomonitor
import iomonitor.store
import iomonitor.timeutil

IOMONITOR = [sys.executable, "-m", "iomonitor"]

#: A process and its child; epoch stamps (-ttt) and -yy names.
LOG = """\
100 1700000000.000100 openat(AT_FDCWD</tmp>, "/tmp/data.txt", O_RDONLY) = 3</tmp/data.txt> <0.000010>
100 1700000000.000200 read(3</tmp/data.txt>, "hello", 4096) = 5 <0.000005>
100 1700000000.500000 write(1</dev/pts/0>, "hello", 5) = 5 <0.000005>
100 1700000000.600000 clone(child_stack=NULL, flags=SIGCHLD) = 101 <0.000050>
101 1700000000.700000 execve("/bin/cat", ["cat"], 0x7ffd /* 3 vars */) = 0 <0.000100>
101 1700000001.200000 write(1</dev/pts/0>, "0123456789", 10) = 10 <0.000007>
101 1700000001.300000 +++ exited with 0 +++
100 1700000002.000000 +++ exited with 0 +++
"""

#: The same calls, recorded without any timestamp (strace without -t).
LOG_NO_TIME = "\n".join(
    line.split(" ", 2)[0] + " " + line.split(" ", 2)[2] for line in LOG.splitlines()
)


def cli(
    *args: str, env: dict[str, str] | None = None, stdout: object = subprocess.PIPE
) -> subprocess.CompletedProcess:
    full_env = None if env is None else {**os.environ, **env}
    return subprocess.run(
        [*IOMONITOR, *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        env=full_env,
    )


def one_line_error(res: subprocess.CompletedProcess, status: int) -> str:
    assert res.returncode == status, (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr, res.stderr
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("iomonitor: "), res.stderr
    return lines[0]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "trace.log"
    path.write_text(LOG)
    return path


@pytest.fixture
def log_no_time(tmp_path: Path) -> Path:
    path = tmp_path / "notime.log"
    path.write_text(LOG_NO_TIME + "\n")
    return path


# --- defect 6: output lost silently on write errors to non-regular files ---------------------


def full_device(folder: Path, name: str) -> Path:
    """A name in ``folder`` for the full device (every write fails with ENOSPC).

    A symbolic link: were the writer to put a file in its place, only the
    link would go, never the device itself.
    """
    link = folder / name
    link.symlink_to("/dev/full")
    return link


def still_the_device(link: Path) -> None:
    assert link.is_symlink() and os.readlink(link) == "/dev/full"
    assert not [p for p in os.listdir(link.parent) if p.startswith(".")], os.listdir(link.parent)


@pytest.mark.parametrize("name", ["out.csv", "out.parquet"])
def test_defect6_convert_to_full_device_fails(tmp_path, log, name) -> None:
    target = full_device(tmp_path, name)
    line = one_line_error(cli("-i", str(log), "-o", str(target)), 4)
    assert "No space left on device" in line
    still_the_device(target)


def test_defect6_capture_to_full_device_fails(tmp_path) -> None:
    target = full_device(tmp_path, "out.csv")
    line = one_line_error(cli("-o", str(target), "true"), 4)
    assert "No space left on device" in line
    still_the_device(target)


@pytest.mark.parametrize(
    "args",
    [
        ["-i", "{log}"],
        ["-i", "{log}", "-o", "-"],
        ["-o", "-", "true"],
        ["stats", "{log}"],
        ["stats", "{log}", "--format", "json"],
        ["stats", "{log}", "--by", "file", "--format", "csv"],
        ["diff", "{log}", "{log}"],
    ],
)
def test_defect6_stdout_on_full_device_fails(log, args) -> None:
    with open("/dev/full", "w") as full:
        res = cli(*(a.format(log=log) for a in args), stdout=full)
    line = one_line_error(res, 4)
    assert line == "iomonitor: cannot write standard output: No space left on device"


@pytest.mark.parametrize("name", ["out.png", "out.svg"])
def test_defect6_plot_to_full_device_fails(tmp_path, log, name) -> None:
    target = full_device(tmp_path, name)
    line = one_line_error(cli("plot", str(log), "-o", str(target)), 4)
    assert "No space left on device" in line
    still_the_device(target)


@pytest.mark.parametrize(("command", "name"), [("report", "out.html"), ("export", "out.json")])
def test_defect6_report_and_export_to_full_device_fail(tmp_path, log, command, name) -> None:
    target = full_device(tmp_path, name)
    line = one_line_error(cli(command, str(log), "-o", str(target)), 4)
    assert "No space left on device" in line
    still_the_device(target)


def test_defect6_output_to_a_fifo_is_written_in_place(tmp_path, log) -> None:
    # A named pipe is written through, not replaced by a file of the same name.
    fifo = tmp_path / "events.csv"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    res = cli("-i", str(log), "-o", str(fifo))
    out, _ = reader.communicate(timeout=60)
    assert res.returncode == 0, res.stderr
    assert out.decode().splitlines()[0] == "time,dt,pid,fd,dir,bytes,file,port"
    assert len(out.decode().splitlines()) == 4  # header + 3 events
    assert fifo.is_fifo()


# --- smaller items ---------------------------------------------------------------------------


def test_decode_fds_no_when_attaching_speaks_of_the_option() -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        line = one_line_error(cli("--decode-fds", "no", "-p", str(sleeper.pid)), 2)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert "--decode-fds no" in line
    assert "decode_fds" not in line


@pytest.mark.parametrize("duration", ["1s", "500ms", "0.5", "0.01min"])
def test_duration_takes_the_syntax_of_interval(tmp_path, duration) -> None:
    out = tmp_path / "x.csv"
    started = time.monotonic()
    res = cli("--duration", duration, "-o", str(out), "sleep", "20")
    assert time.monotonic() - started < 10
    assert res.returncode == 128 + signal.SIGTERM, res.stderr  # the command was stopped
    assert out.read_text().startswith("time,dt,pid,fd,dir,bytes,file,port\n")


@pytest.mark.parametrize(
    "option", [["--duration", "1x", "true"], ["stats", "{log}", "--interval", "1x"]]
)
def test_bad_duration_is_one_line_naming_the_syntax(log, option) -> None:
    res = cli(*(a.format(log=log) for a in option))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "100ms" in res.stderr and "1x" in res.stderr


def test_interval_width_is_exact() -> None:
    # 100us is 100,000 ns: read in binary floating point it was a hair less.
    assert iomonitor.timeutil.parse_duration("100us") == 100_000
    assert iomonitor.timeutil.parse_duration("1h30m") == 5400 * 10**9
    assert iomonitor.timeutil.parse_duration("2") == 2 * 10**9
    for bad in ("", "0s", "-1", "1s2", "nan", "5 parsecs", "1M"):
        with pytest.raises(ValueError):
            iomonitor.timeutil.parse_duration(bad)


@pytest.mark.parametrize(
    ("name", "magic"), [("x.PARQUET", b"PAR1"), ("x.Pq", b"PAR1"), ("x.CSV", b"time")]
)
def test_output_extension_is_case_insensitive(tmp_path, log, name, magic) -> None:
    res = cli("-i", str(log), "-o", str(tmp_path / name))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / name).read_bytes()[:4] == magic
    assert len(iomonitor.load(tmp_path / name).events) == 3


def test_stats_filter_matching_nothing_says_so(log) -> None:
    res = cli("stats", str(log), "--pid", "424242")
    assert res.returncode == 0, res.stderr
    assert res.stderr == "iomonitor: warning: no event matches --pid 424242\n"
    assert "events          0" in res.stdout
    # A filter that matches says nothing more.
    res = cli("stats", str(log), "--pid", "100", "--dir", "W", "--format", "json", "--by", "pid")
    assert res.returncode == 0 and res.stderr == ""
    assert [(r["pid"], r["write_bytes"]) for r in json.loads(res.stdout)] == [(100, 5)]


def test_empty_folder_as_input_is_not_called_a_dataset(tmp_path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    line = one_line_error(cli("-i", str(folder)), 3)
    assert line == f"iomonitor: {folder}: is a folder, not a strace log"


@pytest.mark.parametrize("command", ["stats", "plot"])
def test_by_process_on_csv_names_what_is_missing(tmp_path, log, command) -> None:
    csv = tmp_path / "t.csv"
    assert cli("-i", str(log), "-o", str(csv)).returncode == 0
    extra = ["-o", str(tmp_path / "p.png")] if command == "plot" else []
    line = one_line_error(cli(command, str(csv), "--by", "process", *extra), 2)
    assert "classic CSV" in line and "--by pid" in line
    res = cli("stats", str(csv), "--by", "pid", "--format", "csv")
    assert res.returncode == 0, res.stderr
    rows = res.stdout.splitlines()
    assert rows[0].split(",")[0] == "pid"
    assert sorted(r.split(",")[0] for r in rows[1:]) == ["100", "101"]


# --- defect 9: CSV times carry no zone -------------------------------------------------------


@pytest.fixture
def utc_clock():
    """The local clock of this process says UTC while the test runs."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.fixture
def tokyo_csv(tmp_path, log) -> tuple[Path, Path]:
    """The log as a CSV written in Tokyo, and as Parquet."""
    csv, parquet = tmp_path / "tokyo.csv", tmp_path / "t.parquet"
    assert cli("-i", str(log), "-o", str(csv), env={"TZ": "Asia/Tokyo"}).returncode == 0
    assert cli("-i", str(log), "-o", str(parquet)).returncode == 0
    # Modified when its last line was written, as a capture leaves it.
    os.utime(csv, (1700000002, 1700000002))
    # The classic look: Tokyo's wall clock, 9 hours ahead of UTC.
    assert csv.read_text().splitlines()[1].startswith("07:13:20.000200,")
    return csv, parquet


def test_defect9_csv_written_in_one_zone_loads_in_another(tokyo_csv, utc_clock) -> None:
    csv, parquet = tokyo_csv
    want = iomonitor.load(parquet).events["time"]
    got = iomonitor.load(csv, tz="Asia/Tokyo")
    pd.testing.assert_series_equal(got.events["time"], want)
    assert got.meta["csv_tz"] == "Asia/Tokyo"
    scanned = iomonitor.store.scan(csv, tz="Asia/Tokyo")
    pd.testing.assert_series_equal(scanned.events["time"], want)
    # Without a zone the local one is assumed, and the metadata says which.
    local = iomonitor.load(csv)
    assert local.meta["csv_tz"] == "UTC"
    assert ((want - local.events["time"]) == pd.Timedelta(hours=15)).all()


def test_defect9_tz_option_on_every_command_taking_a_trace(tmp_path, tokyo_csv) -> None:
    csv, parquet = tokyo_csv
    utc = {"TZ": "UTC"}
    want = cli("stats", str(parquet), "--interval", "1s", "--format", "csv", env=utc)
    got = cli(
        "stats", str(csv), "--tz", "Asia/Tokyo", "--interval", "1s", "--format", "csv", env=utc
    )
    assert want.returncode == got.returncode == 0, got.stderr
    assert got.stdout == want.stdout
    assert want.stdout.splitlines()[1].startswith("2023-11-14 22:13:20")
    for command, out in (("plot", "p.png"), ("report", "r.html")):
        res = cli(command, str(csv), "--tz", "Asia/Tokyo", "-o", str(tmp_path / out), env=utc)
        assert res.returncode == 0, res.stderr
    res = cli("diff", str(parquet), str(csv), "--tz", "Asia/Tokyo", env=utc)
    assert res.returncode == 0, res.stderr

    def slice_times(source: Path, *tz: str) -> list[int]:
        out = tmp_path / f"{source.stem}.json"
        res = cli("export", str(source), *tz, "-o", str(out), env=utc)
        assert res.returncode == 0, res.stderr
        doc = json.loads(out.read_text())
        return sorted(e["ts"] for e in doc["traceEvents"] if e["ph"] == "X")

    assert slice_times(csv, "--tz", "Asia/Tokyo") == slice_times(parquet)
    line = one_line_error(cli("stats", str(csv), "--tz", "Mars/Olympus"), 2)
    assert "Mars/Olympus" in line


# --- defect 5: traces without timestamps -------------------------------------------------


NEEDS_TIME = "needs the time of each call, and this trace has none"


@pytest.mark.parametrize("kind", ["bandwidth", "cumulative", "timeline"])
def test_defect5_figure_over_time_of_a_log_without_timestamps_says_why(
    tmp_path, log_no_time, kind
) -> None:
    out = tmp_path / "x.png"
    line = one_line_error(cli("plot", str(log_no_time), "--kind", kind, "-o", str(out)), 2)
    assert f"the {kind} figure {NEEDS_TIME}" in line
    assert not out.exists()


@pytest.mark.parametrize("kind", ["sizes", "latency", "flow"])
def test_defect5_figures_without_time_still_draw(tmp_path, log_no_time, kind) -> None:
    out = tmp_path / "x.png"
    res = cli("plot", str(log_no_time), "--kind", kind, "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_defect5_stats_without_timestamps(log_no_time) -> None:
    line = one_line_error(cli("stats", str(log_no_time), "--interval", "1s"), 2)
    assert NEEDS_TIME in line
    res = cli("stats", str(log_no_time), "--by", "file", "--format", "json")
    assert res.returncode == 0, res.stderr
    got = {r["file"]: (r["read_bytes"], r["write_bytes"]) for r in json.loads(res.stdout)}
    assert got == {"/tmp/data.txt": (5, 0), "/dev/pts/0": (0, 15)}


def test_defect5_report_without_timestamps_draws_the_rest(tmp_path, log_no_time) -> None:
    out = tmp_path / "r.html"
    res = cli("report", str(log_no_time), "-o", str(out))
    assert res.returncode == 0, res.stderr
    page = out.read_text()
    assert "No call has a time: the log was recorded without -t" in page
    for figure in ("timeline", "bandwidth", "cumulative"):
        assert f"Not drawn: the {figure} figure {NEEDS_TIME}" in page
    # Sizes, latency and flow need no time: their pictures are there.
    assert page.count('<img src="data:image/png;base64,') == 3
    assert "/tmp/data.txt" in page


def test_defect5_export_without_timestamps_says_why(tmp_path, log_no_time) -> None:
    line = one_line_error(cli("export", str(log_no_time), "-o", str(tmp_path / "x.json")), 2)
    assert f"a Chrome/Perfetto trace {NEEDS_TIME}" in line
    assert sorted(os.listdir(tmp_path)) == ["notime.log"]


def test_defect5_python_api_without_timestamps(log_no_time) -> None:
    from iomonitor import analysis, plot
    from iomonitor.errors import NoTimeError

    trace = iomonitor.load(log_no_time)
    assert trace.events["time"].isna().all() and len(trace.events) == 3
    with pytest.raises(NoTimeError, match="the bandwidth figure"):
        plot.bandwidth(trace)
    with pytest.raises(NoTimeError, match="bandwidth over time"):
        analysis.bandwidth(trace, "1s")
    assert plot.sizes(trace).axes
