"""Pure parsing of one strace output line into a :class:`Record`.

No state and no I/O: the same line always gives the same record. Joining
split calls, timestamps relative to earlier lines and every notion of a
process live elsewhere (``joiner``, ``events``).

Line grammar, as strace 4.x to 6.x print it::

    [pid prefix] [time] body [ <dt>]

pid prefix
    ``1234  `` (``-f -o``), ``1234<comm> `` (``-f -Y``), ``[pid  1234] `` (stderr).
time
    ``11:27:22``, ``11:27:22.955576`` or ``.955576123`` (``-t``/``-tt``/ns),
    ``1795778842.944102`` (``-ttt``), ``     0.000123`` (``-r``).
body
    ``name(args) = ret [ERRNO (text)] [(extra)]``, ``name(args <unfinished ...>``,
    ``<... name resumed>args) = ret``, ``+++ exited with N +++``,
    ``+++ killed by SIGX +++``, ``+++ superseded by execve in pid N +++``,
    ``--- SIGX {...} ---``, ``--- stopped by SIGX ---``, ``<detached ...>``,
    or one of strace's own ``strace: ...`` messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Record kinds. Plain strings: compared by identity-friendly equality on the hot path.
CALL = "call"
UNFINISHED = "unfinished"
RESUMED = "resumed"
EXITED = "exited"
KILLED = "killed"
SUPERSEDED = "superseded"
SIGNAL = "signal"
DETACHED = "detached"
MESSAGE = "message"
BLANK = "blank"
INVALID = "invalid"

# Time styles.
TOD = "tod"  # seconds since local midnight (-t, -tt, ns)
EPOCH = "epoch"  # seconds since the Unix epoch (-ttt)
RELATIVE = "rel"  # seconds since the previous line (-r)


@dataclass(slots=True)
class Record:
    """One strace line, split into its parts.

    Attributes
    ----------
    kind : str
        One of the module constants ``CALL``, ``UNFINISHED``, ``RESUMED``,
        ``EXITED``, ``KILLED``, ``SUPERSEDED``, ``SIGNAL``, ``DETACHED``,
        ``MESSAGE``, ``BLANK`` or ``INVALID``.
    pid : int or None
        The pid prefix, None when the line has none.
    time : float or None
        The timestamp, in the unit given by ``time_style``.
    time_style : str or None
        ``TOD``, ``EPOCH`` or ``RELATIVE``.
    comm : str or None
        The ``-Y`` program name prefix.
    syscall : str
        The call's name (calls, halves); the signal name (``SIGNAL``, ``KILLED``).
    args : str
        Raw argument text: everything between the call's parentheses, for an
        ``UNFINISHED`` half everything after ``(``, for a ``RESUMED`` half
        everything before the closing ``)``.
    ret : int or None
        The return value; None for ``?`` or when there is none.
    ret_deco : str or None
        The ``-y`` decoration on the return value (``/etc/passwd`` of
        ``3</etc/passwd>``), raw.
    errno : str or None
        ``ENOENT`` and friends; also ``ERESTARTSYS`` for ``= ? ERESTARTSYS``.
    extra : str or None
        Text after the return value, e.g. ``(flags O_RDONLY)`` or the errno text.
    dt : float or None
        ``-T`` duration in seconds.
    status : int or None
        Exit status (``EXITED``) or the new pid (``SUPERSEDED``).
    line : str
        The original line, for messages and diagnostics.
    """

    kind: str
    pid: int | None = None
    time: float | None = None
    time_style: str | None = None
    comm: str | None = None
    syscall: str = ""
    args: str = ""
    ret: int | None = None
    ret_deco: str | None = None
    errno: str | None = None
    extra: str | None = None
    dt: float | None = None
    status: int | None = None
    line: str = ""


_PREFIX = re.compile(
    r"""
    (?:\[pid\ +(?P<bpid>\d+)\]\ |(?P<pid>\d+)(?:<(?P<comm>[^>]*)>)?\ +)?
    (?:
        (?P<tod>\d\d:\d\d:\d\d(?:\.\d+)?)\ +
      | (?P<num>\ *\d+\.\d+)\ +
    )?
    """,
    re.VERBOSE,
)
_NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*|\?\?\?)\(")
_DT = re.compile(r" <(\d+(?:\.\d+)?)>$")
_RESUMED = re.compile(r"<\.\.\. ([A-Za-z0-9_?]+) resumed> ?")
_RET = re.compile(
    r"""
    (?P<ret>-?\d+|0x[0-9a-fA-F]+|\?)
    (?:<(?P<deco>.*?)>)?
    (?:\ +(?P<errno>E[A-Z0-9]+|ERESTART[A-Z_]*|\?)\ \((?P<etext>[^)]*)\))?
    (?P<extra>\ .*)?
    $
    """,
    re.VERBOSE,
)
_EXIT = re.compile(r"\+\+\+ exited with (-?\d+) \+\+\+")
_KILLED = re.compile(r"\+\+\+ killed by (SIG[A-Z0-9+]+|\d+)(?: \(core dumped\))? \+\+\+")
_SUPERSEDED = re.compile(r"\+\+\+ superseded by execve in pid (\d+) \+\+\+")
_SIGNAL = re.compile(r"--- (?:stopped by )?(SIG[A-Z0-9+]+|\d+)")

_UNFINISHED_TAIL = " <unfinished ...>"
_DETACHED_TAIL = "<detached ...>"


def _parse_time(tod: str | None, num: str | None) -> tuple[float | None, str | None]:
    if tod is not None:
        h, m, s = tod.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s), TOD
    if num is not None:
        value = float(num)
        # -r prints small deltas; -ttt prints seconds since 1970. A relative
        # stamp of more than three years between two lines does not happen.
        return value, (EPOCH if value > 1e8 else RELATIVE)
    return None, None


def _split_return(rest: str) -> tuple[str, re.Match[str]] | None:
    """Find the ``) = ret`` that closes the argument list.

    Arguments may hold ``) = `` inside strings or decorations, so try the
    rightmost candidate first and walk left until the tail reads as a whole
    return expression.
    """
    end = len(rest)
    while True:
        i = rest.rfind("= ", 0, end)
        if i < 0:
            return None
        j = i - 1
        while j >= 0 and rest[j] == " ":
            j -= 1
        if j >= 0 and rest[j] == ")" and j < i:
            m = _RET.match(rest, i + 2)
            if m is not None:
                return rest[:j], m
        end = i


def parse_line(line: str) -> Record:
    """Parse one line of strace output.

    Parameters
    ----------
    line : str
        The line, with or without its trailing newline.

    Returns
    -------
    Record
        Never raises: a line that is not strace output is a ``INVALID`` record
        holding the text, and strace's own messages are ``MESSAGE`` records.

    Examples
    --------
    >>> r = parse_line('42  12:00:00.000001 read(3</etc/hosts>, "", 4096) = 0 <0.000004>')
    >>> (r.kind, r.pid, r.syscall, r.ret, r.dt)
    ('call', 42, 'read', 0, 4e-06)
    """
    line = line.rstrip("\n")
    if line.endswith("\r"):
        line = line[:-1]
    if not line.strip():
        return Record(BLANK, line=line)
    m = _PREFIX.match(line)
    pos = m.end()
    bpid = m.group("bpid")
    pid_s = bpid if bpid is not None else m.group("pid")
    pid = int(pid_s) if pid_s is not None else None
    time, style = _parse_time(m.group("tod"), m.group("num"))
    comm = m.group("comm")
    body = line[pos:]

    dt = None
    if body.endswith(">"):
        md = _DT.search(body)
        if md is not None:
            dt = float(md.group(1))
            body = body[: md.start()]

    first = body[:1]
    if first.isalpha() or first == "_" or body.startswith("???("):
        mn = _NAME.match(body)
        if mn is None:
            return _other(line, pid, time, style, comm)
        name = mn.group(1)
        rest = body[mn.end() :]
        if rest.endswith(_UNFINISHED_TAIL):
            return Record(
                UNFINISHED, pid, time, style, comm, name, rest[: -len(_UNFINISHED_TAIL)], line=line
            )
        if rest.endswith(_DETACHED_TAIL):
            return Record(
                DETACHED, pid, time, style, comm, name, rest[: -len(_DETACHED_TAIL)], line=line
            )
        split = _split_return(rest)
        if split is None:
            return _other(line, pid, time, style, comm)
        args, mr = split
        return _with_return(Record(CALL, pid, time, style, comm, name, args, dt=dt, line=line), mr)
    if first == "<":
        mr_ = _RESUMED.match(body)
        if mr_ is not None:
            rest = body[mr_.end() :]
            name = mr_.group(1)
            if rest.endswith(_DETACHED_TAIL):
                return Record(
                    DETACHED, pid, time, style, comm, name, rest[: -len(_DETACHED_TAIL)], line=line
                )
            split = _split_return(")" + rest if rest.startswith(" =") else rest)
            if split is None:
                return _other(line, pid, time, style, comm)
            args, mr = split
            rec = Record(RESUMED, pid, time, style, comm, name, args, dt=dt, line=line)
            return _with_return(rec, mr)
        if body.startswith(_DETACHED_TAIL):
            return Record(DETACHED, pid, time, style, comm, line=line)
    elif first == "+":
        me = _EXIT.match(body)
        if me is not None:
            return Record(EXITED, pid, time, style, comm, status=int(me.group(1)), line=line)
        mk = _KILLED.match(body)
        if mk is not None:
            return Record(KILLED, pid, time, style, comm, mk.group(1), line=line)
        ms = _SUPERSEDED.match(body)
        if ms is not None:
            return Record(SUPERSEDED, pid, time, style, comm, status=int(ms.group(1)), line=line)
    elif first == "-":
        mg = _SIGNAL.match(body)
        if mg is not None:
            return Record(SIGNAL, pid, time, style, comm, mg.group(1), body, line=line)
    return _other(line, pid, time, style, comm)


def _with_return(rec: Record, m: re.Match[str]) -> Record:
    ret = m.group("ret")
    if ret != "?":
        rec.ret = int(ret, 16) if ret.startswith("0x") else int(ret)
    rec.ret_deco = m.group("deco")
    rec.errno = m.group("errno")
    extra = m.group("extra")
    rec.extra = extra.strip() if extra else m.group("etext")
    return rec


def _other(
    line: str, pid: int | None, time: float | None, style: str | None, comm: str | None
) -> Record:
    text = line.lstrip()
    if text.startswith("strace: ") or text.startswith("[ Process PID="):
        return Record(MESSAGE, pid, time, style, comm, line=line)
    return Record(INVALID, pid, time, style, comm, line=line)
