"""The compiled core gives exactly the pure-Python oracle's results.

The oracle (``tests/oracle.py``) takes every line through the parser, the
joiner and Python handlers; the compiled core must give the same events
(every column, same order), processes, failed calls and counters, whatever
the chunk size and wherever the bytes are cut (a line may arrive in pieces,
as it does from the FIFO), including split calls whose halves fall into
different chunks.
"""

from __future__ import annotations

import gzip
import importlib.util
import random
import shutil
import subprocess
from pathlib import Path

import pyarrow as pa
import pytest
from oracle import Oracle, convert, table_converter

from iomonitor.store import inputs
from iomonitor.strace.convert import Converter
from iomonitor.strace.decode import split_args, split_fd

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "benchmarks" / "seed"


def _seed(name: str, n: int | None = None) -> bytes:
    data = gzip.decompress((SEEDS / name).read_bytes())
    if n is None:
        return data
    return b"".join(data.splitlines(keepends=True)[:n])


def assert_same(data: bytes, chunk: int = 65536, cuts: list[int] | None = None) -> Converter:
    want = convert(table_converter(Oracle, mtime=1795780000.0, chunk_events=chunk), data)
    conv = table_converter(mtime=1795780000.0, chunk_events=chunk)
    got = convert(conv, data, cuts or [])
    assert got["events"] == want["events"]
    assert got["processes"] == want["processes"]
    assert got["errors"] == want["errors"]
    assert got["counters"] == want["counters"]
    return conv


@pytest.mark.parametrize("name", ["ioloop-yy.log.gz", "ioloop.log.gz", "spawn.log.gz"])
def test_core_equals_oracle_on_real_log(name: str) -> None:
    conv = assert_same(_seed(name))
    # The core handled most lines itself.
    assert conv.core.own_lines > conv.core.lines / 2 or name == "spawn.log.gz"


@pytest.mark.parametrize("chunk", [5, 100])
def test_chunked_equals_whole_including_split_calls_across_chunks(chunk: int) -> None:
    data = _seed("ioloop-yy.log.gz", 500)
    assert b"<unfinished ...>" in data
    assert_same(data, chunk=chunk)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bytes_cut_anywhere_give_the_same_trace(seed: int) -> None:
    data = _seed("ioloop-yy.log.gz", 800)
    rng = random.Random(seed)
    assert_same(data, cuts=[rng.randrange(len(data)) for _ in range(60)] + [1, 2, 3])


def test_log_read_through_one_reused_buffer_gives_the_same_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # feed_log reads every block into the same buffer: whatever the core keeps
    # of a block (a cut line, a held half) must be its own copy.
    data = _seed("ioloop-yy.log.gz", 3000)
    log = tmp_path / "x.log"
    log.write_bytes(data)
    monkeypatch.setattr(inputs, "LOG_BLOCK", 4093)
    want = convert(table_converter(Oracle, mtime=1795780000.0), data)
    conv = table_converter(mtime=1795780000.0)
    tables = [*inputs.feed_log(conv, log), conv.finish()]
    assert pa.concat_tables(tables).unify_dictionaries().to_pydict() == want["events"]
    assert conv.counters() == want["counters"]


# Literal lines of every shape the core handles, and of the ones it hands over.
LITERAL = """\
100 1795780000.000001 execve("/bin/prog", ["prog"], 0x7ffc /* 3 vars */) = 0 <0.000100>
100 1795780000.000010 openat(AT_FDCWD</tmp>, "/tmp/a", O_RDWR|O_CREAT, 0644) = 3</tmp/a> <0.000010>
100 1795780000.000020 write(3</tmp/a>, "hello\\n", 6) = 6 <0.000004>
100 1795780000.000030 write(3</tmp/a>, "a) = 99", 7) = 7 <0.000004>
100 1795780000.000040 read(3</tmp/a>, "", 4096) = 0 <0.000002>
100 1795780000.000050 pread64(3</tmp/a>, "hello\\n", 6, 0) = 6
100 1795780000.000060 lseek(3</tmp/a>, 0, SEEK_SET) = 0 <0.000002>
100 1795780000.000070 read(3</tmp/a>, 0x7ffc, 10) = -1 EAGAIN (Resource temporarily unavailable) <0.000001>
100 1795780000.000080 write(1</dev/pts/0<char 136:0>>, "x", 1) = 1 <0.000005>
100 1795780000.000090 write(1</dev/pts/0<char 136:0>>, "y", 1) = 1 <0.000005>
100 1795780000.000100 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 4<UDP:[9001]> <0.000004>
100 1795780000.000110 sendto(4<UDP:[9001]>, "q", 1, 0, {sa_family=AF_INET, sin_port=htons(53), \
sin_addr=inet_addr("127.0.0.53")}, 16) = 1 <0.000010>
100 1795780000.000120 sendto(4<UDP:[9001]>, "q, \\"x", 5, 0, {sa_family=AF_INET, \
sin_port=htons(54), sin_addr=inet_addr("127.0.0.54")}, 16) = 5 <0.000010>
100 1795780000.000130 recvfrom(4<UDP:[9001]>, "a", 512, 0, {sa_family=AF_INET, \
sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, [16]) = 1 <0.000010>
100 1795780000.000140 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD\
|CLONE_SYSVSEM, child_tid=0x1, parent_tid=0x1, exit_signal=0, stack=0x1, stack_size=0x1, \
tls=0x1} => {parent_tid=[101]}, 88) = 101 <0.000050>
101 1795780000.000150 read(3</tmp/a>,  <unfinished ...>
100 1795780000.000160 write(3</tmp/a>, "z", 1) = 1 <0.000003>
101 1795780000.000170 <... read resumed>"z", 100) = 1 <0.000020>
101 1795780000.000180 read(3</tmp/a>,  <unfinished ...>
101 1795780000.000190 <... read resumed> "", 100) = 0 <0.000020>
101 1795780000.000200 read(3</tmp/a>,  <unfinished ...>
100 1795780000.000210 close(3</tmp/a>) = 0 <0.000003>
101 1795780000.000220 <... read resumed>"", 100) = -1 EBADF (Bad file descriptor) <0.000020>
100 1795780000.000230 openat(AT_FDCWD</tmp>, "/tmp/b", O_RDONLY) = 3</tmp/b> <0.000010>
101 1795780000.000240 read(3</tmp/b>, "b", 1) = 1 <0.000002>
100 1795780000.000250 read(3</tmp/b>, "b", 1) = 1 <0.000002>
101 1795780000.000260 read(3</tmp/c>, "c", 1) = 1 <0.000002>
100 1795780000.000270 read(3</tmp/b>, "b", 1) = 1 <0.000002>
100 1795780000.000280 dup2(3</tmp/b>, 7</tmp/x>) = 7</tmp/b> <0.000002>
100 1795780000.000290 write(7</tmp/b>, "b", 1) = 1 <0.000002>
101 1795780000.000300 write(9, "u", 1) = 1 <0.000002>
101 1795780000.000310 write(9, "u", 1) = 1 <0.000002>
101 1795780000.000320 recvfrom(4<UDP:[9001]>,  <unfinished ...>
101 1795780000.000330 +++ exited with 0 +++
100 1795780000.000340 pipe2([5<pipe:[77]>, 6<pipe:[77]>], O_CLOEXEC) = 0 <0.000003>
100 1795780000.000350 write(6<pipe:[77]>, "p", 1) = 1 <0.000002>
100 1795780000.000360 read(5<pipe:[77]>, "p", 1) = 1 <0.000002>
100 1795780000.000370 read(5<pipe:[77]>,  <unfinished ...>
100 1795780000.000380 +++ killed by SIGKILL +++
102 1795780000.000390 <... write resumed>"x", 1) = 1 <0.000002>
102 1795780000.000400 write(1, "no newline", 10) = 10"""


def test_core_equals_oracle_on_literal_shapes() -> None:
    data = LITERAL.encode()
    for chunk in (1, 3, 65536):
        assert_same(data, chunk)
    assert_same(data.rstrip(b"\n"))  # the last line without its newline
    assert_same(data, cuts=list(range(0, len(data), 7)))


def test_decoration_conflict_on_a_shared_table_is_seen() -> None:
    # Two threads of one process print different names for fd 3 (a log cut
    # and spliced): the second name corrects the shared table, and the first
    # thread's next read must show the corrected name, as the oracle does.
    lines = [
        '200 1795780000.000001 execve("/bin/p", ["p"], 0x1 /* 1 var */) = 0\n',
        "200 1795780000.000002 clone(child_stack=NULL, flags=CLONE_VM|CLONE_FILES|"
        "CLONE_THREAD|CLONE_SIGHAND) = 201\n",
        '200 1795780000.000003 read(3</a>, "x", 1) = 1\n',
        '200 1795780000.000004 read(3</a>, "x", 1) = 1\n',
        '201 1795780000.000005 read(3</b>, "x", 1) = 1\n',
        '200 1795780000.000006 read(3</a>, "x", 1) = 1\n',
        '201 1795780000.000007 read(3, "x", 1) = 1\n',
        '200 1795780000.000008 read(3, "x", 1) = 1\n',
    ]
    assert_same("".join(lines).encode())


def test_close_in_the_core_frees_the_fd_unless_ebadf() -> None:
    lines = [
        '300 1795780000.000001 execve("/bin/p", ["p"], 0x1 /* 1 var */) = 0\n',
        '300 1795780000.000002 openat(AT_FDCWD, "/a", O_RDONLY) = 3</a>\n',
        '300 1795780000.000003 read(3</a>, "x", 1) = 1\n',
        "300 1795780000.000004 close(3</a>) = -1 EBADF (Bad file descriptor)\n",
        '300 1795780000.000005 read(3, "x", 1) = 1\n',
        "300 1795780000.000006 close(3</a> <unfinished ...>\n",
        "300 1795780000.000007 <... close resumed>) = 0\n",
        '300 1795780000.000008 read(3, "x", 1) = 1\n',
    ]
    conv = assert_same("".join(lines).encode())
    events = conv.counters()
    assert events["unknown_fds"] == 1  # fd 3 after the real close


_CLONE = (
    "{pid} 1795780000.{t:06d} clone3({{flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND"
    "|CLONE_THREAD|CLONE_SYSVSEM, child_tid=0x1, parent_tid=0x1, exit_signal=0, stack=0x1, "
    "stack_size=0x1, tls=0x1}} => {{parent_tid=[{child}]}}, 88) = {child}\n"
)


def test_fd_cached_by_one_thread_follows_a_close_and_reopen_by_another() -> None:
    # Without -y nothing on the line names the file: a thread's cached view
    # of the shared table must follow the other thread's close and reopen.
    lines = [
        '500 1795780000.000001 execve("/bin/p", ["p"], 0x1 /* 1 var */) = 0\n',
        '500 1795780000.000002 openat(AT_FDCWD, "/tmp/a", O_RDWR) = 3\n',
        _CLONE.format(pid=500, t=3, child=501),
        '501 1795780000.000004 write(3, "x", 1) = 1\n',
        '500 1795780000.000005 write(3, "x", 1) = 1\n',
        "500 1795780000.000006 close(3) = 0\n",
        '500 1795780000.000007 openat(AT_FDCWD, "/tmp/b", O_RDONLY) = 3\n',
        '501 1795780000.000008 read(3, "y", 1) = 1\n',
        "500 1795780000.000009 dup2(3, 5) = 5\n",
        '501 1795780000.000010 read(5, "y", 1) = 1\n',
        "501 1795780000.000011 close(5) = 0\n",
        '500 1795780000.000012 read(5, "y", 1) = 1\n',
    ]
    assert_same("".join(lines).encode())
    conv = table_converter(mtime=1795780000.0)
    got = convert(conv, "".join(lines).encode())["events"]
    assert got["file"] == ["/tmp/a", "/tmp/a", "/tmp/b", "/tmp/b", "unknown:5"]
    # The core read all but the execve (the first line of a new process) and
    # the read of a closed fd.
    assert conv.core.own_lines == len(lines) - 2


def test_many_threads_hold_halves_at_once_and_hand_them_over_in_order() -> None:
    # 40 threads (two of them on the same slot of the core's thread cache:
    # pids 600 and 856) each leave a write unfinished, twice over; some end,
    # one thread's half goes to the Python side with its next line, and the
    # rest are open at the end of the log.
    pids = [*range(600, 639), 856]
    lines = ['600 1795780000.000001 execve("/bin/p", ["p"], 0x1 /* 1 var */) = 0\n']
    t = 2
    for child in pids[1:]:
        lines.append(_CLONE.format(pid=600, t=t, child=child))
        t += 1
    for _ in range(2):
        for pid in pids:
            lines.append(f"{pid} 1795780000.{t:06d} write(1,  <unfinished ...>\n")
            t += 1
        for pid in reversed(pids[10:]):
            lines.append(f'{pid} 1795780000.{t:06d} <... write resumed>"ab", 2) = 2\n')
            t += 1
        lines.append(f"603 1795780000.{t:06d} pipe2([7, 8], 0) = 0\n")
        t += 1
        lines.append(f'603 1795780000.{t:06d} <... write resumed>"ab", 2) = 2\n')
        t += 1
    conv = assert_same("".join(lines).encode())
    assert conv.counters()["unseen_calls"] == 9 + 9
    assert conv.counters()["events"] == 2 * 31  # 30 ended by the core, 603 by the Python side


# The calls the core reads itself besides the byte movers: openat, mmap, dup,
# dup2. Each line says whether the core takes it (C) or hands it over (Py).
OPEN_MMAP_DUP = [
    ("Py", '400 1795780000.000001 execve("/bin/p", ["p"], 0x1 /* 1 var */) = 0'),
    (
        "C",
        '400 1795780000.000002 openat(AT_FDCWD</home/u>, "rel/f", O_RDONLY|O_CLOEXEC) = '
        "3</home/u/rel/f>",
    ),
    ("C", '400 1795780000.000003 openat(AT_FDCWD, "sub/../g", O_WRONLY|O_CREAT, 0644) = 4'),
    (
        "C",
        '400 1795780000.000004 openat(AT_FDCWD, "/etc/nope", O_RDONLY) = -1 ENOENT (No such '
        "file or directory)",
    ),
    (
        "C",
        '400 1795780000.000005 openat(AT_FDCWD, "nope", O_RDONLY) = -1 ENOENT (No such file '
        "or directory)",
    ),
    (
        "C",
        '400 1795780000.000006 openat(AT_FDCWD, "/x", O_RDONLY) = ? ERESTARTSYS (To be '
        "restarted if SA_RESTART is set)",
    ),
    ("C", '400 1795780000.000007 openat(AT_FDCWD, "/dev/pts/1", O_RDWR) = 5'),
    ("C", '400 1795780000.000008 openat(AT_FDCWD, "café", O_RDONLY) = 6'),
    ("C", '400 1795780000.000009 openat(AT_FDCWD, "a\\"b", O_RDONLY) = 7'),
    ("C", '400 1795780000.000010 openat(9, "d", O_RDONLY) = -1 EBADF (Bad file descriptor)'),
    (
        "C",
        "400 1795780000.000011 mmap(NULL, 8192, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) "
        "= 0x7f00",
    ),
    (
        "C",
        "400 1795780000.000012 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 3</home/u/rel/f>, 0) "
        "= 0x7f10",
    ),
    ("C", "400 1795780000.000013 mmap(NULL, 8000, PROT_READ, MAP_SHARED, 4, 0) = 0x7f20"),
    ("C", "400 1795780000.000014 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 9, 0) = 0x7f30"),
    (
        "C",
        "400 1795780000.000015 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 4, 0) = -1 ENODEV "
        "(No such device)",
    ),
    ("C", "400 1795780000.000016 mmap(0x7f00, 0x1000, PROT_READ, MAP_SHARED, 4, 0) = 0x7f00"),
    ("C", "400 1795780000.000017 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</other>, 0) = 0x7f40"),
    # The mmap above corrected fd 3's name: the first read of it records
    # that the table agrees (the core then takes it).
    ("C", "400 1795780000.000018 dup(3</other>) = 8</other>"),
    ("C", "400 1795780000.000019 dup2(4, 1) = 1"),
    ("C", "400 1795780000.000020 dup2(2, 0) = 0"),
    ("C", "400 1795780000.000021 dup(77) = -1 EBADF (Bad file descriptor)"),
    ("C", "400 1795780000.000022 dup3(4, 10, O_CLOEXEC) = 10"),
    ("Py", '400 1795780000.000023 read(8</other>, "x", 1) = 1'),
    ("C", "400 1795780000.000024 dup2(3</other>, 12) = 12</other>"),
    ("C", '400 1795780000.000024 read(12</other>, "x", 1) = 1'),
    ("C", '400 1795780000.000024 write(1, "x", 1) = 1'),
    ("C", '400 1795780000.000025 read(6, "x", 1) = 1'),
    ("C", '400 1795780000.000026 read(5, "x", 1) = 1'),
    # Every shape of these calls is read by the one handler in the core:
    # open/creat, openat2, a dirfd, mmap2, a length in hex, a split call
    # (held and joined in the core, a marker of another process between).
    ("C", '400 1795780000.000027 open("/etc", O_RDONLY|O_DIRECTORY|O_CLOEXEC) = 13'),
    ("C", '400 1795780000.000028 creat("c\\x41", 0644) = 14'),
    ("C", '400 1795780000.000029 openat2(AT_FDCWD, "o2", {flags=O_RDONLY, mode=0}, 24) = 15'),
    ("C", '400 1795780000.000030 openat(13</etc>, "in", O_RDONLY) = 16'),
    ("C", "400 1795780000.000031 mmap2(NULL, 0x2000, PROT_READ, MAP_SHARED, 16, 0) = 0x7f50"),
    ("C", '400 1795780000.000032 open("/etc/gone", O_RDONLY) = -1 ENOENT (No such file)'),
    ("C", '400 1795780000.000033 read(14, "x", 1) = 1'),
    ("C", '400 1795780000.000034 read(15, "x", 1) = 1'),
    ("C", '400 1795780000.000035 openat(AT_FDCWD, "/s", O_RDONLY <unfinished ...>'),
    ("Py", "401 1795780000.000036 +++ exited with 0 +++"),
    ("C", "400 1795780000.000037 <... openat resumed>) = 17"),
    ("C", "400 1795780000.000038 dup(17) = 18"),
    ("C", '400 1795780000.000039 read(18, "x", 1) = 1'),
]


def assert_owners(lines: list[tuple[str, str]]) -> None:
    """Fed one at a time, each line marked C is the core's own, each marked Py the Python side's."""
    conv = Converter(mtime=1795780000.0)
    for owner, line in lines:
        before = conv.core.own_lines
        list(conv.feed_bytes(line.encode() + b"\n"))
        assert (conv.core.own_lines > before) == (owner == "C"), line
    conv.finish()


def test_core_reads_open_mmap_dup_as_the_oracle_does() -> None:
    data = "".join(line + "\n" for _, line in OPEN_MMAP_DUP).encode()
    assert_same(data)
    assert_same(data, cuts=list(range(0, len(data), 5)))
    # And the lines marked C are the core's own (not handed to the Python side).
    assert_owners(OPEN_MMAP_DUP)
    got = convert(table_converter(mtime=1795780000.0), data)
    rows = list(
        zip(*(got["events"][c] for c in ("fd", "dir", "bytes", "file", "kind")), strict=True)
    )
    assert rows == [
        (3, "M", 4096, "/home/u/rel/f", "file"),
        (4, "M", 8000, "/home/u/g", "file"),
        (9, "M", 4096, "unknown:9", "other"),
        (4, "M", 4096, "/home/u/g", "file"),
        (3, "M", 4096, "/other", "file"),
        (8, "R", 1, "/other", "file"),
        (12, "R", 1, "/other", "file"),
        (1, "W", 1, "/home/u/g", "file"),
        (6, "R", 1, "/home/u/café", "file"),
        (5, "R", 1, "/dev/pts/1", "tty"),
        (16, "M", 0x2000, "/etc/in", "file"),
        (14, "R", 1, "/home/u/cA", "file"),
        (15, "R", 1, "/home/u/o2", "file"),
        (18, "R", 1, "/s", "file"),
    ]
    errors = got["errors"]
    assert list(zip(errors["file"], errors["errno"], strict=True)) == [
        ("/etc/nope", "ENOENT"),
        ("/home/u/nope", "ENOENT"),
        ("d", "EBADF"),
        ("/etc/gone", "ENOENT"),
    ]


# Split fd calls, held and joined in the core as read/write halves are (clone
# and exec halves go to the Python joiner): each odd end of a split call.
SPLIT_FD_CALLS = [
    ("Py", '600 1795780000.000001 execve("/bin/p", ["p"], 0x1 /* 1 var */) = 0'),
    ("C", "600 1795780000.000002 pipe2([3<pipe:[80]>, 4<pipe:[80]>], 0) = 0"),
    ("C", "600 1795780000.000003 clone(child_stack=NULL, flags=SIGCHLD) = 601"),
    # dup2 of the parent and the child's halves, interleaved.
    ("C", "600 1795780000.000004 dup2(4<pipe:[80]>, 1 <unfinished ...>"),
    ("C", "601 1795780000.000005 dup2(3<pipe:[80]>, 0 <unfinished ...>"),
    ("C", "600 1795780000.000006 <... dup2 resumed>) = 1<pipe:[80]>"),
    ("C", "601 1795780000.000007 <... dup2 resumed>) = 0<pipe:[80]>"),
    ("C", '600 1795780000.000008 write(1<pipe:[80]>, "x", 1) = 1'),
    ("C", '601 1795780000.000009 read(0<pipe:[80]>, "x", 1) = 1'),
    # A failed open, split; an open split where the path is in the second half.
    ("C", '600 1795780000.000010 openat(AT_FDCWD, "/no/such", O_RDONLY <unfinished ...>'),
    ("C", "600 1795780000.000011 <... openat resumed>) = -1 ENOENT (No such file or directory)"),
    ("C", "601 1795780000.000012 openat(AT_FDCWD,  <unfinished ...>"),
    ("C", '601 1795780000.000013 <... openat resumed>"/etc/hosts", O_RDONLY) = 5</etc/hosts>'),
    ("C", '601 1795780000.000014 read(5</etc/hosts>, "x", 1) = 1'),
    # pipe2 and socket split; IPv6 and unix socket decorations.
    ("C", "600 1795780000.000015 pipe2( <unfinished ...>"),
    ("C", "600 1795780000.000016 <... pipe2 resumed>[6<pipe:[81]>, 7<pipe:[81]>], O_CLOEXEC) = 0"),
    ("C", '600 1795780000.000017 write(7<pipe:[81]>, "ab", 2) = 2'),
    ("C", "601 1795780000.000018 socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP <unfinished ...>"),
    ("C", "601 1795780000.000019 <... socket resumed>) = 8<TCPv6:[90]>"),
    ("C", "600 1795780000.000020 socket(AF_UNIX, SOCK_STREAM, 0 <unfinished ...>"),
    ("C", "600 1795780000.000021 <... socket resumed>) = 9<UNIX:[91]>"),
    ("C", "600 1795780000.000022 close(9<UNIX:[91]> <unfinished ...>"),
    ("C", "600 1795780000.000023 <... close resumed>) = 0"),
    # A split fcntl, a split mmap of a file.
    ("C", "601 1795780000.000024 fcntl(5</etc/hosts>, F_DUPFD_CLOEXEC, 10 <unfinished ...>"),
    ("C", "601 1795780000.000025 <... fcntl resumed>) = 10</etc/hosts>"),
    (
        "C",
        "601 1795780000.000026 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 10</etc/hosts>, 0 <unfinished ...>",
    ),
    ("C", "601 1795780000.000027 <... mmap resumed>) = 0x7f00"),
    # The thread dies inside a split open: no fd, nothing counted.
    ("C", '601 1795780000.000028 openat(AT_FDCWD, "/etc/x", O_RDONLY <unfinished ...>'),
    ("C", "601 1795780000.000029 <... openat resumed>) = ?"),
    ("C", "601 1795780000.000030 +++ exited with 0 +++"),
    # A split dup2 whose end never comes (the log stops there).
    ("C", "600 1795780000.000031 dup2(6<pipe:[81]>, 2 <unfinished ...>"),
]


def test_core_holds_and_joins_split_fd_calls_as_the_oracle_does() -> None:
    data = "".join(line + "\n" for _, line in SPLIT_FD_CALLS).encode()
    assert_same(data)
    assert_same(data, cuts=list(range(0, len(data), 7)))
    assert_same(data, chunk=3)
    assert_owners(SPLIT_FD_CALLS)
    got = convert(table_converter(mtime=1795780000.0), data)
    rows = list(
        zip(*(got["events"][c] for c in ("pid", "fd", "dir", "bytes", "file")), strict=True)
    )
    assert rows == [
        (600, 1, "W", 1, "pipe:[80]"),
        (601, 0, "R", 1, "pipe:[80]"),
        (601, 5, "R", 1, "/etc/hosts"),
        (600, 7, "W", 2, "pipe:[81]"),
        (601, 10, "M", 4096, "/etc/hosts"),
    ]
    errors = got["errors"]
    assert list(zip(errors["pid"], errors["file"], errors["errno"], strict=True)) == [
        (600, "/no/such", "ENOENT"),
    ]


# Process markers and the first use of a new pipe: the core's too.
MARKERS_PIPES = [
    ("Py", '500 1795780000.000001 execve("/bin/p", ["p"], 0x1 /* 1 var */) = 0'),
    ("C", "500 1795780000.000002 pipe2([3<pipe:[77]>, 4<pipe:[77]>], O_CLOEXEC) = 0"),
    ("C", "500 1795780000.000003 clone(child_stack=NULL, flags=SIGCHLD) = 501"),
    ("C", "500 1795780000.000004 read(3<pipe:[77]>,  <unfinished ...>"),
    ("C", '501 1795780000.000005 write(4<pipe:[77]>, "x", 1) = 1'),
    ("C", '501 1795780000.000006 write(4<pipe:[77]>, "x", 1) = 1'),
    ("C", "501 1795780000.000007 +++ exited with 3 +++"),
    ("C", '500 1795780000.000008 <... read resumed>"xx", 10) = 2'),
    ("C", "500 1795780000.000009 --- SIGCHLD {si_signo=SIGCHLD, si_pid=501} ---"),
    ("C", "500 1795780000.000010 --- stopped by SIGSTOP ---"),
    ("Py", "500 1795780000.000011 --- 42 ---"),
    ("C", "999 1795780000.000012 --- SIGHUP {si_signo=SIGHUP} ---"),
    ("C", "500 1795780000.000013 read(3<pipe:[77]>,  <unfinished ...>"),
    ("Py", "500 1795780000.000014 +++ exited with -1 +++"),
    ("Py", "502 1795780000.000015 +++ exited with 0 +++"),
    ("Py", "500 1795780000.000016 +++ killed by SIGKILL +++"),
]


def test_core_reads_exit_and_signal_markers_and_new_pipes_as_the_oracle_does() -> None:
    data = "".join(line + "\n" for _, line in MARKERS_PIPES).encode()
    conv = assert_same(data)
    assert conv.counters()["unseen_calls"] == 1  # the read 500 was in when it exited
    assert_same(data, cuts=list(range(0, len(data), 3)))
    assert_owners(MARKERS_PIPES)
    procs = convert(table_converter(mtime=1795780000.0), data)["processes"]
    codes = dict(zip(procs["pid"], procs["exit_code"], strict=True))
    assert codes[501] == 3 and codes[500] == -1 and codes[502] == 0


# fcntl, pipes, close_range and the working directory: one handler each, in
# the core, on a log without -y (paths resolved against each process's cwd).
FD_TABLE = [
    ("Py", '600 10:00:00.000001 execve("/bin/p", ["p"], 0x1 /* 1 var */) = 0'),
    ("C", '600 10:00:00.000002 chdir("/srv") = 0'),
    ("C", '600 10:00:00.000003 chdir("data") = 0'),
    ("C", '600 10:00:00.000004 chdir("/nope") = -1 ENOENT (No such file or directory)'),
    ("C", '600 10:00:00.000005 openat(AT_FDCWD, "a", O_RDONLY) = 3'),
    ("C", "600 10:00:00.000006 fcntl(3, F_DUPFD_CLOEXEC, 10) = 10"),
    ("C", "600 10:00:00.000007 fcntl64(3, F_DUPFD, 20) = 21"),
    ("C", "600 10:00:00.000008 fcntl(21, F_SETFD, FD_CLOEXEC) = 0"),
    ("C", "600 10:00:00.000009 fcntl(3, F_GETFL) = 0x8000 (flags O_RDONLY|O_LARGEFILE)"),
    ("C", "600 10:00:00.000010 pipe([4, 5]) = 0"),
    ("C", "600 10:00:00.000011 pipe2([6, 7], O_CLOEXEC) = 0"),
    ("C", "600 10:00:00.000012 pipe2(0x7ffd, 0) = -1 EFAULT (Bad address)"),
    ("C", '600 10:00:00.000013 openat(AT_FDCWD, "/srv", O_RDONLY|O_DIRECTORY) = 8'),
    ("C", '600 10:00:00.000014 chdir("/") = 0'),
    ("C", "600 10:00:00.000015 fchdir(8) = 0"),
    ("C", '600 10:00:00.000016 openat(AT_FDCWD, "b", O_RDONLY) = 9'),
    ("C", '600 10:00:00.000017 read(10, "x", 1) = 1'),
    ("C", '600 10:00:00.000018 read(21, "x", 1) = 1'),
    ("C", '600 10:00:00.000019 write(5, "x", 1) = 1'),
    ("C", '600 10:00:00.000020 read(4, "x", 1) = 1'),
    ("C", '600 10:00:00.000021 read(9, "x", 1) = 1'),
    ("C", "600 10:00:00.000022 close_range(9, 4294967295, CLOSE_RANGE_CLOEXEC) = 0"),
    ("C", "600 10:00:00.000023 close_range(5, 7, 0) = 0"),
    ("Py", '600 10:00:00.000024 write(5, "x", 1) = 1'),
    ("C", "600 10:00:00.000025 close_range(3, ~0U, CLOSE_RANGE_UNSHARE) = 0"),
    ("Py", '600 10:00:00.000026 read(3, "x", 1) = 1'),
    # clone and vfork, whole and split (the child printing before it returns).
    ("C", '600 10:00:00.000027 openat(AT_FDCWD, "c", O_RDONLY) = 3'),
    ("C", "600 10:00:00.000028 clone(child_stack=NULL, flags=CLONE_FILES|SIGCHLD) = 601"),
    ("C", '601 10:00:00.000029 read(3, "x", 1) = 1'),
    ("Py", "600 10:00:00.000030 vfork( <unfinished ...>"),
    ("Py", '602 10:00:00.000031 read(3, "x", 1) = 1'),
    ("Py", "600 10:00:00.000032 <... vfork resumed>) = 602"),
    ("C", "600 10:00:00.000033 fork() = 99999999999"),
    # execve: close-on-exec fds go, the program and argv (cut by -s) are the process's.
    ("C", '600 10:00:00.000034 openat(AT_FDCWD, "e", O_RDONLY|O_CLOEXEC) = 4'),
    ("C", '600 10:00:00.000035 execve("/usr/bin/cat", ["cat", "a b", ...], 0x1 /* 2 vars */) = 0'),
    ("C", '600 10:00:00.000036 read(3, "x", 1) = 1'),
    ("Py", '600 10:00:00.000037 read(4, "x", 1) = 1'),
    (
        "C",
        '600 10:00:00.000038 execve("/nope", ["nope"], 0x1) = -1 ENOENT (No such file or directory)',
    ),
    # Sockets without -y: named by their domain and type until a peer names them.
    ("C", "600 10:00:00.000039 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 5"),
    ("C", "600 10:00:00.000040 socketpair(AF_UNIX, SOCK_STREAM, 0, [6, 7]) = 0"),
    ("C", "600 10:00:00.000041 socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) = 8"),
    ("C", '600 10:00:00.000042 write(5, "x", 1) = 1'),
    ("C", '600 10:00:00.000043 write(6, "x", 1) = 1'),
    ("C", '600 10:00:00.000044 read(7, "x", 1) = 1'),
    ("C", '600 10:00:00.000045 write(8, "x", 1) = 1'),
]


def test_core_reads_fcntl_pipes_close_range_and_cwd_as_the_oracle_does() -> None:
    data = "".join(line + "\n" for _, line in FD_TABLE).encode()
    assert_same(data)
    assert_same(data, cuts=list(range(0, len(data), 4)))
    assert_owners(FD_TABLE)
    got = convert(table_converter(mtime=1795780000.0), data)
    rows = list(zip(*(got["events"][c] for c in ("fd", "dir", "file", "kind")), strict=True))
    assert rows == [
        (10, "R", "/srv/data/a", "file"),
        (21, "R", "/srv/data/a", "file"),
        (5, "W", "pipe:[#1]", "pipe"),
        (4, "R", "pipe:[#1]", "pipe"),
        (9, "R", "/srv/b", "file"),
        (5, "W", "unknown:5", "other"),
        (3, "R", "unknown:3", "other"),
        (3, "R", "/srv/c", "file"),
        (3, "R", "/srv/c", "file"),
        (3, "R", "/srv/c", "file"),
        (4, "R", "unknown:4", "other"),
        (5, "W", "tcp:unconnected", "tcp"),
        (6, "W", "unix:[#3]", "unix"),
        (7, "R", "unix:[#3]", "unix"),
        (8, "W", "netlink:ROUTE", "netlink"),
    ]
    procs = got["processes"]
    at = procs["pid"].index(600)
    assert (procs["comm"][at], procs["argv"][at], procs["argv_cut"][at]) == (
        "cat",
        "cat 'a b'",
        True,
    )
    # The fork's pid is beyond any pid: counted, with its line as an example.
    assert got["counters"]["unparsed_lines"] == 1


def test_core_reads_fd_arguments_as_split_fd_does() -> None:
    from iomonitor.strace._core import _split_fd

    for text in [
        "3",
        "-1",
        "AT_FDCWD",
        "-100",
        "AT_FDCWD</tmp>",
        "-100 /* AT_FDCWD */</tmp>",
        "3</tmp/f>(deleted)",
        "1</dev/null<char 1:3>>",
        "3<>",
        "3<a>(deleted)>",
        "3<",
        "3x",
        "x3",
        "123456789012345678901234",
        "-123456789012345678901<a>",
        "3 /* x",
        "3<a,b>",
        "AT_FDCWD<",
        "",
        "3</a b>",
        "4<TCP:[1.2.3.4:5->6.7.8.9:10]>",
    ]:
        want = split_fd(text) if "," not in text or "<" in text else (None, None)
        got = _split_fd(text.encode())
        assert (got if got is not None else (None, None)) == want, text


STRACE = shutil.which("strace")


@pytest.mark.skipif(STRACE is None, reason="needs strace")
@pytest.mark.parametrize("flags", [["-yy"], []])
def test_core_equals_oracle_on_fresh_strace_log(tmp_path: Path, flags: list[str]) -> None:
    data = tmp_path / "data"
    data.write_bytes(b"0123456789" * 2000)
    script = (
        f"cat {data} > /dev/null; cat {data} {data} | wc -c > {tmp_path}/n; "
        f"head -c 5000 {data} > {tmp_path}/h & wait; cat {tmp_path}/n {tmp_path}/h >&2"
    )
    log = tmp_path / "log"
    subprocess.run(
        [STRACE, "-f", "-ttt", "-T", *flags, "-o", str(log), "sh", "-c", script],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert_same(log.read_bytes())
    assert_same(log.read_bytes(), chunk=5)


def test_core_equals_oracle_on_process_heavy_log(tmp_path: Path) -> None:
    # Nearly every line belongs to a process that lives a few dozen lines
    # (fork, execve, the loader's openat/read/mmap/close, exit), and children
    # print before their parent's clone returns. Replicated, the run repeats
    # with new pids, as a shell loop's trace does.
    spec = importlib.util.spec_from_file_location("gen_log", SEEDS.parent / "gen_log.py")
    assert spec is not None and spec.loader is not None
    gen_log = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_log)
    data = _seed("spawn.log.gz")
    assert_same(data, chunk=7)
    log = tmp_path / "spawn.log"
    gen_log.generate(log, 3 * data.count(b"\n"), workload="spawn")
    assert_same(log.read_bytes(), chunk=100)


# --- bad input on the compiled path: counted, never a crash, nothing before it lost ---

GOOD = (
    '400 1795780000.000001 execve("/bin/p", ["p"], 0x1 /* 1 var */) = 0\n'
    '400 1795780000.000002 openat(AT_FDCWD, "/a", O_RDONLY) = 3</a>\n'
    '400 1795780000.000003 read(3</a>, "x", 1) = 1\n'
)
AFTER = '400 1795780000.000009 read(3</a>, "y", 1) = 1\n'


def _files_and_bytes(conv: Converter, data: bytes) -> tuple[list, dict]:
    got = convert(conv, data)
    return list(zip(got["events"]["file"], got["events"]["bytes"], strict=True)), got["counters"]


@pytest.mark.parametrize(
    "bad",
    [
        b'400 1795780000.000004 read(3</a>, "x", 1) = ',  # a cut line
        bytes(range(256)) * 4,  # binary garbage
        b"400 1795780000.000004 frobnicate(3</a>, 99) = 0",  # an unknown syscall
        b'400 99999999999999999999.5 read(3</a>, "x", 1) = 1',  # a corrupt stamp
        b'400 1795780000.000004 read(99999999999</a>, "x", 1) = 1',  # an fd beyond int32
        b'400 1795780000.000004 read(3</a>, "x", 1) = 99999999999999999999',  # bytes beyond int64
    ],
)
def test_bad_line_on_the_compiled_path_is_counted_and_nothing_lost(bad: bytes) -> None:
    data = GOOD.encode() + bad + b"\n" + AFTER.encode()
    events, counters = _files_and_bytes(table_converter(), data)
    assert events[0] == ("/a", 1) and events[-1] == ("/a", 1)
    want = convert(table_converter(Oracle), data)
    assert convert(table_converter(), data) == want
    assert counters["lines"] == 5 + bad.count(b"\n")


def test_line_longer_than_the_core_takes_is_counted_and_skipped() -> None:
    from iomonitor.strace._core import MAX_LINE

    long = b'400 1795780000.000004 write(3</a>, "' + b"z" * (MAX_LINE + 10) + b'", 9) = 9\n'
    data = GOOD.encode() + long + AFTER.encode()
    conv = table_converter()
    # In pieces, as the FIFO gives them: the long line never sits whole in memory.
    got = convert(conv, data, cuts=range(0, len(data), 1 << 20))
    assert got["events"]["bytes"] == [1, 1]
    assert got["counters"]["unparsed_lines"] == 1
    assert "longer than" in got["counters"]["unparsed_examples"][-1]
    assert got["counters"]["lines"] == 5


def test_stamps_of_16_to_18_digits_read_as_float_does() -> None:
    # The lexer reads epoch stamps (16 digits with microseconds) without
    # strtod; every reading must be the double Python's float() gives.
    from iomonitor.strace._core import _read_number

    rng = random.Random(11)
    for _ in range(200_000):
        digits = rng.randrange(16, 19)
        whole = rng.randrange(1, digits)
        text = str(rng.randrange(10 ** (digits - 1), 10**digits))
        text = f"{text[:whole]}.{text[whole:]}"
        assert _read_number(text.encode()) == float(text), text
    for text in ("1795780000.000535", "9999999999.999999", "1.00000000000000005", "0.5"):
        assert _read_number(text.encode()) == float(text), text


def test_core_cuts_arguments_where_split_args_does() -> None:
    # The core's handlers read arguments through their own cut (split_args_c):
    # it must agree with the parser's split_args on every text, odd or not.
    from iomonitor.strace._core import _split_args

    pieces = [
        ",",
        ", ",
        " ",
        '"',
        '"a,b"',
        '"x\\"y"',
        "\\",
        "\\,",
        "<",
        ">",
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
        "/*",
        "*/",
        "/* c, d */",
        "3</a,b>",
        "AT_FDCWD",
        "0x10",
        "NULL",
        "é",
        "\u00a0",
        "\u2003",
        "\x1c",
        "\t",
        "O_RDONLY|O_CLOEXEC",
        "=>",
    ]
    rng = random.Random(11)
    texts = [
        "",
        "   ",
        'AT_FDCWD</home/u>, "a, b", O_RDONLY',
        "NULL, 4096, PROT_READ, MAP_SHARED, 3</f>, 0",
        "3<TCP:[1.2.3.4:5->6.7.8.9:10]>, {sa_family=AF_INET}, [128 => 16]",
    ]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 14))) for _ in range(20000)]
    for text in texts:
        want = split_args(text)
        assert _split_args(text.encode("utf-8", "surrogateescape")) == want, text
