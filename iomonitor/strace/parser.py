"""Pure parsing of one strace output line into a :class:`Record`.

No state and no I/O: the same line always gives the same record. Joining
split calls, timestamps relative to earlier lines and every notion of a
process live elsewhere (``joiner``, ``events``).

Line grammar, as strace 4.x to 6.x print it::

    [pid prefix] [time [(+ rel)]] [-n number] [-i address] body [ <dt>]

pid prefix
    ``1234  `` (``-f -o``), ``1234<comm> `` (``-f -Y``), ``[pid  1234] `` or
    ``[pid  1234<comm>] `` (stderr).
time
    ``11:27:22``, ``11:27:22.955576`` or ``.955576123`` (``-t``/``-tt``/ns),
    ``1795778842.944102`` or ``1795778842`` (``-ttt``, ``format:unix``),
    ``     0.000123`` (``-r``); ``-r`` next to ``-t`` adds ``(+     0.000123)``,
    which is skipped.
body
    ``name(args) = ret [ERRNO (text)] [(extra)]``, ``name(args <unfinished ...>``,
    ``name(args <pid changed to N ...>``, ``<... name resumed>args) = ret``,
    ``+++ exited with N +++``, ``+++ killed by SIGX [(core dumped)] +++``,
    ``+++ superseded by execve in pid N +++``, ``--- SIGX {...} ---``,
    ``--- stopped by SIGX ---``, ``<detached ...>``, or one of strace's own
    ``strace: ...`` messages.

Output written to strace's stderr (no ``-o``) can also hold lines cut in two by
one of strace's messages, see :class:`Record`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from iomonitor.strace.decode import to_name, unescape
from iomonitor.timeutil import EPOCH, RELATIVE, TOD

__all__ = [
    "BLANK",
    "CALL",
    "DETACHED",
    "EPOCH",
    "EXITED",
    "INVALID",
    "KILLED",
    "MESSAGE",
    "RELATIVE",
    "RESUMED",
    "SIGNAL",
    "SUPERSEDED",
    "TOD",
    "UNFINISHED",
    "Record",
    "parse_line",
]

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
        The ``-Y`` program name prefix, unescaped (strace prints ``>`` as
        ``\\76``).
    syscall : str
        The call's name (calls, halves); the signal name (``SIGNAL``,
        ``KILLED``). Empty for a continuation (see Notes).
    args : str
        Raw argument text: everything between the call's parentheses, for an
        ``UNFINISHED`` or ``DETACHED`` half everything after ``(`` up to the
        marker, for a ``RESUMED`` half everything before the closing ``)``;
        for ``SIGNAL`` the whole ``--- ... ---`` text.
    ret : int or None
        The return value; None for ``?`` or when there is none.
    ret_deco : str or None
        The ``-y`` decoration on the return value (``/etc/passwd`` of
        ``3</etc/passwd>``), raw; ``/f>(deleted)`` for ``3</f>(deleted)``
        (see :func:`~iomonitor.strace.decode.parse_deco_path`). The ``-Y``
        program name for a returned pid.
    errno : str or None
        ``ENOENT`` and friends; also ``ERESTARTSYS`` for ``= ? ERESTARTSYS``.
    extra : str or None
        Text after the return value, e.g. ``(flags O_RDONLY)``,
        ``<unavailable>`` or the errno text. For ``MESSAGE`` the message; for
        a half cut by a message (see Notes) that message; for ``DETACHED`` any
        text that followed ``<detached ...>`` on the same line (strace ends a
        detach without a newline, so the next output is glued to it).
    dt : float or None
        ``-T`` duration in seconds.
    status : int or None
        Exit status (``EXITED``), the new pid (``SUPERSEDED``), or the pid an
        ``UNFINISHED`` execve of a non-leader thread will resume under
        (``<pid changed to N ...>``).
    line : str
        The original line, for messages and diagnostics.

    Notes
    -----
    Without ``-o``, strace writes its own messages (``strace: Process N
    attached``) to the same stream in the middle of a call's line::

        clone(child_stack=NULL, flags=SIGCHLD/usr/bin/strace: Process 7 attached
        , child_tidptr=0x7f04) = 7

    The first line gives an ``UNFINISHED`` half whose ``extra`` is the
    message; the second, with no pid and no time, gives a ``RESUMED`` half
    whose ``syscall`` is empty: it continues the half printed just before.
    strace 6.1 prints the same kind of continuation line after an
    ``<unfinished ...>`` half when filtering with ``-e status=``, ``-z`` or
    ``-Z`` (fixed in 6.2). A lone `` <unfinished ...>`` line gives an
    ``UNFINISHED`` record with an empty ``syscall``, a lone `` <detached ...>``
    a ``DETACHED`` one.
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


# pids fit in 7 digits (PID_MAX_LIMIT is 2**22), unix seconds take 10: a bare
# number of 9 or more digits is a `format:unix,precision:s` time, not a pid.
_PREFIX = re.compile(
    r"""
    (?:
        (?P<pid>\d{1,7})(?:<(?P<comm>[^>]*)>)?\ +
      | \[pid\ +(?P<bpid>\d+)(?:<(?P<bcomm>[^>]*)>)?\]\ +
    )?
    (?:
        (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d(?:\.\d+)?)\ +
      | (?P<num>\ *\d+\.\d+|\d{9,})\ +
    )?
    (?:\(\+\ *\d+\.\d+\)\ +)?
    (?:\[\ *\d+\]\ +)?
    (?:\[[0-9a-f?]{8,16}\]\ +)?
    """,
    re.VERBOSE,
)
_NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*|\?\?\?)\(")
_DT = re.compile(r" <(\d+(?:\.\d+)?)>$")
_DT_AT = re.compile(r" <(\d+(?:\.\d+)?)>")
# The lines of iomonitor's own captures (-f -o, -ttt): the pid, epoch seconds
# with ten digits before the point (so > 1e8, the general parser's test for
# EPOCH), then a call's name and "(" or a resumed half's marker. What _PREFIX
# would skip after the time ("(+ rel)", "[nr]", "[addr]") cannot start there.
_COMMON = re.compile(
    r"(\d{1,7}) +([1-9]\d{9}\.\d+) +"
    r"(?:([A-Za-z_][A-Za-z0-9_]*)\(|<\.\.\. ([A-Za-z0-9_?]+) resumed> ?)",
    re.ASCII,
)
_RESUMED = re.compile(r"<\.\.\. ([A-Za-z0-9_?]+) resumed> ?")
_RET = re.compile(
    r"""
    (?:
        (?P<ret>-?\d+|0x[0-9a-fA-F]+)
        (?:<(?P<deco>.*?)>(?P<deleted>\(deleted\))?)?
      | \?
    )
    (?:\ +(?P<errno>E[A-Z0-9_]+)\ \((?P<etext>[^)]*)\))?
    (?P<extra>\ .*)?
    $
    """,
    re.VERBOSE,
)
_EXIT = re.compile(r"\+\+\+ exited with (-?\d+) \+\+\+")
_KILLED = re.compile(r"\+\+\+ killed by (SIG[A-Z0-9_+]+|\d+)(?: \(core dumped\))? \+\+\+")
_SUPERSEDED = re.compile(r"\+\+\+ superseded by execve in pid (\d+) \+\+\+")
_SIGNAL = re.compile(r"--- (?:stopped by )?(SIG[A-Z0-9_+]+|\d+)")
_PID_CHANGED = re.compile(r" <pid changed to (\d+) \.\.\.>$")
# strace prefixes its messages with its argv[0]: "strace: ", "/usr/bin/strace: ".
# strace 4.x printed "Process N attached" bare.
_MESSAGE = re.compile(
    r"(?:\S*/)?strace: |\[ Process PID=\d+ |Process \d+ (?:attached|detached|resumed|suspended)"
)
# A message glued to the end of a half-printed call. The argv[0] path, if any,
# starts at a "/" (or "./", "../") right after the cut argument text.
_GLUED = re.compile(r"(?:\.{0,2}/[^\s,(){}\[\]<>|=\"]*)?strace: (?:Process \d+ |\[ Process)")
# Escape pairs first: decorations print a quote in a path as \".
_STRING = re.compile(r'\\.|"[^"\\]*(?:\\.[^"\\]*)*"')

_UNFINISHED_TAIL = " <unfinished ...>"
_DETACHED_TAIL = "<detached ...>"
_DETACHED_MARK = " <detached ...>"


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
        The line, with or without its trailing newline. Read logs with
        ``errors="surrogateescape"``: strace prints valid UTF-8 in strings raw.

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
    mc = _COMMON.match(line)
    if mc is not None:
        rec = _parse_common(line, mc)
        if rec is not None:
            return rec
    return _parse_any(line)


def _parse_any(line: str) -> Record:
    """The general parser: any shape, any prefix (``line`` without its newline)."""
    if not line.strip():
        return Record(BLANK, line=line)
    m = _PREFIX.match(line)
    pos = m.end()
    pid_s, comm, bpid, bcomm, h, mi, s, num = m.group(
        "pid", "comm", "bpid", "bcomm", "h", "m", "s", "num"
    )
    if bpid is not None:
        pid_s, comm = bpid, bcomm
    pid = int(pid_s) if pid_s is not None else None
    if comm is not None and "\\" in comm:
        comm = _unescape_comm(comm)
    if h is not None:
        time: float | None = int(h) * 3600 + int(mi) * 60 + float(s)
        style: str | None = TOD
    elif num is not None:
        time = float(num)
        # -r prints small deltas; -ttt prints seconds since 1970. A relative
        # stamp of more than three years between two lines does not happen.
        style = EPOCH if time > 1e8 else RELATIVE
    else:
        time = style = None
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
            return _other(line, body, pid, time, style, comm, dt)
        name = mn.group(1)
        rest = body[mn.end() :]
        if rest.endswith("...>"):
            if rest.endswith(_UNFINISHED_TAIL):
                args = rest[: -len(_UNFINISHED_TAIL)]
                return Record(UNFINISHED, pid, time, style, comm, name, args, line=line)
            if rest.endswith(_DETACHED_MARK):
                args = rest[: -len(_DETACHED_MARK)]
                return Record(DETACHED, pid, time, style, comm, name, args, line=line)
            mp = _PID_CHANGED.search(rest)
            if mp is not None:
                # A non-leader thread's execve: it resumes under the leader's pid.
                args, new_pid = rest[: mp.start()], int(mp.group(1))
                return Record(
                    UNFINISHED, pid, time, style, comm, name, args, status=new_pid, line=line
                )
        split = _split_return(rest)
        if split is not None and _DETACHED_MARK not in split[0]:
            args, mr = split
            rec = Record(CALL, pid, time, style, comm, name, args, dt=dt, line=line)
            return _with_return(rec, mr)
        cut = _cut(rest, line, pid, time, style, comm, name)
        if cut is not None:
            return cut
        if split is not None:
            args, mr = split
            rec = Record(CALL, pid, time, style, comm, name, args, dt=dt, line=line)
            return _with_return(rec, mr)
        return _other(line, body, pid, time, style, comm, dt)
    if first == "<":
        mr_ = _RESUMED.match(body)
        if mr_ is not None:
            rest = body[mr_.end() :]
            name = mr_.group(1)
            split = _split_return(")" + rest if rest.startswith(" =") else rest)
            if split is not None:
                args, mr = split
                rec = Record(RESUMED, pid, time, style, comm, name, args, dt=dt, line=line)
                return _with_return(rec, mr)
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
    return _other(line, body, pid, time, style, comm, dt)


def _parse_common(line: str, m: re.Match[str]) -> Record | None:
    """A whole call or a resumed half in ``-f -o -ttt`` form, as :func:`_parse_any`
    reads it; None for anything else on such a line (the general parser decides)."""
    pos = m.end()
    end = len(line)
    dt = None
    if line.endswith(">"):
        # The duration's ` <` is the line's last: no `<` follows it.
        i = line.rfind(" <")
        md = _DT_AT.fullmatch(line, i) if i >= pos else None
        if md is not None:
            dt = float(md.group(1))
            end = i
    pid_s, time_s, name, resumed = m.groups()
    rest = line[pos:end]
    if resumed is not None:
        split = _split_return(")" + rest if rest.startswith(" =") else rest)
        if split is None:
            return None
        args, mr = split
        kind, name = RESUMED, resumed
    else:
        if rest.endswith("...>"):
            if rest.endswith(_UNFINISHED_TAIL):
                args = rest[: -len(_UNFINISHED_TAIL)]
                return Record(
                    UNFINISHED, int(pid_s), float(time_s), EPOCH, None, name, args, line=line
                )
            return None
        split = _split_return(rest)
        if split is None or _DETACHED_MARK in split[0]:
            return None
        args, mr = split
        kind = CALL
    rec = Record(kind, int(pid_s), float(time_s), EPOCH, None, name, args, dt=dt, line=line)
    return _with_return(rec, mr)


def _with_return(rec: Record, m: re.Match[str]) -> Record:
    # ret, deco, deleted, errno, etext, extra: _RET's groups in order.
    ret, deco, deleted, errno, etext, extra = m.groups()
    if ret is not None:
        rec.ret = int(ret, 16) if ret.startswith("0x") else int(ret)
    if deleted is not None:
        # strace >= 5.19 prints "(deleted)" after the decoration's ">".
        deco += ">" + deleted
    rec.ret_deco = deco
    rec.errno = errno
    rec.extra = extra.strip() if extra else etext
    return rec


def _unescape_comm(comm: str) -> str:
    try:
        return to_name(unescape(comm))
    except UnicodeEncodeError:
        # A lone surrogate that no byte decodes to: the line was not read from bytes.
        return comm


def _outside_strings(text: str, i: int) -> bool:
    """Whether position ``i`` of argument text is outside every quoted string."""
    for ms in _STRING.finditer(text):
        if ms.start() > i:
            break
        if i < ms.end() and text[ms.start()] == '"':
            return False
    return True


def _cut(
    rest: str,
    line: str,
    pid: int | None,
    time: float | None,
    style: str | None,
    comm: str | None,
    name: str,
) -> Record | None:
    """A call whose line something else ended: ``<detached ...>`` or a message.

    ``rest`` is the text after ``name(``. Returns None when neither is there.
    """
    i = rest.find(_DETACHED_MARK)
    while i >= 0 and not _outside_strings(rest, i):
        i = rest.find(_DETACHED_MARK, i + 1)
    if i >= 0:
        # strace -p stopped mid-call; the marker may lack its newline, so other
        # output can follow it on the same line.
        after = rest[i + len(_DETACHED_MARK) :] or None
        return Record(DETACHED, pid, time, style, comm, name, rest[:i], extra=after, line=line)
    mg = _GLUED.search(rest)
    if mg is not None:
        args, msg = rest[: mg.start()], rest[mg.start() :]
        return Record(UNFINISHED, pid, time, style, comm, name, args, extra=msg, line=line)
    return None


def _other(
    line: str,
    body: str,
    pid: int | None,
    time: float | None,
    style: str | None,
    comm: str | None,
    dt: float | None,
) -> Record:
    text = body.lstrip()
    if text.startswith(_DETACHED_TAIL):
        after = text[len(_DETACHED_TAIL) :]
        return Record(DETACHED, pid, time, style, comm, extra=after or None, line=line)
    if text == _UNFINISHED_TAIL[1:]:
        return Record(UNFINISHED, pid, time, style, comm, line=line)
    if _MESSAGE.match(text) is not None:
        return Record(MESSAGE, pid, time, style, comm, extra=text, line=line)
    if pid is None and style is None:
        # The rest of a call whose line a message (or the strace 6.1 -e status=
        # bug) broke: "..., child_tidptr=0x7f04) = 7" with no prefix.
        split = _split_return(body)
        if split is not None:
            args, mr = split
            return _with_return(
                Record(RESUMED, None, None, None, None, "", args, dt=dt, line=line), mr
            )
    return Record(INVALID, pid, time, style, comm, line=line)
