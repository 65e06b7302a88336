"""Ground truth from outside iomonitor: file sizes and the kernel's own counters.

Real programs (tar, gzip, sort, ``cp -r``, and sqlite3 and git when they are
installed) run under a live capture. Two truths are checked against the
events, exactly:

* the files: every file a program reads whole (tar and ``cp -r`` reading a
  tree, gzip and sort reading their input) is read exactly its size, and every
  file it writes (the archive, the copies, the output) is written exactly its
  final size;
* the kernel: ``tests/programs/iocount.c`` forks and execs the program, waits
  for it to exit without reaping it and copies its ``/proc/PID/io``. The
  kernel adds to ``rchar``/``wchar`` (and ``syscr``/``syscw``) in the
  read/write paths of the VFS: read/write, pread/pwrite, readv/writev and
  friends (files, pipes, ttys and sockets alike) and copy_file_range and
  sendfile (to both counters), but not send*/recv* on sockets, splice, or page
  faults of a mapping. These programs move data only through the counted
  calls, so the pid's R and W byte sums (M excluded: mapped pages are never
  counted) must equal rchar and wchar exactly, once the kernel's own reads of
  the ELF headers during execve are taken out: ``iocount --exec-only`` measures
  those by stopping the same program right after its execve
  (``PTRACE_TRACEME``), before its first instruction.

A loopback TCP exchange between two traced processes checks that both ends of
every connection agree: what one side wrote to its peer is what the peer read
from it, from a live capture and from a ``-yy`` log.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

import iomonitor

pytestmark = pytest.mark.strace

#: Calls that move bytes through the VFS read/write paths the counters live in.
COUNTED_CALLS = frozenset(
    {
        "read",
        "write",
        "pread64",
        "pwrite64",
        "readv",
        "writev",
        "preadv",
        "pwritev",
        "preadv2",
        "pwritev2",
        "copy_file_range",
        "sendfile",
    }
)


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed: nothing to compare with the kernel's counters")
    return path


def read_counters(path: Path) -> dict[str, int]:
    return {k: int(v) for k, v in (line.split() for line in path.read_text().splitlines())}


@dataclass
class Measured:
    trace: iomonitor.Trace
    pid: int
    io: dict[str, int]
    exec_only: dict[str, int]


def measure(
    programs, tmp_path: Path, argv: list[str], cwd: Path, backend: str = "strace"
) -> Measured:
    """Run ``argv`` under iocount, once stopped after execve and once under a capture."""
    iocount = str(programs["iocount"])
    # The counters go to a folder of their own, apart from the program's files.
    counters = tmp_path / "counters"
    counters.mkdir(exist_ok=True)
    base = counters / "exec-only.io"
    # Not under strace: PTRACE_TRACEME fails in a traced process. It kills the
    # program before it runs, so it changes nothing in cwd.
    subprocess.run(
        [iocount, "--exec-only", str(base), *argv],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=60,
    )
    out = counters / "run.io"
    saved = os.getcwd()
    os.chdir(cwd)
    try:
        trace = iomonitor.run([iocount, str(out), *argv], backend=backend)
    finally:
        os.chdir(saved)
    assert trace.meta["exit_status"] == 0, trace.meta
    io = read_counters(out)
    assert io["status"] == 0, io
    return Measured(trace, io["pid"], io, read_counters(base))


def check_kernel(m: Measured) -> None:
    """The pid's R/W events against its /proc/PID/io, exactly."""
    procs = m.trace.processes
    # One process, one thread: /proc/PID/io is then this thread's own I/O
    # (a process's counters also take in those of the children it reaped).
    assert list(procs.loc[procs["tgid"] == m.pid, "pid"]) == [m.pid], procs.to_string()
    assert procs[procs["ppid"] == m.pid].empty, procs.to_string()
    errors = m.trace.errors
    failed = errors[(errors["tgid"] == m.pid) & errors["syscall"].isin(COUNTED_CALLS)]
    # A failed call would add to syscr/syscw but is not an event: none here.
    assert failed.empty, failed.to_string()

    ev = m.trace.events
    mine = ev[ev["tgid"] == m.pid]
    assert set(mine["syscall"].astype(str)) - {"mmap"} <= COUNTED_CALLS, set(mine["syscall"])
    reads = mine[mine["dir"] == "R"]
    writes = mine[mine["dir"] == "W"]
    # execve reads the program's headers (rchar) and writes nothing.
    assert m.exec_only["rchar"] > 0 and m.exec_only["wchar"] == 0, m.exec_only
    rchar = m.io["rchar"] - m.exec_only["rchar"]
    wchar = m.io["wchar"] - m.exec_only["wchar"]
    assert int(reads["bytes"].sum()) == rchar, (int(reads["bytes"].sum()), m.io, m.exec_only)
    assert int(writes["bytes"].sum()) == wchar, (int(writes["bytes"].sum()), m.io, m.exec_only)

    # Call counts: a copy_file_range at end of file returns 0 before the
    # kernel counts the call (it is still an event, on both fds).
    def calls(events: pd.DataFrame) -> int:
        at_eof = (events["syscall"] == "copy_file_range") & (events["bytes"] == 0)
        return int((~at_eof).sum())

    assert calls(reads) == m.io["syscr"] - m.exec_only["syscr"], (m.io, m.exec_only)
    assert calls(writes) == m.io["syscw"] - m.exec_only["syscw"], (m.io, m.exec_only)


def per_file(
    trace: iomonitor.Trace, direction: str, under: Path, tgid: int | None = None
) -> dict[str, int]:
    """file -> bytes moved in ``direction`` (by ``tgid`` if given), for files under a folder."""
    ev = trace.events
    if tgid is not None:
        ev = ev[ev["tgid"] == tgid]
    ev = ev[(ev["dir"] == direction) & ev["file"].astype(str).str.startswith(f"{under}/")]
    return {str(k): int(v) for k, v in ev.groupby("file", observed=True)["bytes"].sum().items()}


def make_tree(root: Path) -> dict[str, int]:
    """A small tree of files of known, seeded content; path -> size."""
    rng = random.Random(20240611)
    sizes = {}
    for rel, n in [
        ("a.txt", 1),
        ("b.bin", 7013),
        ("empty", 0),
        ("sub/c.bin", 65536),
        ("sub/d.txt", 131072 + 17),
        ("sub/deeper/e.bin", 300),
        ("sub/deeper/f with space,comma", 4097),
    ]:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(n))
        sizes[str(path)] = n
    return sizes


def text_file(path: Path, lines: int) -> int:
    rng = random.Random(lines)
    path.write_text("".join(f"{rng.randrange(10**9)} line {i}\n" for i in range(lines)))
    return path.stat().st_size


def test_tar_create(programs, tmp_path) -> None:
    tree = make_tree(tmp_path / "tree")
    m = measure(programs, tmp_path, [tool("tar"), "-cf", "arch.tar", "tree"], tmp_path)
    check_kernel(m)
    # Every file of the tree read exactly its size (empty files are not read).
    assert per_file(m.trace, "R", tmp_path / "tree", m.pid) == {p: n for p, n in tree.items() if n}
    archive = tmp_path / "arch.tar"
    assert per_file(m.trace, "W", tmp_path, m.pid) == {str(archive): archive.stat().st_size}


def test_gzip_and_gunzip(programs, tmp_path) -> None:
    gzip = tool("gzip")
    data = tmp_path / "data.txt"
    size = text_file(data, 20000)
    m = measure(programs, tmp_path, [gzip, "-k", "data.txt"], tmp_path)
    check_kernel(m)
    packed = tmp_path / "data.txt.gz"
    assert per_file(m.trace, "R", tmp_path, m.pid) == {str(data): size}
    assert per_file(m.trace, "W", tmp_path, m.pid) == {str(packed): packed.stat().st_size}

    data.rename(tmp_path / "original.txt")
    m = measure(programs, tmp_path, [gzip, "-d", "-k", "data.txt.gz"], tmp_path)
    check_kernel(m)
    assert per_file(m.trace, "R", tmp_path, m.pid) == {str(packed): packed.stat().st_size}
    assert per_file(m.trace, "W", tmp_path, m.pid) == {str(data): size}
    assert data.read_bytes() == (tmp_path / "original.txt").read_bytes()

    # gunzip is a shell script that execs gzip: two execve's in one process,
    # so the kernel's exec-time reads cannot be measured apart; files only.
    data.unlink()
    saved = os.getcwd()
    os.chdir(tmp_path)
    try:
        trace = iomonitor.run([tool("gunzip"), "-k", "data.txt.gz"])
    finally:
        os.chdir(saved)
    assert trace.meta["exit_status"] == 0
    assert per_file(trace, "R", tmp_path) == {str(packed): packed.stat().st_size}
    assert per_file(trace, "W", tmp_path) == {str(data): size}


def test_sort(programs, tmp_path) -> None:
    size = text_file(tmp_path / "in.txt", 30000)
    # One thread: sort would otherwise start threads for a big input.
    m = measure(
        programs, tmp_path, [tool("sort"), "--parallel=1", "-o", "out.txt", "in.txt"], tmp_path
    )
    check_kernel(m)
    assert per_file(m.trace, "R", tmp_path, m.pid) == {str(tmp_path / "in.txt"): size}
    assert per_file(m.trace, "W", tmp_path, m.pid) == {str(tmp_path / "out.txt"): size}


def test_cp_recursive(programs, tmp_path) -> None:
    tree = make_tree(tmp_path / "tree")
    m = measure(programs, tmp_path, [tool("cp"), "-r", "tree", "copy"], tmp_path)
    check_kernel(m)
    # cp reads every file to end of file: an empty one with one 0-byte call.
    assert per_file(m.trace, "R", tmp_path / "tree", m.pid) == tree
    copies = {p.replace(f"{tmp_path}/tree/", f"{tmp_path}/copy/", 1): n for p, n in tree.items()}
    for path, n in copies.items():
        assert os.path.getsize(path) == n, path
    assert per_file(m.trace, "W", tmp_path / "copy", m.pid) == copies
    assert per_file(m.trace, "W", tmp_path / "tree", m.pid) == {}


def test_sqlite3(programs, tmp_path) -> None:
    sql = (
        "create table t(a integer, b text);"
        "insert into t values (1, 'x');"
        "insert into t select a + 1, b || 'yz' from t;"
        "insert into t select a + 2, b || b from t;"
        "select count(*), sum(length(b)) from t;"
    )
    # The answer goes to a file, so that the capture's stdout holds nothing.
    m = measure(
        programs,
        tmp_path,
        [tool("sqlite3"), "-cmd", ".output answer.txt", "db.sqlite", sql],
        tmp_path,
    )
    check_kernel(m)
    assert (tmp_path / "answer.txt").read_text() == "4|12\n"
    db = str(tmp_path / "db.sqlite")
    written = per_file(m.trace, "W", tmp_path, m.pid)
    assert written[db] > 0 and written[str(tmp_path / "answer.txt")] == 5, written


def test_git_init(programs, tmp_path, monkeypatch) -> None:
    git = tool("git")
    # No user or system configuration: the run reads only what it creates.
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    m = measure(programs, tmp_path, [git, "init", "-q", "repo"], tmp_path)
    check_kernel(m)
    written = per_file(m.trace, "W", tmp_path / "repo", m.pid)
    # git writes each file of the new repository once, whole, some of them
    # as NAME.lock renamed to NAME when complete; except the config, which it
    # rewrites (through config.lock) setting after setting.
    config = str(tmp_path / "repo" / ".git" / "config.lock")
    assert written.pop(config) > os.path.getsize(config.removesuffix(".lock"))
    assert len(written) > 10, written
    for path, n in written.items():
        assert os.path.getsize(path.removesuffix(".lock")) == n, path


def check_tcp_pairs(trace: iomonitor.Trace, notes: dict[str, str], conns: int) -> None:
    ev = trace.events
    tcp = ev[ev["kind"] == "tcp"]
    sums = tcp.groupby(["tgid", "local", "file", "port", "dir"], observed=True)["bytes"].sum()
    flows = {
        (int(tgid), str(local), f"{peer}:{int(port)}", str(d)): int(n)
        for (tgid, local, peer, port, d), n in sums.items()
    }
    # Both ends agree: every (local -> peer) write total is the peer's read
    # total from the swapped pair, and the other way around.
    by_pair: dict[tuple[str, str, str], list[int]] = {}
    for (_tgid, local, peer, d), n in flows.items():
        by_pair.setdefault((local, peer, d), []).append(n)
    assert all(len(v) == 1 for v in by_pair.values()), by_pair
    for (local, peer, d), (n,) in by_pair.items():
        other = "R" if d == "W" else "W"
        assert by_pair.get((peer, local, other)) == [n], (local, peer, d, n)

    # And the totals are what the program moved.
    server = f"127.0.0.1:{notes['port.server']}"
    server_tgid = {t for (t, local, _, _) in flows if local == server}
    client_tgid = {t for (t, local, _, _) in flows if local != server}
    assert len(server_tgid) == 1 and len(client_tgid) == 1 and server_tgid != client_tgid
    expected = {}
    for i in range(conns):
        client = f"127.0.0.1:{notes[f'conn.{i}.port']}"
        sent, answer = int(notes[f"conn.{i}.sent"]), int(notes[f"conn.{i}.answer"])
        assert sent == 1000 + 977 * i and answer == 2 * sent + 5
        expected[(client, server, "W")] = [sent]
        expected[(server, client, "R")] = [sent]
        expected[(server, client, "W")] = [answer]
        expected[(client, server, "R")] = [answer]
    assert by_pair == expected


def test_tcp_both_ends_agree_live(programs, live_run, tmp_path) -> None:
    run, trace = live_run(tmp_path, [str(programs["tcp_pairs"]), "5"], tmp_path)
    check_tcp_pairs(trace, run.notes, 5)


def test_tcp_both_ends_agree_log(programs, strace_run, tmp_path) -> None:
    run = strace_run(
        tmp_path / "strace.log",
        ("-ttt", "-T", "-yy"),
        [str(programs["tcp_pairs"]), "5"],
        tmp_path,
    )
    check_tcp_pairs(iomonitor.convert_log(str(run.log)), run.notes, 5)
