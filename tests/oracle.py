"""The pure-Python converter the tests run beside the compiled core.

Every line goes through the parser, the joiner and
:class:`~iomonitor.strace.events.EventBuilder`'s handlers, and the calls the
compiled core owns (read/write-like calls and ``close``) are handled by the
plain Python handlers below: the semantics as they were written before the
core existed. The compiled path must give the same events, processes, failed
calls and counters on every input; this module is never a runtime path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from iomonitor.schema import READS, WRITES
from iomonitor.strace.convert import Converter
from iomonitor.strace.decode import split_fd
from iomonitor.strace.events import EventBuilder, _peek
from iomonitor.strace.fdtable import Process
from iomonitor.strace.parser import Record


def _on_read(b: EventBuilder, proc: Process, rec: Record) -> None:
    fd, of = b._fd(proc, b._first_arg(rec.args))
    if fd is None or of is None or b._failed(rec, proc, of):
        return
    peer = None
    if of.kind in ("udp", "tcp", "unix", "other"):
        if rec.syscall == "recvfrom":
            peer = b._peer_arg(rec, 4)
        elif rec.syscall == "recvmsg":
            peer = b._msg_name(rec.args)
            b._scm_recv(proc, rec.args, of)
    b._emit(rec, proc, fd, of, "P" if _peek(rec) else "R", rec.ret or 0, peer)


def _on_write(b: EventBuilder, proc: Process, rec: Record) -> None:
    fd, of = b._fd(proc, b._first_arg(rec.args))
    if fd is None or of is None:
        return
    if rec.syscall == "sendmsg" and "SCM_RIGHTS" in rec.args and (rec.ret or 0) >= 0:
        b._scm_send(proc, rec.args, of, (proc.pid, rec.time))
    if b._failed(rec, proc, of):
        return
    peer = None
    if of.kind in ("udp", "tcp", "unix", "other"):
        if rec.syscall == "sendto":
            peer = b._peer_arg(rec, 4)
        elif rec.syscall == "sendmsg":
            peer = b._msg_name(rec.args)
    b._emit(rec, proc, fd, of, "W", rec.ret or 0, peer)


def _on_close(b: EventBuilder, proc: Process, rec: Record) -> None:
    # A log that records close records the reopening of fds.
    b.tracks_fds = True
    # close() releases the fd even when it reports EINTR/EIO.
    fd = split_fd(rec.args)[0]
    if fd is not None and rec.errno != "EBADF":
        proc.fdt.close(fd)


class Oracle(Converter):
    """A :class:`Converter` whose every line takes the pure-Python route."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # The core hands every line over (as it does for -v).
        self.core.verbose = True
        b = self.builder
        for name in READS:
            b._handlers[name] = lambda proc, rec: _on_read(b, proc, rec)
        for name in WRITES:
            b._handlers[name] = lambda proc, rec: _on_write(b, proc, rec)
        b._handlers["close"] = lambda proc, rec: _on_close(b, proc, rec)


def convert(converter: Converter, data: bytes, cuts: Iterable[int] = ()) -> dict[str, Any]:
    """Feed ``data`` (cut at the offsets ``cuts``) and collect everything the trace holds."""
    tables = []
    start = 0
    for cut in [*sorted(cuts), len(data)]:
        tables += converter.feed_bytes(data[start:cut])
        start = cut
    tables.append(converter.finish())
    events = pa.concat_tables(tables).unify_dictionaries() if tables else None
    return {
        "events": events.to_pydict() if events is not None else {},
        "processes": converter.processes().to_dict("list"),
        "errors": converter.errors().to_dict("list"),
        "counters": converter.counters(),
    }


def table_converter(cls: type[Converter] = Converter, **kwargs: Any) -> Converter:
    """A converter of ``cls`` whose chunks are the core's Arrow tables."""
    return cls(chunk=lambda table: table, **kwargs)
