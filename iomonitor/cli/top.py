"""Watch a command's or a process's I/O live: the busiest files, peers and processes.

usage:
  iomonitor top [options] command [args...]     run a command and watch it
  iomonitor top [options] -p PID [-p PID ...]   attach to running processes

A full-screen view, refreshed every second: read and write rates and totals
so far, and a table of the busiest files, peers, processes or system calls
(rates over the last two seconds, bytes and calls since the start). Keys:
f files, n peers (network), p processes, s system calls, Tab the next table,
q quit (a command is ended with SIGTERM; attached processes keep running).
The command's own output shares the terminal: redirect it to keep the view
clean. When stdout is not a terminal, one summary line per interval is
printed instead. -o FILE also saves the trace (.csv, .parquet or DIR/), as
a plain run does; the exit status is the command's own.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import sys
import termios
import threading
import time
import tty
from collections.abc import Iterator
from typing import IO, Any

from iomonitor.cli import new_parser
from iomonitor.cli.capture import (
    _duration,
    add_capture_options,
    command_of,
    exit_status,
    start_capture,
    stop_on_signals,
)
from iomonitor.errors import UsageError

#: The tables of the view: key -> (title, key on the keyboard).
TABLES: dict[str, tuple[str, str]] = {
    "file": ("Files", "f"),
    "peer": ("Peers", "n"),
    "process": ("Processes", "p"),
    "syscall": ("System calls", "s"),
}

#: Rates are bytes over this many seconds of the latest events.
WINDOW = 2.0


def make_parser(prog: str = "iomonitor top") -> argparse.ArgumentParser:
    """The argument parser of ``iomonitor top``."""
    usage = "%(prog)s [options] command [args...] | -p PID [-p PID ...]"
    ap = new_parser(prog, __doc__, usage)
    ap.add_argument(
        "-o", "--output", metavar="FILE", help="also save the trace (.csv, .parquet, DIR/)"
    )
    ap.add_argument(
        "--format", choices=("csv", "parquet"), help="format of -o (default: by extension)"
    )
    ap.add_argument("-p", "--pid", type=int, action="append", metavar="PID", help="attach to PID")
    ap.add_argument(
        "--interval",
        type=_duration,
        default=1.0,
        metavar="TIME",
        help="refresh this often: seconds, or e.g. 500ms (default 1s)",
    )
    ap.add_argument("--top", type=int, default=15, metavar="N", help="rows in the table")
    add_capture_options(ap)
    return ap


def run(ns: argparse.Namespace) -> int:
    """Capture as a plain run does, showing the live view; return the exit status."""
    command = command_of(ns)
    if bool(command) == bool(ns.pid):
        raise UsageError("give a command to watch or -p PID (see iomonitor top --help)")
    if ns.top < 1:
        raise UsageError("--top must be 1 or more")
    if ns.output == "-":
        raise UsageError("top draws on the terminal: -o wants a file, not -")
    cap = start_capture(ns, command)
    title = " ".join(command) if command else "pid " + ", ".join(map(str, ns.pid))
    view = _View(title, ns.top)
    screen = sys.stdout.isatty() and sys.stdin.isatty()
    show = _full_screen if screen else _plain_lines
    done = threading.Event()
    shower = threading.Thread(
        target=show, args=(view, cap, done, ns.interval), name="iomonitor-top", daemon=True
    )
    shower.start()
    try:
        with stop_on_signals(cap):
            meta = cap.watch(view.add, ns.output, ns.format)
    finally:
        done.set()
        shower.join()
    if screen:
        view.print_final()
    else:
        print(view.line(time.time(), final=True), flush=True)
    return exit_status(meta)


class _View:
    """What the screen shows: live totals (from analysis) and the table chosen."""

    def __init__(self, title: str, top: int) -> None:
        from iomonitor.analysis import LiveTotals

        self.title = title
        self.top = top
        self.key = "file"
        self.totals = LiveTotals(TABLES, window=WINDOW)
        self.lock = threading.Lock()
        self.pending: list[Any] = []
        self.started = time.time()

    def add(self, events: Any) -> None:
        # Called by the capture for every chunk: only held here, so that
        # adding up never slows the capture (strace would wait on its FIFO).
        with self.lock:
            self.pending.append(events)

    def _catch_up(self) -> None:
        """Add the chunks the capture handed over since the last frame."""
        import pandas as pd

        with self.lock:
            chunks, self.pending = self.pending, []
        if chunks:
            self.totals.add(chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True))

    def switch(self, char: str) -> None:
        keys = list(TABLES)
        if char == "\t":
            self.key = keys[(keys.index(self.key) + 1) % len(keys)]
            return
        for key, (_, shortcut) in TABLES.items():
            if char == shortcut:
                self.key = key

    def line(self, now: float, final: bool = False) -> str:
        """One plain summary line (for a pipe)."""
        from iomonitor.render.units import size_text

        self._catch_up()
        read, write = self.totals.rates(now)
        busiest = self.totals.table("file", now, top=1)
        t = self.totals
        head = "end" if final else f"{now - self.started:7.1f}s"
        text = (
            f"{head}  read {size_text(read)}/s  written {size_text(write)}/s  "
            f"total read {size_text(t.read_bytes)}  written {size_text(t.write_bytes)}  "
            f"calls {t.events:,}  processes {t.processes:,}"
        )
        if len(busiest):
            text += f"  busiest file {busiest.iloc[0]['file']}"
        return text

    def renderable(self, now: float, final: bool = False) -> Any:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        from iomonitor.render.units import keep_end, line_name, size_text, terminal_width

        self._catch_up()
        read, write = self.totals.rates(now)
        table = self.totals.table(self.key, now, top=self.top)
        t = self.totals
        state = "ended" if final else "running"
        title = self.title if len(self.title) <= 60 else self.title[:59] + "…"
        head = Text.assemble(
            ("iomonitor top  ", "bold"), (title, "cyan"), f"  {state} {now - self.started:.1f} s"
        )
        rates = Text(
            f"now      read {size_text(read)}/s   written {size_text(write)}/s\n"
            f"so far   read {size_text(t.read_bytes)}   written {size_text(t.write_bytes)}   "
            f"calls {t.events:,}   processes {t.processes:,}"
        )
        keys = "   ".join(
            f"[{shortcut}] {heading}" + (" *" if key == self.key else "")
            for key, (heading, shortcut) in TABLES.items()
        )
        help_line = Text(f"{keys}   [Tab] next   [q] quit", style="dim")
        grid = Table(title=TABLES[self.key][0], title_justify="left", expand=True)
        grid.add_column(self.key, overflow="ellipsis", no_wrap=True, ratio=1)
        heads = ("read/s", "written/s", "read", "written", "calls")
        for name in heads:
            grid.add_column(name, justify="right", no_wrap=True)
        rows = [
            (
                size_text(row.read_rate) + "/s",
                size_text(row.write_rate) + "/s",
                size_text(row.read_bytes),
                size_text(row.write_bytes),
                f"{row.calls:,}",
            )
            for row in table.itertuples(index=False)
        ]
        # Cut long names at the front, as `stats` does: the end of a path names
        # the file. The room is what the number columns, their padding and the
        # borders leave of the terminal's width.
        numbers = sum(max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(heads))
        room = max(12, terminal_width() - numbers - 3 * (len(heads) + 1) - 1)
        for name, cells in zip(table.iloc[:, 0], rows, strict=True):
            grid.add_row(keep_end(line_name(name), room), *cells)
        if not len(table):
            grid.add_row("(none yet)" if not final else "(none)", "", "", "", "", "")
        parts = [head, rates, grid] if final else [head, rates, help_line, grid]
        return Group(*parts)

    def print_final(self) -> None:
        from rich.console import Console

        Console(file=sys.stdout).print(self.renderable(time.time(), final=True))


def _plain_lines(view: _View, cap: Any, done: threading.Event, interval: float) -> None:
    """One summary line per interval on stdout (not a terminal)."""
    next_line = time.monotonic() + interval
    while not done.wait(max(0.0, next_line - time.monotonic())):
        print(view.line(time.time()), flush=True)
        # On schedule, unless adding up took longer than an interval.
        next_line = max(next_line + interval, time.monotonic())


def _full_screen(view: _View, cap: Any, done: threading.Event, interval: float) -> None:
    """The full-screen view on the alternate screen, with keys read from the terminal."""
    from rich.console import Console
    from rich.live import Live

    console = Console(file=sys.stdout)
    # The table's rows fit the screen under the 10 lines of headings and frame.
    view.top = max(3, min(view.top, console.height - 10))
    with (
        _keys(sys.stdin) as read_key,
        Live(
            view.renderable(time.time()),
            console=console,
            screen=True,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        ) as live,
    ):
        next_draw = time.monotonic()
        while not done.is_set():
            char = read_key(max(0.0, min(0.1, next_draw - time.monotonic())))
            if char == "q":
                cap.stop()
                break
            if char:
                view.switch(char)
                next_draw = time.monotonic()
            if time.monotonic() >= next_draw:
                live.update(view.renderable(time.time()), refresh=True)
                next_draw = max(next_draw + interval, time.monotonic())


@contextlib.contextmanager
def _keys(stream: IO[str]) -> Iterator[Any]:
    """Single key presses from the terminal (cbreak mode), restored on the way out."""
    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)

    def read_key(timeout: float) -> str:
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return ""
        data = os.read(fd, 1)
        return data.decode("ascii", "replace") if data else ""

    try:
        yield read_key
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
