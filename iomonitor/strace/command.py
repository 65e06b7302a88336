"""strace's own command line and what it says: where strace is, which
options it has, the options iomonitor always gives it, and its complaints on
stderr turned into typed errors. The runner starts strace; this module only
asks it ``-V``/``-h`` and reads what it said.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence

from iomonitor.errors import (
    CaptureError,
    CommandNotFoundError,
    IomonitorError,
    NoSuchProcessError,
    PtraceError,
    StraceNotFoundError,
)

#: Where strace is looked for when it is not on PATH.
FALLBACK_STRACE = "/usr/bin/strace"


#: ``-s``: strace prints at most this many bytes of every buffer. No buffer
#: contents are ever stored, so it only pays for the execve argv strings (and
#: argv elements: -s caps arrays too) that go into the processes table.
STRING_LIMIT = 32

#: What strace says about each fd it prints (``--decode-fds``): its path, a
#: socket's protocol and endpoints, a pidfd's process; all that the event core
#: reads in a decoration. ``-yy`` (``all``) also asks for ``dev``, a device's
#: type and numbers (``/dev/null<char 1:3>``), for which strace stat()s the
#: path of every fd it names, regular files included: per traced read or
#: write, 15 system calls of strace's own instead of 14
#: (``benchmarks/strace_options_cost.py --count``). The path gives the
#: ``kind`` as well (``/dev/pts/*``, ``/dev/tty*``: tty; other ``/dev/``
#: paths: dev), as it does for the eBPF backend's names and, beside a
#: device's numbers, in a ``-yy`` log.
DECODE_FDS = "path,socket,pidfd"

#: Calls printed unabbreviated (``-e abbrev=!...``). strace caps every array at
#: -s elements, which would cut the msg_len list of a sendmmsg/recvmmsg of more
#: than 32 messages, the SCM_RIGHTS fds of a recvmsg and, below -s 2, even the
#: two fds of pipe/socketpair. Unabbreviated calls print whole arrays at any -s
#: (strace itself stops after 1024 mmsghdrs, the kernel's UIO_MAXIOV). execve
#: must stay abbreviated: unabbreviated it prints the whole environment.
UNABBREVIATED_SYSCALLS: tuple[str, ...] = (
    "pipe",
    "pipe2",
    "socketpair",
    "recvmsg",
    "recvmmsg",
    "sendmmsg",
)

#: strace's line for a pid it could not attach to (or lost while attaching).
ATTACH_FAILED = re.compile(r"attach: (?:ptrace\(PTRACE_\w+, (\d+)\)|pid (\d+)): (.*)")
VERSION = re.compile(rb"version\s+(\d+(?:\.\d+)*)")


def find_strace(strace: str | None = None) -> str:
    """Return the strace executable to use.

    Parameters
    ----------
    strace : str, optional
        A path or a name to look up on PATH. By default ``strace`` on PATH,
        else :data:`FALLBACK_STRACE`.

    Returns
    -------
    str
        The executable's path.

    Raises
    ------
    StraceNotFoundError
        When there is no such executable.
    """
    if strace:
        found = shutil.which(strace)
        if found is None:
            raise StraceNotFoundError(f"strace not found: {strace}")
        return found
    found = shutil.which("strace")
    if found is not None:
        return found
    if os.access(FALLBACK_STRACE, os.X_OK):
        return FALLBACK_STRACE
    raise StraceNotFoundError("strace not found: install strace (it is not on PATH)")


def probe_features(strace: str) -> tuple[str, str]:
    """Return strace's version and its help text (to see which options it has)."""
    try:
        version = subprocess.run(
            [strace, "-V"], capture_output=True, stdin=subprocess.DEVNULL, timeout=30, check=False
        )
        helptext = subprocess.run(
            [strace, "-h"], capture_output=True, stdin=subprocess.DEVNULL, timeout=30, check=False
        )
    except OSError as e:
        raise StraceNotFoundError(f"cannot run {strace}: {e.strerror}") from None
    except subprocess.TimeoutExpired:
        raise CaptureError(f"{strace} -V did not answer") from None
    m = VERSION.search(version.stdout)
    if version.returncode != 0 or m is None:
        raise StraceNotFoundError(
            f"{strace} does not look like strace (-V: {version.stdout[:60]!r})"
        )
    return m.group(1).decode(), (helptext.stdout + helptext.stderr).decode(errors="replace")


def decode_fds_option(features: str) -> str:
    """The option that asks strace to name fds the way :data:`DECODE_FDS` says.

    Parameters
    ----------
    features : str
        strace's help text (:func:`probe_features`).

    Returns
    -------
    str
        ``--decode-fds=path,socket,pidfd``, or ``-yy`` for a strace whose
        help does not list those kinds (the same names, devices' numbers added).
    """
    if "decode-fds" in features and all(kind in features for kind in DECODE_FDS.split(",")):
        return "--decode-fds=" + DECODE_FDS
    return "-yy"


def classify(
    lines: list[str],
    program: str,
    command: Sequence[str] | None,
    pids: Sequence[int] | None,
    returncode: int | None,
    *,
    attach: bool = False,
) -> IomonitorError:
    """Turn what strace said on stderr into the matching typed error."""
    # strace starts its messages with the name it was run as: show "strace: ".
    text = []
    for raw in lines:
        line = raw.strip()
        if line.startswith(program + ":"):
            line = "strace" + line[len(program) :]
        if line:
            text.append(line)
    for line in text:
        low = line.lower()
        m = ATTACH_FAILED.search(line)
        if m and "no such process" in low:
            return NoSuchProcessError(int(m.group(1) or m.group(2)))
        if "operation not permitted" in low and ("ptrace" in low or "attach" in low):
            return PtraceError(
                f"ptrace not permitted: {line} (needs CAP_SYS_PTRACE or a lower "
                "kernel.yama.ptrace_scope; a process can have only one tracer)"
            )
        if command and ("can't stat" in low or "cannot find executable" in low):
            return CommandNotFoundError(command[0])
        if command and low.startswith("strace: exec:"):
            reason = line.split(":", 2)[2].strip()
            return CommandNotFoundError(command[0], f"cannot execute: {reason}")
    if text:
        return CaptureError(text[0])
    what = "attaching" if attach else "starting"
    return CaptureError(f"strace failed while {what} (exit status {returncode})")
