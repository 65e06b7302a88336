"""Issue 13, the tracer's semantics: literal strace logs through ``iomonitor.load``.

Each test is named after the defect it guards and goes through the public
path (a log file loaded as a user loads it), so that it keeps testing
whatever converts the lines.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import iomonitor
from iomonitor import analysis


def load_log(tmp_path: Path, text: str) -> iomonitor.Trace:
    log = tmp_path / "strace.log"
    log.write_text("".join(line.strip() + "\n" for line in text.strip().splitlines()))
    return iomonitor.load(log)


def rows(trace: iomonitor.Trace) -> list[tuple]:
    return [
        (r.pid, r.fd, r.dir, r.bytes, r.file, None if pd.isna(r.port) else int(r.port))
        for r in trace.events.itertuples()
    ]


def errors(trace: iomonitor.Trace) -> list[list]:
    cols = ["pid", "syscall", "file", "kind", "errno", "count"]
    return trace.errors[cols].astype(object).values.tolist()


# -- defect 1: peeked bytes are not reads -------------------------------------------


def test_defect1_peeked_bytes_are_dir_p_not_read(tmp_path: Path) -> None:
    trace = load_log(
        tmp_path,
        """
        7 1700000000.100000 execve("/usr/bin/python3", ["python3"], 0x1 /* 1 var */) = 0
        7 1700000000.100100 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 3<UDP:[1]>
        7 1700000000.100200 bind(3<UDP:[1]>, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
        7 1700000000.100300 recvfrom(3<UDP:[127.0.0.1:4000]>, "xxxx", 100, MSG_PEEK, NULL, NULL) = 100
        7 1700000000.100400 recvfrom(3<UDP:[127.0.0.1:4000]>, "xxxx", 100, 0, NULL, NULL) = 100
        7 1700000000.100500 recvmsg(3<UDP:[127.0.0.1:4000]>, {msg_name={sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, msg_namelen=16, msg_iov=[{iov_base="", iov_len=0}], msg_iovlen=1, msg_controllen=0, msg_flags=MSG_TRUNC}, MSG_PEEK|MSG_TRUNC) = 40
        7 1700000000.100600 recvmsg(3<UDP:[127.0.0.1:4000]>, {msg_name={sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, msg_namelen=16, msg_iov=[{iov_base="y", iov_len=40}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 40
        """,
    )
    assert [r[2:4] for r in rows(trace)] == [("P", 100), ("R", 100), ("P", 40), ("R", 40)]
    s = analysis.summary(trace)
    assert s["read_bytes"] == 140
    assert s["bytes"] == 140
    totals = analysis.by(trace, "syscall").set_index("syscall")
    assert totals.loc["recvfrom", "read_bytes"] == 100
    assert totals.loc["recvmsg", "read_bytes"] == 40


def test_defect1_peek_word_inside_a_buffer_is_not_a_peek(tmp_path: Path) -> None:
    trace = load_log(
        tmp_path,
        """
        7 1700000000.1 socket(AF_UNIX, SOCK_STREAM, 0) = 3
        7 1700000000.2 recvfrom(3, "MSG_PEEK", 8, 0, NULL, NULL) = 8
        """,
    )
    assert [r[2:4] for r in rows(trace)] == [("R", 8)]


# -- defect 8: unseen bytes are bytes ----------------------------------------------


def test_defect8_unseen_bytes_counts_bytes_not_calls(tmp_path: Path) -> None:
    trace = load_log(
        tmp_path,
        """
        9 1700000000.1 execve("/bin/w", ["w"], 0x1 /* 1 var */) = 0
        9 1700000000.2 pipe2([3<pipe:[5]>, 4<pipe:[5]>], 0) = 0
        9 1700000000.3 write(4<pipe:[5]>, "xxxxxxxx"..., 65536) = 65536
        9 1700000000.4 write(4<pipe:[5]>, "xxxxxxxx"..., 65536) = ?
        10 1700000000.5 writev(1, [{iov_base="ab", iov_len=2}, {iov_base="cde", iov_len=300}], 2 <unfinished ...>
        9 1700000000.6 +++ killed by SIGKILL +++
        10 1700000000.7 +++ killed by SIGKILL +++
        """,
    )
    assert trace.meta["unseen_calls"] == 2
    assert trace.meta["unseen_bytes"] == 65536 + 302
    s = analysis.summary(trace)
    assert (s["unseen_calls"], s["unseen_bytes"]) == (2, 65838)


# -- failed opens, connects, accepts and binds are counted --------------------------


def test_failed_open_connect_accept_bind_are_in_errors(tmp_path: Path) -> None:
    trace = load_log(
        tmp_path,
        """
        5 1700000000.10 execve("/bin/c", ["c"], 0x1 /* 1 var */) = 0
        5 1700000000.11 chdir("/srv") = 0
        5 1700000000.12 openat(AT_FDCWD, "conf/missing.ini", O_RDONLY) = -1 ENOENT (No such file or directory)
        5 1700000000.13 open("/etc/shadow", O_RDONLY) = -1 EACCES (Permission denied)
        5 1700000000.14 creat("/ro/x", 0644) = -1 EROFS (Read-only file system)
        5 1700000000.15 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3
        5 1700000000.16 connect(3, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 ECONNREFUSED (Connection refused)
        5 1700000000.17 socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP) = 4
        5 1700000000.18 bind(4, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = -1 EADDRINUSE (Address already in use)
        5 1700000000.19 socket(AF_UNIX, SOCK_STREAM, 0) = 6
        5 1700000000.20 connect(6, {sa_family=AF_UNIX, sun_path="/run/nope.sock"}, 110) = -1 ENOENT (No such file or directory)
        5 1700000000.21 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 7
        5 1700000000.22 bind(7, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("0.0.0.0")}, 16) = 0
        5 1700000000.23 accept4(7, 0x7ffd, 0x7ffd, SOCK_CLOEXEC) = -1 EAGAIN (Resource temporarily unavailable)
        5 1700000000.24 accept4(7, 0x7ffd, 0x7ffd, SOCK_CLOEXEC) = -1 EAGAIN (Resource temporarily unavailable)
        5 1700000000.25 connect(7, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("10.0.0.1")}, 16) = -1 EINPROGRESS (Operation now in progress)
        5 1700000000.26 openat(AT_FDCWD, "/tmp", O_RDONLY|O_DIRECTORY) = 8
        5 1700000000.27 openat(8, "sub/f", O_RDONLY) = -1 ENOENT (No such file or directory)
        """,
    )
    assert errors(trace) == [
        [5, "openat", "/srv/conf/missing.ini", "file", "ENOENT", 1],
        [5, "open", "/etc/shadow", "file", "EACCES", 1],
        [5, "creat", "/ro/x", "file", "EROFS", 1],
        [5, "connect", "127.0.0.1:9", "tcp", "ECONNREFUSED", 1],
        [5, "bind", "[::1]:80", "tcp", "EADDRINUSE", 1],
        [5, "connect", "/run/nope.sock", "unix", "ENOENT", 1],
        [5, "accept4", "0.0.0.0:8080", "tcp", "EAGAIN", 2],
        [5, "openat", "/tmp/sub/f", "file", "ENOENT", 1],
    ]
    assert trace.meta["failed_calls"] == 9
    assert analysis.summary(trace)["failed_calls"] == 9


# -- defect 7: decorations name the std streams consistently ------------------------


def test_defect7_filtered_log_decoration_names_a_reopened_std_stream(tmp_path: Path) -> None:
    # `strace -f -yy -e trace=read,write bash -c 'echo hi > /tmp/hi'`: the
    # redirection's open and dup2 are not in the log, the decoration is. A log
    # without close calls cannot tell an inherited stream from a reopened one:
    # every decorated fd is named by its decoration, in every process alike.
    trace = load_log(
        tmp_path,
        """
        20 1700000000.1 read(3</usr/lib/libc.so.6>, "x", 832) = 832
        20 1700000000.2 write(2</dev/pts/3<char 136:3>>, "warn", 4) = 4
        20 1700000000.3 write(1</tmp/hi>, "hi\\n", 3) = 3
        21 1700000000.5 write(2</dev/pts/3<char 136:3>>, "w", 1) = 1
        21 1700000000.6 write(1</tmp/hi>, "yo", 2) = 2
        20 1700000000.7 write(1, "no decoration", 13) = 13
        """,
    )
    assert [(r[0], r[1], r[4]) for r in rows(trace)] == [
        (20, 3, "/usr/lib/libc.so.6"),
        (20, 2, "/dev/pts/3"),
        (20, 1, "/tmp/hi"),
        (21, 2, "/dev/pts/3"),
        (21, 1, "/tmp/hi"),
        (20, 1, "/tmp/hi"),
    ]
    kinds = trace.events["kind"].astype(str).tolist()
    assert kinds == ["file", "tty", "file", "tty", "file", "file"]


FULL_START = """
    30 1700000000.10 execve("/bin/sh", ["sh"], 0x1 /* 1 var */) = 0
    30 1700000000.11 openat(AT_FDCWD</w>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3</etc/ld.so.cache>
    30 1700000000.12 close(3</etc/ld.so.cache>) = 0
"""


def test_defect7_std_stream_named_alike_in_every_process(tmp_path: Path) -> None:
    # A full log: the table follows every reopen, so fd 1 is the inherited
    # stdout; a process whose start is not in the log (a thread of an attached
    # program, a cut log) writing to that same stream gets the same label.
    trace = load_log(
        tmp_path,
        FULL_START
        + """
        30 1700000000.2 write(1</dev/pts/1<char 136:1>>, "a", 1) = 1
        31 1700000000.3 write(1</dev/pts/1<char 136:1>>, "b", 1) = 1
        31 1700000000.4 write(2</tmp/err.log>, "c", 1) = 1
        """,
    )
    assert [(r[0], r[1], r[4]) for r in rows(trace)] == [
        (30, 1, "stdout"),
        (31, 1, "stdout"),
        (31, 2, "/tmp/err.log"),
    ]


def test_defect7_decoration_unlike_the_inherited_stream_wins(tmp_path: Path) -> None:
    # The log shows fd changes but not this one (e.g. dup2 filtered out): the
    # inherited stdout was the terminal, so fd 1 naming a file was reopened.
    trace = load_log(
        tmp_path,
        FULL_START
        + """
        30 1700000000.2 write(1</dev/pts/1<char 136:1>>, "a", 1) = 1
        30 1700000000.3 clone(child_stack=NULL, flags=SIGCHLD) = 32
        32 1700000000.4 write(1</tmp/out>, "b", 1) = 1
        32 1700000000.5 write(1, "c", 1) = 1
        30 1700000000.6 write(1</dev/pts/1<char 136:1>>, "d", 1) = 1
        """,
    )
    assert [(r[0], r[4]) for r in rows(trace)] == [
        (30, "stdout"),
        (32, "/tmp/out"),
        (32, "/tmp/out"),
        (30, "stdout"),
    ]


# -- defect 2: an exec made by a non-main thread -------------------------------------


def test_defect2_exec_from_a_thread_under_seccomp_bpf(tmp_path: Path) -> None:
    # strace 6.1 with --seccomp-bpf prints the leader's resumed execve with a
    # garbage return value; `superseded` says the exec happened.
    trace = load_log(
        tmp_path,
        """
        40 1700000000.10 execve("/usr/bin/python3", ["python3", "thr.py"], 0x1 /* 1 var */) = 0
        40 1700000000.11 close(3</etc/ld.so.cache>) = 0
        40 1700000000.12 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, exit_signal=0}, 88) = 41
        41 1700000000.13 execve("/bin/sh", ["sh", "-c", "echo x > /tmp/o"], 0x7ffd /* 38 vars */ <pid changed to 40 ...>
        40 1700000000.14 +++ superseded by execve in pid 41 +++
        40 1700000000.15 <... execve resumed>) = -1 (errno 18446744073709551359) <0.001465>
        40 1700000000.16 openat(AT_FDCWD</tmp>, "/tmp/o", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3</tmp/o>
        40 1700000000.17 dup2(3</tmp/o>, 1) = 1</tmp/o>
        40 1700000000.18 write(1</tmp/o>, "x\\n", 2) = 2
        40 1700000000.19 exit_group(0) = ?
        40 1700000000.20 +++ exited with 0 +++
        """,
    )
    ev = trace.events
    assert [(r.pid, str(r.file), str(r.comm)) for r in ev.itertuples()] == [(40, "/tmp/o", "sh")]
    procs = trace.processes.set_index("pid")
    assert procs.loc[40, "comm"] == "sh"
    assert procs.loc[40, "argv"] == "sh -c 'echo x > /tmp/o'"
    assert trace.meta["unparsed_lines"] == 0
    assert procs.loc[40, "argv_cut"] == False  # noqa: E712 (a nullable boolean)


# -- defect 3: argv is never cut silently --------------------------------------------


def test_defect3_argv_cut_by_strace_is_marked(tmp_path: Path) -> None:
    # strace -s 32: the path, an argument and the argument list are cut.
    trace = load_log(
        tmp_path,
        """
        50 1700000000.1 execve("/usr/bin/make", ["make", "-j2"], 0x1 /* 1 var */) = 0
        50 1700000000.2 clone(child_stack=NULL, flags=SIGCHLD) = 51
        51 1700000000.3 execve("/usr/lib/gcc/x86_64-linux-gnu/"..., ["/usr/lib/gcc/x86_64-linux-gnu/"..., "-quiet", "a.c"], 0x1 /* 1 var */) = 0
        50 1700000000.4 clone(child_stack=NULL, flags=SIGCHLD) = 52
        52 1700000000.5 execve("/bin/echo", ["echo", "1", "2", ...], 0x1 /* 1 var */) = 0
        50 1700000000.6 clone(child_stack=NULL, flags=SIGCHLD) = 53
        53 1700000000.7 execve("/home/someone/projects/build/o"..., ["cc1", "x.c"], 0x1 /* 1 var */) = 0
        """,
    )
    procs = trace.processes.set_index("pid")
    assert procs.loc[50, "argv"] == "make -j2"
    assert procs.loc[50, "argv_cut"] == False  # noqa: E712
    assert procs.loc[51, "argv"] == "/usr/lib/gcc/x86_64-linux-gnu/ -quiet a.c"
    assert procs.loc[51, "argv_cut"] == True  # noqa: E712
    assert procs.loc[51, "comm"] == "..."  # neither the path nor argv[0] shows the name
    assert procs.loc[52, "argv"] == "echo 1 2"
    assert procs.loc[52, "argv_cut"] == True  # noqa: E712
    assert (procs.loc[53, "comm"], procs.loc[53, "argv_cut"]) == ("cc1", True)


# -- every exec is kept ---------------------------------------------------------------


EXEC_TWICE = """
    60 1700000000.1 execve("/bin/bash", ["bash", "-c", "echo; exec cat /etc/hostname"], 0x1 /* 1 var */) = 0
    60 1700000000.2 clone(child_stack=NULL, flags=SIGCHLD) = 61
    61 1700000000.3 execve("/bin/echo", ["echo"], 0x1 /* 1 var */) = 0
    60 1700000000.4 execve("/bin/cat", ["cat", "/etc/hostname"], 0x1 /* 1 var */) = 0
    60 1700000000.5 execve("/nonexistent", ["x"], 0x1 /* 1 var */) = -1 ENOENT (No such file or directory)
"""


def test_exec_history_keeps_every_exec(tmp_path: Path) -> None:
    trace = load_log(tmp_path, EXEC_TWICE)
    got = trace.execs[["pid", "tgid", "path", "argv", "argv_cut"]].astype(object)
    assert got.values.tolist() == [
        [60, 60, "/bin/bash", "bash -c 'echo; exec cat /etc/hostname'", False],
        [61, 61, "/bin/echo", "echo", False],
        [60, 60, "/bin/cat", "cat /etc/hostname", False],
    ]
    assert trace.execs["time"].tolist() == [
        pd.Timestamp(1700000000, unit="s", tz="UTC") + pd.Timedelta(milliseconds=ms)
        for ms in (100, 300, 400)
    ]
    # The processes table keeps the last program of each process.
    assert trace.processes.set_index("pid").loc[60, "argv"] == "cat /etc/hostname"


def test_exec_history_survives_parquet(tmp_path: Path) -> None:
    log = tmp_path / "strace.log"
    log.write_text("".join(line.strip() + "\n" for line in EXEC_TWICE.strip().splitlines()))
    direct = iomonitor.load(log)
    out = tmp_path / "t.parquet"
    iomonitor.store.write(direct, out)
    back = iomonitor.load(out)
    pd.testing.assert_frame_equal(back.execs, direct.execs)
    both = iomonitor.load(out, log)
    assert both.execs["run"].tolist() == [str(out)] * 3 + [str(log)] * 3
    assert both.execs.drop(columns="run").iloc[3:].reset_index(drop=True).equals(direct.execs)
