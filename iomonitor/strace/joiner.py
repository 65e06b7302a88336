"""Glue ``<unfinished ...>`` halves to their ``<... X resumed>`` ends, per thread.

strace prints a call in two halves when another thread or process prints in
between. The joiner keeps the open half of every thread and, when the end
arrives, hands back one whole :class:`~iomonitor.strace.parser.Record` of kind
``CALL`` whose time is the start's and whose return value and duration are the
end's. Whole calls come out in completion order, which is the order in which
their effects (a new fd, a close) happened.
"""

from __future__ import annotations

from collections.abc import Callable

from iomonitor.strace import parser as p
from iomonitor.strace.parser import Record


class Joiner:
    """Per-thread state of split calls.

    Attributes
    ----------
    pending : dict of int to Record
        The open (unfinished) half of each thread. Other layers read it, e.g.
        to learn that a thread is inside ``clone`` when an unknown child pid
        starts printing before the parent's call returns.
    orphans : int
        Resumed halves whose start was never seen (e.g. a log cut at the start
        or an attach in mid-call).
    on_drop : callable or None
        Called with every unfinished half that never resumes (the thread died
        in the call, a half overwritten, or the log ended), among ``counted``.
    """

    def __init__(
        self,
        counted: frozenset[str] | None = None,
        on_drop: Callable[[Record], None] | None = None,
    ) -> None:
        # Only halves of these calls count as lost (a thread parked in futex
        # when its process exits loses nothing worth reporting).
        self.counted = counted
        self.on_drop = on_drop
        self.pending: dict[int | None, Record] = {}
        self.orphans = 0
        self.orphan_examples: list[str] = []
        self._cut: int | None = None

    def feed(self, rec: Record) -> Record | None:
        """Take one record in log order; return a whole call or marker, or None.

        ``UNFINISHED`` halves are kept and give None; a ``RESUMED`` end gives
        the joined ``CALL``; everything else passes through unchanged.
        """
        kind = rec.kind
        if kind == p.CALL:
            return rec
        if kind == p.UNFINISHED:
            if not rec.syscall:
                return None  # a lone ` <unfinished ...>`: its call's line came whole
            # A half that one of strace's own messages cut off (on stderr)
            # carries that message; the rest of its line follows with no pid.
            self._cut = rec.pid if rec.extra else None
            old = self.pending.get(rec.pid)
            if old is not None:
                self._drop(old)
            self.pending[rec.pid] = rec
            return None
        if kind == p.RESUMED:
            pid = rec.pid
            if not rec.syscall and pid not in self.pending:
                pid, self._cut = self._cut, None
                rec.pid = pid
            start = self.pending.pop(pid, None)
            if start is None:
                if self.counted is not None and rec.syscall not in self.counted:
                    return None
                self.orphans += 1
                if len(self.orphan_examples) < 5:
                    self.orphan_examples.append(rec.line)
                return None
            return Record(
                p.CALL,
                rec.pid,
                start.time,
                start.time_style,
                rec.comm or start.comm,
                start.syscall,
                start.args + rec.args,
                rec.ret,
                rec.ret_deco,
                rec.errno,
                rec.extra,
                rec.dt,
                line=rec.line,
            )
        if kind == p.SUPERSEDED:
            # A non-leader thread's execve: the leader's pid prints this line,
            # then the execve resumes under the leader's pid. The leader's own
            # pending call (if any) died with it.
            thread = rec.status
            if rec.pid in self.pending:
                self.pending.pop(rec.pid)
            half = self.pending.pop(thread, None)
            if half is not None:
                half.pid = rec.pid
                self.pending[rec.pid] = half
            return rec
        if kind == p.DETACHED:
            # strace -p stopped in the middle of the call: it never completes.
            self.pending.pop(rec.pid, None)
            return rec
        if kind in (p.EXITED, p.KILLED):
            # A thread killed inside a call prints no resumed half.
            old = self.pending.pop(rec.pid, None)
            if old is not None:
                self._drop(old)
            return rec
        return rec

    def finish(self) -> int:
        """Forget the halves still open at the end of the log; return how many."""
        n = len(self.pending)
        for half in self.pending.values():
            self._drop(half)
        self.pending.clear()
        return n

    def _drop(self, half: Record) -> None:
        if self.on_drop is not None and (self.counted is None or half.syscall in self.counted):
            self.on_drop(half)
