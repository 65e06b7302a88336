"""Trace a command, attach to processes, or convert a strace log.

usage:
  iomonitor [options] command [args...]     trace a command and all its children
  iomonitor [options] -p PID [-p PID ...]   attach to running processes
  iomonitor [options] -i strace.log         convert an existing strace log
  iomonitor run [options] -- command ...    the explicit form

Events are written as they become known: classic CSV to stderr (tracing) or
stdout (-i) unless -o names a file; `.parquet` files get Parquet. `-o DIR/`
(a trailing slash or an existing folder) or `--dataset DIR` adds the trace to
a Parquet dataset as DIR/host=HOST/run=RUN/part-0.parquet (docs/dataset.md).
The exit status of a traced command is the command's own (128+N when killed
by signal N).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import os
import re
import signal
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from iomonitor.cli import new_parser
from iomonitor.errors import UsageError
from iomonitor.timeutil import parse_duration

if TYPE_CHECKING:
    from iomonitor.strace.parser import Record

#: Exit codes of iomonitor's own failures (the CLI help and README list them).
EXIT_CODES_HELP = """exit status:
  the traced command's own status (128+N if it was killed by signal N);
  otherwise 0 on success, 2 usage, 3 bad input, 4 output not writable,
  5 strace not found, 6 ptrace not permitted, 7 no such pid, 8 strace failed,
  9 eBPF backend unavailable or failed, 127 command not found,
  130 interrupted before the capture started."""


def make_parser(prog: str = "iomonitor") -> argparse.ArgumentParser:
    """The argument parser of the capture forms."""
    usage = "%(prog)s [options] command [args...] | -p PID [-p PID ...] | -i LOG"
    ap = new_parser(prog, __doc__.split("\n\n", 1)[0] if __doc__ else None, usage)
    ap.epilog = EXIT_CODES_HELP
    ap.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write here (.csv, .parquet, DIR/ = a run of a dataset, - = stdout)",
    )
    ap.add_argument(
        "--dataset",
        metavar="DIR",
        help="add the trace to the Parquet dataset DIR as DIR/host=HOST/run=RUN/part-0.parquet",
    )
    ap.add_argument(
        "--host",
        type=_host_name,
        metavar="NAME",
        help="the dataset's host folder for this trace (default: this machine's host name)",
    )
    ap.add_argument(
        "--format", choices=("csv", "parquet"), help="output format (default: by extension)"
    )
    ap.add_argument(
        "-v", "--verbose", action="store_true", help="print every traced call to stderr"
    )
    ap.add_argument("-i", "--input", metavar="LOG", help="convert an existing strace log")
    ap.add_argument("-p", "--pid", type=int, action="append", metavar="PID", help="attach to PID")
    ap.add_argument("--date", help="date of the first line of a -t/-tt log (YYYY-MM-DD)")
    ap.add_argument("--cwd", help="starting directory of the traced program in a log without -y")
    add_capture_options(ap)
    return ap


def add_capture_options(ap: argparse.ArgumentParser) -> None:
    """The options of a capture that ``top`` takes as well, and the command to trace."""
    ap.add_argument("--strace", metavar="PATH", help="the strace executable to use")
    ap.add_argument(
        "--duration",
        type=_duration,
        metavar="TIME",
        help="stop after this long: seconds, or e.g. 500ms, 10s, 5min (as --interval reads it)",
    )
    ap.add_argument(
        "--decode-fds",
        choices=("auto", "yes", "no"),
        default="auto",
        help="ask strace to name fds (paths, socket addresses, pidfds): inherited fds; "
        "auto = yes (always when attaching)",
    )
    ap.add_argument(
        "--backend",
        choices=("strace", "ebpf", "auto"),
        default="strace",
        help="what captures the calls: strace (ptrace), ebpf (needs root and BTF), "
        "auto = ebpf when it can run here, else strace",
    )
    ap.add_argument("command", nargs=argparse.REMAINDER, help="the command to trace")


def command_of(ns: argparse.Namespace) -> list[str]:
    """The command to trace, without the ``--`` that may set it apart."""
    command = list(ns.command)
    return command[1:] if command and command[0] == "--" else command


def start_capture(ns: argparse.Namespace, command: list[str], on_call: Any = None) -> Any:
    """The :class:`~iomonitor.capture.Capture` the options ask for (saying when it falls
    back on strace)."""
    from iomonitor.capture import Capture

    cap = Capture(
        command=command or None,
        pids=ns.pid,
        strace=ns.strace,
        decode_fds={"auto": None, "yes": True, "no": False}[ns.decode_fds],
        duration=ns.duration,
        on_call=on_call,
        backend=ns.backend,
    )
    if cap.fallback:
        print(f"iomonitor: using strace: {cap.fallback}", file=sys.stderr)
    return cap


def exit_status(meta: dict[str, Any]) -> int:
    """Warn of the capture's blind spots; the exit status: the traced command's own, or 0."""
    _warn_blind_spots(meta)
    status = meta.get("exit_status")
    return int(status) if status is not None else 0


def run(ns: argparse.Namespace) -> int:
    """Run the capture form described by ``ns``; return the exit status."""
    command = command_of(ns)
    modes = sum(bool(x) for x in (command, ns.pid, ns.input))
    if modes != 1:
        raise UsageError(
            "give exactly one of: a command to trace, -p PID, or -i LOG (see iomonitor --help)"
        )
    if ns.pid and ns.decode_fds == "no":
        raise UsageError(
            "--decode-fds no cannot attach: the fds a process opened before the attach "
            "are known only from strace's names of them"
        )
    ns.output = _output(ns)
    on_call = _print_call if ns.verbose else None
    if ns.input:
        return _convert(ns, on_call)
    cap = start_capture(ns, command, on_call)
    with stop_on_signals(cap):
        meta = cap.to_sink(ns.output, ns.format, stream=sys.stderr, host=ns.host)
    return exit_status(meta)


@contextlib.contextmanager
def stop_on_signals(cap: Any) -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP end the capture; what was seen is still written.

    In a terminal Ctrl-C reaches the whole process group, the traced command
    included; the runner passes the same signal on, so the command ends as it
    would have without iomonitor, and the file is closed normally.
    """

    def handler(signum: int, frame: object) -> None:
        cap.stop(signum)

    wanted = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, handler) for sig in wanted}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _convert(ns: argparse.Namespace, on_call: Any) -> int:
    from iomonitor import store
    from iomonitor.cli import _startup

    date = _parse_date(ns.date) if ns.date else None
    store.sniff_log(ns.input)
    # Nothing below loads numpy or pandas, whatever the output: pyarrow may
    # come without numpy (in the program's own process only).
    _startup.import_arrow()
    sink = store.open_sink(ns.output, ns.format, stream=sys.stdout, host=ns.host)
    meta = store.convert_log(ns.input, sink, date=date, cwd=ns.cwd, on_call=on_call)
    _warn_blind_spots(meta)
    # The sink is closed and the warning printed. The one exit handler on this
    # path, pyarrow's S3 finalizer, has nothing to finalize: files are local.
    _startup.skip_teardown()
    return 0


def _output(ns: argparse.Namespace) -> str | None:
    """Where to write: ``-o`` as given, or ``--dataset DIR`` as the dataset ``DIR/``.

    Checked before anything runs: a dataset holds Parquet only, and
    ``--host`` names a dataset's folder.
    """
    output = ns.output
    if ns.dataset is not None:
        if output is not None:
            raise UsageError("give -o or --dataset, not both")
        output = os.path.join(ns.dataset, "")
    # The rule of store.is_dataset_target, repeated so that a capture starts
    # strace before pandas and pyarrow load.
    dataset = output not in (None, "-") and (output.endswith(os.sep) or os.path.isdir(output))
    if dataset and ns.format == "csv":
        raise UsageError("a dataset holds Parquet files: --format csv cannot write one")
    if ns.host is not None and not dataset:
        raise UsageError("--host names a dataset's folder: use it with -o DIR/ or --dataset DIR")
    return output


#: What a host folder may be called (store.DatasetSink checks the same).
_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _host_name(text: str) -> str:
    if not _HOST.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} cannot name a folder of the dataset (letters, digits, . _ -)"
        )
    return text


def _duration(text: str) -> float:
    try:
        return parse_duration(text) / 1e9
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parse_date(text: str) -> _dt.date:
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--date wants YYYY-MM-DD, not {text!r}") from None


def _print_call(rec: Record) -> None:
    ret = "?" if rec.ret is None else str(rec.ret)
    err = f" {rec.errno}" if rec.errno else ""
    if rec.kind == "call":
        text = f"{rec.pid} {rec.syscall}({rec.args}) = {ret}{err}"
    else:
        text = f"{rec.pid} {rec.line.strip()}"
    print(text, file=sys.stderr, flush=False)


def _warn_blind_spots(meta: dict[str, Any]) -> None:
    parts = []
    if meta.get("unparsed_lines"):
        ex = (meta.get("unparsed_examples") or [""])[0]
        parts.append(f"{meta['unparsed_lines']} lines could not be read (first: {ex[:80]!r})")
    if meta.get("lost_records"):
        parts.append(f"{meta['lost_records']} records lost by the eBPF capture")
    if meta.get("unseen_calls"):
        parts.append(
            f"{meta['unseen_calls']} calls whose result could not be seen "
            f"(asking to move {meta.get('unseen_bytes') or 0} bytes)"
        )
    if meta.get("unknown_fds"):
        parts.append(f"{meta['unknown_fds']} calls on fds of unknown origin")
    if meta.get("io_uring_calls"):
        parts.append(f"{meta['io_uring_calls']} io_uring calls (their data is invisible)")
    if meta.get("aio_calls"):
        parts.append(f"{meta['aio_calls']} Linux AIO calls (their data is invisible)")
    if parts:
        print("iomonitor: warning: " + "; ".join(parts), file=sys.stderr)
