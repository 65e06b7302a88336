"""The parser's shortcut for the common line shape reads every line as the general parser does.

:func:`parse_line` first tries the shape of iomonitor's own captures (``-f -o
-ttt``: pid, epoch seconds, then a call or a resumed half) and hands anything
else to the general parser. Whatever the shortcut returns must be the record
the general parser returns for the same line: checked on real logs, on real
lines mutated at every kind of spot, and on generated lines built from the
fragments that make the shape ambiguous (``) = `` inside strings, durations,
decorations, ``<unfinished ...>``, ``<detached ...>``).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iomonitor.strace import parser as p
from iomonitor.strace.parser import parse_line

SEEDS = Path(__file__).resolve().parents[2] / "benchmarks" / "seed"
SCALE = settings.default.max_examples / 100


def general(line: str) -> p.Record:
    line = line.rstrip("\n")
    if line.endswith("\r"):
        line = line[:-1]
    return p._parse_any(line)


def _seed_lines() -> list[str]:
    lines = []
    for name in ("ioloop-yy.log.gz", "ioloop.log.gz", "spawn.log.gz"):
        with gzip.open(SEEDS / name, "rt", encoding="utf-8", errors="surrogateescape") as fh:
            lines += fh.readlines()
    return lines


SEED_LINES = _seed_lines()


def test_real_logs_read_alike() -> None:
    common = 0
    for line in SEED_LINES:
        assert parse_line(line) == general(line), line
        common += p._COMMON.match(line) is not None
    assert common > 0.9 * len(SEED_LINES)  # the shortcut is taken on nearly every line


LITERAL = [
    '42 1795780000.000001 read(3</a>, "x) = 5 <0.1>", 9) = 9 <0.000004>',
    '42 1795780000.000001 write(1, "a", 1)   = 1',
    "42 1795780000.000001 exit_group(0)   = ?",
    "42 1795780000.000001 exit_group(0) = ? <0.000100>",
    "42 1795780000.000001 read(3</a>,  <unfinished ...>",
    '42 1795780000.000001 read(3</a>, "x" <detached ...>',
    '42 1795780000.000001 read(3</a>, "x" <detached ...>42 1795780000.1 write(1, "", 0) = 0',
    '42 1795780000.000001 execve("/bin/x", ["x"], 0x1 /* 1 var */ <pid changed to 41 ...>',
    '42 1795780000.000001 <... read resumed>"x", 9) = 1 <0.000004>',
    '42 1795780000.000001 <... read resumed> "x", 9) = 1',
    "42 1795780000.000001 <... close resumed>) = 0 <0.000011>",
    "42 1795780000.000001 <... exit resumed> = ?",
    "42 1795780000.000001 <... read resumed> <0.000011>",
    "42 1795780000.000001 <... read resumed>",
    '42 1795780000.000001 openat(AT_FDCWD</t>, "/t/f", O_RDONLY) = 3</t/f>(deleted) <0.1>',
    '42 1795780000.000001 openat(AT_FDCWD</t>, "/t/f", O_RDONLY) = 3</t/f> <0.1',
    '42 1795780000.000001 openat(AT_FDCWD, "/t/f", O_RDONLY) = -1 ENOENT (No such file) <1>',
    "42 1795780000.000001 lseek(3, 0, SEEK_END) = 0x10 <0.1> <0.2>",
    "42 1795780000.000001 read(3, 0x1, 1) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)",
    "42 1795780000.000001 clone(child_stack=NULL, flags=SIGCHLD/usr/bin/strace: Process 7 attached",
    "42 1795780000.000001 getpid( <0.1>",
    "42 1795780000.000001 read(",
    '42 1795780000.000001 read(3, "", 1) =',
    '42 1795780000.000001 read(3, "", 1) = 5\n\r',
    "42 1795780000.000001 mmap(NULL, 1) = 0x7f0a <0.1>",
    "42 1795780000.000001 mmap(NULL, 1) = 0x7F0A",
    "42 1795780000.000001 mmap(NULL, 1) = 0x",
    "42 1795780000.000001 lseek(3, -1, SEEK_CUR) = -0x1",
    "42 1795780000.000001 <... read resumed>) = 0 <0.1> = 5",
    '1234567 1795780000.000001 read(3, "", 1) = 0',
    '12345678 1795780000.000001 read(3, "", 1) = 0',
    '42 0795780000.000001 read(3, "", 1) = 0',
    '42 17957800001.000001 read(3, "", 1) = 0',
    '42 1795780000 read(3, "", 1) = 0',
    '42  1795780000.000001   read(3, "", 1) = 0\r\n',
    '42 1795780000.000001 (+     0.000010) read(3, "", 1) = 0',
    "42 1795780000.000001 ???() = 0",
    "42 1795780000.000001 +++ exited with 0 +++",
    "42 1795780000.000001 --- SIGCHLD {si_signo=SIGCHLD} ---",
    "42 1795780000.000001 read\u00e9(3) = 0",
    "\u0664\u0662 1795780000.000001 read(3) = 0",
    "42 1795780000.00000\u0661 read(3) = 0 <0.\u0661>",
]


@pytest.mark.parametrize("line", LITERAL)
def test_literal_lines_read_alike(line: str) -> None:
    assert parse_line(line) == general(line)
    assert parse_line(line + "\n") == general(line)


FRAGMENTS = [
    "3",
    "3</tmp/a>",
    "3</tmp/a b, c>",
    "1</dev/null<char 1:3>>",
    "4<TCP:[1.2.3.4:5->6.7.8.9:10]>",
    '"x) = 5"',
    '"\\"" ',
    '"a"...',
    "NULL",
    "0x7ffc",
    ", ",
    ",",
    " ",
    "  ",
    ")",
    "(",
    " = ",
    "= ",
    "=",
    ") = 0",
    ") = -1",
    ") = ?",
    ") = 3</a>",
    ") = 0x7f0a",
    ") = 0x",
    ") = -0x1",
    ") = 007",
    "<",
    ">",
    "...>",
    " <unfinished ...>",
    " <detached ...>",
    " <pid changed to 9 ...>",
    " <0.000012>",
    " <1>",
    " <0.>",
    "<... read resumed>",
    " ENOENT (No such file or directory)",
    " (flags O_RDONLY)",
    "(deleted)",
    "[128 => 16]",
    "{sa_family=AF_INET}",
    "/* 3 vars */",
    "strace: Process 7 attached",
    "\u00e9",
    "\udcff",
    "\r",
    "\n",
]

body_text = st.lists(st.sampled_from(FRAGMENTS), max_size=8).map("".join)
names = st.sampled_from(["read", "write", "openat", "exit_group", "clone3", "_x", "a1", "???"])
pids = st.sampled_from(["42", "1234567", "12345678", "7"])
stamps = st.sampled_from(["1795780000.000001", "1795780000.5", "795780000.1", "1795780000"])
spaces = st.sampled_from([" ", "  ", "   "])


@st.composite
def lines(draw: st.DrawFn) -> str:
    head = draw(pids) + draw(spaces) + draw(stamps) + draw(spaces)
    shape = draw(st.integers(0, 2))
    if shape == 0:
        body = draw(names) + "(" + draw(body_text)
    elif shape == 1:
        body = f"<... {draw(names)} resumed>" + draw(body_text)
    else:
        body = draw(body_text)
    return head + body + draw(st.sampled_from(["", "\n", "\r\n", " <0.000012>", " <0.1>\n"]))


@settings(max_examples=max(1, round(3000 * SCALE)))
@given(lines())
def test_generated_lines_read_alike(line: str) -> None:
    assert parse_line(line) == general(line)


@settings(max_examples=max(1, round(2000 * SCALE)))
@given(st.sampled_from(SEED_LINES), st.integers(0, 10_000), st.sampled_from([*FRAGMENTS, ""]))
def test_mutated_real_lines_read_alike(line: str, at: int, insert: str) -> None:
    at %= len(line) + 1
    for mutated in (line[:at], line[:at] + insert + line[at:], line[:at] + insert):
        assert parse_line(mutated) == general(mutated)
