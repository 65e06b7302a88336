"""Pure helpers that read strace's argument text: strings, fds, argument lists.

Everything here is a pure function of its input text. The parser hands over raw
argument text (:attr:`~iomonitor.strace.parser.Record.args`) and raw return
decorations (:attr:`~iomonitor.strace.parser.Record.ret_deco`); these helpers
turn them into Python values only where a caller needs them.

Names are returned as ``str`` decoded with ``utf-8`` and ``surrogateescape``
(like :func:`os.fsdecode`): a file name that is not valid UTF-8 survives the
round trip ``os.fsencode(name)`` byte for byte.
"""

from __future__ import annotations

import re

__all__ = [
    "parse_deco_path",
    "quoted_string",
    "split_args",
    "split_fd",
    "to_name",
    "unescape",
]

# One escape sequence. The catch-all branches (`\\.` and a trailing `\\`) catch
# escapes strace never prints, which are kept as written.
_ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|[0-7]{1,3}|.|\Z)", re.S)


def _escape_table() -> dict[str, str]:
    # Each escape maps to one character that encodes back to the byte with
    # surrogateescape: ASCII stays ASCII, bytes >= 0x80 become lone surrogates.
    def char(b: int) -> str:
        return chr(b) if b < 0x80 else chr(0xDC00 + b)

    table = {
        "\\\\": "\\",
        '\\"': '"',
        "\\n": "\n",
        "\\t": "\t",
        "\\r": "\r",
        "\\v": "\v",
        "\\f": "\f",
    }
    for b in range(256):
        hi, lo = divmod(b, 16)
        for h in {f"{hi:x}", f"{hi:X}"}:
            for low in {f"{lo:x}", f"{lo:X}"}:
                table[f"\\x{h}{low}"] = char(b)
        octal = f"{b:o}"
        for width in range(len(octal), 4):
            table["\\" + octal.zfill(width)] = char(b)
    return table


_ESCAPES = _escape_table()
_ALL_HEX = re.compile(r"(?:\\x[0-9a-fA-F]{2})+")


def _replace(m: re.Match[str]) -> str:
    text = m.group()
    return _ESCAPES.get(text, text)


def unescape(s: str) -> bytes:
    r"""Turn strace's C-style string escapes into the bytes they stand for.

    Parameters
    ----------
    s : str
        The text between the quotes of a strace string, or a path decoration.
        ``\\ \" \n \t \r \v \f``, octal ``\N``/``\NN``/``\NNN`` and hex
        ``\xNN`` (``-x``/``-xx``) are decoded; any other character is encoded
        as UTF-8, and lone surrogates (from a line read with
        ``errors="surrogateescape"``) turn back into the raw bytes they stood
        for. A backslash that starts no escape strace prints (``\q``, a
        trailing ``\``, ``\777``: a damaged log) is kept as written, so
        decoding never fails.

    Returns
    -------
    bytes

    Raises
    ------
    UnicodeEncodeError
        When ``s`` holds a lone surrogate outside U+DC80..U+DCFF, which no
        text decoded from bytes with ``surrogateescape`` does.

    Examples
    --------
    >>> unescape(r"/tmp/lt\74gt\76\377")
    b'/tmp/lt<gt>\xff'
    >>> unescape(r"\x2f\x65")
    b'/e'
    """
    if "\\" not in s:
        return s.encode("utf-8", "surrogateescape")
    # -xx prints every byte as \xNN: convert in one C call.
    if s.startswith("\\x") and _ALL_HEX.fullmatch(s) is not None:
        return bytes.fromhex(s.replace("\\x", ""))
    return _ESCAPE.sub(_replace, s).encode("utf-8", "surrogateescape")


def to_name(raw: bytes) -> str:
    """Decode bytes to ``str`` losslessly, like :func:`os.fsdecode`.

    Parameters
    ----------
    raw : bytes

    Returns
    -------
    str
        ``raw`` decoded as UTF-8; invalid bytes become lone surrogates
        (``surrogateescape``), so ``name.encode("utf-8", "surrogateescape")``
        gives ``raw`` back.
    """
    return raw.decode("utf-8", "surrogateescape")


def parse_int(text: str) -> int | None:
    """An integer argument as strace prints it (any base Python reads, ``~0U``); None if not one."""
    text = text.strip()
    try:
        return int(text, 0)
    except ValueError:
        if text in ("~0U", "~0", "UINT_MAX"):
            return 0xFFFFFFFF
        return None


_QUOTED = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"(\.\.\.)?', re.S)


def quoted_string(text: str) -> tuple[str | None, bool]:
    """Read one string argument such as ``"/etc/passwd"`` or ``"abc"...``.

    Parameters
    ----------
    text : str
        One argument, as :func:`split_args` returns it (surrounding
        whitespace is ignored).

    Returns
    -------
    name : str or None
        The decoded string (see :func:`unescape` and :func:`to_name`); None
        when ``text`` is not a string argument (``NULL``, ``0x7ffd...``,
        ``@"abstract"``, anything but exactly one quoted string).
    truncated : bool
        True when strace cut the string at ``-s`` bytes (the ``...`` suffix).

    Examples
    --------
    >>> quoted_string('"/etc/passwd"')
    ('/etc/passwd', False)
    >>> quoted_string('"abc"...')
    ('abc', True)
    >>> quoted_string("NULL")
    (None, False)
    """
    m = _QUOTED.fullmatch(text.strip())
    if m is None:
        return None, False
    return to_name(unescape(m.group(1))), m.group(2) is not None


# The characters that give argument text its structure. Strings and escape
# pairs are single tokens, so quotes, brackets and commas inside them are
# skipped; `/* ... */` are -X verbose comments. `->` followed by a digit or `[`
# only occurs inside socket details (`TCP:[1.2.3.4:5->6.7.8.9:10]`,
# `TCPv6:[[::1]:1->[::1]:2]`, `UNIX-STREAM:[1->2]`), where its `>` closes nothing.
# Every branch starts with a literal character (no `[...]` class): the regex
# engine then skips to the next of those characters in C, about twice as fast.
_TOKEN = re.compile(
    r"""
    "[^"\\]*(?:\\.[^"\\]*)*"
    | \\.
    | /\*.*?\*/
    | <<
    | ->(?=[\d\[])
    | \[ | \] | \( | \) | \{ | \} | < | > | ,
    """,
    re.S | re.X,
)


_STRUCTURE = re.compile(r'["<(\[{\\]')


def split_args(args: str) -> list[str]:
    """Split raw argument text at its top-level commas.

    Parameters
    ----------
    args : str
        Argument text, e.g. :attr:`Record.args`.

    Returns
    -------
    list of str
        The arguments with surrounding whitespace stripped; ``[]`` for empty
        or blank text. Commas inside strings, ``()[]{}`` and fd decorations
        ``<...>`` do not split.

    Notes
    -----
    A ``<`` always opens a decoration (strace escapes ``<`` and ``>`` inside
    path decorations as ``\\74`` and ``\\76``) and a ``>`` closes one only
    while a decoration is the innermost open bracket, so the ``>`` of
    ``[128 => 16]``, ``[128->16]`` or ``{...} => {...}`` closes nothing.
    Inside a decoration brackets are plain text: paths may hold unbalanced
    ``(``, ``[`` and ``{`` unescaped.

    Examples
    --------
    >>> split_args('3</a,b>, "x, y", [128 => 16], {a=1, b=2}')
    ['3</a,b>', '"x, y"', '[128 => 16]', '{a=1, b=2}']
    """
    # Most calls have one argument, or only plain ones (numbers, flags, NULL).
    if "," not in args:
        text = args.strip()
        return [text] if text else []
    ms = _STRUCTURE.search(args)
    if ms is None:
        return [part.strip() for part in args.split(",")]
    # Before the first quote, bracket, escape or comment nothing nests: the
    # commas there all split (mmap's address, length, prot and flags).
    first = ms.start()
    comment = args.find("/*", 0, first)
    if comment >= 0:
        first = comment
    cut = args.rfind(",", 0, first)
    if cut >= 0:
        parts = [part.strip() for part in args[:cut].split(",")]
        start = cut + 1
    else:
        parts = []
        start = 0
    stack: list[str] = []
    for m in _TOKEN.finditer(args, start):
        tok = m.group()
        c = tok[0]
        if c == ",":
            if not stack:
                parts.append(args[start : m.start()].strip())
                start = m.end()
        elif c == "<":
            if tok == "<":
                stack.append("<")
        elif c == ">":
            if stack and stack[-1] == "<":
                stack.pop()
        elif c in "([{":
            if not stack or stack[-1] != "<":
                stack.append(c)
        elif c in ")]}" and stack and stack[-1] != "<":
            stack.pop()
    last = args[start:].strip()
    if last or parts:
        parts.append(last)
    return parts


_FD = re.compile(r"(-?\d+|AT_FDCWD)(?: /\*[^*]*\*/)?(?:<(.*)>(\(deleted\))?)?", re.S)
_DELETED_AFTER = ">(deleted)"


def split_fd(arg: str) -> tuple[int | None, str | None]:
    """Split an fd argument into its number and its ``-y`` decoration.

    Parameters
    ----------
    arg : str
        One argument: ``3``, ``-1``, ``3</etc/passwd>``, ``AT_FDCWD</tmp>``,
        ``-100 /* AT_FDCWD */</tmp>`` (``-X verbose``), ``3<\\x2f\\x65>``
        (``-xx``), ``1</dev/null<char 1:3>>``, ``3</tmp/f>(deleted)``.

    Returns
    -------
    fd : int or None
        The number (``AT_FDCWD`` is -100); None when ``arg`` is not an fd.
    deco : str or None
        The raw decoration: the text between the fd's ``<`` and its matching
        ``>``, escapes and nested decorations kept (``/dev/null<char 1:3>``).
        When strace printed ``(deleted)`` after the ``>`` (strace >= 5.19),
        the decoration ends with ``>(deleted)`` so that nothing is lost:
        ``/tmp/f>(deleted)``. Unambiguous, as strace escapes ``>`` inside
        paths. :func:`parse_deco_path` reads it. None without a decoration.

    Examples
    --------
    >>> split_fd("1</dev/null<char 1:3>>")
    (1, '/dev/null<char 1:3>')
    >>> split_fd("AT_FDCWD</tmp>")
    (-100, '/tmp')
    >>> split_fd("3</tmp/f>(deleted)")
    (3, '/tmp/f>(deleted)')
    """
    m = _FD.fullmatch(arg.strip())
    if m is None:
        return None, None
    num, deco, deleted = m.groups()
    if deleted is not None:
        deco += _DELETED_AFTER
    return (-100 if num == "AT_FDCWD" else int(num)), deco


_DEVICE = re.compile(r"<((?:char|block) \d+:\d+)>\Z")
_DELETED_INSIDE = " (deleted)"


def parse_deco_path(deco: str, *, inside_marker: bool = True) -> tuple[str, str | None, bool]:
    """Read a path decoration.

    Parameters
    ----------
    deco : str
        A decoration as :func:`split_fd` returns it or as
        :attr:`Record.ret_deco` holds it: the raw text between the fd's ``<``
        and ``>``, followed by ``>(deleted)`` when strace >= 5.19 marked the
        file deleted after the ``>``. Octal (``\\74``), C (``\\n``) and ``-x``
        hex (``\\x2f``) escapes are decoded.
    inside_marker : bool, default True
        Read a path ending in ``" (deleted)"`` as strace < 5.19's deleted
        marker (it printed the kernel's ``/proc/PID/fd`` link text, where a
        deleted file gets that suffix). strace >= 5.19 marks deletion outside
        the brackets only, so for its logs pass False: the suffix is then part
        of the file's name.

    Returns
    -------
    path : str
        The decoded path (see :func:`to_name`).
    device : str or None
        ``-yy`` device of a device file, e.g. ``"char 1:3"`` or
        ``"block 8:0"``.
    deleted : bool
        The file was unlinked.

    Examples
    --------
    >>> parse_deco_path("/dev/null<char 1:3>")
    ('/dev/null', 'char 1:3', False)
    >>> parse_deco_path(r"/tmp/lt\\74gt\\76>(deleted)")
    ('/tmp/lt<gt>', None, True)
    >>> parse_deco_path("/tmp/x (deleted)", inside_marker=False)
    ('/tmp/x (deleted)', None, False)
    """
    deleted = False
    if deco.endswith(_DELETED_AFTER):
        deco = deco[: -len(_DELETED_AFTER)]
        deleted = True
    device = None
    if deco.endswith(">"):
        m = _DEVICE.search(deco)
        if m is not None:
            device = m.group(1)
            deco = deco[: m.start()]
    path = to_name(unescape(deco))
    # Decode first: -x/-xx hex-escape the old " (deleted)" suffix too.
    if inside_marker and path.endswith(_DELETED_INSIDE):
        path = path[: -len(_DELETED_INSIDE)]
        deleted = True
    return path, device, deleted
