"""A fast path through :class:`~iomonitor.strace.convert.Converter`, same results.

Most lines of a busy log are successful byte movers (``read``, ``write``,
``pread64``, ``sendto``, ...) and calls that change nothing iomonitor tracks
(``lseek``, ``fstat``, ``futex``). For one thread and one fd argument text
(``9</tmp/data>``) such a line always gives the same event apart from its
time, duration and byte count, until something changes the thread's fd table
or the open file behind the fd. So:

- a line of a common shape is cut into pid, time, call, fd argument, bytes and
  duration with one anchored regular expression and a few string operations,
  and looked up by ``(pid, call, fd argument)`` in a cache of *templates*;
- a miss, and every line of any other shape, goes through the reference
  :meth:`Converter.feed_line` unchanged; a miss that made exactly one event
  leaves that event behind as the template for the following lines;
- the cache is emptied (wholly, or for one fd number) whenever the reference
  path changes state a template depends on: fd-creating calls and ``close``
  drop their fd number; a decoration that corrects the table, ``execve``,
  ``connect``/``bind``, ``close_range``, fd passing and anything not known to
  be harmless drop everything.

The reference path stays the definition: the tests run both over real logs
and require identical events, processes, failed calls and counters.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

from iomonitor.strace.convert import _MAX_TIME, Converter
from iomonitor.strace.decode import split_args, split_fd
from iomonitor.strace.events import _MAX_INT64, READS, WRITES
from iomonitor.timeutil import EPOCH

# pid (-f -o), -ttt time (ten digits before the point: always > 1e8, the parser's
# test for epoch seconds), the call's name and the text up to the first comma.
_FAST = re.compile(r"(\d{1,7}) +([1-9]\d{9}\.\d+) +([a-z_][a-z0-9_]*)\(([^,\n]*)", re.ASCII)
# A successful byte mover's end: `) = N` and, with -T, ` <0.000012>`.
_MOVER_TAIL = re.compile(r"\) = (\d+)(?: <(\d+(?:\.\d+)?)>)?\n?\Z", re.ASCII)
# Any call's plain end (no errno, no decoration on the return value).
_PLAIN_TAIL = re.compile(r"\) = (?:-?\d+|0x[0-9a-f]+)(?: <\d+(?:\.\d+)?>)?\n?\Z", re.ASCII)
# sendto/recvfrom: the buffer argument (strace's quoting) and what follows it.
_BUFFER = re.compile(r'"(?:[^"\\]|\\.)*"(?:\.\.\.)?|NULL|0x[0-9a-f]+', re.S)

#: Byte movers whose event depends on the first argument only (plus the flags
#: and peer arguments for sendto/recvfrom): the calls the fast path serves.
#: ``recv`` is not: its MSG_PEEK flag is not part of the key.
MOVERS = frozenset(
    {"read", "write", "pread64", "pwrite64", "readv", "writev", "preadv", "pwritev", "send"}
    | {"preadv2", "pwritev2", "recvfrom", "sendto"}
) & (READS | WRITES)
_PEER_CALLS = frozenset({"recvfrom", "sendto"})

#: Calls whose whole effect on templates is a new or closed fd number: the
#: number is dropped from the cache. (Their fd arguments go through the
#: table's decoration check, which is watched separately.)
_NEW_FD = frozenset(
    {"open", "openat", "openat2", "creat", "socket", "accept", "accept4", "dup", "dup2", "dup3"}
    | {"fcntl", "fcntl64", "eventfd", "eventfd2", "epoll_create", "epoll_create1"}
    | {"timerfd_create", "signalfd", "signalfd4", "inotify_init", "inotify_init1"}
    | {"memfd_create", "pidfd_open", "pidfd_getfd"}
)
#: Calls with a handler that cannot touch what a template holds.
_HARMLESS = frozenset({"clone", "clone2", "clone3", "fork", "vfork", "chdir", "fchdir"})

CHECK_EVERY = 4096


class FastFeeder:
    """Feed lines to a :class:`Converter`, serving common lines from templates.

    Parameters
    ----------
    conv : Converter
        The converter whose state, counters and buffers the lines go into;
        ``conv.finish()``, ``conv.processes()`` and friends work as usual
        afterwards.

    Attributes
    ----------
    hits, misses, clears : int
        Lines served from templates, template misses, and times the cache was
        emptied (for benchmarks and tests).

    Examples
    --------
    >>> conv = Converter()
    >>> frames = list(FastFeeder(conv).feed(['7 1795780000.5 write(1, "hi", 2) = 2']))
    >>> int(sum(len(f) for f in frames + [conv.finish()]))
    1
    """

    def __init__(self, conv: Converter) -> None:
        self.conv = conv
        self.hits = 0
        self.misses = 0
        self.clears = 0
        self._movers: dict[tuple, tuple | None] = {}
        self._by_fd: dict[int, list[tuple]] = {}
        self._quiet: dict[tuple, object] = {}
        self._fed: list = []
        self._dirty = False
        # Starts of split byte movers held back until their end shows up.
        self._held: dict[str, str] = {}
        # Time text of the last line served here, owed to the converter's clock.
        self._last_t: str | None = None
        b = conv.builder
        # The decoration check of an fd argument may correct the table.
        self._corrections = b.corrections
        orig_feed = b.feed

        def watched_feed(rec):  # type: ignore[no-untyped-def]
            self._fed.append(rec)
            return orig_feed(rec)

        b.feed = watched_feed  # type: ignore[method-assign]

    # --- the cache ------------------------------------------------------------

    def _clear(self) -> None:
        self.clears += 1
        self._movers.clear()
        self._by_fd.clear()
        self._quiet.clear()

    def _drop(self, fd: int) -> None:
        for key in self._by_fd.pop(fd, ()):
            self._movers.pop(key, None)

    def _after_reference(self) -> None:
        """Drop the templates the records just applied may have made stale."""
        handlers = self.conv.builder._handlers
        for rec in self._fed:
            kind = rec.kind
            if kind == "call":
                name = rec.syscall
                if name not in handlers or name in _HARMLESS:
                    continue
                if name in MOVERS or name in _OTHER_MOVERS:
                    continue  # table corrections are counted by the builder
                if name in _NEW_FD and rec.ret is not None:
                    self._drop(rec.ret)
                    continue
                if name == "close":
                    n = split_fd(rec.args)[0]
                    if n is not None:
                        self._drop(n)
                        continue
                if name in ("pipe", "pipe2", "socketpair") and rec.ret == 0:
                    fds = _fd_pair(rec.args, 3 if name == "socketpair" else 0)
                    if fds:
                        for n in fds:
                            self._drop(n)
                        continue
                if name in ("sendmsg", "recvmsg") and "SCM_RIGHTS" not in rec.args:
                    continue
                self._dirty = True
            elif kind in ("superseded", "detached"):
                self._dirty = True
        self._fed.clear()
        corrections = self.conv.builder.corrections
        if corrections != self._corrections:
            self._corrections = corrections
            self._dirty = True
        if self._dirty:
            self._dirty = False
            self._clear()

    # --- the reference path -------------------------------------------------------

    def _reference(self, line: str) -> None:
        """One line through ``Converter.feed_line``, after anything owed to the state."""
        if self._last_t is not None:
            self._sync_clock()
        held = self._held
        if held:
            mp = _PID.match(line)
            if mp is None or "superseded" in line:
                starts = list(held.values())
                held.clear()
                for start in starts:
                    self._release(start)
            else:
                start = held.pop(mp.group(1), None)
                if start is not None:
                    self._release(start)
        self.conv.feed_line(line)
        if self._fed or self._dirty:
            self._after_reference()

    def _release(self, start: str) -> None:
        """Give a held-back call start to the reference path after all."""
        self.hits -= 1
        self.conv.lines -= 1  # it was counted when it was held
        self._reference(start)

    def _sync_clock(self) -> None:
        if self._last_t is not None:
            self.conv.clock._last = float(self._last_t)
            self._last_t = None

    # --- lines ------------------------------------------------------------------

    def feed(self, lines: Iterable[str]) -> Iterator[Any]:
        """Take lines in log order; yield event chunks (``conv.make_chunk``) as they fill up."""
        conv = self.conv
        if conv.on_call is not None:  # -v wants to see every call: no shortcuts
            yield from conv.feed(lines)
            return
        b = conv.builder
        size = conv.chunk_events
        quiet, held = self._quiet, self._held
        pending = conv.joiner.pending
        handlers = b._handlers
        fast = _FAST.match
        resumed = _RESUMED_FAST.match
        plain_tail = _PLAIN_TAIL.match
        reference = self._reference
        serve = self._serve
        served = served_events = 0
        every = countdown = min(CHECK_EVERY, size)
        for line in lines:
            countdown -= 1
            if countdown == 0:
                countdown = every
                if len(b.columns["time"]) >= size:
                    conv.lines += served
                    b.events += served_events
                    self.hits += served
                    served = served_events = 0
                    yield conv.make_chunk(b.take())
            m = fast(line)
            if m is None:
                mr = resumed(line)
                if mr is not None and mr.group(1) in held:
                    # The end of a call whose start was held back: one whole call.
                    start = held.pop(mr.group(1))
                    joined = _join(start, line, mr.end())
                    if joined is not None:
                        mj = fast(joined)
                        if mj is not None:
                            done = serve(mj, joined, start, line)
                            if done:
                                if done == 1:
                                    served += 1
                                    served_events += 1
                                    self._last_t = mr.group(2)
                                continue
                    self._release(start)
                reference(line)
                continue
            pid_s, t_s, call = m.group(1, 2, 3)
            if held and pid_s in held:
                self._release(held.pop(pid_s))
            if call in MOVERS:
                if line.endswith(_UNFINISHED_TAILS):
                    if (
                        line.startswith(", ", m.end())
                        and int(pid_s) not in pending
                        and "<detached" not in line
                    ):
                        held[pid_s] = line
                        self._last_t = t_s
                        served += 1
                        continue
                else:
                    done = serve(m, line, None, None)
                    if done:
                        if done == 1:
                            served += 1
                            served_events += 1
                            self._last_t = t_s
                        continue
            elif (
                call not in handlers
                and plain_tail(line, line.rfind(") = ")) is not None
                and "<detached" not in line
            ):
                key = (pid_s, call)
                proc = quiet.get(key)
                if proc is not None:
                    t = float(t_s)
                    proc.end = t  # type: ignore[attr-defined]
                    b.last_time = t
                    self._last_t = t_s
                    served += 1
                    continue
                reference(line)
                proc = b.procs.get(int(pid_s))
                if proc is not None and proc.end == float(t_s):
                    quiet[key] = proc
                continue
            reference(line)
        starts = list(held.values())
        held.clear()
        for start in starts:
            self._release(start)
        self._sync_clock()
        conv.lines += served
        b.events += served_events
        self.hits += served
        if served:
            conv.time_styles.add(EPOCH)

    def _serve(self, m: re.Match[str], line: str, start: str | None, end: str | None) -> int:
        """A successful byte mover: 1 if served from a template, 2 if it went the
        reference way and left a template, 0 if not handled (the caller falls back)."""
        if not line.startswith(", ", m.end()) or "<detached" in line:
            return 0
        mt = _MOVER_TAIL.match(line, line.rfind(") = "))
        if mt is None:
            return 0
        pid_s, t_s, call, head = m.groups()
        key = (pid_s, call, head, _peer_key(line, m.end()) if call in _PEER_CALLS else "")
        tpl = self._movers.get(key, 0)
        if tpl is None:
            return 0
        t = float(t_s)
        n = int(mt.group(1))
        if n > _MAX_INT64 or t > _MAX_TIME:
            return 0  # a corrupt line: the reference path counts it
        if tpl == 0:
            self._learn(key, line, head, call, t, n, start, end)
            return 2
        proc, pid, fd, d, f, port, sc, kind, tgid, comm, local = tpl
        dt_s = mt.group(2)
        b = self.conv.builder
        cols = b.columns
        cols["time"].append(t)
        cols["dt"].append(float(dt_s) if dt_s is not None else math.nan)
        cols["pid"].append(pid)
        cols["fd"].append(fd)
        cols["dir"].append(d)
        cols["bytes"].append(n)
        cols["file"].append(f)
        cols["port"].append(port)
        cols["syscall"].append(sc)
        cols["kind"].append(kind)
        cols["tgid"].append(tgid)
        cols["comm"].append(comm)
        cols["local"].append(local)
        proc.end = t
        b.last_time = t
        return 1

    def _learn(
        self,
        key: tuple,
        line: str,
        fd_arg: str,
        call: str,
        t: float,
        n: int,
        start: str | None,
        end: str | None,
    ) -> None:
        """A miss: run the reference path, keep its event as a template when it is one."""
        self.misses += 1
        b = self.conv.builder
        before = len(b.columns["time"])
        if start is not None and end is not None:
            self._release(start)
            self._reference(end)
        else:
            self._reference(line)
        cols = b.columns
        if len(cols["time"]) != before + 1:
            self._movers[key] = None
            return
        row = {name: col[-1] for name, col in cols.items()}
        proc = b.procs.get(row["pid"])
        if (
            proc is None
            or row["time"] != t
            or row["bytes"] != n
            or row["syscall"] != call
            or not self._same_args(line, fd_arg, call)
        ):
            self._movers[key] = None  # this shape is not served: always the reference path
            return
        fd = row["fd"]
        self._movers[key] = (
            proc,
            row["pid"],
            fd,
            row["dir"],
            row["file"],
            row["port"],
            call,
            row["kind"],
            row["tgid"],
            row["comm"],
            row["local"],
        )
        self._by_fd.setdefault(fd, []).append(key)

    def _same_args(self, line: str, fd_arg: str, call: str) -> bool:
        """Whether the reference reads exactly the key's text for every line with this key.

        The fd argument must be balanced (no quote, brackets closed), so that
        no later text can move where the reference sees it end; for
        sendto/recvfrom the address must be the key's fifth argument.
        """
        if '"' in fd_arg or split_args(fd_arg + ",") != [fd_arg, ""]:
            return False
        i = line.index("(") + 1
        args = line[i : line.rfind(") = ")]
        if self.conv.builder._first_arg(args) != fd_arg:
            return False
        if call in _PEER_CALLS:
            parts = split_args(args)
            if len(parts) != 6 or _peer_key(line, len(fd_arg) + i) != ", ".join(parts[3:]):
                return False
        return True


_OTHER_MOVERS = frozenset({"mmap", "mmap2", "sendfile", "sendfile64", "splice", "tee"})
_UNFINISHED_TAILS = (" <unfinished ...>\n", " <unfinished ...>")
_PID = re.compile(r"(\d+)[ <]", re.ASCII)
_RESUMED_FAST = re.compile(
    r"(\d{1,7}) +([1-9]\d{9}\.\d+) +<\.\.\. ([a-z_][a-z0-9_]*) resumed>", re.ASCII
)


def _join(start: str, end: str, pos: int) -> str | None:
    """``pid t call(fd, <unfinished ...>`` + ``<... call resumed>rest) = n``: one line."""
    if end.startswith(" =", pos) or "<detached" in end:
        return None
    if end.startswith(" ", pos):  # strace < 5.0 printed a space after `resumed>`
        pos += 1
    return start[: start.rindex(" <unfinished ...>")] + end[pos:]


def _peer_key(line: str, pos: int) -> str:
    """sendto/recvfrom: the text after the buffer and length (flags, address, its length)."""
    mb = _BUFFER.match(line, pos + 2)
    if mb is None:
        return "?"
    rest = line[mb.end() : line.rfind(") = ")]
    # ", LEN, FLAGS, ADDR, ADDRLEN": the length varies call to call, the rest is the key.
    parts = rest.split(", ", 2)
    if len(parts) != 3 or parts[0] != "" or not (parts[1].isascii() and parts[1].isdigit()):
        return "?"
    return parts[2]


def _fd_pair(args: str, index: int) -> list[int] | None:
    """The two fds of ``pipe2([3<pipe:[7]>, 4<pipe:[7]>], ...)``; None when unclear."""
    parts = split_args(args)
    if len(parts) <= index or not parts[index].startswith("["):
        return None
    fds = [split_fd(item)[0] for item in split_args(parts[index][1:-1])]
    if len(fds) != 2 or None in fds:
        return None
    return fds  # type: ignore[return-value]


def feed_fast(conv: Converter, lines: Iterable[str]) -> Iterator[Any]:
    """Like ``conv.feed(lines)``, through the fast path: the same events, faster."""
    return FastFeeder(conv).feed(lines)
