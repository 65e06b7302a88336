"""Unit tests of iomonitor.strace.decode on literal strace argument text.

The literals come from strace 6.1 output (``-yy``, ``-x``, ``-xx``, ``-X``) of small
programs that open files with awkward names, talk over sockets and pipes.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iomonitor.strace.decode import (
    parse_deco_path,
    quoted_string,
    split_args,
    split_fd,
    to_name,
    unescape,
)

# ---------------------------------------------------------------------------
# A model of how strace quotes bytes, to check round trips on arbitrary bytes.


def strace_escape(raw: bytes, style: str = "octal", deco: bool = False) -> str:
    """Escape bytes the way strace prints them.

    style "octal": strace's default (printable ASCII raw, C escapes, octal with 3
    digits when a digit follows); "hex": ``-xx`` (every byte ``\\xNN``). In a path
    decoration (``deco``) ``<`` and ``>`` are escaped too and ``"`` still is.
    """
    if style == "hex":
        return "".join(f"\\x{b:02x}" for b in raw)
    simple = {0x22: '\\"', 0x5C: "\\\\", 0x0A: "\\n", 0x09: "\\t", 0x0D: "\\r", 0x0B: "\\v"}
    simple[0x0C] = "\\f"
    out = []
    for i, b in enumerate(raw):
        if b in simple:
            out.append(simple[b])
        elif 0x20 <= b < 0x7F and not (deco and b in b"<>"):
            out.append(chr(b))
        else:
            nxt = raw[i + 1 : i + 2]
            out.append(f"\\{b:03o}" if nxt.isdigit() else f"\\{b:o}")
    return "".join(out)


def test_model_matches_real_strace_output() -> None:
    # Names created by a test program and printed by strace 6.1 -yy.
    assert strace_escape(b"/tmp/pt/lt<gt>", deco=True) == "/tmp/pt/lt\\74gt\\76"
    assert strace_escape(b"/tmp/pt/12\x013") == "/tmp/pt/12\\0013"
    assert strace_escape(b"/tmp/pt/bad\xff\xfe") == "/tmp/pt/bad\\377\\376"
    assert strace_escape(b'\x01\x02\xff\n\t"\\') == '\\1\\2\\377\\n\\t\\"\\\\'


# ---------------------------------------------------------------------------
# unescape


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/etc/passwd", b"/etc/passwd"),
        ("", b""),
        ("hello\\n", b"hello\n"),
        ('q\\"uote', b'q"uote'),
        ("back\\\\slash", b"back\\slash"),
        ("\\t\\r\\v\\f", b"\t\r\v\f"),
        # write(3</dev/null<char 1:3>>, "\1\2\377\n\t\"\\", 7) = 7
        ('\\1\\2\\377\\n\\t\\"\\\\', b'\x01\x02\xff\n\t"\\'),
        # Octal takes at most three digits: "\0013" is \001 then "3".
        ("/tmp/pt/12\\0013", b"/tmp/pt/12\x013"),
        ("\\0", b"\x00"),
        ("\\12", b"\n"),
        ("\\1234", b"S4"),
        ("/tmp/pt/lt\\74gt\\76", b"/tmp/pt/lt<gt>"),
        ("/tmp/pt/bad\\377\\376", b"/tmp/pt/bad\xff\xfe"),
        ("/tmp/pt/\\303\\274tf", "/tmp/pt/ütf".encode()),
        # -x: only strings with non-ASCII bytes are hex, every byte of them.
        ("\\xc3\\xa9\\x01\\x78", b"\xc3\xa9\x01x"),
        # -xx, lower and upper case hex digits.
        ("\\x2f\\x65\\x74\\x63", b"/etc"),
        ("\\x2F\\xFF", b"/\xff"),
        # Hex mixed with plain text (not the all-hex fast path).
        ("a\\x2fb", b"a/b"),
        # strace prints valid non-ASCII UTF-8 raw with some locales/options.
        ("é", b"\xc3\xa9"),
        # A log line read with errors="surrogateescape" keeps raw bytes as surrogates.
        ("bad\udcff\udcfe", b"bad\xff\xfe"),
    ],
)
def test_unescape(text: str, expected: bytes) -> None:
    assert unescape(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\\q", b"\\q"),
        ("trailing\\", b"trailing\\"),
        ("\\777", b"\\777"),
        ("\\400", b"\\400"),
        ("\\x4", b"\\x4"),
        ("\\xg0", b"\\xg0"),
        ("a\\qb\\n", b"a\\qb\n"),
    ],
)
def test_unescape_keeps_what_strace_never_prints_as_written(text: str, expected: bytes) -> None:
    # A damaged log (a flipped byte, a cut line) must still decode.
    assert unescape(text) == expected


def test_unescape_refuses_surrogates_that_come_from_no_byte() -> None:
    with pytest.raises(UnicodeEncodeError):
        unescape("a\\n\ud800")


@given(st.binary(max_size=64))
def test_unescape_round_trips_octal_escaping(raw: bytes) -> None:
    assert unescape(strace_escape(raw)) == raw


@given(st.binary(max_size=64))
def test_unescape_round_trips_hex_escaping(raw: bytes) -> None:
    assert unescape(strace_escape(raw, "hex")) == raw


@given(st.binary(max_size=64))
def test_unescape_round_trips_a_surrogateescape_read_line(raw: bytes) -> None:
    # strace may print bytes raw (valid UTF-8 with some options); reading the log with
    # surrogateescape must still give the same bytes back.
    text = raw.replace(b"\\", b"").decode("utf-8", "surrogateescape")
    assert unescape(text) == raw.replace(b"\\", b"")


# ---------------------------------------------------------------------------
# to_name


def test_to_name_decodes_utf8() -> None:
    assert to_name("/tmp/ütf".encode()) == "/tmp/ütf"


def test_to_name_keeps_invalid_utf8_as_surrogates() -> None:
    name = to_name(b"/tmp/bad\xff\xfe")
    assert name == "/tmp/bad\udcff\udcfe"
    assert os.fsencode(name) == b"/tmp/bad\xff\xfe"


@given(st.binary(max_size=64))
def test_to_name_is_lossless(raw: bytes) -> None:
    assert to_name(raw).encode("utf-8", "surrogateescape") == raw


# ---------------------------------------------------------------------------
# quoted_string


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"/etc/passwd"', ("/etc/passwd", False)),
        ('"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"...', ("A" * 32, True)),
        # -s 0
        ('""...', ("", True)),
        ('""', ("", False)),
        ('"a,b\\") = 1"', ('a,b") = 1', False)),
        ('"/tmp/pt/nl\\nx"', ("/tmp/pt/nl\nx", False)),
        ('"/tmp/pt/bad\\377\\376"', ("/tmp/pt/bad\udcff\udcfe", False)),
        ('"\\x2f\\x65\\x74\\x63"', ("/etc", False)),
        ('"\\x61\\x2c\\x62\\x22\\x29"...', ('a,b")', True)),
        ('  "padded"  ', ("padded", False)),
        ('"\\\\"', ("\\", False)),
        ("NULL", (None, False)),
        ("0x7ffd4cf60c78", (None, False)),
        ("AT_FDCWD</tmp>", (None, False)),
        ('@"abs"', (None, False)),
        ('["/bin/true"]', (None, False)),
        ('"a", "b"', (None, False)),
        ('"abc', (None, False)),
        ('"abc\\"', (None, False)),
        ('"abc"..', (None, False)),
        ("", (None, False)),
    ],
)
def test_quoted_string(text: str, expected: tuple[str | None, bool]) -> None:
    assert quoted_string(text) == expected


@given(st.binary(max_size=64))
def test_quoted_string_round_trips_bytes(raw: bytes) -> None:
    name, truncated = quoted_string('"' + strace_escape(raw) + '"')
    assert truncated is False
    assert name is not None
    assert os.fsencode(name) == raw


# ---------------------------------------------------------------------------
# split_args


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("", []),
        ("   ", []),
        ("3", ["3"]),
        ("NULL", ["NULL"]),
        (
            "NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0",
            ["NULL", "8192", "PROT_READ|PROT_WRITE", "MAP_PRIVATE|MAP_ANONYMOUS", "-1", "0"],
        ),
        # An unfinished half ends after the comma.
        ("3<pipe:[4377]>, ", ["3<pipe:[4377]>", ""]),
        (
            'AT_FDCWD</tmp/pt>, "/tmp/pt/a,b", O_RDWR|O_CREAT|O_TRUNC, 0644',
            ["AT_FDCWD</tmp/pt>", '"/tmp/pt/a,b"', "O_RDWR|O_CREAT|O_TRUNC", "0644"],
        ),
        # A comma inside a path decoration.
        ('3</tmp/pt/a,b>, "hello\\n", 6', ["3</tmp/pt/a,b>", '"hello\\n"', "6"]),
        # An escaped quote inside a path decoration opens no string.
        ('3</tmp/pt/q\\"uote>, "hello\\n", 6', ['3</tmp/pt/q\\"uote>', '"hello\\n"', "6"]),
        # Escaped quote, comma and ") = " inside a string.
        (
            '3</tmp/pt/tab\\there>, "a,b\\") = 1", 9',
            ["3</tmp/pt/tab\\there>", '"a,b\\") = 1"', "9"],
        ),
        # Unbalanced brackets and a "-" before the escaped ">" inside a path decoration.
        (
            "3</tmp/pt/w(e[i{r,d-\\76>(deleted), 0600",
            ["3</tmp/pt/w(e[i{r,d-\\76>(deleted)", "0600"],
        ),
        (
            '3</tmp/pt/lt\\74gt\\76>(deleted), "lo\\n", 3',
            ["3</tmp/pt/lt\\74gt\\76>(deleted)", '"lo\\n"', "3"],
        ),
        # Nested device decoration.
        (
            '3</dev/null<char 1:3>>, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"..., 100',
            ["3</dev/null<char 1:3>>", '"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"...', "100"],
        ),
        ("[3<pipe:[4341]>, 4<pipe:[4341]>], 0", ["[3<pipe:[4341]>, 4<pipe:[4341]>]", "0"]),
        # Socket details: "->" inside the decoration closes nothing.
        (
            '4<TCP:[127.0.0.1:53668->127.0.0.1:43961]>, "hi", 2',
            ["4<TCP:[127.0.0.1:53668->127.0.0.1:43961]>", '"hi"', "2"],
        ),
        (
            '4<TCPv6:[[::1]:48956->[::1]:54391]>, "v6", 2',
            ["4<TCPv6:[[::1]:48956->[::1]:54391]>", '"v6"', "2"],
        ),
        (
            '5<UNIX-STREAM:[5161->5160,"/tmp/pt/sock"]>, "un", 2',
            ['5<UNIX-STREAM:[5161->5160,"/tmp/pt/sock"]>', '"un"', "2"],
        ),
        (
            '5<UNIX-STREAM:[5164->5163,@"abs"]>, NULL, NULL',
            ['5<UNIX-STREAM:[5164->5163,@"abs"]>', "NULL", "NULL"],
        ),
        (
            "5<TCP:[127.0.0.1:43961->127.0.0.1:53668]>, {sa_family=AF_INET, "
            'sin_port=htons(53668), sin_addr=inet_addr("127.0.0.1")}, [16]',
            [
                "5<TCP:[127.0.0.1:43961->127.0.0.1:53668]>",
                '{sa_family=AF_INET, sin_port=htons(53668), sin_addr=inet_addr("127.0.0.1")}',
                "[16]",
            ],
        ),
        # In/out values: "=>" (strace >= 5.12) and "->" (older) are not closers.
        (
            "3<TCP:[5166]>, SOL_SOCKET, SO_TYPE, [1], [128 => 4]",
            ["3<TCP:[5166]>", "SOL_SOCKET", "SO_TYPE", "[1]", "[128 => 4]"],
        ),
        (
            "3, SOL_SOCKET, SO_TYPE, [1], [128->4]",
            ["3", "SOL_SOCKET", "SO_TYPE", "[1]", "[128->4]"],
        ),
        (
            "{flags=CLONE_VM|CLONE_THREAD, child_tid=0x7f042a463990, exit_signal=0, "
            "stack=0x7f0429c63000, stack_size=0x7fff80, tls=0x7f042a4636c0} "
            "=> {parent_tid=[4229]}, 88",
            [
                "{flags=CLONE_VM|CLONE_THREAD, child_tid=0x7f042a463990, exit_signal=0, "
                "stack=0x7f0429c63000, stack_size=0x7fff80, tls=0x7f042a4636c0} "
                "=> {parent_tid=[4229]}",
                "88",
            ],
        ),
        # -Y decorates pids, also inside brackets.
        ("{parent_tid=[4238<m>]}, 88", ["{parent_tid=[4238<m>]}", "88"]),
        (
            "SIGUSR1, {sa_handler=0x564607777329, sa_mask=[USR1], "
            "sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7f4f85897050}, "
            "{sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8",
            [
                "SIGUSR1",
                "{sa_handler=0x564607777329, sa_mask=[USR1], "
                "sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7f4f85897050}",
                "{sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}",
                "8",
            ],
        ),
        (
            '"/bin/true", ["/bin/true"], 0x7fffb073e528 /* 35 vars */',
            ['"/bin/true"', '["/bin/true"]', "0x7fffb073e528 /* 35 vars */"],
        ),
        # -X verbose comments.
        (
            '-100 /* AT_FDCWD */</tmp/pt>, "/nonexistent", 0 /* O_RDONLY */',
            ["-100 /* AT_FDCWD */</tmp/pt>", '"/nonexistent"', "0 /* O_RDONLY */"],
        ),
        ('-100</tmp/pt>, "/etc/hostname", 0', ["-100</tmp/pt>", '"/etc/hostname"', "0"]),
        # -xx hex decorations and strings.
        (
            '3<\\x2f\\x65\\x74\\x63>, "\\x76\\x6d\\x0a", 8',
            ["3<\\x2f\\x65\\x74\\x63>", '"\\x76\\x6d\\x0a"', "8"],
        ),
        (
            '1<\\x2f\\x64\\x65\\x76\\x2f\\x6e\\x75\\x6c\\x6c<char 1:3>>, "\\xc3\\xa9\\x01\\x78", 4',
            [
                "1<\\x2f\\x64\\x65\\x76\\x2f\\x6e\\x75\\x6c\\x6c<char 1:3>>",
                '"\\xc3\\xa9\\x01\\x78"',
                "4",
            ],
        ),
        (
            "[{fd=3</etc/hostname>, events=POLLIN}], 1, 0",
            ["[{fd=3</etc/hostname>, events=POLLIN}]", "1", "0"],
        ),
        (
            "<... resuming interrupted clock_nanosleep ...>",
            ["<... resuming interrupted clock_nanosleep ...>"],
        ),
        (
            '3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="a,b", iov_len=3}], '
            "msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0",
            [
                "3",
                '{msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="a,b", iov_len=3}], '
                "msg_iovlen=1, msg_controllen=0, msg_flags=0}",
                "0",
            ],
        ),
        # Raw bytes of a log read with surrogateescape pass through untouched.
        ('3</tmp/b\udcff>, "x", 1', ["3</tmp/b\udcff>", '"x"', "1"]),
    ],
)
def test_split_args(args: str, expected: list[str]) -> None:
    assert split_args(args) == expected


@given(st.lists(st.binary(min_size=1, max_size=24), min_size=1, max_size=5))
def test_split_args_keeps_escaped_decorations_and_strings_whole(names: list[bytes]) -> None:
    parts = []
    for i, raw in enumerate(names):
        parts.append(f"{i + 3}</{strace_escape(raw, deco=True)}>")
        parts.append('"' + strace_escape(raw) + '"')
    assert split_args(", ".join(parts)) == parts


# ---------------------------------------------------------------------------
# split_fd


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("3", (3, None)),
        ("-1", (-1, None)),
        ("0", (0, None)),
        ("AT_FDCWD", (-100, None)),
        ("3</etc/passwd>", (3, "/etc/passwd")),
        ("AT_FDCWD</tmp>", (-100, "/tmp")),
        ("1</dev/null<char 1:3>>", (1, "/dev/null<char 1:3>")),
        ("3</tmp/pt/lt\\74gt\\76>", (3, "/tmp/pt/lt\\74gt\\76")),
        ("3</tmp/pt/a,b>", (3, "/tmp/pt/a,b")),
        ("3</tmp/pt/del>(deleted)", (3, "/tmp/pt/del>(deleted)")),
        ("3</memfd:mymem>(deleted)", (3, "/memfd:mymem>(deleted)")),
        ("3</tmp/pt/w(e[i{r,d-\\76>(deleted)", (3, "/tmp/pt/w(e[i{r,d-\\76>(deleted)")),
        ("4<TCP:[127.0.0.1:1->127.0.0.1:2]>", (4, "TCP:[127.0.0.1:1->127.0.0.1:2]")),
        ("7<pipe:[28071]>", (7, "pipe:[28071]")),
        ("3<\\x2f\\x65\\x74\\x63>", (3, "\\x2f\\x65\\x74\\x63")),
        (
            "1<\\x2f\\x64\\x65\\x76\\x2f\\x6e\\x75\\x6c\\x6c<char 1:3>>",
            (1, "\\x2f\\x64\\x65\\x76\\x2f\\x6e\\x75\\x6c\\x6c<char 1:3>"),
        ),
        # -X raw and -X verbose.
        ("-100</tmp/pt>", (-100, "/tmp/pt")),
        ("-100 /* AT_FDCWD */</tmp/pt>", (-100, "/tmp/pt")),
        ("-100 /* AT_FDCWD */", (-100, None)),
        (" 5 ", (5, None)),
        ("NULL", (None, None)),
        ('"3"', (None, None)),
        ("0x3", (None, None)),
        ("3.5", (None, None)),
        ("", (None, None)),
        ("[3<pipe:[4341]>, 4<pipe:[4341]>]", (None, None)),
    ],
)
def test_split_fd(arg: str, expected: tuple[int | None, str | None]) -> None:
    assert split_fd(arg) == expected


# ---------------------------------------------------------------------------
# parse_deco_path


@pytest.mark.parametrize(
    ("deco", "expected"),
    [
        ("/etc/passwd", ("/etc/passwd", None, False)),
        ("/dev/null<char 1:3>", ("/dev/null", "char 1:3", False)),
        ("/dev/sda<block 8:0>", ("/dev/sda", "block 8:0", False)),
        ("/tmp/pt/lt\\74gt\\76", ("/tmp/pt/lt<gt>", None, False)),
        ("/tmp/pt/nl\\nx", ("/tmp/pt/nl\nx", None, False)),
        ('/tmp/pt/q\\"uote', ('/tmp/pt/q"uote', None, False)),
        ("/tmp/pt/a,b", ("/tmp/pt/a,b", None, False)),
        ("/tmp/pt/bad\\377\\376", ("/tmp/pt/bad\udcff\udcfe", None, False)),
        ("/tmp/pt/\\303\\274tf", ("/tmp/pt/ütf", None, False)),
        # strace >= 5.19: "(deleted)" after the ">", kept by split_fd and the parser.
        ("/tmp/pt/lt\\74gt\\76>(deleted)", ("/tmp/pt/lt<gt>", None, True)),
        ("/memfd:mymem>(deleted)", ("/memfd:mymem", None, True)),
        ("/tmp/pt/w(e[i{r,d-\\76>(deleted)", ("/tmp/pt/w(e[i{r,d->", None, True)),
        ("/dev/x<char 1:3>>(deleted)", ("/dev/x", "char 1:3", True)),
        # strace < 5.19: " (deleted)" inside the brackets.
        ("/tmp/pt/del (deleted)", ("/tmp/pt/del", None, True)),
        ("/dev/x (deleted)<char 1:3>", ("/dev/x", "char 1:3", True)),
        # -xx: the path is hex, the device is not.
        ("\\x2f\\x65\\x74\\x63", ("/etc", None, False)),
        (
            "\\x2f\\x64\\x65\\x76\\x2f\\x6e\\x75\\x6c\\x6c<char 1:3>",
            ("/dev/null", "char 1:3", False),
        ),
        ("\\x2f\\x74\\x2f\\x31\\x32\\x01\\x33", ("/t/12\x013", None, False)),
        ("\\x2f\\x78\\x20\\x28\\x64\\x65\\x6c\\x65\\x74\\x65\\x64\\x29", ("/x", None, True)),
        ("\\x2f\\x64>(deleted)", ("/d", None, True)),
        ("", ("", None, False)),
    ],
)
def test_parse_deco_path(deco: str, expected: tuple[str, str | None, bool]) -> None:
    assert parse_deco_path(deco) == expected


def test_parse_deco_path_new_strace_keeps_deleted_in_the_name() -> None:
    # strace 6.1 -yy on a live file really named "x (deleted)".
    assert parse_deco_path("/tmp/pt/x (deleted)", inside_marker=False) == (
        "/tmp/pt/x (deleted)",
        None,
        False,
    )
    assert parse_deco_path("/tmp/pt/x (deleted)>(deleted)", inside_marker=False) == (
        "/tmp/pt/x (deleted)",
        None,
        True,
    )


@given(st.binary(min_size=1, max_size=48), st.booleans(), st.sampled_from(["octal", "hex"]))
def test_fd_decoration_round_trip(raw: bytes, deleted: bool, style: str) -> None:
    # bytes -> strace's -y escaping -> split_fd -> parse_deco_path -> the same bytes.
    arg = f"3<{strace_escape(raw, style, deco=True)}>" + ("(deleted)" if deleted else "")
    fd, deco = split_fd(arg)
    assert fd == 3
    assert deco is not None
    path, device, was_deleted = parse_deco_path(deco, inside_marker=False)
    assert os.fsencode(path) == raw
    assert device is None
    assert was_deleted is deleted
