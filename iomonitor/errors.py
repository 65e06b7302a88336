"""Typed errors. The CLI turns each into one line on stderr and its exit code.

Library code raises these and never prints or exits; every class carries the
fields a user needs to act on the message.
"""

from __future__ import annotations


class IomonitorError(Exception):
    """Base class of every error iomonitor reports to a user.

    Attributes
    ----------
    exit_code : int
        The exit status the command line uses for this error.
    """

    exit_code: int = 1


class UsageError(IomonitorError):
    """The command line or the arguments of an API call do not make sense."""

    exit_code = 2


class NoTimeError(UsageError):
    """What was asked needs the time of each call, and the trace has none.

    A log recorded without ``-t``/``-tt``/``-ttt`` has no timestamps: totals,
    sizes and latency still work, figures and tables over time cannot.
    """

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} needs the time of each call, and this trace has none "
            "(its log was recorded without -t, -tt or -ttt)"
        )
        self.what = what


class InputError(IomonitorError):
    """An input file is missing, unreadable, empty or not a trace."""

    exit_code = 3

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class OutputError(IomonitorError):
    """The output cannot be written (no such folder, no permission, disk full)."""

    exit_code = 4

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot write {path}: {reason}")
        self.path = path
        self.reason = reason


class StraceNotFoundError(IomonitorError):
    """No strace executable could be found."""

    exit_code = 5


class PtraceError(IomonitorError):
    """The kernel refused to let strace trace (ptrace not permitted)."""

    exit_code = 6


class NoSuchProcessError(IomonitorError):
    """A pid given to attach to does not exist."""

    exit_code = 7

    def __init__(self, pid: int) -> None:
        super().__init__(f"no such process: {pid}")
        self.pid = pid


class CommandNotFoundError(IomonitorError):
    """The command to trace does not exist or cannot be executed."""

    exit_code = 127

    def __init__(self, command: str, reason: str = "command not found") -> None:
        super().__init__(f"{command}: {reason}")
        self.command = command


class CaptureError(IomonitorError):
    """strace failed for another reason; the message holds what it said."""

    exit_code = 8


class EbpfError(IomonitorError):
    """The eBPF backend cannot run here (not built, no privilege, no BTF) or failed."""

    exit_code = 9
