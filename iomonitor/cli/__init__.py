"""Command line: ``main(argv) -> int``.

The classic forms (``iomonitor [options] command...``, ``-p PID``, ``-i LOG``)
and the subcommands share one entry point. Subcommands are listed in
:data:`SUBCOMMANDS`, an explicit registry: each module provides
``make_parser(prog)`` and ``run(args) -> int`` and its docstring is its help;
the registry repeats the docstring's first line, which ``iomonitor --help``
lists without importing every subcommand (a test keeps the two equal). Only
this package prints to the user and turns errors into exit codes.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence
from typing import IO

import iomonitor
from iomonitor.errors import IomonitorError, OutputError

#: name -> (module implementing it, imported only when used; its help's first line).
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": (
        "iomonitor.cli.capture",
        "Trace a command, attach to processes, or convert a strace log.",
    ),
    "stats": (
        "iomonitor.cli.stats",
        "Summarize traces: totals per file, peer, process and system call.",
    ),
    "plot": ("iomonitor.cli.plot", "Draw a figure of one or more traces into a PNG or SVG file."),
    "report": (
        "iomonitor.cli.report",
        "Write one self-contained HTML report of one or more traces.",
    ),
    "top": (
        "iomonitor.cli.top",
        "Watch a command's or a process's I/O live: the busiest files, peers and processes.",
    ),
    "diff": (
        "iomonitor.cli.diff",
        "Compare two traces: what changed per file, peer, process and system call.",
    ),
    "export": (
        "iomonitor.cli.export",
        "Export a trace as Chrome/Perfetto trace-event JSON for timeline viewers.",
    ),
}

#: True only in the ``iomonitor`` program's own process (set by :func:`entry_point`,
#: never when iomonitor is imported as a library or :func:`main` runs in-process):
#: there alone may start-up and exit be cut short (``iomonitor.cli._startup``).
OWN_PROCESS = False

#: False once a command has closed every file it wrote and left nothing for
#: the interpreter's teardown (``_startup.skip_teardown``).
TEARDOWN_NEEDED = True


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        The exit status: the traced command's own status in run mode,
        0 on success otherwise, or the ``exit_code`` of the error met.
    """
    iomonitor._COMMAND_LINE = True
    args = list(sys.argv[1:] if argv is None else argv)
    name = args[0] if args and args[0] in SUBCOMMANDS else None
    module_name = SUBCOMMANDS[name or "run"][0]
    try:
        module = importlib.import_module(module_name)
        parser = module.make_parser(prog=f"iomonitor {name}" if name else "iomonitor")
        if name is None:
            _add_top_level(parser)
        ns = parser.parse_args(args[1:] if name else args)
        status = int(module.run(ns))
        # Left to the interpreter's exit, a failed flush (a full disk, `> /dev/full`)
        # would only print a warning, and the exit status would not say the output is lost.
        emit("", sys.stdout)
        return status
    except IomonitorError as exc:
        _drop_stdout()
        print(f"iomonitor: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("iomonitor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (e.g. `| head`); not an error of ours.
        _drop_stdout()
        return 0


def commands_help() -> str:
    """Every subcommand with the first line of its help, as ``iomonitor --help`` lists them."""
    lines = ["commands:"]
    lines += [f"  {name:<8}{summary}" for name, (_, summary) in SUBCOMMANDS.items()]
    lines.append("  (iomonitor COMMAND --help tells more)")
    return "\n".join(lines)


def _add_top_level(parser: argparse.ArgumentParser) -> None:
    # The classic form's parser is also the program's: it lists the
    # subcommands and answers --version.
    parser.add_argument("--version", action="version", version=f"iomonitor {iomonitor.__version__}")
    parser.epilog = commands_help() + ("\n\n" + parser.epilog if parser.epilog else "")


def _drop_stdout() -> None:
    """After a failed write, let nothing try standard output again.

    Its buffer still holds what could not be written; the interpreter would
    try again at exit and print a traceback of its own. What is lost is
    already reported.
    """
    try:
        sys.stdout.flush()
    except OSError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def new_parser(prog: str, doc: str | None, usage: str | None = None) -> argparse.ArgumentParser:
    """A subcommand's argument parser, whose help is ``doc`` laid out as written."""
    return argparse.ArgumentParser(
        prog=prog,
        description=doc,
        usage=usage,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_top_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--top N``, the rows per table of a command writing tables."""
    parser.add_argument(
        "--top",
        type=count_arg,
        default=10,
        metavar="N",
        help="rows per table (default 10, 0 = all)",
    )


def add_tz_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--tz``, the time zone of classic CSV inputs, to a command taking TRACEs."""
    parser.add_argument(
        "--tz",
        metavar="ZONE",
        help="the time zone a classic CSV's times of day are in, e.g. UTC or Asia/Tokyo "
        "(default: this machine's, as TZ sets it)",
    )


def count_arg(text: str) -> int:
    """An argparse type: a whole number, 0 or more (``--top``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (all) or more")
    return value


def emit(text: str, out: IO[str]) -> None:
    """Write ``text`` to ``out`` now; a failed write is an :class:`OutputError`."""
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        raise  # the reader went away (`| head`): main's business, not an error
    except OSError as exc:
        name = "standard output" if out is sys.stdout else getattr(out, "name", "output")
        raise OutputError(name, exc.strerror or str(exc)) from exc


def entry_point() -> None:
    """Console-script entry point (``iomonitor``, ``python -m iomonitor``)."""
    global OWN_PROCESS
    OWN_PROCESS = True
    status = main()
    if not TEARDOWN_NEEDED:
        # The interpreter's teardown frees every object one by one: 0.3 s of
        # CPU after converting a 319 MB process-heavy log. The command's files
        # are closed; only the standard streams are left to flush.
        for stream in (sys.stdout, sys.stderr):
            # A failed write to stdout is reported by main already.
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(status)
    sys.exit(status)
