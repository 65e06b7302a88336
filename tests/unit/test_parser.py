"""Unit tests of iomonitor.strace.parser.parse_line on literal strace lines.

Unless a comment says otherwise, every line was printed by strace 6.1 on Linux 6.x for a
small test program (``-f -o``, stderr, ``-Y``, ``-t``/``-tt``/``-ttt``/``-r``, nanosecond
stamps, ``-T``, ``-yy``, ``-x``/``-xx``, ``-X raw``/``verbose``, ``-n``/``-i``, ``-p`` with
Ctrl-C). Each test states every field of the Record: fields not named must keep their
defaults.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from iomonitor.strace import parser as p
from iomonitor.strace.parser import Record, parse_line

_DEFAULTS = {
    f.name: f.default for f in dataclasses.fields(Record) if f.name not in ("kind", "line")
}


def check(line: str, kind: str, **fields: Any) -> Record:
    """Parse ``line`` and compare every field of the record with the expectation."""
    unknown = set(fields) - set(_DEFAULTS)
    assert not unknown, unknown
    rec = parse_line(line)
    expected: dict[str, Any] = {"kind": kind, **_DEFAULTS, **fields}
    if expected["time"] is not None:
        expected["time"] = pytest.approx(expected["time"], abs=1e-9)
    got = {name: getattr(rec, name) for name in expected}
    assert got == expected
    assert rec.line == line.rstrip("\n").removesuffix("\r")
    return rec


def hms(h: int, m: int, s: float) -> float:
    return h * 3600 + m * 60 + s


TOD, EPOCH, RELATIVE = p.TOD, p.EPOCH, p.RELATIVE


# ---------------------------------------------------------------------------
# pid prefixes


def test_pid_column_of_f_o() -> None:
    check(
        '3065  12:34:17.036034 openat(AT_FDCWD</tmp/pt>, "/nonexistent/x", O_RDONLY)'
        " = -1 ENOENT (No such file or directory) <0.000025>\n",
        p.CALL,
        pid=3065,
        time=hms(12, 34, 17.036034),
        time_style=TOD,
        syscall="openat",
        args='AT_FDCWD</tmp/pt>, "/nonexistent/x", O_RDONLY',
        ret=-1,
        errno="ENOENT",
        extra="No such file or directory",
        dt=0.000025,
    )


def test_no_pid_column() -> None:
    # -ff -o p: one file per pid, no pid column.
    check(
        'read(3, "vm\\n", 8)                      = 3\n',
        p.CALL,
        syscall="read",
        args='3, "vm\\n", 8',
        ret=3,
    )


def test_pid_of_stderr() -> None:
    check(
        '[pid  4203] write(4, "x", 1)            = 1',
        p.CALL,
        pid=4203,
        syscall="write",
        args='4, "x", 1',
        ret=1,
    )


def test_pid_column_with_five_digits() -> None:
    check(
        "19441 +++ exited with 0 +++",
        p.EXITED,
        pid=19441,
        status=0,
    )


def test_pid_column_with_seven_digits() -> None:
    # %-5u of a pid near PID_MAX_LIMIT (4194304): one space. Built from the format.
    check(
        "4194303 close(3)                 = 0",
        p.CALL,
        pid=4194303,
        syscall="close",
        args="3",
        ret=0,
    )


def test_comm_of_y() -> None:
    check(
        '3991<s> read(3</etc/hostname>, "vm\\n", 8) = 3',
        p.CALL,
        pid=3991,
        comm="s",
        syscall="read",
        args='3</etc/hostname>, "vm\\n", 8',
        ret=3,
    )


def test_comm_of_y_with_time_and_t() -> None:
    check(
        '4111<s> 12:34:35.890174 read(3</etc/hostname>, "vm\\n", 8) = 3 <0.000016>',
        p.CALL,
        pid=4111,
        time=hms(12, 34, 35.890174),
        time_style=TOD,
        comm="s",
        syscall="read",
        args='3</etc/hostname>, "vm\\n", 8',
        ret=3,
        dt=0.000016,
    )


def test_comm_is_unescaped() -> None:
    # Regression: the comm was left escaped.
    # A program named "a>b c": strace prints the ">" as \76.
    check(
        '4127<a\\76b c> read(3, "vm\\n", 8)        = 3',
        p.CALL,
        pid=4127,
        comm="a>b c",
        syscall="read",
        args='3, "vm\\n", 8',
        ret=3,
    )


def test_comm_of_stderr_pid() -> None:
    # Regression: "[pid  N<comm>] " (stderr with -Y) was not read as a pid prefix: INVALID.
    check(
        "[pid  4235<m>] 12:34:59.840177 exit_group(0) = ?",
        p.CALL,
        pid=4235,
        time=hms(12, 34, 59.840177),
        time_style=TOD,
        comm="m",
        syscall="exit_group",
        args="0",
    )


def test_comm_decorates_returned_pids() -> None:
    check(
        "[pid  4234<m>] 12:34:59.840371 <... clone resumed>, child_tidptr=0x7f2555e4ba10)"
        " = 4237<m>",
        p.RESUMED,
        pid=4234,
        time=hms(12, 34, 59.840371),
        time_style=TOD,
        comm="m",
        syscall="clone",
        args=", child_tidptr=0x7f2555e4ba10",
        ret=4237,
        ret_deco="m",
    )


# ---------------------------------------------------------------------------
# timestamps


@pytest.mark.parametrize(
    ("line", "pid", "time", "style"),
    [
        pytest.param(
            '3951  12:34:28 read(3</etc/hostname>, "vm\\n", 8) = 3',
            3951,
            hms(12, 34, 28),
            TOD,
            id="-t",
        ),
        pytest.param(
            '3065  12:34:17.047092 read(3</etc/hostname>, "vm\\n", 8) = 3',
            3065,
            hms(12, 34, 17.047092),
            TOD,
            id="-tt",
        ),
        pytest.param(
            '3956  1795782868.984830 read(3</etc/hostname>, "vm\\n", 8) = 3',
            3956,
            1795782868.98483,
            EPOCH,
            id="-ttt",
        ),
        pytest.param(
            '3961       0.000073 read(3</etc/hostname>, "vm\\n", 8) = 3',
            3961,
            0.000073,
            RELATIVE,
            id="-r",
        ),
        pytest.param(
            '     0.000988 read(3</etc/hostname>, "vm\\n", 8) = 3',
            None,
            0.000988,
            RELATIVE,
            id="-r-no-pid",
        ),
        pytest.param(
            '3986       0.000063851 read(3</etc/hostname>, "vm\\n", 8) = 3',
            3986,
            0.000063851,
            RELATIVE,
            id="-r-ns",
        ),
        pytest.param(
            '3966  1795782869.003773587 read(3</etc/hostname>, "vm\\n", 8) = 3',
            3966,
            1795782869.003773587,
            EPOCH,
            id="unix-ns",
        ),
        pytest.param(
            '3971  12:34:29.012863200 read(3</etc/hostname>, "vm\\n", 8) = 3',
            3971,
            hms(12, 34, 29.0128632),
            TOD,
            id="format-time-precision-ns",
        ),
        pytest.param(
            '3976  1795782869.021 read(3</etc/hostname>, "vm\\n", 8) = 3',
            3976,
            1795782869.021,
            EPOCH,
            id="format-unix-precision-ms",
        ),
        # Regressions: INVALID (or, without the pid, the seconds read as a pid).
        pytest.param(
            '4096  1795782875 read(3</etc/hostname>, "vm\\n", 8) = 3',
            4096,
            1795782875.0,
            EPOCH,
            id="format-unix-precision-s",
        ),
        pytest.param(
            '1795782875 read(3</etc/hostname>, "vm\\n", 8) = 3',
            None,
            1795782875.0,
            EPOCH,
            id="format-unix-precision-s-no-pid",
        ),
        # Regressions: -r next to -t/-tt/-ttt and -n/-i were INVALID.
        pytest.param(
            '4101  12:34:35.874922 (+     0.000073) read(3</etc/hostname>, "vm\\n", 8) = 3',
            4101,
            hms(12, 34, 35.874922),
            TOD,
            id="-r-with-tt",
        ),
        pytest.param(
            '4106  1795782875.882560 (+     0.000068) read(3</etc/hostname>, "vm\\n", 8) = 3',
            4106,
            1795782875.88256,
            EPOCH,
            id="-r-with-ttt",
        ),
        pytest.param(
            '4356<s> 12:35:43.831406 [   0] [00007f56fd1df2ad] read(3</etc/hostname>, "vm\\n", 8)'
            " = 3",
            4356,
            hms(12, 35, 43.831406),
            TOD,
            id="-n-i",
        ),
    ],
)
def test_timestamps(line: str, pid: int | None, time: float, style: str) -> None:
    rec = parse_line(line)
    assert (rec.kind, rec.pid, rec.time_style) == (p.CALL, pid, style)
    assert rec.time == pytest.approx(time, abs=1e-9)
    assert (rec.syscall, rec.args, rec.ret, rec.dt) == (
        "read",
        '3</etc/hostname>, "vm\\n", 8',
        3,
        None,
    )


def test_time_without_pid_of_tt() -> None:
    check(
        '12:35:46.234212 read(0<pipe:[5942]>, "x", 1) = 1 <0.000004>',
        p.CALL,
        time=hms(12, 35, 46.234212),
        time_style=TOD,
        syscall="read",
        args='0<pipe:[5942]>, "x", 1',
        ret=1,
        dt=0.000004,
    )


def test_ttt_with_T() -> None:
    check(
        '4021  1795782869.086378 read(3</etc/hostname>, "vm\\n", 8) = 3 <0.000014>',
        p.CALL,
        pid=4021,
        time=1795782869.086378,
        time_style=EPOCH,
        syscall="read",
        args='3</etc/hostname>, "vm\\n", 8',
        ret=3,
        dt=0.000014,
    )


def test_syscall_number_and_unknown_address_of_n_i() -> None:
    # Regression: INVALID.
    check(
        "[ 231] [????????????????] +++ exited with 0 +++",
        p.EXITED,
        status=0,
    )


# ---------------------------------------------------------------------------
# return values


def test_exit_group_padding_and_no_duration() -> None:
    check(
        "3068  12:34:17.189619 exit_group(3)     = ?",
        p.CALL,
        pid=3068,
        time=hms(12, 34, 17.189619),
        time_style=TOD,
        syscall="exit_group",
        args="3",
    )


def test_padding_without_time() -> None:
    check(
        "3996  exit_group(0)                     = ?",
        p.CALL,
        pid=3996,
        syscall="exit_group",
        args="0",
    )


def test_hex_return() -> None:
    check(
        "3065  12:34:17.297289 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)"
        " = 0x7f4f85a45000 <0.000019>",
        p.CALL,
        pid=3065,
        time=hms(12, 34, 17.297289),
        time_style=TOD,
        syscall="mmap",
        args="NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0",
        ret=0x7F4F85A45000,
        dt=0.000019,
    )


def test_return_with_flags_text() -> None:
    check(
        "fcntl(3</etc/hostname>, F_GETFL)        = 0x8000 (flags O_RDONLY|O_LARGEFILE)",
        p.CALL,
        syscall="fcntl",
        args="3</etc/hostname>, F_GETFL",
        ret=0x8000,
        extra="(flags O_RDONLY|O_LARGEFILE)",
    )


def test_return_with_poll_result() -> None:
    check(
        "poll([{fd=3</etc/hostname>, events=POLLIN}], 1, 0) = 1 ([{fd=3, revents=POLLIN}])",
        p.CALL,
        syscall="poll",
        args="[{fd=3</etc/hostname>, events=POLLIN}], 1, 0",
        ret=1,
        extra="([{fd=3, revents=POLLIN}])",
    )


def test_return_with_timeout_text() -> None:
    check(
        "poll(NULL, 0, 0)                        = 0 (Timeout)",
        p.CALL,
        syscall="poll",
        args="NULL, 0, 0",
        ret=0,
        extra="(Timeout)",
    )


def test_erestartsys() -> None:
    check(
        "3065  12:34:17.296045 wait4(3140, NULL, 0, NULL)"
        " = ? ERESTARTSYS (To be restarted if SA_RESTART is set) <0.000020>",
        p.CALL,
        pid=3065,
        time=hms(12, 34, 17.296045),
        time_style=TOD,
        syscall="wait4",
        args="3140, NULL, 0, NULL",
        errno="ERESTARTSYS",
        extra="To be restarted if SA_RESTART is set",
        dt=0.00002,
    )


def test_eintr_of_rt_sigreturn() -> None:
    check(
        "3068  12:34:17.189519 rt_sigreturn({mask=[]}) = -1 EINTR (Interrupted system call)"
        " <0.000016>",
        p.CALL,
        pid=3068,
        time=hms(12, 34, 17.189519),
        time_style=TOD,
        syscall="rt_sigreturn",
        args="{mask=[]}",
        ret=-1,
        errno="EINTR",
        extra="Interrupted system call",
        dt=0.000016,
    )


def test_restart_syscall() -> None:
    check(
        "3065  12:34:17.189878 restart_syscall(<... resuming interrupted clock_nanosleep ...>)"
        " = 0 <0.049834>",
        p.CALL,
        pid=3065,
        time=hms(12, 34, 17.189878),
        time_style=TOD,
        syscall="restart_syscall",
        args="<... resuming interrupted clock_nanosleep ...>",
        ret=0,
        dt=0.049834,
    )


def test_unavailable_return() -> None:
    # Printed when strace cannot read the registers (the process vanished); shape from
    # strace's source: tprints("= ? <unavailable>").
    check(
        '1234  read(3, "x", 1) = ? <unavailable>',
        p.CALL,
        pid=1234,
        syscall="read",
        args='3, "x", 1',
        extra="<unavailable>",
    )


# ---------------------------------------------------------------------------
# -y / -yy decorations, -x / -xx, -X


def test_nested_device_decoration_on_return() -> None:
    check(
        '3065  12:34:17.035727 openat(AT_FDCWD</tmp/pt>, "/dev/null", O_WRONLY)'
        " = 3</dev/null<char 1:3>> <0.000051>",
        p.CALL,
        pid=3065,
        time=hms(12, 34, 17.035727),
        time_style=TOD,
        syscall="openat",
        args='AT_FDCWD</tmp/pt>, "/dev/null", O_WRONLY',
        ret=3,
        ret_deco="/dev/null<char 1:3>",
        dt=0.000051,
    )


def test_dup2_returns_a_nested_decoration() -> None:
    check(
        "3065  12:34:17.297066 dup2(3</dev/null<char 1:3>>, 5) = 5</dev/null<char 1:3>> <0.000009>",
        p.CALL,
        pid=3065,
        time=hms(12, 34, 17.297066),
        time_style=TOD,
        syscall="dup2",
        args="3</dev/null<char 1:3>>, 5",
        ret=5,
        ret_deco="/dev/null<char 1:3>",
        dt=0.000009,
    )


def test_octal_escapes_in_decorations() -> None:
    check(
        '3065  12:34:17.032487 openat(AT_FDCWD</tmp/pt>, "/tmp/pt/lt<gt>",'
        " O_RDWR|O_CREAT|O_TRUNC, 0644) = 3</tmp/pt/lt\\74gt\\76> <0.000299>",
        p.CALL,
        pid=3065,
        time=hms(12, 34, 17.032487),
        time_style=TOD,
        syscall="openat",
        args='AT_FDCWD</tmp/pt>, "/tmp/pt/lt<gt>", O_RDWR|O_CREAT|O_TRUNC, 0644',
        ret=3,
        ret_deco="/tmp/pt/lt\\74gt\\76",
        dt=0.000299,
    )


def test_deleted_after_the_decoration_in_args() -> None:
    check(
        '3065  12:34:17.034689 read(3</tmp/pt/lt\\74gt\\76>(deleted), "lo\\n", 3) = 3 <0.000025>',
        p.CALL,
        pid=3065,
        time=hms(12, 34, 17.034689),
        time_style=TOD,
        syscall="read",
        args='3</tmp/pt/lt\\74gt\\76>(deleted), "lo\\n", 3',
        ret=3,
        dt=0.000025,
    )


def test_deleted_after_the_return_decoration() -> None:
    # Regression: the parser read this memfd_create line as INVALID.
    check(
        '3065  12:34:17.035475 memfd_create("mymem", 0) = 3</memfd:mymem>(deleted) <0.000032>',
        p.CALL,
        pid=3065,
        time=hms(12, 34, 17.035475),
        time_style=TOD,
        syscall="memfd_create",
        args='"mymem", 0',
        ret=3,
        ret_deco="/memfd:mymem>(deleted)",
        dt=0.000032,
    )


def test_deleted_inside_the_decoration_of_old_strace() -> None:
    # strace < 5.19 printed the /proc/PID/fd link text. Built from that format.
    check(
        '1234  write(3</tmp/del (deleted)>, "x", 1) = 1',
        p.CALL,
        pid=1234,
        syscall="write",
        args='3</tmp/del (deleted)>, "x", 1',
        ret=1,
    )


def test_tcp_socket_decorations() -> None:
    check(
        "3065  12:34:17.045207 accept(3<TCP:[127.0.0.1:43961]>, NULL, NULL)"
        " = 5<TCP:[127.0.0.1:43961->127.0.0.1:53668]> <0.000030>",
        p.CALL,
        pid=3065,
        time=hms(12, 34, 17.045207),
        time_style=TOD,
        syscall="accept",
        args="3<TCP:[127.0.0.1:43961]>, NULL, NULL",
        ret=5,
        ret_deco="TCP:[127.0.0.1:43961->127.0.0.1:53668]",
        dt=0.00003,
    )


def test_tcpv6_socket_decorations() -> None:
    check(
        "3065  12:34:17.070547 accept(3<TCPv6:[[::1]:54391]>, NULL, NULL)"
        " = 5<TCPv6:[[::1]:54391->[::1]:48956]> <0.000102>",
        p.CALL,
        pid=3065,
        time=hms(12, 34, 17.070547),
        time_style=TOD,
        syscall="accept",
        args="3<TCPv6:[[::1]:54391]>, NULL, NULL",
        ret=5,
        ret_deco="TCPv6:[[::1]:54391->[::1]:48956]",
        dt=0.000102,
    )


def test_unix_socket_decorations() -> None:
    check(
        '3065  12:34:17.079720 accept(3<UNIX-STREAM:[5159,"/tmp/pt/sock"]>, NULL, NULL)'
        ' = 5<UNIX-STREAM:[5161->5160,"/tmp/pt/sock"]> <0.000061>',
        p.CALL,
        pid=3065,
        time=hms(12, 34, 17.079720),
        time_style=TOD,
        syscall="accept",
        args='3<UNIX-STREAM:[5159,"/tmp/pt/sock"]>, NULL, NULL',
        ret=5,
        ret_deco='UNIX-STREAM:[5161->5160,"/tmp/pt/sock"]',
        dt=0.000061,
    )


def test_pipe_decorations() -> None:
    check(
        "3065  12:34:17.036341 pipe2([3<pipe:[4341]>, 4<pipe:[4341]>], 0) = 0 <0.000030>",
        p.CALL,
        pid=3065,
        time=hms(12, 34, 17.036341),
        time_style=TOD,
        syscall="pipe2",
        args="[3<pipe:[4341]>, 4<pipe:[4341]>], 0",
        ret=0,
        dt=0.00003,
    )


def test_return_text_inside_a_string() -> None:
    check(
        '3065  12:34:17.033823 write(3</tmp/pt/a>, "x) = 5", 6) = 6 <0.000044>',
        p.CALL,
        pid=3065,
        time=hms(12, 34, 17.033823),
        time_style=TOD,
        syscall="write",
        args='3</tmp/pt/a>, "x) = 5", 6',
        ret=6,
        dt=0.000044,
    )


def test_return_text_inside_a_path_and_its_decoration() -> None:
    check(
        '3065  12:34:17.033485 openat(AT_FDCWD</tmp/pt>, "/tmp/pt/sp ) = 3",'
        " O_RDWR|O_CREAT|O_TRUNC, 0644) = 3</tmp/pt/sp ) = 3> <0.000279>",
        p.CALL,
        pid=3065,
        time=hms(12, 34, 17.033485),
        time_style=TOD,
        syscall="openat",
        args='AT_FDCWD</tmp/pt>, "/tmp/pt/sp ) = 3", O_RDWR|O_CREAT|O_TRUNC, 0644',
        ret=3,
        ret_deco="/tmp/pt/sp ) = 3",
        dt=0.000279,
    )


def test_return_text_inside_an_argument_decoration() -> None:
    check(
        "3065  12:34:17.033918 close(3</tmp/pt/sp ) = 3>) = 0 <0.000025>",
        p.CALL,
        pid=3065,
        time=hms(12, 34, 17.033918),
        time_style=TOD,
        syscall="close",
        args="3</tmp/pt/sp ) = 3>",
        ret=0,
        dt=0.000025,
    )


def test_awkward_path_with_brackets_and_escaped_quote() -> None:
    check(
        'write(3</tmp/pt/w(e[i{r,d-\\76>, "a,b\\") = 1", 9) = 9',
        p.CALL,
        syscall="write",
        args='3</tmp/pt/w(e[i{r,d-\\76>, "a,b\\") = 1", 9',
        ret=9,
    )


def test_xx_hex_strings_and_decorations() -> None:
    check(
        "4016  write(1<\\x2f\\x64\\x65\\x76\\x2f\\x6e\\x75\\x6c\\x6c<char 1:3>>,"
        ' "\\xc3\\xa9\\x01\\x78", 4) = 4',
        p.CALL,
        pid=4016,
        syscall="write",
        args='1<\\x2f\\x64\\x65\\x76\\x2f\\x6e\\x75\\x6c\\x6c<char 1:3>>, "\\xc3\\xa9\\x01\\x78", 4',
        ret=4,
    )


def test_xx_hex_return_decoration() -> None:
    check(
        '4001  openat(AT_FDCWD<\\x2f\\x74\\x6d\\x70\\x2f\\x70\\x74>, "\\x2f\\x65\\x74\\x63",'
        " O_RDONLY) = 3<\\x2f\\x65\\x74\\x63>",
        p.CALL,
        pid=4001,
        syscall="openat",
        args='AT_FDCWD<\\x2f\\x74\\x6d\\x70\\x2f\\x70\\x74>, "\\x2f\\x65\\x74\\x63", O_RDONLY',
        ret=3,
        ret_deco="\\x2f\\x65\\x74\\x63",
    )


def test_x_hex_string() -> None:
    check(
        '3996  write(1</dev/null>, "\\xc3\\xa9\\x01\\x78", 4) = 4',
        p.CALL,
        pid=3996,
        syscall="write",
        args='1</dev/null>, "\\xc3\\xa9\\x01\\x78", 4',
        ret=4,
    )


def test_X_raw() -> None:
    check(
        '4006  openat(-100</tmp/pt>, "/etc/hostname", 0) = 3</etc/hostname>',
        p.CALL,
        pid=4006,
        syscall="openat",
        args='-100</tmp/pt>, "/etc/hostname", 0',
        ret=3,
        ret_deco="/etc/hostname",
    )


def test_X_verbose() -> None:
    check(
        '4011  openat(-100 /* AT_FDCWD */</tmp/pt>, "/etc/hostname", 0 /* O_RDONLY */)'
        " = 3</etc/hostname>",
        p.CALL,
        pid=4011,
        syscall="openat",
        args='-100 /* AT_FDCWD */</tmp/pt>, "/etc/hostname", 0 /* O_RDONLY */',
        ret=3,
        ret_deco="/etc/hostname",
    )


def test_X_verbose_return_text() -> None:
    check(
        "poll([{fd=3</etc/hostname>, events=0x1 /* POLLIN */}], 1, 0)"
        " = 1 ([{fd=3, revents=0x1 /* POLLIN */}])",
        p.CALL,
        syscall="poll",
        args="[{fd=3</etc/hostname>, events=0x1 /* POLLIN */}], 1, 0",
        ret=1,
        extra="([{fd=3, revents=0x1 /* POLLIN */}])",
    )


def test_truncated_string() -> None:
    check(
        '3065  12:34:17.035829 write(3</dev/null<char 1:3>>, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"...,'
        " 100) = 100 <0.000022>",
        p.CALL,
        pid=3065,
        time=hms(12, 34, 17.035829),
        time_style=TOD,
        syscall="write",
        args='3</dev/null<char 1:3>>, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"..., 100',
        ret=100,
        dt=0.000022,
    )


def test_in_out_value_arrow() -> None:
    check(
        "3065  12:34:17.085048 getsockopt(3<TCP:[5166]>, SOL_SOCKET, SO_TYPE, [1], [128 => 4])"
        " = 0 <0.000076>",
        p.CALL,
        pid=3065,
        time=hms(12, 34, 17.085048),
        time_style=TOD,
        syscall="getsockopt",
        args="3<TCP:[5166]>, SOL_SOCKET, SO_TYPE, [1], [128 => 4]",
        ret=0,
        dt=0.000076,
    )


def test_in_out_value_arrow_of_old_strace() -> None:
    # strace < 5.12 printed [128->4]. Built from that format.
    check(
        "1234  getsockopt(3, SOL_SOCKET, SO_TYPE, [1], [128->4]) = 0",
        p.CALL,
        pid=1234,
        syscall="getsockopt",
        args="3, SOL_SOCKET, SO_TYPE, [1], [128->4]",
        ret=0,
    )


def test_unknown_syscall_name() -> None:
    # strace prints "???" for a syscall it cannot name; shape from strace's source.
    check(
        "1234  ???(0x1, 0x2)            = -1 ENOSYS (Function not implemented)",
        p.CALL,
        pid=1234,
        syscall="???",
        args="0x1, 0x2",
        ret=-1,
        errno="ENOSYS",
        extra="Function not implemented",
    )


def test_crlf_line_end() -> None:
    check(
        "3996  close(3)                           = 0\r\n",
        p.CALL,
        pid=3996,
        syscall="close",
        args="3",
        ret=0,
    )


def _escape(raw: bytes, deco: bool = False) -> str:
    """strace's quoting of bytes (printable ASCII raw, C escapes, octal); <> too in a deco."""
    out = []
    for i, b in enumerate(raw):
        c = chr(b)
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif 0x20 <= b < 0x7F and not (deco and c in "<>"):
            out.append(c)
        else:
            out.append(f"\\{b:03o}" if raw[i + 1 : i + 2].isdigit() else f"\\{b:o}")
    return "".join(out)


@given(st.binary(max_size=40), st.binary(max_size=40), st.booleans(), st.integers(0, 2**31))
@example(b'x) = 5 <detached ...> "y', b"sp ) = 3> (deleted)", True, 5)
@example(b"/usr/bin/strace: Process 7 attached", b"a<char 1:3>", False, 0)
def test_any_string_and_path_bytes_stay_in_their_fields(
    data: bytes, path: bytes, deleted: bool, n: int
) -> None:
    # The parser hands back strace >= 5.19's "(deleted)" after the ">" as ">(deleted)".
    deco = "/" + _escape(path, deco=True) + (">(deleted)" if deleted else "")
    fd_arg = "3</" + _escape(path, deco=True) + ">" + ("(deleted)" if deleted else "")
    args = f'{fd_arg}, "{_escape(data)}", {n}'
    check(
        f"42    12:00:00.000001 write({args}) = {n} <0.000001>",
        p.CALL,
        pid=42,
        time=hms(12, 0, 0.000001),
        time_style=TOD,
        syscall="write",
        args=args,
        ret=n,
        dt=0.000001,
    )
    args = f'AT_FDCWD, "/{_escape(path)}", O_RDONLY'
    check(
        f"42    openat({args}) = {fd_arg}",
        p.CALL,
        pid=42,
        syscall="openat",
        args=args,
        ret=3,
        ret_deco=deco,
    )


# ---------------------------------------------------------------------------
# split calls


def test_unfinished() -> None:
    check(
        "3068  12:34:17.092687 read(3<pipe:[4377]>,  <unfinished ...>",
        p.UNFINISHED,
        pid=3068,
        time=hms(12, 34, 17.092687),
        time_style=TOD,
        syscall="read",
        args="3<pipe:[4377]>, ",
    )


def test_unfinished_inside_the_arguments() -> None:
    check(
        "3135  12:34:17.244500 set_robust_list(0x7f4f85858a20, 24 <unfinished ...>",
        p.UNFINISHED,
        pid=3135,
        time=hms(12, 34, 17.2445),
        time_style=TOD,
        syscall="set_robust_list",
        args="0x7f4f85858a20, 24",
    )


def test_resumed() -> None:
    check(
        "3065  12:34:17.189222 <... clock_nanosleep resumed>NULL) = 0 <0.100134>",
        p.RESUMED,
        pid=3065,
        time=hms(12, 34, 17.189222),
        time_style=TOD,
        syscall="clock_nanosleep",
        args="NULL",
        ret=0,
        dt=0.100134,
    )


def test_resumed_with_no_arguments_left() -> None:
    check(
        "3135  12:34:17.244530 <... set_robust_list resumed>) = 0 <0.000016>",
        p.RESUMED,
        pid=3135,
        time=hms(12, 34, 17.24453),
        time_style=TOD,
        syscall="set_robust_list",
        args="",
        ret=0,
        dt=0.000016,
    )


def test_resumed_restart() -> None:
    check(
        "3068  12:34:17.189410 <... read resumed>0x7fff8af1b150, 1)"
        " = ? ERESTARTSYS (To be restarted if SA_RESTART is set) <0.096708>",
        p.RESUMED,
        pid=3068,
        time=hms(12, 34, 17.18941),
        time_style=TOD,
        syscall="read",
        args="0x7fff8af1b150, 1",
        errno="ERESTARTSYS",
        extra="To be restarted if SA_RESTART is set",
        dt=0.096708,
    )


def test_resumed_of_old_strace_has_a_space() -> None:
    # strace < 5.0 printed a space after "resumed>". Built from that format.
    check(
        '1234  <... read resumed> "abc", 3) = 3',
        p.RESUMED,
        pid=1234,
        syscall="read",
        args='"abc", 3',
        ret=3,
    )
    check(
        "1234  <... open resumed> )              = 3",
        p.RESUMED,
        pid=1234,
        syscall="open",
        args="",
        ret=3,
    )


def test_resumed_on_stderr_without_pid() -> None:
    check(
        "<... wait4 resumed>NULL, 0, NULL)       = 4313",
        p.RESUMED,
        syscall="wait4",
        args="NULL, 0, NULL",
        ret=4313,
    )


def test_resumed_decoration_with_return_text_inside() -> None:
    check(
        "3065  <... openat resumed>) = 3</tmp/pt/sp ) = 3>",
        p.RESUMED,
        pid=3065,
        syscall="openat",
        args="",
        ret=3,
        ret_deco="/tmp/pt/sp ) = 3",
    )


# ---------------------------------------------------------------------------
# process ends, signals


def test_exited() -> None:
    check(
        "3068  12:34:17.189812 +++ exited with 3 +++",
        p.EXITED,
        pid=3068,
        time=hms(12, 34, 17.189812),
        time_style=TOD,
        status=3,
    )


def test_exited_without_pid() -> None:
    check("+++ exited with 0 +++", p.EXITED, status=0)


def test_killed() -> None:
    check("4194  +++ killed by SIGKILL +++", p.KILLED, pid=4194, syscall="SIGKILL")


def test_killed_core_dumped() -> None:
    check("4193  +++ killed by SIGSEGV (core dumped) +++", p.KILLED, pid=4193, syscall="SIGSEGV")


def test_killed_by_sigkill_core_dumped_shape() -> None:
    check("+++ killed by SIGKILL (core dumped) +++", p.KILLED, syscall="SIGKILL")


def test_killed_by_realtime_signal() -> None:
    # Regression: "SIGRT_6" was cut to "SIGRT".
    check("+++ killed by SIGRT_6 +++", p.KILLED, syscall="SIGRT_6")


def test_superseded() -> None:
    check(
        "4191  +++ superseded by execve in pid 4195 +++",
        p.SUPERSEDED,
        pid=4191,
        status=4195,
    )


def test_superseded_on_stderr_with_time() -> None:
    check(
        "12:34:59.960543 +++ superseded by execve in pid 4238 +++",
        p.SUPERSEDED,
        time=hms(12, 34, 59.960543),
        time_style=TOD,
        status=4238,
    )


def test_execve_resumed_under_the_leader() -> None:
    check(
        "4191  <... execve resumed>)             = 0",
        p.RESUMED,
        pid=4191,
        syscall="execve",
        args="",
        ret=0,
    )


def test_signal() -> None:
    body = (
        "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=3068, si_uid=0, si_status=3,"
        " si_utime=0, si_stime=0} ---"
    )
    check(
        "3065  12:34:17.189854 " + body,
        p.SIGNAL,
        pid=3065,
        time=hms(12, 34, 17.189854),
        time_style=TOD,
        syscall="SIGCHLD",
        args=body,
    )


def test_signal_on_stderr_without_pid() -> None:
    body = (
        "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=4228, si_uid=0,"
        " si_status=SIGKILL, si_utime=0, si_stime=0} ---"
    )
    check(body, p.SIGNAL, syscall="SIGCHLD", args=body)


def test_realtime_signal() -> None:
    # Regression: "SIGRT_5" was cut to "SIGRT".
    body = "--- SIGRT_5 {si_signo=SIGRT_5, si_code=SI_TKILL, si_pid=4658, si_uid=0} ---"
    check(body, p.SIGNAL, syscall="SIGRT_5", args=body)


def test_stopped_by() -> None:
    check(
        "3140  12:34:17.245128 --- stopped by SIGSTOP ---",
        p.SIGNAL,
        pid=3140,
        time=hms(12, 34, 17.245128),
        time_style=TOD,
        syscall="SIGSTOP",
        args="--- stopped by SIGSTOP ---",
    )


def test_signal_of_strace_4() -> None:
    # strace 4.x without siginfo. Shape from old logs.
    check(
        "16820 --- SIGCHLD (Child exited) @ 0 (0) ---",
        p.SIGNAL,
        pid=16820,
        syscall="SIGCHLD",
        args="--- SIGCHLD (Child exited) @ 0 (0) ---",
    )


# ---------------------------------------------------------------------------
# detach (strace -p, Ctrl-C)


def test_detached() -> None:
    # The args end like an unfinished half's (the marker's own leading space is not kept).
    check(
        "12:35:46.234212 read(0<pipe:[5942]>,  <detached ...>\n",
        p.DETACHED,
        time=hms(12, 35, 46.234212),
        time_style=TOD,
        syscall="read",
        args="0<pipe:[5942]>, ",
    )


def test_detached_without_newline() -> None:
    check(
        "19503 12:45:32.465828 read(0,  <detached ...>",
        p.DETACHED,
        pid=19503,
        time=hms(12, 45, 32.465828),
        time_style=TOD,
        syscall="read",
        args="0, ",
    )


def test_detached_alone_after_a_message_cut_the_line() -> None:
    # Regression: stderr, after "read(0<pipe:[5942]>, /usr/bin/strace: Process 4376 detached".
    check(" <detached ...>", p.DETACHED)


def test_detached_followed_by_other_output() -> None:
    # The marker has no newline: the next run's stderr output lands on the same line.
    check(
        " <detached ...>/usr/bin/strace: Process 4400 attached",
        p.DETACHED,
        extra="/usr/bin/strace: Process 4400 attached",
    )


def test_detached_call_followed_by_another_call() -> None:
    # Regression: the second call's ") = 3" made the line a CALL of read with junk args.
    # Built from the two real lines: a marker left without its newline, then appended output.
    check(
        '19503 read(0,  <detached ...>19522 read(3, "vm\\n", 8) = 3',
        p.DETACHED,
        pid=19503,
        syscall="read",
        args="0, ",
        extra='19522 read(3, "vm\\n", 8) = 3',
    )


def test_detached_marker_inside_a_string_is_data() -> None:
    check(
        '42  write(1, "x <detached ...>y", 17) = 17',
        p.CALL,
        pid=42,
        syscall="write",
        args='1, "x <detached ...>y", 17',
        ret=17,
    )


# ---------------------------------------------------------------------------
# strace's own messages, also glued into a call's line (stderr)


@pytest.mark.parametrize(
    "line",
    [
        "/usr/bin/strace: Process 4203 attached",
        "strace: Process 4376 detached",
        "strace: Process 1234 attached\n",
        "strace: [ Process PID=1234 runs in 32 bit mode. ]",
        "[ Process PID=1234 runs in 32 bit mode. ]",
        # strace 4.x printed this without the "strace: " prefix.
        "Process 1234 attached",
    ],
)
def test_message(line: str) -> None:
    # Regression: strace run by a path ("/usr/bin/strace: ") and strace 4.x messages were INVALID.
    check(line, p.MESSAGE, extra=line.rstrip("\n"))


def test_message_glued_to_clone() -> None:
    # Regression: both halves of this stderr pair were INVALID.
    check(
        "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"
        "/usr/bin/strace: Process 4226 attached",
        p.UNFINISHED,
        syscall="clone",
        args="child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD",
        extra="/usr/bin/strace: Process 4226 attached",
    )
    check(
        ", child_tidptr=0x7f042a464a10) = 4226",
        p.RESUMED,
        args=", child_tidptr=0x7f042a464a10",
        ret=4226,
    )


def test_message_glued_to_clone_of_a_pid() -> None:
    check(
        "[pid  4225] clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"
        "/usr/bin/strace: Process 4227 attached",
        p.UNFINISHED,
        pid=4225,
        syscall="clone",
        args="child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD",
        extra="/usr/bin/strace: Process 4227 attached",
    )


def test_message_of_strace_run_from_path_glued_to_vfork() -> None:
    check(
        "vfork(strace: Process 19449 attached",
        p.UNFINISHED,
        syscall="vfork",
        extra="strace: Process 19449 attached",
    )
    check(")                                 = 19449", p.RESUMED, ret=19449)


def test_message_glued_to_clone_with_time_and_comm() -> None:
    check(
        "12:34:59.839617 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID"
        "|SIGCHLD/usr/bin/strace: Process 4235 attached",
        p.UNFINISHED,
        time=hms(12, 34, 59.839617),
        time_style=TOD,
        syscall="clone",
        args="child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD",
        extra="/usr/bin/strace: Process 4235 attached",
    )
    check(
        ", child_tidptr=0x7f2555e4ba10) = 4235<m>",
        p.RESUMED,
        args=", child_tidptr=0x7f2555e4ba10",
        ret=4235,
        ret_deco="m",
    )


def test_message_glued_to_clone3() -> None:
    head = (
        "{flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM"
        "|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f042a463990,"
        " parent_tid=0x7f042a463990, exit_signal=0, stack=0x7f0429c63000, stack_size=0x7fff80,"
        " tls=0x7f042a4636c0}"
    )
    check(
        "clone3(" + head + "/usr/bin/strace: Process 4229 attached",
        p.UNFINISHED,
        syscall="clone3",
        args=head,
        extra="/usr/bin/strace: Process 4229 attached",
    )
    check(
        " => {parent_tid=[4229]}, 88) = 4229",
        p.RESUMED,
        args=" => {parent_tid=[4229]}, 88",
        ret=4229,
    )


def test_message_glued_to_a_read_being_detached() -> None:
    check(
        "read(0<pipe:[5942]>, /usr/bin/strace: Process 4376 detached",
        p.UNFINISHED,
        syscall="read",
        args="0<pipe:[5942]>, ",
        extra="/usr/bin/strace: Process 4376 detached",
    )


def test_lone_unfinished_marker() -> None:
    # Regression: INVALID.
    # strace still thinks the cut line is open when another process prints.
    check(" <unfinished ...>", p.UNFINISHED)


def test_continuation_of_strace_6_1_status_filter() -> None:
    # Regression: INVALID.
    # strace 6.1 -f -e status=successful: the call's end comes with no pid (fixed in 6.2).
    check('"x", 1)                                 = 1', p.RESUMED, args='"x", 1', ret=1)
    check(
        "NULL)                                   = ? ERESTART_RESTARTBLOCK (Interrupted by signal)",
        p.RESUMED,
        args="NULL",
        errno="ERESTART_RESTARTBLOCK",
        extra="Interrupted by signal",
    )


def test_continuation_of_unavailable_return() -> None:
    # Old strace, a process that vanished mid-call. Shape from old logs.
    check(
        ")                                       = ? <unavailable>",
        p.RESUMED,
        extra="<unavailable>",
    )


def test_execve_of_a_thread_changes_pid() -> None:
    # Regression: INVALID. The thread's execve resumes under the leader's pid 4191.
    check(
        '4195  execve("/bin/true", ["/bin/true"], 0x7fffb073e528 /* 35 vars */'
        " <pid changed to 4191 ...>",
        p.UNFINISHED,
        pid=4195,
        syscall="execve",
        args='"/bin/true", ["/bin/true"], 0x7fffb073e528 /* 35 vars */',
        status=4191,
    )


def test_execve_of_a_thread_changes_pid_on_stderr() -> None:
    check(
        '[pid  4238<m>] 12:34:59.957783 execve("/bin/true", ["/bin/true"], 0x7ffc73b9b128'
        " /* 35 vars */ <pid changed to 4234 ...>",
        p.UNFINISHED,
        pid=4238,
        time=hms(12, 34, 59.957783),
        time_style=TOD,
        comm="m",
        syscall="execve",
        args='"/bin/true", ["/bin/true"], 0x7ffc73b9b128 /* 35 vars */',
        status=4234,
    )


# ---------------------------------------------------------------------------
# not strace


@pytest.mark.parametrize("line", ["", "\n", "   \n", "\t", "\r\n"])
def test_blank(line: str) -> None:
    check(line, p.BLANK)


@pytest.mark.parametrize(
    "line",
    [
        "hello world",
        "Segmentation fault (core dumped)",
        "12345",
        "% time     seconds  usecs/call     calls    errors syscall",
        "read(3, ",
        "<... read resumed",
        "+++ exited +++",
        "--- nothing ---",
        "= 3",
        "(",
        "\udcff\udcfe",
    ],
)
def test_garbage_is_invalid(line: str) -> None:
    check(line, p.INVALID)


def test_garbage_after_a_pid_keeps_the_pid() -> None:
    check("1234  ] not a call", p.INVALID, pid=1234)


def test_garbage_after_a_time_keeps_the_time() -> None:
    check(
        "12:00:01 (",
        p.INVALID,
        time=hms(12, 0, 1),
        time_style=TOD,
    )


def test_never_raises_on_odd_escapes_in_comm() -> None:
    check("1<\\q> close(3) = 0", p.CALL, pid=1, comm="\\q", syscall="close", args="3", ret=0)
    # A surrogate no byte decodes to (text not read from bytes) stays as it is.
    check(
        "1<\\\ud800> close(3) = 0", p.CALL, pid=1, comm="\\\ud800", syscall="close", args="3", ret=0
    )


def test_record_fields_keep_their_order() -> None:
    # Other modules build Records positionally.
    assert [f.name for f in dataclasses.fields(Record)] == [
        "kind",
        "pid",
        "time",
        "time_style",
        "comm",
        "syscall",
        "args",
        "ret",
        "ret_deco",
        "errno",
        "extra",
        "dt",
        "status",
        "line",
    ]


# Lines read with surrogateescape may hold lone surrogates: allow every category.
@given(st.text(st.characters(exclude_categories=()), max_size=80))
def test_never_raises(line: str) -> None:
    rec = parse_line(line)
    assert rec.kind in {
        p.CALL,
        p.UNFINISHED,
        p.RESUMED,
        p.EXITED,
        p.KILLED,
        p.SUPERSEDED,
        p.SIGNAL,
        p.DETACHED,
        p.MESSAGE,
        p.BLANK,
        p.INVALID,
    }


@given(
    st.lists(
        st.sampled_from(
            [
                "1234  ",
                "[pid  7<a>] ",
                "12:00:00.5 ",
                "1795782875 ",
                "(+ 0.1) ",
                "read(",
                "3<",
                "/a\\76",
                ">",
                "(deleted)",
                ", ",
                '"x\\"',
                ") = ",
                "?",
                "-1 ENOENT (x)",
                " <0.1>",
                " <unfinished ...>",
                " <detached ...>",
                "<... read resumed>",
                "strace: Process 9 ",
                "+++ exited with 1 +++",
                "--- SIGRT_1 {} ---",
                " <pid changed to 3 ...>",
                "\\",
            ]
        ),
        max_size=8,
    )
)
def test_never_raises_on_pieces_of_strace_lines(pieces: list[str]) -> None:
    line = "".join(pieces)
    assert parse_line(line).line == line.rstrip("\n")
