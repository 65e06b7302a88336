"""Chunked and fast-path conversion give exactly the reference Converter's results.

The reference is ``Converter.feed`` over the whole input in one chunk; the
fast path (:mod:`iomonitor.strace.fastpath`) must give the same events (every
column, same order), processes, failed calls and counters, at any chunk size,
including split calls whose halves fall into different chunks.
"""

from __future__ import annotations

import gzip
import importlib.util
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from iomonitor import store
from iomonitor.strace.convert import Converter
from iomonitor.strace.fastpath import FastFeeder

SEEDS = Path(__file__).resolve().parents[2] / "benchmarks" / "seed"


def _convert(lines: list[str], fast: bool, chunk: int = 65536) -> tuple:
    conv = Converter(mtime=1795780000.0, chunk_events=chunk)
    feeder = FastFeeder(conv) if fast else None
    frames = list(feeder.feed(lines) if feeder else conv.feed(lines))
    frames.append(conv.finish())
    events = pd.concat(frames, ignore_index=True)
    for col in events.columns:
        # Chunks with different categories concatenate to strings: compare values.
        dtype = events[col].dtype
        if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
            events[col] = events[col].astype(object)
    return events, conv.processes(), conv.errors(), conv.counters(), feeder, len(frames)


def assert_same(lines: list[str], chunk: int = 65536) -> FastFeeder:
    ref = _convert(lines, fast=False)
    got = _convert(lines, fast=True, chunk=chunk)
    pd.testing.assert_frame_equal(got[0], ref[0])
    pd.testing.assert_frame_equal(got[1], ref[1])
    pd.testing.assert_frame_equal(got[2], ref[2])
    assert got[3] == ref[3]
    return got[4]


def _seed(name: str, n: int | None = None) -> list[str]:
    with gzip.open(SEEDS / name, "rt", encoding="utf-8", errors="surrogateescape") as fh:
        lines = fh.readlines()
    return lines[:n] if n else lines


@pytest.mark.parametrize("name", ["ioloop-yy.log.gz", "ioloop.log.gz"])
def test_fast_path_equals_reference_on_real_log(name: str) -> None:
    feeder = assert_same(_seed(name))
    assert feeder.hits > feeder.misses  # the fast path did serve most lines


@pytest.mark.parametrize("chunk", [5, 100])
def test_chunked_equals_whole_including_split_calls_across_chunks(chunk: int) -> None:
    lines = _seed("ioloop-yy.log.gz", 500)
    assert any("<unfinished ...>" in line for line in lines)
    whole = _convert(lines, fast=False)
    for fast in (False, True):
        got = _convert(lines, fast=fast, chunk=chunk)
        assert got[5] > 1
        pd.testing.assert_frame_equal(got[0], whole[0])
        assert got[3] == whole[3]


# Literal lines of every shape the fast path serves, and of the ones it hands back.
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


def test_fast_path_equals_reference_on_literal_shapes() -> None:
    lines = [line + "\n" for line in LITERAL.split("\n")]
    lines[-1] = lines[-1].rstrip("\n")
    for chunk in (1, 3, 65536):
        assert_same(lines, chunk)
    assert_same([line.rstrip("\n") for line in lines])


def test_decoration_conflict_on_a_shared_table_is_seen() -> None:
    # Two threads of one process print different names for fd 3 (a log cut
    # and spliced): the second name corrects the shared table, and the first
    # thread's next read must show the corrected name, as the reference does.
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
    assert_same(lines)


STRACE = shutil.which("strace")


@pytest.mark.skipif(STRACE is None, reason="needs strace")
@pytest.mark.parametrize("flags", [["-yy"], []])
def test_fast_path_equals_reference_on_fresh_strace_log(tmp_path: Path, flags: list[str]) -> None:
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
    lines = list(store.iter_log_lines(log))
    assert_same(lines)
    assert_same(lines, chunk=5)


def test_fast_path_equals_reference_on_process_heavy_log(tmp_path: Path) -> None:
    # Nearly every line belongs to a process that lives a few dozen lines
    # (fork, execve, the loader's openat/read/mmap/close, exit): templates
    # rarely hit, the cache is emptied at every execve, and children print
    # before their parent's clone returns. Replicated, the run repeats with
    # new pids, as a shell loop's trace does.
    spec = importlib.util.spec_from_file_location("gen_log", SEEDS.parent / "gen_log.py")
    assert spec is not None and spec.loader is not None
    gen_log = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_log)
    lines = _seed("spawn.log.gz")
    feeder = assert_same(lines)
    assert feeder.misses > 0 and feeder.clears > 0
    assert_same(lines, chunk=7)
    log = tmp_path / "spawn.log"
    gen_log.generate(log, 3 * len(lines), workload="spawn")
    assert_same(list(store.iter_log_lines(log)), chunk=100)
