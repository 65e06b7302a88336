"""split_args's shortcuts split exactly as its tokenizer does from the first character.

:func:`~iomonitor.strace.decode.split_args` skips the tokenizer for text
without commas or structure, and splits the plain text before the first
quote, bracket, escape or comment with ``str.split``. ``tokenize`` below is the
tokenizer alone, run over the whole text: the two must agree on any text
that has structure, and on real argument lists.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from iomonitor.strace import decode
from iomonitor.strace.decode import split_args
from iomonitor.strace.parser import parse_line

SEEDS = Path(__file__).resolve().parents[2] / "benchmarks" / "seed"
SCALE = settings.default.max_examples / 100


def tokenize(args: str) -> list[str]:
    parts: list[str] = []
    stack: list[str] = []
    start = 0
    for m in decode._TOKEN.finditer(args):
        tok = m.group()
        if tok == ",":
            if not stack:
                parts.append(args[start : m.start()].strip())
                start = m.end()
        elif tok == "<":
            stack.append("<")
        elif tok == ">":
            if stack and stack[-1] == "<":
                stack.pop()
        elif tok in ("(", "[", "{"):
            if not stack or stack[-1] != "<":
                stack.append(tok)
        elif tok in (")", "]", "}") and stack and stack[-1] != "<":
            stack.pop()
    last = args[start:].strip()
    if last or parts:
        parts.append(last)
    return parts


def expected(args: str) -> list[str]:
    # Text with no structure at all is split at every comma, -X comments too.
    if decode._STRUCTURE.search(args) is None:
        return [part.strip() for part in args.split(",")] if "," in args else tokenize(args)
    return tokenize(args)


FRAGMENTS = [
    "3",
    "3</a>",
    "</a,b>",
    '"x, y"',
    '"\\""',
    "\\",
    "\\,",
    "/*",
    "*/",
    "/* a, b */",
    "<<",
    "->",
    "->1",
    "->[",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "<",
    ">",
    ",",
    ", ",
    " ",
    "NULL",
    "0x7f00",
    "PROT_READ|PROT_WRITE",
    "=>",
    '"',
    "...",
    "-",
    "*",
    "/",
]


@settings(max_examples=max(1, round(5000 * SCALE)))
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join))
def test_generated_text_splits_as_the_tokenizer_does(args: str) -> None:
    assert split_args(args) == expected(args)


def test_real_argument_lists_split_as_the_tokenizer_does() -> None:
    for name in ("ioloop-yy.log.gz", "ioloop.log.gz", "spawn.log.gz"):
        with gzip.open(SEEDS / name, "rt", encoding="utf-8", errors="surrogateescape") as fh:
            for line in fh:
                args = parse_line(line).args
                assert split_args(args) == expected(args), args
