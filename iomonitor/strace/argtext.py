"""What the Python handlers read from a call's text: decorations, addresses, counts.

Pure functions over the argument text of one call (as :mod:`iomonitor.strace.parser`
cut it) for :class:`iomonitor.strace.events.EventBuilder` and its socket
handlers (:mod:`iomonitor.strace.sockets`): the ``-y``/``-yy`` decoration of an
fd (:func:`parse_deco`), a socket address (``_sockaddr``), the bytes a call
asked for, ``MSG_PEEK``.
"""

from __future__ import annotations

import re

from iomonitor.strace._core import path_kind as _path_kind
from iomonitor.strace.decode import parse_deco_path, parse_int, split_args, unescape
from iomonitor.strace.fdtable import STD_NAMES
from iomonitor.strace.parser import Record

# --- regular expressions over argument text ---------------------------------

_PORT = re.compile(r"sin6?_port=htons\((\d+)\)")
_INET = re.compile(r'inet_addr\("([^"]*)"\)|inet_pton\(AF_INET6?, "([^"]*)"')
_SUN = re.compile(r'sun_path=(@?)"((?:[^"\\]|\\.)*)"')
_MSG_LEN = re.compile(r"msg_len=(\d+)")
_SCM = re.compile(r"SCM_RIGHTS, cmsg_data=\[([^\]]*)\]")
_FD_LIST = re.compile(r"(-?\d+)(?:<((?:->|[^<>]|<[^<>]*>)*)>)?")
_SOCK_DECO = re.compile(r"([A-Z][A-Za-z0-9-]*|socket|pipe):\[(.*)\]$", re.S)
_UNIX_PART = re.compile(r'^(\d+)(?:->(\d+))?(?:,(@?)"((?:[^"\\]|\\.)*)")?$')
_IOV_LEN = re.compile(r"iov_len=(\d+)")

#: Where a byte mover's flags argument is, for ``MSG_PEEK``.
_RECV_FLAGS = {"recv": 3, "recvfrom": 3, "recvmsg": 2, "recvmmsg": 3, "recvmmsg_time64": 3}
#: Where a byte mover's requested byte count is (``= ?`` calls, see unseen_bytes).
_COUNT_ARG = {
    "read": 2,
    "write": 2,
    "pread64": 2,
    "pwrite64": 2,
    "recv": 2,
    "send": 2,
    "recvfrom": 2,
    "sendto": 2,
    "sendfile": 3,
    "sendfile64": 3,
    "splice": 4,
    "tee": 2,
    "copy_file_range": 4,
}

#: The largest fd/pid (int32) and byte count (int64) the event columns hold. A
#: number beyond them can only come from a corrupt line, which is counted
#: (:attr:`EventBuilder.malformed`) instead of stopping the conversion.
_MAX_INT32 = 2**31 - 1
_MAX_INT64 = 2**63 - 1
_MAX_PORT = 65535

_STD_FDS = {name: fd for fd, name in STD_NAMES.items()}
_SOCKET_KINDS = {"tcp", "udp", "unix", "netlink"}


def to_name(raw: bytes) -> str:
    """A name for the trace: bytes that are not UTF-8 become ``\\xNN`` escapes.

    pandas and Arrow strings must be valid UTF-8, so the escape keeps such
    names (and their exact bytes, see :func:`iomonitor.raw_name`) in the trace.
    A literal backslash that would read as such an escape is itself written
    ``\\x5c``, so that every name reads back exactly.
    """
    if b"\\x" in raw:
        raw = _LITERAL_ESCAPE.sub(rb"\\x5c", raw)
    return raw.decode("utf-8", "backslashreplace")


#: A backslash followed by the text of an escape that raw_name would undo.
_LITERAL_ESCAPE = re.compile(rb"\\(?=x(?:[89a-f][0-9a-f]|5c))")


def _clean(text: str | None) -> str | None:
    # Decoded strace strings carry undecodable bytes as surrogates.
    if text is None or (text.isascii() and "\\x" not in text):
        return text
    return to_name(text.encode("utf-8", "surrogateescape"))


def _split_hostport(text: str) -> tuple[str, int | None]:
    """``1.2.3.4:80`` or ``[::1]:80`` -> (address, port)."""
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
    else:
        host, _, port = text.rpartition(":")
    return host, (int(port) if port.isdigit() and int(port) <= _MAX_PORT else None)


class Deco:
    """What a ``-y``/``-yy`` decoration says about an fd (parsed once, cached)."""

    __slots__ = ("kind", "local", "name", "peer_known", "port", "unix_path", "vague")

    def __init__(
        self,
        name: str,
        kind: str,
        port: int | None = None,
        local: str | None = None,
        peer_known: bool = True,
        unix_path: bool = False,
        vague: bool = False,
    ) -> None:
        self.vague = vague
        self.name = name
        self.kind = kind
        self.port = port
        self.local = local
        self.peer_known = peer_known
        self.unix_path = unix_path


def parse_deco(text: str) -> Deco:
    """Read one fd decoration (the text between ``<`` and ``>``)."""
    m = _SOCK_DECO.match(text)
    if m is not None and not text.isascii():
        # Labels are kept as printed: a byte of a damaged log that is not
        # UTF-8 must become a \xNN escape like in a path (see to_name).
        text = _clean(text)  # type: ignore[assignment]
        m = _SOCK_DECO.match(text)
    if m is not None:
        proto, body = m.group(1), m.group(2)
        up = proto.upper()
        if up.startswith(("TCP", "UDP")):
            kind = "tcp" if up.startswith("TCP") else "udp"
            local, arrow, remote = body.partition("->")
            if not arrow:
                if ":" in body:
                    return Deco(f"{kind}:[{body}]", kind, None, body, peer_known=False)
                return Deco(f"{kind}:[{body}]", kind, None, None, peer_known=False)
            host, port = _split_hostport(remote)
            return Deco(host, kind, port, local)
        if up.startswith("UNIX"):
            mu = _UNIX_PART.match(body)
            if mu is None:
                return Deco(f"unix:[{body}]", "unix")
            own, peer, at, path = mu.groups()
            if path is not None:
                name = (at or "") + to_name(unescape(path))
                return Deco(name, "unix", unix_path=True)
            inode = min(int(own), int(peer)) if peer else int(own)
            return Deco(f"unix:[{inode}]", "unix", peer_known=peer is not None)
        if up == "NETLINK":
            family = body.split(":", 1)[0]
            return Deco(f"netlink:{family}", "netlink")
        if proto == "pipe":
            return Deco(f"pipe:[{body}]", "pipe")
        # `socket:[inode]` (-y without socket details) says less than the
        # table does about a socket whose creation was seen.
        vague = proto == "socket"
        return Deco(f"{proto.lower()}:[{body}]", "other", peer_known=not vague, vague=vague)
    if text.startswith(("anon_inode:", "pid:", "socket:")):
        return Deco(_clean(text) or text, "other")
    # `(deleted)` may follow the path inside (strace < 5.19) or after the `>`.
    raw, device, _ = parse_deco_path(text)
    path = _clean(raw) or ""
    dev = None
    if device is not None:
        dtype, _, numbers = device.partition(" ")
        major = numbers.partition(":")[0]
        dev = (dtype, int(major)) if major.isdigit() else None
    return Deco(path, _path_kind(path, dev))


def _sockaddr(text: str) -> tuple[str | None, int | None, str | None]:
    """Peer of a ``{sa_family=...}`` argument: (ip or unix name, port, family kind)."""
    if "AF_INET" in text:
        mi = _INET.search(text)
        mp = _PORT.search(text)
        if mi is None:
            return None, None, None
        # -xx hex-escapes these strings too.
        host = mi.group(1) or mi.group(2)
        if "\\" in host or not host.isascii():
            host = to_name(unescape(host))
        port = int(mp.group(1)) if mp else None
        return host, (port if port is not None and port <= _MAX_PORT else None), "inet"
    if "AF_UNIX" in text or "AF_LOCAL" in text:
        ms = _SUN.search(text)
        if ms is None:
            return None, None, "unix"
        return (ms.group(1) or "") + to_name(unescape(ms.group(2))), None, "unix"
    return None, None, None


def _peek(rec: Record) -> bool:
    """A receive with ``MSG_PEEK``: the data stays queued and a later call reads it again."""
    if "MSG_PEEK" not in rec.args:  # cheap test first: peeks are rare
        return False
    index = _RECV_FLAGS.get(rec.syscall)
    args = split_args(rec.args)
    return index is not None and len(args) > index and "MSG_PEEK" in args[index]


def _failed_call(rec: Record) -> bool:
    """A call that failed with an errno (not one restarted after a signal, not ``= ?``)."""
    return rec.errno is not None and not rec.errno.startswith("ERESTART")


def _requested(rec: Record) -> int:
    """The byte count a call asked for, as its arguments show it (0 when they do not)."""
    args = split_args(rec.args)
    index = _COUNT_ARG.get(rec.syscall)
    if index is not None:
        n = parse_int(args[index]) if len(args) > index else None
        return n if n is not None and 0 <= n <= _MAX_INT64 else 0
    # Vectors (readv, sendmsg, sendmmsg, vmsplice, ...): the buffers' lengths.
    return sum(int(n) for n in _IOV_LEN.findall(rec.args))
