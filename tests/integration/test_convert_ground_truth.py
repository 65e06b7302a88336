"""Log conversion against ground truth: real programs, real strace, exact bytes.

Each scenario runs one program from ``tests/programs`` (or a shell command)
under ``strace -f`` with each flag set of :data:`FLAG_SETS`, converts the log
with :func:`iomonitor.convert_log` and compares the events on the scenario's
own files, pipes and sockets with what the program is known to have done.
Events on other files (the dynamic loader's libraries, the programs' stdout)
are left out.

Expected events are written in a normalized form so that one description
holds for every run:

- files: the path relative to the run's output directory;
- pipes: ``pipe:NAME`` for the pipe whose inode the program printed as
  ``inode.NAME`` (without ``-y`` the log holds no inode: the pipe is then
  recognised by its bytes, and both ends must still share one label);
- socketpair ends: ``unix:fdN`` (the fd number in the process using it);
- TCP/UDP: the peer IP, with the peer port given by the key the program
  printed it under (``port.server``, ``port.client``);
- who: the key the program printed the pid or thread id under.
"""

from __future__ import annotations

import itertools
import shlex
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest

import iomonitor

if TYPE_CHECKING:
    from conftest import TracedRun

pytestmark = pytest.mark.strace

FLAG_SETS: dict[str, tuple[str, ...]] = {
    "tt-T-yy": ("-tt", "-T", "-yy"),
    "ttt-T": ("-ttt", "-T"),
    "tt": ("-tt",),
    "ttt-y": ("-ttt", "-y"),
    "tt-T-yy-xx": ("-tt", "-T", "-yy", "-xx"),
    "Y-tt-T": ("-Y", "-tt", "-T"),
    # One file per process (strace.log.PID), merged by timestamp on reading.
    "ff-tt-T-yy": ("-ff", "-tt", "-T", "-yy"),
    # Not a log: the program runs under iomonitor's own capture (which asks
    # strace for -ttt -T -yy with a seccomp filter), through the Python API.
    "live": ("-ttt", "-T", "-yy"),
    # The same through the eBPF backend: the kernel names the fds, the loader
    # prints strace's line format, the same converter reads it.
    "live-ebpf": ("-ttt", "-T", "-yy"),
}
LIVE = "live"
LIVE_EBPF = "live-ebpf"
#: The flag set every other one is compared with.
REFERENCE_FLAGS = "tt-T-yy"

CAT_CP_SIZE = 100_003


@dataclass(frozen=True)
class Ev:
    """One expected event (``counted``) or a group's total (not ``counted``).

    A group is the events of one (file, port, dir, who). When every expected
    event of a group is counted, the test knows each call (bytes and
    syscall); otherwise only the group's total is known (stream reads whose
    sizes depend on timing, coreutils' choice of copy call).
    """

    file: str
    dir: str
    bytes: int
    syscall: str | None
    who: str
    port: str | None = None
    comm: str | None = None
    counted: bool = True


def total(file: str, dir: str, nbytes: int, who: str, port: str | None = None) -> Ev:
    return Ev(file, dir, nbytes, None, who, port, counted=False)


@dataclass(frozen=True)
class Scenario:
    name: str
    expect: Callable[[dict[str, str]], list[Ev]]
    program: str | None = None
    args: tuple[str, ...] = ()
    #: kind of the TCP/UDP events, when there are some
    inet_kind: str | None = None
    #: pipes whose inodes the program prints as inode.NAME
    pipes: tuple[str, ...] = ()
    #: socketpair ends: who -> notes key of its fd (the pair's inodes: inode.sp_*)
    unix_ends: dict[str, str] = field(default_factory=dict)
    #: thread -> leader of its thread group
    threads: dict[str, str] = field(default_factory=dict)
    #: child -> parent
    parents: dict[str, str] = field(default_factory=dict)
    #: exit status when not 0
    exit_codes: dict[str, int] = field(default_factory=dict)
    #: program name in the processes table when not the program's
    final_comm: str | None = None
    #: a shell command instead of a program: who is the comm of the process
    shell: Callable[[Path], str] | None = None

    @property
    def comm(self) -> str:
        return self.program or ""


def dup_fds(n: dict[str, str]) -> list[Ev]:
    m = "pid.main"
    return [
        *(Ev("dup_a.txt", "W", b, "write", m) for b in (101, 102, 103, 104, 105, 106)),
        Ev("dup_b.txt", "W", 201, "write", m),
        Ev("dup_c.txt", "W", 301, "write", m),
        Ev("dup_a.txt", "R", 621, "read", m),
        Ev("dup_a.txt", "R", 0, "read", m),
    ]


def fork_close(n: dict[str, str]) -> list[Ev]:
    p, c = "pid.parent", "pid.child"
    return [
        Ev("parent.txt", "W", 10, "write", p),
        Ev("parent.txt", "W", 15, "write", c),
        Ev("parent.txt", "W", 30, "write", p),
        Ev("child.txt", "W", 20, "write", c),
    ]


def thread_open(n: dict[str, str]) -> list[Ev]:
    m, t = "pid.main", "tid.thread"
    return [
        Ev("by_main.txt", "W", 5, "write", m),
        Ev("by_main.txt", "W", 50, "write", t),
        Ev("by_thread.txt", "W", 7, "write", t),
        Ev("by_thread.txt", "W", 70, "write", m),
    ]


def clone_files(n: dict[str, str]) -> list[Ev]:
    p, c1, c2 = "pid.parent", "pid.child1", "pid.child2"
    return [
        Ev("p.txt", "W", 11, "write", c1),
        Ev("c1.txt", "W", 12, "write", c1),
        Ev("p.txt", "W", 13, "write", p),
        Ev("s.txt", "W", 14, "write", c2),
        Ev("s.txt", "W", 15, "write", p),
        Ev("q.txt", "W", 16, "write", p),
    ]


def chdir_open(n: dict[str, str]) -> list[Ev]:
    p = "pid.parent"
    names = {
        "initial.txt": 5,
        "sub/rel.txt": 6,
        "up.txt": 7,
        "at.txt": 8,
        "sub/at2.txt": 9,
        "fchdir.txt": 10,
        "parent.txt": 12,
        "sub/cwd_at.txt": 13,
    }
    evs = [Ev(name, "W", b, "write", p) for name, b in names.items()]
    return [*evs, Ev("sub/child.txt", "W", 11, "write", "pid.child")]


def pipes(n: dict[str, str]) -> list[Ev]:
    p, c = "pid.parent", "pid.child"
    sp_p, sp_c = f"unix:fd{n['fd.sp_parent']}", f"unix:fd{n['fd.sp_child']}"
    return [
        Ev("pipe:down", "W", 1000, "write", p),
        Ev("pipe:down", "W", 2000, "write", p),
        total("pipe:down", "R", 3000, c),
        Ev("pipe:up", "W", 500, "write", c),
        Ev("pipe:up", "W", 700, "write", c),
        total("pipe:up", "R", 1200, p),
        total(sp_p, "W", 300, p),
        total(sp_p, "R", 400, p),
        total(sp_c, "W", 400, c),
        total(sp_c, "R", 300, c),
    ]


def tcp(ip: str) -> Callable[[dict[str, str]], list[Ev]]:
    def expect(n: dict[str, str]) -> list[Ev]:
        c, s = "pid.client", "pid.server"
        sp, cp = "port.server", "port.client"
        return [
            Ev(ip, "W", 100, "write", c, sp),
            Ev(ip, "W", 200, "sendto", c, sp),
            Ev(ip, "W", 50, "sendmsg", c, sp),
            total(ip, "R", 700, c, sp),
            total(ip, "R", 350, s, cp),
            Ev(ip, "W", 300, "write", s, cp),
            Ev(ip, "W", 400, "sendto", s, cp),
        ]

    return expect


def udp(ip: str, connected_client: bool) -> Callable[[dict[str, str]], list[Ev]]:
    def expect(n: dict[str, str]) -> list[Ev]:
        c, s = "pid.client", "pid.server"
        sp, cp = "port.server", "port.client"
        if connected_client:
            client = [("W", 64, "write"), ("W", 128, "sendto"), ("W", 256, "sendmsg")]
            client += [("R", 512, "read"), ("R", 1024, "recvfrom")]
        else:
            client = [("W", 64, "sendto"), ("W", 128, "sendto"), ("W", 256, "sendmsg")]
            client += [("R", 512, "recvfrom"), ("R", 1024, "recvmsg")]
        server = [("R", 64, "recvfrom"), ("R", 128, "recvfrom"), ("R", 256, "recvmsg")]
        server += [("W", 512, "sendto"), ("W", 1024, "sendmsg")]
        return [Ev(ip, d, b, sc, c, sp) for d, b, sc in client] + [
            Ev(ip, d, b, sc, s, cp) for d, b, sc in server
        ]

    return expect


def mmsg(n: dict[str, str]) -> list[Ev]:
    c, s = "pid.client", "pid.server"
    ip, sp, cp = "127.0.0.1", "port.server", "port.client"
    return [
        Ev(ip, "W", 60, "sendmmsg", c, sp),
        Ev(ip, "R", 26, "recvmmsg", c, sp),
        Ev(ip, "R", 60, "recvmmsg", s, cp),
        Ev(ip, "W", 26, "sendmmsg", s, cp),
    ]


def copy_calls(n: dict[str, str]) -> list[Ev]:
    m = "pid.main"
    return [
        Ev("src.txt", "W", 10000, "write", m),
        Ev("src.txt", "R", 4000, "sendfile", m),
        Ev("sendfile.txt", "W", 4000, "sendfile", m),
        Ev("src.txt", "R", 3000, "splice", m),
        Ev("pipe:pipe", "W", 3000, "splice", m),
        Ev("pipe:pipe", "R", 3000, "splice", m),
        Ev("splice.txt", "W", 3000, "splice", m),
        Ev("src.txt", "R", 5000, "copy_file_range", m),
        Ev("cfr.txt", "W", 5000, "copy_file_range", m),
        Ev("src.txt", "M", 8192, "mmap", m),
        Ev("cfr.txt", "M", 4096, "mmap", m),
    ]


def exec_cloexec(n: dict[str, str]) -> list[Ev]:
    m, before, after = "pid.main", "exec_cloexec", "iowriter"
    return [
        Ev("a.txt", "W", 3, "write", m, comm=before),
        Ev("b.txt", "W", 4, "write", m, comm=before),
        Ev("c.txt", "W", 5, "write", m, comm=before),
        Ev("d.txt", "W", 6, "write", m, comm=before),
        Ev("b.txt", "W", 20, "write", m, comm=after),
        Ev("d.txt", "W", 40, "write", m, comm=after),
        Ev("e.txt", "W", 50, "write", m, comm=after),
    ]


def rw_vectors(n: dict[str, str]) -> list[Ev]:
    m = "pid.main"
    calls = [
        ("W", 600, "writev"),
        ("W", 50, "pwrite64"),
        ("W", 30, "pwritev"),
        ("W", 7, "pwritev2"),
        ("R", 1000, "readv"),
        ("R", 100, "pread64"),
        ("R", 20, "preadv"),
        ("R", 17, "preadv2"),
        ("R", 2007, "read"),
        ("R", 0, "read"),
    ]
    return [Ev("vec.txt", d, b, sc, m) for d, b, sc in calls]


def cat_cp_command(out: Path) -> str:
    src = out / "src.bin"
    src.write_bytes(bytes(range(256)) * (CAT_CP_SIZE // 256) + b"\n" * (CAT_CP_SIZE % 256))
    q = {name: shlex.quote(str(out / name)) for name in ("src.bin", "cat.out", "cp.out")}
    return f"cat {q['src.bin']} > {q['cat.out']}; cp {q['src.bin']} {q['cp.out']}"


def cat_cp(n: dict[str, str]) -> list[Ev]:
    size = CAT_CP_SIZE
    return [
        total("src.bin", "R", size, "cat"),
        total("cat.out", "W", size, "cat"),
        total("src.bin", "R", size, "cp"),
        total("cp.out", "W", size, "cp"),
    ]


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        Scenario("dup_fds", dup_fds, "dup_fds"),
        Scenario("fork_close", fork_close, "fork_close", parents={"pid.child": "pid.parent"}),
        Scenario("thread_open", thread_open, "thread_open", threads={"tid.thread": "pid.main"}),
        Scenario(
            "clone_files",
            clone_files,
            "clone_files",
            parents={"pid.child1": "pid.parent", "pid.child2": "pid.parent"},
            exit_codes={"pid.child2": 4},
        ),
        Scenario("chdir_open", chdir_open, "chdir_open", parents={"pid.child": "pid.parent"}),
        Scenario(
            "pipes",
            pipes,
            "pipes",
            pipes=("down", "up"),
            unix_ends={"pid.parent": "fd.sp_parent", "pid.child": "fd.sp_child"},
            parents={"pid.child": "pid.parent"},
        ),
        *(
            Scenario(
                f"inet_{mode}",
                expect,
                "inet",
                (mode,),
                inet_kind=mode[:3],
                parents={"pid.client": "pid.server"},
            )
            for mode, expect in [
                ("tcp4", tcp("127.0.0.1")),
                ("tcp6", tcp("::1")),
                ("udp4", udp("127.0.0.1", connected_client=True)),
                ("udp6", udp("::1", connected_client=False)),
            ]
        ),
        Scenario("mmsg", mmsg, "mmsg", inet_kind="udp", parents={"pid.client": "pid.server"}),
        Scenario("copy_calls", copy_calls, "copy_calls", pipes=("pipe",)),
        Scenario("exec_cloexec", exec_cloexec, "exec_cloexec", final_comm="iowriter"),
        Scenario("rw_vectors", rw_vectors, "rw_vectors"),
        Scenario("cat_cp", cat_cp, shell=cat_cp_command),
    ]
}


@dataclass
class Converted:
    """A scenario run under one flag set, and its conversion."""

    scenario: Scenario
    flags: tuple[str, ...]
    out: Path
    run: TracedRun
    trace: iomonitor.Trace
    #: selected events with the normalized columns label, peer, who
    events: pd.DataFrame

    def describe(self) -> str:
        cols = ["pid", "fd", "dir", "bytes", "file", "port", "syscall", "kind", "tgid", "comm"]
        shown = self.events[[*cols, "label", "peer", "who"]].to_string()
        return f"log: {self.run.log}\nnotes: {self.run.notes}\nselected events:\n{shown}"


def argv_of(scenario: Scenario, programs: dict[str, Path], out: Path) -> list[str]:
    if scenario.shell is not None:
        return ["/bin/sh", "-c", scenario.shell(out)]
    argv = [str(programs[scenario.program]), str(out), *scenario.args]
    if scenario.name == "exec_cloexec":
        argv.append(str(programs["iowriter"]))
    return argv


def decodes_fds(flags: tuple[str, ...]) -> bool:
    return "-y" in flags or "-yy" in flags


def convert(
    name: str,
    flag_id: str,
    programs: dict[str, Path],
    cache: dict[object, object],
    tmp_path_factory: pytest.TempPathFactory,
    strace_run: Callable[..., TracedRun],
    live_run: Callable[..., tuple[TracedRun, iomonitor.Trace]],
) -> Converted:
    key = ("ground-truth", name, flag_id)
    if key not in cache:
        scenario, flags = SCENARIOS[name], FLAG_SETS[flag_id]
        base = tmp_path_factory.mktemp(f"{name}-{flag_id}").resolve()
        out = base / "out"
        out.mkdir()
        argv = argv_of(scenario, programs, out)
        if flag_id == LIVE:
            run, trace = live_run(base, argv, out)
        elif flag_id == LIVE_EBPF:
            from iomonitor.ebpf.runner import unavailable_reason

            reason = unavailable_reason()
            if reason is not None:
                pytest.skip(f"this machine cannot run the eBPF backend: {reason}")
            run, trace = live_run(base, argv, out, backend="ebpf")
        else:
            run = strace_run(base / "strace.log", flags, argv, out)
            trace = iomonitor.convert_log(str(run.log), cwd=str(out))
        events = select(scenario, flags, out, run, trace)
        cache[key] = Converted(scenario, flags, out, run, trace, events)
    return cache[key]  # type: ignore[return-value]


def select(
    scenario: Scenario, flags: tuple[str, ...], out: Path, run: TracedRun, trace: iomonitor.Trace
) -> pd.DataFrame:
    """The scenario's own events, with normalized ``label``, ``peer`` and ``who``."""
    ev = trace.events
    notes = run.notes
    file = ev["file"].astype("string").fillna("")
    kind = ev["kind"].astype("string").fillna("")
    prefix = f"{out}/"
    role_pids = {int(v): k for k, v in notes.items() if k.startswith(("pid.", "tid."))}
    ours = ev["pid"].isin(role_pids) | ev["tgid"].isin(role_pids)
    in_out = file.str.startswith(prefix)
    pipe = ((kind == "pipe") | file.str.startswith("pipe:")) & (ev["fd"] > 2) & ours
    unix = (
        ((kind == "unix") | file.str.startswith(("unix:", "socket:", "UNIX")))
        & (ev["fd"] > 2)
        & ours
    )
    inet = kind.isin(["tcp", "udp"]) | file.isin(["127.0.0.1", "::1"])
    sel = ev[in_out | pipe | unix | inet].copy()
    sfile = sel["file"].astype("string").fillna("")
    skind = sel["kind"].astype("string").fillna("")

    pipe_labels = pipe_names(scenario, flags, notes, sel, sfile, skind)
    ports = {int(v): k for k, v in notes.items() if k.startswith("port.")}

    def label(i: int) -> str:
        f, k = sfile.loc[i], skind.loc[i]
        if f.startswith(prefix):
            return f[len(prefix) :]
        if f in pipe_labels:
            return pipe_labels[f]
        if k == "unix" or f.startswith("unix:"):
            return f"unix:fd{sel.at[i, 'fd']}"
        return f

    sel["label"] = [label(i) for i in sel.index]
    sel["peer"] = [
        None if pd.isna(p) else ports.get(int(p), str(int(p))) for p in sel["port"].array
    ]
    if scenario.shell is not None:
        sel["who"] = sel["comm"].astype("string")
    else:
        sel["who"] = [role_pids.get(int(p), f"pid {p}") for p in sel["pid"]]
    return sel.reset_index(drop=True)


def pipe_names(
    scenario: Scenario,
    flags: tuple[str, ...],
    notes: dict[str, str],
    sel: pd.DataFrame,
    sfile: pd.Series,
    skind: pd.Series,
) -> dict[str, str]:
    """Observed pipe label -> ``pipe:NAME``.

    With -y/-yy the log names each pipe by its inode, which the program
    printed. Without, the label is whatever the converter chose: each pipe
    must get its own, shared by both ends, so the labels are matched to the
    pipes by the bytes that went through them.
    """
    if decodes_fds(flags):
        return {f"pipe:[{notes[f'inode.{p}']}]": f"pipe:{p}" for p in scenario.pipes}
    is_pipe = (skind == "pipe") | sfile.str.startswith("pipe:")
    observed = sorted(set(sfile[is_pipe]))
    if len(observed) != len(scenario.pipes):
        return {}
    expected = totals(scenario.expect(notes), ("file", "dir"))
    for perm in itertools.permutations(scenario.pipes):
        mapping = {o: f"pipe:{p}" for o, p in zip(observed, perm, strict=True)}
        got = Counter()
        for f, d, b in zip(sfile[is_pipe], sel["dir"][is_pipe], sel["bytes"][is_pipe], strict=True):
            got[(mapping[f], str(d))] += int(b)
        if all(got[k] == v for k, v in expected.items() if k[0].startswith("pipe:")):
            return mapping
    return {}


def totals(evs: list[Ev], keys: tuple[str, ...]) -> Counter:
    out: Counter = Counter()
    for e in evs:
        out[tuple(getattr(e, k) for k in keys)] += e.bytes
    return out


def observed_totals(c: Converted, keys: tuple[str, ...]) -> Counter:
    cols = {"file": "label", "port": "peer", "dir": "dir", "who": "who"}
    out: Counter = Counter()
    for row in c.events[[cols[k] for k in keys] + ["bytes"]].itertuples(index=False):
        out[tuple(None if pd.isna(v) else str(v) for v in row[:-1])] += int(row[-1])
    return out


def diff(expected: Counter, got: Counter) -> str:
    lines = []
    for k in sorted(set(expected) | set(got), key=str):
        if expected.get(k) != got.get(k):
            lines.append(f"  {k}: expected {expected.get(k)}, got {got.get(k)}")
    return "\n".join(lines)


PARAMS = [
    pytest.param((name, flag_id), id=f"{name}-{flag_id}")
    for name in SCENARIOS
    for flag_id in FLAG_SETS
]


@pytest.fixture
def converted(request, programs, traced_cache, tmp_path_factory, strace_run, live_run) -> Converted:
    name, flag_id = request.param
    return convert(name, flag_id, programs, traced_cache, tmp_path_factory, strace_run, live_run)


def _check_pipe_labels(c: Converted) -> None:
    if c.scenario.pipes and not decodes_fds(c.flags):
        is_pipe = c.events["label"].str.startswith("pipe:")
        labels = sorted(set(c.events["file"][is_pipe].astype(str)))
        assert len(labels) == len(c.scenario.pipes), (
            f"expected {len(c.scenario.pipes)} pipe labels (one per pipe, the same on both "
            f"ends), got {labels}\n{c.describe()}"
        )


@pytest.mark.parametrize("converted", PARAMS, indirect=True)
def test_totals_per_file_and_peer(converted: Converted) -> None:
    """Bytes per (file, peer port, direction) are exactly what the program moved."""
    c = converted
    _check_pipe_labels(c)
    keys = ("file", "port", "dir")
    expected = totals(c.scenario.expect(c.run.notes), keys)
    got = observed_totals(c, keys)
    assert got == expected, f"totals differ:\n{diff(expected, got)}\n{c.describe()}"


@pytest.mark.parametrize("converted", PARAMS, indirect=True)
def test_totals_per_process(converted: Converted) -> None:
    """Each process (or thread) is charged exactly for its own calls."""
    c = converted
    _check_pipe_labels(c)
    keys = ("file", "port", "dir", "who")
    expected = totals(c.scenario.expect(c.run.notes), keys)
    got = observed_totals(c, keys)
    assert got == expected, f"totals differ:\n{diff(expected, got)}\n{c.describe()}"


@pytest.mark.parametrize("converted", PARAMS, indirect=True)
def test_each_call(converted: Converted) -> None:
    """Where every call is known: one event per call, its bytes and its syscall."""
    c = converted
    _check_pipe_labels(c)
    evs = c.scenario.expect(c.run.notes)
    group = ("file", "port", "dir", "who")
    uncounted = {tuple(getattr(e, k) for k in group) for e in evs if not e.counted}
    expected = Counter(
        (e.file, e.port, e.dir, e.who, e.bytes, e.syscall)
        for e in evs
        if tuple(getattr(e, k) for k in group) not in uncounted
    )
    got = Counter()
    for r in c.events.itertuples(index=False):
        key = (r.label, r.peer, str(r.dir), r.who)
        if key not in uncounted:
            got[(*key, int(r.bytes), str(r.syscall))] += 1
    assert got == expected, f"calls differ:\n{diff(expected, got)}\n{c.describe()}"


@pytest.mark.parametrize("converted", PARAMS, indirect=True)
def test_columns(converted: Converted) -> None:
    """kind, tgid, comm, dt and time of the scenario's events."""
    c = converted
    s, ev, notes = c.scenario, c.events, c.run.notes
    assert len(ev), f"no events selected\n{c.describe()}"
    problems = []

    def kind_of(label: str) -> str:
        if label.startswith("pipe:"):
            return "pipe"
        if label.startswith("unix:"):
            return "unix"
        if label in ("127.0.0.1", "::1"):
            return s.inet_kind or "?"
        return "file"

    for r in ev.itertuples(index=False):
        if str(r.kind) != kind_of(r.label):
            problems.append(f"kind {r.kind!r} for {r.label!r}, expected {kind_of(r.label)!r}")
        if s.shell is None:
            leader = s.threads.get(r.who, r.who)
            if leader in notes and int(r.tgid) != int(notes[leader]):
                problems.append(f"tgid {r.tgid} for a call of {r.who}, expected {notes[leader]}")

    # comm: the program running when the call was made.
    expected_comm = Counter(
        (e.file, e.dir, e.bytes, e.comm or s.comm) for e in s.expect(notes) if e.counted
    )
    if s.shell is None:
        got_comm = Counter(
            (r.label, str(r.dir), int(r.bytes), str(r.comm))
            for r in ev.itertuples(index=False)
            if (r.label, str(r.dir), int(r.bytes)) in {k[:3] for k in expected_comm}
        )
        if got_comm != expected_comm:
            problems.append(f"comm differs:\n{diff(expected_comm, got_comm)}")

    # socketpair ends: one label per end, unix:[inode] of the pair when the log has inodes.
    for who, fd_key in s.unix_ends.items():
        mine = ev[(ev["who"] == who) & (ev["fd"] == int(notes[fd_key]))]
        labels = set(mine["file"].astype(str))
        pair = {f"unix:[{notes['inode.sp_parent']}]", f"unix:[{notes['inode.sp_child']}]"}
        if len(labels) != 1:
            problems.append(f"socketpair end of {who}: labels {labels}, expected one")
        elif decodes_fds(c.flags) and not labels <= pair:
            problems.append(f"socketpair end of {who}: label {labels}, expected one of {pair}")

    has_dt = ev["dt"].notna()
    if "-T" in c.flags and not has_dt.all():
        problems.append(f"{(~has_dt).sum()} events without dt although the log has -T")
    if "-T" not in c.flags and has_dt.any():
        problems.append(f"{has_dt.sum()} events with dt although the log has no -T")

    started = pd.Timestamp(c.run.started - 1, unit="s", tz="UTC")
    finished = pd.Timestamp(c.run.finished + 1, unit="s", tz="UTC")
    if "-ttt" in c.flags:
        bad = ev[(ev["time"] < started) | (ev["time"] > finished)]
        if len(bad):
            problems.append(f"times outside the run [{started}, {finished}]: {list(bad['time'])}")
    else:
        # -tt: local time of day; the date is not in the log.
        local = ev["time"].dt.tz_convert(datetime.now(UTC).astimezone().tzinfo)
        lo = datetime.fromtimestamp(c.run.started - 1).time()
        hi = datetime.fromtimestamp(c.run.finished + 1).time()
        if lo < hi:
            tod = local.dt.time
            bad = [t for t in tod if not lo <= t <= hi]
            if bad:
                problems.append(f"local times of day outside [{lo}, {hi}]: {bad}")

    assert not problems, "\n".join(problems) + "\n" + c.describe()


def same(value: object, expected: object) -> bool:
    """``value == expected``, False for a missing value."""
    return not pd.isna(value) and value == expected


@pytest.mark.parametrize("converted", PARAMS, indirect=True)
def test_processes(converted: Converted) -> None:
    """The processes table knows every process and thread, its parent and exit status."""
    c = converted
    s, notes = c.scenario, c.run.notes
    procs = c.trace.processes.set_index("pid")
    problems = []
    if s.shell is not None:
        for comm in ("cat", "cp"):
            rows = procs[procs["comm"] == comm]
            if len(rows) != 1 or rows["exit_code"].iloc[0] != 0:
                problems.append(f"expected one {comm} process exiting with 0, got\n{rows}")
    for who, pid in notes.items():
        if not who.startswith(("pid.", "tid.")):
            continue
        pid = int(pid)
        if pid not in procs.index:
            problems.append(f"{who} {pid} missing")
            continue
        if procs.index.tolist().count(pid) != 1:
            problems.append(f"{who} {pid}: {procs.index.tolist().count(pid)} rows")
            continue
        row = procs.loc[pid]
        leader = int(notes[s.threads.get(who, who)])
        if int(row["tgid"]) != leader:
            problems.append(f"{who} {pid}: tgid {row['tgid']}, expected {leader}")
        if who in s.parents and not same(row["ppid"], int(notes[s.parents[who]])):
            problems.append(f"{who} {pid}: ppid {row['ppid']}, expected {notes[s.parents[who]]}")
        if who not in s.threads:
            code = s.exit_codes.get(who, 0)
            if not same(row["exit_code"], code):
                problems.append(f"{who} {pid}: exit_code {row['exit_code']}, expected {code}")
            comm = s.final_comm if who == "pid.main" and s.final_comm else s.comm
            if not same(row["comm"], comm):
                problems.append(f"{who} {pid}: comm {row['comm']!r}, expected {comm!r}")
    assert not problems, "\n".join(problems) + f"\n{c.trace.processes.to_string()}"


@pytest.mark.parametrize(
    "converted", [p for p in PARAMS if p.values[0][0] == "exec_cloexec"], indirect=True
)
def test_exec_failed_writes_are_counted(converted: Converted) -> None:
    """The writes to the fds execve closed fail with EBADF: counted, not events."""
    c = converted
    errors = c.trace.errors
    pid = int(c.run.notes["pid.main"])
    mine = errors[(errors["pid"] == pid) & (errors["errno"] == "EBADF")]
    assert list(mine["syscall"].unique()) == ["write"], errors.to_string()
    assert int(mine["count"].sum()) == 2, errors.to_string()
    closed = {str(c.out / "a.txt"), str(c.out / "c.txt")}
    assert not closed & set(mine["file"].dropna()), errors.to_string()


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_totals_agree_across_flag_sets(
    name, programs, traced_cache, tmp_path_factory, strace_run, live_run
) -> None:
    """-y/-yy, -x, -Y, -tt/-ttt and -T change how lines look, never the totals."""
    keys = ("file", "port", "dir", "who")
    runs = {
        f: convert(name, f, programs, traced_cache, tmp_path_factory, strace_run, live_run)
        for f in FLAG_SETS
    }
    reference = observed_totals(runs[REFERENCE_FLAGS], keys)
    problems = []
    for flag_id, c in runs.items():
        got = observed_totals(c, keys)
        if got != reference:
            problems.append(f"{flag_id} vs {REFERENCE_FLAGS}:\n{diff(reference, got)}")
    assert not problems, "\n".join(problems)
