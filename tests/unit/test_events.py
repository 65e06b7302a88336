"""The fd table and event rules, on literal strace lines."""

from __future__ import annotations

import pandas as pd
import pytest

from iomonitor.strace.convert import Converter


def convert(text: str, cwd: str | None = None) -> tuple[pd.DataFrame, Converter]:
    conv = Converter(cwd=cwd)
    lines = [ln.strip() + "\n" for ln in text.strip().splitlines()]
    chunks = list(conv.feed(lines))
    chunks.append(conv.finish())
    for proc in conv.builder.procs.values():
        proc.fdt.check()
    return pd.concat(chunks, ignore_index=True), conv


def rows(events: pd.DataFrame) -> list[tuple]:
    return [
        (r.pid, r.fd, r.dir, r.bytes, r.file, None if pd.isna(r.port) else int(r.port))
        for r in events.itertuples()
    ]


def test_std_streams_keep_their_labels_until_reopened():
    ev, _ = convert(
        """
        10 1.0 execve("/bin/sh", ["sh"], 0x1 /* 1 var */) = 0
        10 1.1 write(1, "hello\\n", 6) = 6
        10 1.2 openat(AT_FDCWD, "/tmp/out", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3
        10 1.3 dup2(3, 1) = 1
        10 1.4 close(3) = 0
        10 1.5 write(1, "abc", 3) = 3
        10 1.6 write(2, "e", 1) = 1
        """
    )
    assert rows(ev) == [
        (10, 1, "W", 6, "stdout", None),
        (10, 1, "W", 3, "/tmp/out", None),
        (10, 2, "W", 1, "stderr", None),
    ]


def test_decoration_of_an_inherited_stream_does_not_rename_it():
    ev, _ = convert(
        """
        10 1.0 execve("/bin/wc", ["wc"], 0x1 /* 1 var */) = 0
        10 1.05 close(3</etc/ld.so.cache>) = 0
        10 1.1 write(1</dev/pts/0<char 136:0>>, "x", 1) = 1
        """
    )
    # The log records close, so the table vouches that fd 1 was never reopened.
    assert rows(ev) == [(10, 1, "W", 1, "stdout", None)]
    assert ev.kind.tolist() == ["tty"]


def test_fork_copies_the_table_and_child_close_leaves_parent_fd():
    ev, conv = convert(
        """
        1 1.0 execve("/bin/p", ["p"], 0x1 /* 1 var */) = 0
        1 1.1 openat(AT_FDCWD, "/data/a", O_RDONLY) = 3
        1 1.2 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD, child_tidptr=0x1) = 2
        2 1.3 close(3) = 0
        2 1.4 openat(AT_FDCWD, "/data/b", O_RDONLY) = 3
        2 1.5 read(3, "", 10) = 0
        1 1.6 read(3, "abcd", 10) = 4
        """
    )
    assert rows(ev) == [(2, 3, "R", 0, "/data/b", None), (1, 3, "R", 4, "/data/a", None)]
    procs = conv.processes().set_index("pid")
    assert procs.loc[2, "ppid"] == 1
    assert procs.loc[2, "tgid"] == 2


def test_clone_files_shares_one_table():
    ev, conv = convert(
        """
        1 1.0 execve("/bin/p", ["p"], 0x1 /* 1 var */) = 0
        1 1.1 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, exit_signal=0}, 88) = 2
        2 1.2 openat(AT_FDCWD, "/data/t", O_WRONLY|O_CREAT, 0600) = 5
        1 1.3 write(5, "0123456789", 10) = 10
        """
    )
    assert rows(ev) == [(1, 5, "W", 10, "/data/t", None)]
    procs = conv.processes().set_index("pid")
    assert procs.loc[2, "tgid"] == 1


def test_clone_parent_settid_is_not_clone_parent():
    # CLONE_PARENT makes the child a sibling of its creator; CLONE_PARENT_SETTID
    # (only where to write the child's tid) does not, on a whole line or when
    # the child prints before its parent's clone returns.
    _, conv = convert(
        """
        1 1.0 execve("/bin/p", ["p"], 0x1 /* 1 var */) = 0
        1 1.1 clone(child_stack=0x1, flags=CLONE_VM|CLONE_PARENT_SETTID|SIGCHLD, parent_tid=[2]) = 2
        2 1.2 clone(child_stack=NULL, flags=CLONE_PARENT|SIGCHLD) = 3
        2 1.3 clone(child_stack=NULL, flags=CLONE_PARENT_SETTID|SIGCHLD <unfinished ...>
        4 1.4 exit_group(0) = ?
        2 1.5 <... clone resumed>, parent_tid=[4]) = 4
        """
    )
    ppids = conv.processes().set_index("pid")["ppid"]
    assert ppids.loc[2] == 1
    assert ppids.loc[3] == 1
    assert ppids.loc[4] == 2


def test_vfork_child_printing_before_parent_returns_is_adopted():
    ev, conv = convert(
        """
        1 1.0 execve("/bin/sh", ["sh"], 0x1 /* 1 var */) = 0
        1 1.1 openat(AT_FDCWD, "/data/log", O_WRONLY|O_CREAT, 0600) = 4
        1 1.2 vfork( <unfinished ...>
        2 1.3 write(4, "child", 5) = 5
        2 1.4 exit_group(0) = ?
        1 1.5 <... vfork resumed>) = 2
        2 1.6 +++ exited with 0 +++
        """
    )
    assert rows(ev) == [(2, 4, "W", 5, "/data/log", None)]
    assert conv.processes().set_index("pid").loc[2, "ppid"] == 1


def test_execve_drops_cloexec_fds_and_renames():
    ev, conv = convert(
        """
        1 1.0 execve("/bin/a", ["a"], 0x1 /* 1 var */) = 0
        1 1.1 openat(AT_FDCWD, "/data/keep", O_WRONLY|O_CREAT, 0600) = 3
        1 1.2 openat(AT_FDCWD, "/data/drop", O_WRONLY|O_CREAT|O_CLOEXEC, 0600) = 4
        1 1.3 execve("/usr/bin/b", ["b", "x y"], 0x1 /* 1 var */) = 0
        1 1.4 write(3, "k", 1) = 1
        1 1.5 write(4, "d", 1) = 1
        """
    )
    assert rows(ev) == [(1, 3, "W", 1, "/data/keep", None), (1, 4, "W", 1, "unknown:4", None)]
    assert ev.comm.tolist() == ["b", "b"]
    assert conv.builder.unknown_fds == 1
    proc = conv.processes().iloc[0]
    assert proc["comm"] == "b"
    assert proc["argv"] == "b 'x y'"  # quoted as a shell would show it


def test_dup_family_and_fcntl():
    ev, _ = convert(
        """
        1 1.0 execve("/bin/a", ["a"], 0x1 /* 1 var */) = 0
        1 1.1 openat(AT_FDCWD, "/f", O_WRONLY|O_CREAT, 0600) = 3
        1 1.2 dup(3) = 4
        1 1.3 dup2(3, 7) = 7
        1 1.4 dup3(3, 8, O_CLOEXEC) = 8
        1 1.5 fcntl(3, F_DUPFD_CLOEXEC, 10) = 10
        1 1.6 fcntl(4, F_SETFD, FD_CLOEXEC) = 0
        1 1.7 close(3) = 0
        1 1.8 write(4, "a", 1) = 1
        1 1.9 write(7, "bb", 2) = 2
        1 2.0 write(8, "ccc", 3) = 3
        1 2.1 write(10, "dddd", 4) = 4
        1 2.2 execve("/bin/b", ["b"], 0x1 /* 1 var */) = 0
        1 2.3 write(7, "e", 1) = 1
        1 2.4 write(4, "f", 1) = 1
        """
    )
    got = rows(ev)
    assert got[:5] == [
        (1, 4, "W", 1, "/f", None),
        (1, 7, "W", 2, "/f", None),
        (1, 8, "W", 3, "/f", None),
        (1, 10, "W", 4, "/f", None),
        (1, 7, "W", 1, "/f", None),
    ]
    # fd 4 was set close-on-exec, so after the execve it is unknown.
    assert got[5] == (1, 4, "W", 1, "unknown:4", None)


def test_close_range_plain_and_cloexec():
    ev, _ = convert(
        """
        1 1.0 execve("/bin/a", ["a"], 0x1 /* 1 var */) = 0
        1 1.1 openat(AT_FDCWD, "/f3", O_RDONLY) = 3
        1 1.2 openat(AT_FDCWD, "/f4", O_RDONLY) = 4
        1 1.3 openat(AT_FDCWD, "/f5", O_RDONLY) = 5
        1 1.4 close_range(5, ~0U, 0) = 0
        1 1.5 close_range(3, 3, CLOSE_RANGE_CLOEXEC) = 0
        1 1.6 execve("/bin/b", ["b"], 0x1 /* 1 var */) = 0
        1 1.7 read(4, "x", 1) = 1
        1 1.8 read(3, "x", 1) = 1
        1 1.9 read(5, "x", 1) = 1
        """
    )
    assert [r[4] for r in rows(ev)] == ["/f4", "unknown:3", "unknown:5"]


def test_relative_paths_follow_chdir_and_dirfd():
    ev, _ = convert(
        """
        1 1.0 execve("/bin/a", ["a"], 0x1 /* 1 var */) = 0
        1 1.1 chdir("/srv/data") = 0
        1 1.2 openat(AT_FDCWD, "x/../y.txt", O_RDONLY) = 3
        1 1.3 openat(AT_FDCWD, "/etc", O_RDONLY|O_DIRECTORY) = 4
        1 1.4 openat(4, "hosts", O_RDONLY) = 5
        1 1.5 fchdir(4) = 0
        1 1.6 open("passwd", O_RDONLY) = 6
        1 1.7 read(3, "", 1) = 0
        1 1.8 read(5, "", 1) = 0
        1 1.9 read(6, "", 1) = 0
        """,
        cwd="/home/u",
    )
    assert [r[4] for r in rows(ev)] == ["/srv/data/y.txt", "/etc/hosts", "/etc/passwd"]


def test_pipe_ends_share_a_name_and_processes_join():
    ev, _ = convert(
        """
        1 1.0 execve("/bin/sh", ["sh"], 0x1 /* 1 var */) = 0
        1 1.1 pipe2([3, 4], O_CLOEXEC) = 0
        1 1.2 clone(child_stack=NULL, flags=SIGCHLD) = 2
        2 1.3 dup2(4, 1) = 1
        2 1.4 write(1, "abc", 3) = 3
        1 1.5 read(3, "abc", 10) = 3
        """
    )
    assert rows(ev) == [(2, 1, "W", 3, "pipe:[#1]", None), (1, 3, "R", 3, "pipe:[#1]", None)]
    assert ev.kind.tolist() == ["pipe", "pipe"]


def test_tcp_peers_from_connect_accept_and_decorations():
    ev, _ = convert(
        """
        1 1.0 execve("/bin/c", ["c"], 0x1 /* 1 var */) = 0
        1 1.1 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3
        1 1.2 connect(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
        1 1.3 write(3, "ping", 4) = 4
        1 1.4 socket(AF_INET6, SOCK_STREAM, IPPROTO_IP) = 4
        1 1.5 accept4(4, {sa_family=AF_INET6, sin6_port=htons(40000), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, [28], SOCK_CLOEXEC) = 5
        1 1.6 read(5, "x", 10) = 1
        1 1.7 read(6<TCP:[127.0.0.1:5000->10.1.2.3:443]>, "xy", 10) = 2
        """
    )
    assert rows(ev) == [
        (1, 3, "W", 4, "127.0.0.1", 8080),
        (1, 5, "R", 1, "::1", 40000),
        (1, 6, "R", 2, "10.1.2.3", 443),
    ]
    assert ev["local"].tolist()[2] == "127.0.0.1:5000"
    assert ev.kind.tolist() == ["tcp", "tcp", "tcp"]


def test_udp_per_call_addresses_and_cached_decoration():
    ev, _ = convert(
        """
        1 1.0 execve("/bin/c", ["c"], 0x1 /* 1 var */) = 0
        1 1.1 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3
        1 1.2 sendto(3, "q", 1, 0, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 1
        1 1.3 recvfrom(3, "a", 512, 0, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, [28 => 16]) = 1
        1 1.4 connect(3<UDP:[0.0.0.0:5353]>, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.9")}, 16) = 0
        1 1.5 write(3<UDP:[0.0.0.0:5353]>, "zz", 2) = 2
        """
    )
    assert rows(ev) == [
        (1, 3, "W", 1, "127.0.0.53", 53),
        (1, 3, "R", 1, "127.0.0.53", 53),
        (1, 3, "W", 2, "127.0.0.9", 9),
    ]


def test_transfers_give_two_events_and_mmap_is_m():
    ev, _ = convert(
        """
        1 1.0 execve("/bin/cp", ["cp"], 0x1 /* 1 var */) = 0
        1 1.1 openat(AT_FDCWD, "/src", O_RDONLY) = 3
        1 1.2 openat(AT_FDCWD, "/dst", O_WRONLY|O_CREAT, 0600) = 4
        1 1.3 copy_file_range(3, NULL, 4, NULL, 9223372035781033984, 0) = 100
        1 1.4 sendfile(4, 3, NULL, 50) = 50
        1 1.5 splice(3, NULL, 4, NULL, 20, 0) = 20
        1 1.6 mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, 3, 0) = 0x7f0000000000
        1 1.7 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000002000
        """
    )
    assert rows(ev) == [
        (1, 3, "R", 100, "/src", None),
        (1, 4, "W", 100, "/dst", None),
        (1, 3, "R", 50, "/src", None),
        (1, 4, "W", 50, "/dst", None),
        (1, 3, "R", 20, "/src", None),
        (1, 4, "W", 20, "/dst", None),
        (1, 3, "M", 8192, "/src", None),
    ]


def test_mmsg_sums_msg_len_and_truncated_arrays_are_counted():
    ev, conv = convert(
        """
        1 1.0 execve("/bin/c", ["c"], 0x1 /* 1 var */) = 0
        1 1.1 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3
        1 1.2 connect(3, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
        1 1.3 sendmmsg(3, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="ab", iov_len=2}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=2}, {msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="cde", iov_len=3}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=3}], 2, 0) = 2
        1 1.4 sendmmsg(3, [{msg_hdr={}, msg_len=2}, ...], 40, 0) = 40
        """
    )
    assert rows(ev) == [(1, 3, "W", 5, "127.0.0.1", 9)]
    assert conv.builder.unseen_calls == 1
    assert conv.builder.unseen_bytes == 2  # the only msg_len shown


def test_failed_calls_are_counted_not_events():
    ev, conv = convert(
        """
        1 1.0 execve("/bin/c", ["c"], 0x1 /* 1 var */) = 0
        1 1.1 openat(AT_FDCWD, "/f", O_RDONLY) = 3
        1 1.2 read(3, 0x7ffc, 10) = -1 EIO (Input/output error)
        1 1.3 read(3, 0x7ffc, 10) = -1 EIO (Input/output error)
        1 1.4 read(3, 0x7ffc, 10) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)
        1 1.5 read(3, "", 10) = 0
        """
    )
    assert rows(ev) == [(1, 3, "R", 0, "/f", None)]
    errs = conv.errors()
    assert errs[["pid", "syscall", "file", "errno", "count"]].values.tolist() == [
        [1, "read", "/f", "EIO", 2]
    ]


def test_scm_rights_passes_an_open_file():
    ev, _ = convert(
        """
        1 1.0 execve("/bin/c", ["c"], 0x1 /* 1 var */) = 0
        1 1.1 socketpair(AF_UNIX, SOCK_STREAM, 0, [3, 4]) = 0
        1 1.2 clone(child_stack=NULL, flags=SIGCHLD) = 2
        1 1.3 openat(AT_FDCWD, "/secret", O_RDONLY) = 5
        1 1.4 sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="x", iov_len=1}], msg_iovlen=1, msg_control=[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[5]}], msg_controllen=24, msg_flags=0}, 0) = 1
        2 1.5 recvmsg(4, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="x", iov_len=1}], msg_iovlen=1, msg_control=[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[6]}], msg_controllen=24, msg_flags=0}, 0) = 1
        2 1.6 read(6, "abc", 3) = 3
        """
    )
    assert rows(ev) == [
        (1, 3, "W", 1, "unix:[#1]", None),
        (2, 4, "R", 1, "unix:[#1]", None),
        (2, 6, "R", 3, "/secret", None),
    ]


def test_scm_rights_fd_received_without_its_sender_is_counted_unknown():
    # No sendmsg line names the fd (the sender is outside the trace, or its
    # line was lost): its bytes land on unknown:6, and the count says so.
    ev, conv = convert(
        """
        2 1.0 execve("/bin/c", ["c"], 0x1 /* 1 var */) = 0
        2 1.1 recvmsg(4, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="x", iov_len=1}], msg_iovlen=1, msg_control=[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[6]}], msg_controllen=24, msg_flags=0}, 0) = 1
        2 1.2 write(6, "abcd", 4) = 4
        """
    )
    assert rows(ev)[-1] == (2, 6, "W", 4, "unknown:6", None)
    # fd 4 (never opened) and fd 6 (received, unnamed): two fds of unknown origin.
    assert conv.builder.unknown_fds == 2


def test_thread_execve_resumes_under_the_leader():
    ev, conv = convert(
        """
        1 1.0 execve("/bin/t", ["t"], 0x1 /* 1 var */) = 0
        1 1.1 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, exit_signal=0}, 88) = 2
        1 1.2 pause( <unfinished ...>
        2 1.3 execve("/bin/echo", ["echo", "hi"], 0x1 /* 1 var */ <unfinished ...>
        1 1.4 <... pause resumed>) = ?
        1 1.5 +++ superseded by execve in pid 2 +++
        1 1.6 <... execve resumed>) = 0 <0.000247>
        1 1.7 write(1, "hi\\n", 3) = 3
        """
    )
    assert rows(ev) == [(1, 1, "W", 3, "stdout", None)]
    assert ev.comm.tolist() == ["echo"]
    assert conv.joiner.orphans == 0


def test_unix_socket_named_by_path_on_both_ends():
    ev, _ = convert(
        """
        1 1.0 execve("/bin/s", ["s"], 0x1 /* 1 var */) = 0
        1 1.1 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3
        1 1.2 bind(3, {sa_family=AF_UNIX, sun_path="/run/s.sock"}, 110) = 0
        1 1.3 accept(3, NULL, NULL) = 4
        1 1.4 read(4<UNIX-STREAM:[200->100]>, "ab", 10) = 2
        2 1.5 write(5<UNIX-STREAM:[100->200]>, "ab", 2) = 2
        """
    )
    got = rows(ev)
    assert got[0] == (1, 4, "R", 2, "/run/s.sock", None)
    # pid 2 was never seen starting (attach-like): its decoration names it.
    assert got[1] == (2, 5, "W", 2, "unix:[100]", None)


@pytest.mark.parametrize(
    "line",
    [
        "garbage that is not strace",
        '1 1.0 <... read resumed>"x", 1) = 1',
    ],
)
def test_unreadable_lines_are_counted(line):
    _, conv = convert(line)
    assert conv.counters()["unparsed_lines"] == 1
    assert conv.counters()["unparsed_examples"] == [line]


def test_line_cut_by_a_strace_message_on_stderr_is_joined():
    # On stderr, "Process N attached" can land inside a call's line; the rest
    # of the line follows with no pid.
    conv = Converter()
    lines = [
        '[pid  5] 1.0 execve("/bin/a", ["a"], 0x1 /* 1 var */) = 0\n',
        '[pid  5] 1.1 write(1, "ab", 2strace: Process 6 attached\n',
        ") = 2\n",
    ]
    chunks = [*conv.feed(lines), conv.finish()]
    ev = pd.concat(chunks, ignore_index=True)
    assert rows(ev) == [(5, 1, "W", 2, "stdout", None)]
    assert conv.counters()["unparsed_lines"] == 0


def test_deleted_marker_after_the_decoration_is_not_part_of_the_name():
    ev, _ = convert(
        """
        1 1.0 execve("/bin/a", ["a"], 0x1 /* 1 var */) = 0
        1 1.1 memfd_create("buf", MFD_CLOEXEC) = 3</memfd:buf>(deleted)
        1 1.2 write(3</memfd:buf>(deleted), "abcd", 4) = 4
        1 1.3 write(4</tmp/gone (deleted)>, "xy", 2) = 2
        """
    )
    assert [r[4] for r in rows(ev)] == ["/memfd:buf", "/tmp/gone"]


def test_a_socket_decoration_on_a_file_entry_names_the_socket():
    """A table entry that is a file, decorated as a socket (the fd reused where the
    log does not show it), takes the socket's name, not only its kind."""
    ev, _ = convert(
        """
        10 1.0 execve("/bin/sh", ["sh"], 0x1 /* 1 var */) = 0
        10 1.1 openat(AT_FDCWD, "/tmp/f07.txt", O_RDONLY) = 3</tmp/f07.txt>
        10 1.2 read(3</tmp/f07.txt>, "ab", 2) = 2
        10 1.3 recvmsg(3<UNIX-STREAM:[31812->31813]>, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="f", iov_len=1}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 1
        10 1.4 read(3<UNIX-STREAM:[31812->31813]>, "g", 1) = 1
        """
    )
    assert rows(ev) == [
        (10, 3, "R", 2, "/tmp/f07.txt", None),
        (10, 3, "R", 1, "unix:[31812]", None),
        (10, 3, "R", 1, "unix:[31812]", None),
    ]
    assert ev.kind.tolist() == ["file", "unix", "unix"]


@pytest.mark.parametrize(
    ("deco", "kind"),
    [
        ("/dev/ttyUSB0<char 188:0>", "tty"),  # a serial port: major 188, not a listed tty major
        ("/dev/ttyUSB0", "tty"),  # the same fd named by --decode-fds=path
        ("/dev/pts/3<char 136:3>", "tty"),
        ("/dev/null<char 1:3>", "dev"),
        ("/dev/null", "dev"),
        ("/dev/sda<block 8:0>", "dev"),
    ],
)
def test_a_device_kind_is_the_same_with_or_without_its_numbers(deco, kind):
    ev, _ = convert(
        f"""
        10 1.0 execve("/bin/cat", ["cat"], 0x1 /* 1 var */) = 0
        10 1.1 read(5<{deco}>, "abcd", 64) = 4
        """
    )
    assert rows(ev) == [(10, 5, "R", 4, deco.partition("<")[0], None)]
    assert ev.kind.tolist() == [kind]
