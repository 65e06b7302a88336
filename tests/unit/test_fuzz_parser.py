"""Property-based and fuzz tests of the strace line parser and the conversion.

Three sources of input:

- generated lines of every shape strace prints (prefixes, time styles,
  calls, halves, process markers, messages) and arbitrary text;
- real logs (recorded once from ``tests/programs``, kept below as literals)
  mutated: truncated at every byte of a line, bytes flipped, lines of
  different processes interleaved, starts of split calls removed, exits
  repeated;
- paths of arbitrary bytes, escaped as strace escapes them.

The properties: :func:`parse_line` and the :class:`Converter` never raise (bad
input is counted as unparsed); what is intact still converts, event for event;
names survive CSV and Parquet byte for byte.

Example counts are modest by default and ten times larger with ``--slow``
(see ``tests/conftest.py``).
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import oracle
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import iomonitor
import iomonitor.cli
from iomonitor import store
from iomonitor.strace import parser as p
from iomonitor.strace.convert import Converter
from iomonitor.strace.events import BYTE_MOVERS
from iomonitor.strace.parser import parse_line
from iomonitor.trace import unify

#: The loaded hypothesis profile's example count, relative to the default's 100.
SCALE = settings.default.max_examples / 100


def examples(n: int) -> settings:
    """``n`` examples in the default run, ten times more with --slow."""
    return settings(max_examples=max(1, round(n * SCALE)))


KINDS = {
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
DATE = dt.date(2026, 1, 15)

#: pipes: pipe, socketpair, fork (strace -f -ttt -T -yy)
PIPES_YY = r"""24800 1795783653.326861 execve("./pipes", ["./pipes", "/srv/run/out"], 0x7fff270cc148 /* 35 vars */) = 0 <0.000236>
24800 1795783653.327420 brk(NULL)       = 0x213f2000 <0.000015>
24800 1795783653.327459 brk(0x213f2d00) = 0x213f2d00 <0.000014>
24800 1795783653.327506 arch_prctl(ARCH_SET_FS, 0x213f2380) = 0 <0.000014>
24800 1795783653.327551 set_tid_address(0x213f2650) = 24800 <0.000013>
24800 1795783653.327587 set_robust_list(0x213f2660, 24) = 0 <0.000013>
24800 1795783653.327623 rseq(0x213f2ca0, 0x20, 0, 0x53053053) = 0 <0.000013>
24800 1795783653.327665 prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0 <0.000014>
24800 1795783653.327722 readlink("/proc/self/exe", "/srv/run/pipes", 4096) = 12 <0.000047>
24800 1795783653.327805 getrandom("\x08\x5c\x2f\x60\xb3\x16\xae\x15", 8, GRND_NONBLOCK) = 8 <0.000014>
24800 1795783653.327847 brk(NULL)       = 0x213f2d00 <0.000014>
24800 1795783653.327887 brk(0x21413d00) = 0x21413d00 <0.000015>
24800 1795783653.327923 brk(0x21414000) = 0x21414000 <0.000013>
24800 1795783653.327977 mprotect(0x4a3000, 16384, PROT_READ) = 0 <0.000020>
24800 1795783653.328026 getpid()        = 24800 <0.000012>
24800 1795783653.328068 write(1</srv/run/pipes.notes>, "pid.parent 24800\n", 17) = 17 <0.000044>
24800 1795783653.328199 pipe2([3<pipe:[46550]>, 4<pipe:[46550]>], 0) = 0 <0.000048>
24800 1795783653.328336 pipe2([5<pipe:[46033]>, 6<pipe:[46033]>], 0) = 0 <0.000018>
24800 1795783653.328424 socketpair(AF_UNIX, SOCK_STREAM, 0, [7<UNIX-STREAM:[46034->46035]>, 8<UNIX-STREAM:[46035->46034]>]) = 0 <0.000025>
24800 1795783653.328585 newfstatat(3<pipe:[46550]>, "", {st_mode=S_IFIFO|0600, st_size=0, ...}, AT_EMPTY_PATH) = 0 <0.000014>
24800 1795783653.328643 write(1</srv/run/pipes.notes>, "inode.down 46550\n", 17) = 17 <0.000015>
24800 1795783653.328692 newfstatat(5<pipe:[46033]>, "", {st_mode=S_IFIFO|0600, st_size=0, ...}, AT_EMPTY_PATH) = 0 <0.000012>
24800 1795783653.328737 write(1</srv/run/pipes.notes>, "inode.up 46033\n", 15) = 15 <0.000015>
24800 1795783653.328782 newfstatat(7<UNIX-STREAM:[46034->46035]>, "", {st_mode=S_IFSOCK|0777, st_size=0, ...}, AT_EMPTY_PATH) = 0 <0.000013>
24800 1795783653.328826 write(1</srv/run/pipes.notes>, "inode.sp_parent 46034\n", 22) = 22 <0.000014>
24800 1795783653.328877 newfstatat(8<UNIX-STREAM:[46035->46034]>, "", {st_mode=S_IFSOCK|0777, st_size=0, ...}, AT_EMPTY_PATH) = 0 <0.000013>
24800 1795783653.328925 write(1</srv/run/pipes.notes>, "inode.sp_child 46035\n", 21) = 21 <0.000014>
24800 1795783653.328968 write(1</srv/run/pipes.notes>, "fd.sp_parent 7\n", 15) = 15 <0.000014>
24800 1795783653.329011 write(1</srv/run/pipes.notes>, "fd.sp_child 8\n", 14) = 14 <0.000014>
24800 1795783653.329053 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x213f2650) = 24801 <0.000084>
24800 1795783653.329189 close(3<pipe:[46550]> <unfinished ...>
24801 1795783653.329209 set_robust_list(0x213f2660, 24 <unfinished ...>
24800 1795783653.329217 <... close resumed>) = 0 <0.000011>
24801 1795783653.329226 <... set_robust_list resumed>) = 0 <0.000011>
24800 1795783653.329234 close(6<pipe:[46033]>) = 0 <0.000020>
24801 1795783653.329267 getpid( <unfinished ...>
24800 1795783653.329278 close(8<UNIX-STREAM:[46035->46034]> <unfinished ...>
24801 1795783653.329290 <... getpid resumed>) = 24801 <0.000017>
24800 1795783653.329298 <... close resumed>) = 0 <0.000010>
24801 1795783653.329337 write(1</srv/run/pipes.notes>, "pid.child 24801\n", 16 <unfinished ...>
24800 1795783653.329378 write(4<pipe:[46550]>, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"..., 1000 <unfinished ...>
24801 1795783653.329394 <... write resumed>) = 16 <0.000017>
24800 1795783653.329404 <... write resumed>) = 1000 <0.000011>
24801 1795783653.329412 close(4<pipe:[46550]> <unfinished ...>
24800 1795783653.329424 write(4<pipe:[46550]>, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"..., 2000 <unfinished ...>
24801 1795783653.329436 <... close resumed>) = 0 <0.000014>
24800 1795783653.329446 <... write resumed>) = 2000 <0.000012>
24801 1795783653.329454 close(5<pipe:[46033]> <unfinished ...>
24800 1795783653.329466 close(4<pipe:[46550]> <unfinished ...>
24801 1795783653.329483 <... close resumed>) = 0 <0.000018>
24800 1795783653.329493 <... close resumed>) = 0 <0.000011>
24801 1795783653.329500 close(7<UNIX-STREAM:[46034->46035]> <unfinished ...>
24800 1795783653.329512 read(5<pipe:[46033]>,  <unfinished ...>
24801 1795783653.329523 <... close resumed>) = 0 <0.000012>
24801 1795783653.329543 read(3<pipe:[46550]>, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"..., 65536) = 3000 <0.000017>
24801 1795783653.329590 read(3<pipe:[46550]>, "", 65536) = 0 <0.000013>
24801 1795783653.329629 write(6<pipe:[46033]>, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"..., 500 <unfinished ...>
24800 1795783653.329666 <... read resumed>"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"..., 65536) = 500 <0.000145>
24801 1795783653.329675 <... write resumed>) = 500 <0.000034>
24800 1795783653.329686 read(5<pipe:[46033]>,  <unfinished ...>
24801 1795783653.329696 write(6<pipe:[46033]>, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"..., 700 <unfinished ...>
24800 1795783653.329724 <... read resumed>"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"..., 65536) = 700 <0.000030>
24801 1795783653.329733 <... write resumed>) = 700 <0.000028>
24800 1795783653.329744 read(5<pipe:[46033]>,  <unfinished ...>
24801 1795783653.329754 close(6<pipe:[46033]> <unfinished ...>
24800 1795783653.329780 <... read resumed>"", 65536) = 0 <0.000027>
24801 1795783653.329787 <... close resumed>) = 0 <0.000026>
24800 1795783653.329845 write(7<UNIX-STREAM:[46034->46035]>, "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"..., 300 <unfinished ...>
24801 1795783653.329894 write(8<UNIX-STREAM:[46035->46034]>, "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"..., 400 <unfinished ...>
24800 1795783653.329911 <... write resumed>) = 300 <0.000055>
24801 1795783653.329922 <... write resumed>) = 400 <0.000011>
24800 1795783653.329929 shutdown(7<UNIX-STREAM:[46034->46035]>, SHUT_WR <unfinished ...>
24801 1795783653.329941 shutdown(8<UNIX-STREAM:[46035->46034]>, SHUT_WR <unfinished ...>
24800 1795783653.329950 <... shutdown resumed>) = 0 <0.000011>
24801 1795783653.329959 <... shutdown resumed>) = 0 <0.000011>
24800 1795783653.329966 read(7<UNIX-STREAM:[46034->46035]>,  <unfinished ...>
24801 1795783653.329976 read(8<UNIX-STREAM:[46035->46034]>,  <unfinished ...>
24800 1795783653.329989 <... read resumed>"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"..., 65536) = 400 <0.000013>
24801 1795783653.329999 <... read resumed>"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"..., 65536) = 300 <0.000016>
24800 1795783653.330008 read(7<UNIX-STREAM:[46034->46035]>,  <unfinished ...>
24801 1795783653.330018 read(8<UNIX-STREAM:[46035->46034]>,  <unfinished ...>
24800 1795783653.330027 <... read resumed>"", 65536) = 0 <0.000012>
24801 1795783653.330035 <... read resumed>"", 65536) = 0 <0.000010>
24800 1795783653.330043 wait4(24801,  <unfinished ...>
24801 1795783653.330052 exit_group(0)   = ?
24801 1795783653.330175 +++ exited with 0 +++
24800 1795783653.330209 <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], __WALL, NULL) = 24801 <0.000161>
24800 1795783653.330234 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=24801, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---
24800 1795783653.330271 exit_group(0)   = ?
24800 1795783653.330411 +++ exited with 0 +++
"""

#: thread_open: a pthread sharing the fd table (strace -f -ttt -T -yy)
THREADS_YY = r"""24814 1795783653.452611 execve("./thread_open", ["./thread_open", "/srv/run/out"], 0x7ffc76d2fad8 /* 35 vars */) = 0 <0.000220>
24814 1795783653.453165 brk(NULL)       = 0x135f2000 <0.000014>
24814 1795783653.453210 brk(0x135f2d40) = 0x135f2d40 <0.000014>
24814 1795783653.453252 arch_prctl(ARCH_SET_FS, 0x135f23c0) = 0 <0.000014>
24814 1795783653.453297 set_tid_address(0x135f2690) = 24814 <0.000013>
24814 1795783653.453333 set_robust_list(0x135f26a0, 24) = 0 <0.000028>
24814 1795783653.453385 rseq(0x135f2ce0, 0x20, 0, 0x53053053) = 0 <0.000013>
24814 1795783653.453427 prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0 <0.000013>
24814 1795783653.453482 readlink("/proc/self/exe", "/srv/run/thread_open", 4096) = 18 <0.000039>
24814 1795783653.453563 getrandom("\xe6\x5e\x0b\x3f\x19\xe0\xd0\x68", 8, GRND_NONBLOCK) = 8 <0.000015>
24814 1795783653.453607 brk(NULL)       = 0x135f2d40 <0.000013>
24814 1795783653.453643 brk(0x13613d40) = 0x13613d40 <0.000015>
24814 1795783653.453681 brk(0x13614000) = 0x13614000 <0.000012>
24814 1795783653.453747 mprotect(0x4b5000, 16384, PROT_READ) = 0 <0.000019>
24814 1795783653.453794 getpid()        = 24814 <0.000013>
24814 1795783653.453834 write(1</srv/run/thread_open.notes>, "pid.main 24814\n", 15) = 15 <0.000030>
24814 1795783653.453972 openat(AT_FDCWD</srv/run>, "/srv/run/out/by_main.txt", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3</srv/run/out/by_main.txt> <0.000138>
24814 1795783653.454171 write(3</srv/run/out/by_main.txt>, "xxxxx", 5) = 5 <0.000020>
24814 1795783653.454225 rt_sigaction(SIGRT_1, {sa_handler=0x461680, sa_mask=[], sa_flags=SA_RESTORER|SA_ONSTACK|SA_RESTART|SA_SIGINFO, sa_restorer=0x453550}, NULL, 8) = 0 <0.000013>
24814 1795783653.454277 rt_sigprocmask(SIG_UNBLOCK, [RTMIN RT_1], NULL, 8) = 0 <0.000012>
24814 1795783653.454316 mmap(NULL, 8392704, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_STACK, -1, 0) = 0x7f1288a85000 <0.000039>
24814 1795783653.454383 mprotect(0x7f1288a86000, 8388608, PROT_READ|PROT_WRITE) = 0 <0.000017>
24814 1795783653.454432 rt_sigprocmask(SIG_BLOCK, ~[], [], 8) = 0 <0.000014>
24814 1795783653.454475 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f1289285990, parent_tid=0x7f1289285990, exit_signal=0, stack=0x7f1288a85000, stack_size=0x800300, tls=0x7f12892856c0} => {parent_tid=[24815]}, 88) = 24815 <0.000069>
24815 1795783653.454590 rseq(0x7f1289285fe0, 0x20, 0, 0x53053053 <unfinished ...>
24814 1795783653.454610 rt_sigprocmask(SIG_SETMASK, [],  <unfinished ...>
24815 1795783653.454624 <... rseq resumed>) = 0 <0.000015>
24814 1795783653.454632 <... rt_sigprocmask resumed>NULL, 8) = 0 <0.000011>
24815 1795783653.454642 set_robust_list(0x7f12892859a0, 24 <unfinished ...>
24814 1795783653.454654 futex(0x7f1289285990, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, 24815, NULL, FUTEX_BITSET_MATCH_ANY <unfinished ...>
24815 1795783653.454665 <... set_robust_list resumed>) = 0 <0.000016>
24815 1795783653.454685 rt_sigprocmask(SIG_SETMASK, [], NULL, 8) = 0 <0.000014>
24815 1795783653.454723 gettid()        = 24815 <0.000013>
24815 1795783653.454768 write(1</srv/run/thread_open.notes>, "tid.thread 24815\n", 17) = 17 <0.000018>
24815 1795783653.454835 openat(AT_FDCWD</srv/run>, "/srv/run/out/by_thread.txt", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 4</srv/run/out/by_thread.txt> <0.000146>
24815 1795783653.455027 write(4</srv/run/out/by_thread.txt>, "xxxxxxx", 7) = 7 <0.000026>
24815 1795783653.455084 write(3</srv/run/out/by_main.txt>, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"..., 50) = 50 <0.000015>
24815 1795783653.455132 rt_sigprocmask(SIG_BLOCK, ~[RT_1], NULL, 8) = 0 <0.000013>
24815 1795783653.455171 madvise(0x7f1288a85000, 8372224, MADV_DONTNEED) = 0 <0.000020>
24815 1795783653.455215 exit(0)         = ?
24814 1795783653.455276 <... futex resumed>) = 0 <0.000613>
24815 1795783653.455284 +++ exited with 0 +++
24814 1795783653.455302 write(4</srv/run/out/by_thread.txt>, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"..., 70) = 70 <0.000015>
24814 1795783653.455365 exit_group(0)   = ?
24814 1795783653.455511 +++ exited with 0 +++
"""

#: fork_close: fork, close, reopen (strace -f -tt -T, no -y)
FORK_TT = r"""25542 12:48:27.144862 execve("./fork_close", ["./fork_close", "/srv/run/out"], 0x7ffc3c927ee0 /* 35 vars */) = 0 <0.000214>
25542 12:48:27.145498 brk(NULL)         = 0x2ca20000 <0.000008>
25542 12:48:27.145535 brk(0x2ca20d00)   = 0x2ca20d00 <0.000010>
25542 12:48:27.145578 arch_prctl(ARCH_SET_FS, 0x2ca20380) = 0 <0.000008>
25542 12:48:27.145612 set_tid_address(0x2ca20650) = 25542 <0.000007>
25542 12:48:27.145636 set_robust_list(0x2ca20660, 24) = 0 <0.000008>
25542 12:48:27.145661 rseq(0x2ca20ca0, 0x20, 0, 0x53053053) = 0 <0.000008>
25542 12:48:27.145696 prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0 <0.000008>
25542 12:48:27.145747 readlink("/proc/self/exe", "/srv/run/fork_close", 4096) = 17 <0.000037>
25542 12:48:27.145821 getrandom("\x92\x16\xeb\x3a\xba\x8d\x23\xcf", 8, GRND_NONBLOCK) = 8 <0.000009>
25542 12:48:27.145856 brk(NULL)         = 0x2ca20d00 <0.000007>
25542 12:48:27.145880 brk(0x2ca41d00)   = 0x2ca41d00 <0.000010>
25542 12:48:27.145905 brk(0x2ca42000)   = 0x2ca42000 <0.000026>
25542 12:48:27.145977 mprotect(0x4a3000, 16384, PROT_READ) = 0 <0.000017>
25542 12:48:27.146025 getpid()          = 25542 <0.000007>
25542 12:48:27.146063 write(1, "pid.parent 25542\n", 17) = 17 <0.000008>
25542 12:48:27.146095 openat(AT_FDCWD, "/srv/run/out/parent.txt", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3 <0.000941>
25542 12:48:27.147074 write(3, "xxxxxxxxxx", 10) = 10 <0.000019>
25542 12:48:27.147125 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x2ca20650) = 25543 <0.002635>
25542 12:48:27.149842 wait4(25543,  <unfinished ...>
25543 12:48:27.149865 set_robust_list(0x2ca20660, 24) = 0 <0.000011>
25543 12:48:27.149943 getpid()          = 25543 <0.000008>
25543 12:48:27.150002 write(1, "pid.child 25543\n", 16) = 16 <0.000007>
25543 12:48:27.150043 write(3, "xxxxxxxxxxxxxxx", 15) = 15 <0.000008>
25543 12:48:27.150072 close(3)          = 0 <0.000008>
25543 12:48:27.150105 openat(AT_FDCWD, "/srv/run/out/child.txt", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3 <0.002187>
25543 12:48:27.152342 write(3, "xxxxxxxxxxxxxxxxxxxx", 20) = 20 <0.000021>
25543 12:48:27.152405 exit_group(0)     = ?
25543 12:48:27.152596 +++ exited with 0 +++
25542 12:48:27.152606 <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], __WALL, NULL) = 25543 <0.002743>
25542 12:48:27.152629 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=25543, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---
25542 12:48:27.152654 write(3, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 30) = 30 <0.000009>
25542 12:48:27.152702 exit_group(0)     = ?
25542 12:48:27.152861 +++ exited with 0 +++
"""


def lines_of(log: str) -> list[str]:
    return log.splitlines(keepends=True)


REAL_LOGS = {"pipes-yy": PIPES_YY, "threads-yy": THREADS_YY, "fork-tt": FORK_TT}
#: Logs whose every byte-moving line names its fd itself (-yy): there, no
#: other line is needed to name an event.
SELF_NAMING = ("pipes-yy", "threads-yy")


# --- helpers -------------------------------------------------------------------


def event_keys(cols: dict[str, list], with_time: bool = False, std: bool = True) -> Counter:
    """The events as a multiset of (pid, fd, dir, bytes, file, syscall[, time]).

    ``std=False`` puts one label on every event of fds 0-2: whether they are
    ``stdout`` or the path a decoration shows depends on whether the process
    was seen starting inside the trace, which a damaged line can hide.
    """
    names = ["pid", "fd", "dir", "bytes", "file", "syscall"] + (["time"] if with_time else [])
    keys = zip(*(cols[n] for n in names), strict=True)
    if not std:
        keys = ((*k[:4], "fd 0-2", *k[5:]) if k[1] <= 2 else k for k in keys)
    return Counter(keys)


def feed(lines: Iterable[str]) -> Converter:
    conv = Converter(date=DATE)
    for line in lines:
        conv.feed_line(line)
    conv.core.finish()
    conv.joiner.finish()
    return conv


def taken(conv: Converter) -> dict[str, list]:
    """The builder's events as plain columns, ``time`` in epoch seconds."""
    table = conv.builder.take()
    cols = table.to_pydict()
    us = table.column("time").cast(pa.int64()).to_pylist()
    cols["time"] = [None if u is None else u / 1e6 for u in us]
    return cols


def events_of(lines: Iterable[str], with_time: bool = False, std: bool = True) -> Counter:
    """Events of the lines, straight from the builder's columns (fast)."""
    return event_keys(taken(feed(lines)), with_time, std)


def convert_fully(lines: list[str], std: bool = True) -> tuple[Converter, Counter]:
    """The whole public conversion path: chunks, finish, tables, counters.

    The compiled core's results must be the pure-Python oracle's, on every case.
    """
    data = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    raw = data.encode("utf-8", "surrogateescape")
    want = oracle.convert(oracle.table_converter(oracle.Oracle, date=DATE, chunk_events=7), raw)
    got = oracle.convert(oracle.table_converter(date=DATE, chunk_events=7), raw)
    assert got == want
    conv = Converter(date=DATE, chunk_events=7)
    frames = list(conv.feed(lines))
    frames.append(conv.finish())
    procs, errs, counters = conv.processes(), conv.errors(), conv.counters()
    n = sum(len(f) for f in frames)
    assert counters["events"] == n
    assert set(procs["pid"]) == set(conv.builder.procs)
    assert (int(errs["count"].sum()) if len(errs) else 0) == counters["failed_calls"]
    got: Counter = Counter()
    for f in frames:
        assert (f["bytes"] >= 0).all() and (f["fd"] >= 0).all()
        assert set(f["dir"].astype(str)) <= {"R", "W", "M"}
        assert all(isinstance(x, str) and x for x in f["file"].astype(object))
        cols = {c: f[c].astype(object).tolist() for c in f.columns}
        got += event_keys(cols, std=std)
    return conv, got


def missing(expected: Counter, got: Counter) -> Counter:
    """Events expected but not there (multiset difference)."""
    return expected - got


# --- strace's escaping, for generated strings and paths -------------------------------

_C_ESCAPES = {0x09: "\\t", 0x0A: "\\n", 0x0B: "\\v", 0x0C: "\\f", 0x0D: "\\r"}


def strace_escape(raw: bytes, style: str = "octal", deco: bool = False) -> bytes:
    r"""Escape bytes as strace prints them in a string or a ``-y`` decoration.

    ``octal`` is strace's default (``\303\251``, shortest octal unless a
    digit follows), ``hex`` is ``-x`` (the whole string as ``\xNN`` once a
    byte is not printable ASCII, decorations too), ``xx`` is ``-xx``, ``raw``
    passes bytes >= 0x80 through as some strace builds do for UTF-8.
    Decorations also escape ``<`` and ``>``.
    """
    if style == "xx" or (style == "hex" and any(b < 0x20 or b > 0x7E for b in raw)):
        return "".join(f"\\x{b:02x}" for b in raw).encode()
    out = bytearray()
    for i, b in enumerate(raw):
        if b in (0x22, 0x5C):
            out += b"\\" + bytes([b])
        elif b in _C_ESCAPES:
            out += _C_ESCAPES[b].encode()
        elif (0x20 <= b <= 0x7E and not (deco and b in (0x3C, 0x3E))) or (
            style == "raw" and b >= 0x80
        ):
            out.append(b)
        else:
            nxt = raw[i + 1 : i + 2]
            digit = nxt and 0x30 <= nxt[0] <= 0x37
            out += (f"\\{b:03o}" if digit else f"\\{b:o}").encode()
    return bytes(out)


def text(line: bytes) -> str:
    """A log line as iomonitor reads it (UTF-8, undecodable bytes kept)."""
    return line.decode("utf-8", "surrogateescape")


# --- strategies ---------------------------------------------------------------------------

#: Bytes that matter to escaping, quoting and the \xNN convention, plus anything.
_TRICKY = [b"\\", b"x", b"8", b"f", b"0", b",", b'"', b"'", b"\n", b"\r", b"\t", b"<", b">"]
_TRICKY += [b" ", b"(", b")", b"=", b"[", b"]", b"{", b"}", b"\xff", b"\x80", b"\xc3\xa9", b"\x01"]
_TRICKY += [b"\xe6\x97\xa5", b"\x7f", b"...", b" (deleted)", b"->", b":", b"a", b"Z"]
NAME_BYTES = st.lists(
    st.sampled_from(_TRICKY) | st.binary(min_size=1, max_size=4), max_size=12
).map(b"".join)


def file_name() -> st.SearchStrategy[bytes]:
    """One path component: any bytes but ``/`` and NUL, not ``.``/``..``."""
    return (
        NAME_BYTES.map(lambda b: b.replace(b"/", b"_").replace(b"\0", b"_"))
        .filter(lambda b: b not in (b"", b".", b".."))
        .filter(lambda b: not b.endswith(b" (deleted)"))
    )


PIDS = st.sampled_from([None, 1, 2, 3, 4, 5, 6, 4194304])
ESCAPE_STYLES = st.sampled_from(["octal", "hex", "xx", "raw"])

_DECOS = [
    "/etc/passwd",
    "/tmp/a,b",
    "/tmp/lt\\74gt\\76",
    "/tmp/f>(deleted)",
    "/tmp/old (deleted)",
    "/dev/null<char 1:3>",
    "/dev/pts/3<char 136:3>",
    "/dev/sda<block 8:0>",
    "pipe:[4711]",
    "pipe:[4712]",
    "socket:[99]",
    "TCP:[10]",
    "TCP:[127.0.0.1:80]",
    "TCP:[127.0.0.1:80->127.0.0.1:5555]",
    "TCPv6:[[::1]:80->[::1]:5555]",
    "UDP:[0.0.0.0:53]",
    "UDP:[10.0.0.1:9->10.0.0.2:53]",
    "UNIX-STREAM:[100->101]",
    'UNIX-STREAM:[100->101,"/run/s"]',
    'UNIX-DGRAM:[102,@"abs"]',
    "NETLINK:[ROUTE:7]",
    "anon_inode:[eventfd]",
    "anon_inode:inotify",
    "pid:77",
    "/memfd:x>(deleted)",
    "\\x2f\\x74\\x6d\\x70",
    "",
    "<",
    "a<b",
    "TCP:[",
    "UNIX-STREAM:[x->]",
]
DECO = st.sampled_from(_DECOS)
_SOCKADDRS = [
    "NULL",
    '{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}',
    '{sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}',
    '{sa_family=AF_UNIX, sun_path="/run/s"}',
    '{sa_family=AF_UNIX, sun_path=@"abs"}',
    "{sa_family=AF_UNIX}",
    "{sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}",
    "{sa_family=AF_INET, sin_port=htons(",
    '{sa_family=AF_INET, sin_port=htons(99999999999), sin_addr=inet_addr("\\x31\\x2e")}',
]
SOCKADDR = st.sampled_from(_SOCKADDRS)


@st.composite
def fd_arg(draw: st.DrawFn) -> str:
    fd = draw(st.integers(-1, 9) | st.just(1 << 40) | st.just(-100))
    if fd >= 0 and draw(st.booleans()):
        return f"{fd}<{draw(DECO)}>"
    return "AT_FDCWD" if fd == -100 else str(fd)


@st.composite
def quoted(draw: st.DrawFn) -> str:
    raw = draw(NAME_BYTES)
    body = text(strace_escape(raw, draw(ESCAPE_STYLES)))
    return f'"{body}"' + draw(st.sampled_from(["", "..."]))


#: Argument lists of the calls the converter acts on, with holes to fill.
_TEMPLATES = [
    "read({fd}, {s}, {n})",
    "write({fd}, {s}, {n})",
    "pread64({fd}, {s}, {n}, 0)",
    "pwritev2({fd}, [{{iov_base={s}, iov_len={n}}}], 1, 0, RWF_APPEND)",
    "readv({fd}, [{{iov_base={s}, iov_len={n}}}], 1)",
    "recvfrom({fd}, {s}, {n}, 0, {sa}, [128 => 16])",
    "sendto({fd}, {s}, {n}, MSG_NOSIGNAL, {sa}, 16)",
    "sendmsg({fd}, {{msg_name={sa}, msg_namelen=16, msg_iov=[{{iov_base={s}, iov_len={n}}}], msg_iovlen=1, msg_control=[{{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[{fd2}]}}], msg_controllen=24, msg_flags=0}}, 0)",
    "recvmsg({fd}, {{msg_name={sa}, msg_namelen=128 => 16, msg_iov=[{{iov_base={s}, iov_len={n}}}], msg_iovlen=1, msg_control=[{{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[{fd2}, {fd}]}}], msg_controllen=24, msg_flags=MSG_CMSG_CLOEXEC}}, MSG_CMSG_CLOEXEC)",
    "sendmmsg({fd}, [{{msg_hdr={{msg_name={sa}, msg_namelen=16, msg_iov=[{{iov_base={s}, iov_len={n}}}], msg_iovlen=1, msg_controllen=0, msg_flags=0}}, msg_len={n}}}, {{msg_hdr={{msg_name=NULL, msg_namelen=0, msg_iov=[], msg_iovlen=0, msg_controllen=0, msg_flags=0}}, msg_len=3}}], 2, 0)",
    "recvmmsg({fd}, [{{msg_hdr={{msg_name={sa}, msg_namelen=128 => 16, msg_iov=[{{iov_base={s}, iov_len={n}}}], msg_iovlen=1, msg_controllen=0, msg_flags=0}}, msg_len={n}}}], 4, MSG_WAITFORONE, NULL)",
    "sendfile({fd}, {fd2}, NULL, {n})",
    "splice({fd}, NULL, {fd2}, [0], {n}, SPLICE_F_MOVE)",
    "copy_file_range({fd}, NULL, {fd2}, NULL, {n}, 0)",
    "tee({fd}, {fd2}, {n}, 0)",
    "vmsplice({fd}, [{{iov_base={s}, iov_len={n}}}], 1, 0)",
    "mmap(NULL, {n}, PROT_READ, MAP_PRIVATE, {fd}, 0)",
    "mmap(NULL, {n}, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)",
    "mmap(NULL, {n}",
    "io_uring_setup(8, {{flags=0, sq_thread_cpu=0}})",
    "io_uring_enter({fd}, 1, 0, 0, NULL, 8)",
    "io_submit(0x7f0000, 1, [{{aio_lio_opcode=IOCB_CMD_PWRITE, aio_fildes={fd}, aio_nbytes={n}}}])",
    "open({s}, O_RDONLY|O_CLOEXEC)",
    "openat({fd}, {s}, O_WRONLY|O_CREAT|O_TRUNC, 0644)",
    "openat2({fd}, {s}, {{flags=O_RDONLY|O_CLOEXEC, resolve=0}}, 24)",
    "creat({s}, 0644)",
    "close({fd})",
    "close_range({fdn}, {fdn2}, 0)",
    "close_range({fdn}, ~0U, CLOSE_RANGE_CLOEXEC)",
    "close_range({fdn}, {fdn2}, CLOSE_RANGE_UNSHARE)",
    "dup({fd})",
    "dup2({fd}, {fd2})",
    "dup3({fd}, {fd2}, O_CLOEXEC)",
    "fcntl({fd}, F_DUPFD, {fdn})",
    "fcntl({fd}, F_DUPFD_CLOEXEC, 0)",
    "fcntl({fd}, F_SETFD, FD_CLOEXEC)",
    "fcntl({fd}, F_SETFD, 0)",
    "fcntl({fd}, F_GETFL)",
    "pipe2([{fd}, {fd2}], O_CLOEXEC)",
    "pipe([{fd}, {fd2}])",
    "pipe([{fd}])",
    "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP)",
    "socket(AF_INET6, SOCK_DGRAM, IPPROTO_IP)",
    "socket(AF_UNIX, SOCK_STREAM, 0)",
    "socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE)",
    "socket(AF_PACKET, SOCK_RAW, 768)",
    "socketpair(AF_UNIX, SOCK_STREAM, 0, [{fd}, {fd2}])",
    "socketpair(AF_UNIX, SOCK_STREAM, 0)",
    "accept4({fd}, {sa}, [110 => 16], SOCK_CLOEXEC)",
    "accept({fd}, NULL, NULL)",
    "connect({fd}, {sa}, 16)",
    "bind({fd}, {sa}, 110)",
    "getsockname({fd}, {sa}, [128 => 16])",
    "getpeername({fd}, {sa}, [128 => 16])",
    "clone(child_stack=NULL, flags={cf}, child_tidptr=0x7f0000)",
    "clone3({{flags={cf}, exit_signal=SIGCHLD, stack=NULL, stack_size=0}}, 88)",
    "fork()",
    "vfork()",
    "execve({s}, [{s}, {s}], 0x7ffd0000 /* 3 vars */)",
    "execveat({fd}, {s}, [{s}], NULL, AT_EMPTY_PATH)",
    "chdir({s})",
    "fchdir({fd})",
    "unshare(CLONE_FILES|CLONE_FS)",
    "memfd_create({s}, MFD_CLOEXEC)",
    "pidfd_open({n}, 0)",
    "pidfd_getfd({fd}, {fdn}, 0)",
    "eventfd2(0, EFD_CLOEXEC)",
    "signalfd4(-1, [INT], 8, SFD_CLOEXEC)",
    "signalfd4({fd}, [INT], 8, 0)",
    "epoll_create1(EPOLL_CLOEXEC)",
    "exit_group(0)",
    "futex(0x7f00, FUTEX_WAIT, 2, NULL)",
    "nosuchcall({fd}, {s})",
]
_RETURNS = [
    "0",
    "1",
    "3",
    "7",
    "4096",
    "0x7f0000000000",
    "-1 EBADF (Bad file descriptor)",
    "-1 EAGAIN (Resource temporarily unavailable)",
    "-1 EINPROGRESS (Operation now in progress)",
    "?",
    "? ERESTARTSYS (To be restarted if SA_RESTART is set)",
    "-1 EINTR (Interrupted system call)",
    "0 (Timeout)",
    "1 ([{fd=3, revents=POLLIN}])",
]


@st.composite
def returns(draw: st.DrawFn) -> str:
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return draw(st.sampled_from(_RETURNS))
    if choice == 1:
        return str(draw(st.integers(-(1 << 63), 1 << 64)))
    fd = draw(st.integers(0, 9))
    return f"{fd}<{draw(DECO)}>" if choice == 2 else str(fd)


@st.composite
def call_body(draw: st.DrawFn) -> tuple[str, str, str]:
    """(name, argument text, return text) of one call."""
    template = draw(st.sampled_from(_TEMPLATES))
    name, _, rest = template.partition("(")
    args = rest[:-1] if rest.endswith(")") else rest
    fill = {
        "fd": draw(fd_arg()),
        "fd2": draw(fd_arg()),
        "fdn": draw(st.integers(0, 12)),
        "fdn2": draw(st.integers(0, 12)),
        "s": draw(quoted()),
        "n": draw(st.integers(0, 1 << 20) | st.sampled_from([-1, 1 << 63, 0x10000])),
        "sa": draw(SOCKADDR),
        "cf": draw(
            st.sampled_from(
                [
                    "SIGCHLD",
                    "CLONE_VM|CLONE_VFORK|SIGCHLD",
                    "CLONE_FILES|SIGCHLD",
                    "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM",
                    "CLONE_PARENT|CLONE_FS",
                ]
            )
        ),
    }
    return name, args.format(**fill), draw(returns())


PREFIX_STYLES = st.sampled_from(["none", "f", "Y", "stderr", "stderr-Y"])
TIME_STYLES = st.sampled_from(["none", "t", "tt", "ttt", "r", "ns"])


@st.composite
def prefix(draw: st.DrawFn, pid: int | None) -> tuple[str, bool]:
    """A pid prefix (of any style) and a timestamp (of any style); whether a pid is in it."""
    style = draw(PREFIX_STYLES)
    if pid is None or style == "none":
        head = ""
    elif style == "f":
        head = f"{pid:<5} "
    elif style == "Y":
        comm = draw(st.sampled_from(["cat", "a b", "x\\76y", ""]))
        head = f"{pid}<{comm}> "
    elif style == "stderr":
        head = f"[pid {pid:>5}] "
    else:
        head = f"[pid {pid:>5}<sh>] "
    ts = draw(TIME_STYLES)
    secs = draw(st.integers(0, 86399))
    us = draw(st.integers(0, 999999))
    hms = f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"
    stamp = {
        "none": "",
        "t": f"{hms} ",
        "tt": f"{hms}.{us:06d} ",
        "ns": f"{hms}.{us:06d}123 ",
        "ttt": f"{1795000000 + secs}.{us:06d} ",
        "r": f"{secs % 9:6d}.{us:06d} ",
    }[ts]
    return head + stamp, bool(head)


@st.composite
def strace_line(draw: st.DrawFn) -> str:
    """Any line strace prints (and a few it does not)."""
    pid = draw(PIDS)
    head, _ = draw(prefix(pid))
    shape = draw(
        st.sampled_from(
            ["call", "call", "call", "unfinished", "resumed", "marker", "message", "junk"]
        )
    )
    dt_ = draw(st.sampled_from(["", " <0.000012>", " <12>", " <0.0000"]))
    if shape in ("call", "unfinished", "resumed"):
        name, args, ret = draw(call_body())
        if shape == "call":
            return f"{head}{name}({args}) = {ret}{dt_}\n"
        cut = draw(st.integers(0, len(args)))
        if shape == "unfinished":
            return f"{head}{name}({args[:cut]} <unfinished ...>\n"
        return f"{head}<... {name} resumed>{args[cut:]}) = {ret}{dt_}\n"
    if shape == "marker":
        other = draw(st.integers(1, 7))
        return (
            head
            + draw(
                st.sampled_from(
                    [
                        f"+++ exited with {other} +++",
                        "+++ exited with 0 +++",
                        "+++ killed by SIGKILL +++",
                        "+++ killed by SIGSEGV (core dumped) +++",
                        f"+++ superseded by execve in pid {other} +++",
                        "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=2} ---",
                        "--- stopped by SIGSTOP ---",
                        " <detached ...>",
                        '<detached ...>write(1, "x", 1) = 1',
                        " <unfinished ...>",
                        f"read(3, <pid changed to {other} ...>",
                    ]
                )
            )
            + "\n"
        )
    if shape == "message":
        return (
            head
            + draw(
                st.sampled_from(
                    [
                        f"strace: Process {pid} attached",
                        "/usr/bin/strace: Process 7 detached",
                        "strace: [ Process PID=3 runs in 32 bit mode. ]",
                        "Process 4 attached",
                    ]
                )
            )
            + "\n"
        )
    return head + draw(st.text(max_size=40)) + "\n"


ANY_TEXT = st.text(
    alphabet=st.characters(codec=None, exclude_categories=["Cs"])
    | st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF),
    max_size=200,
)


# --- parse_line -----------------------------------------------------------------------------


@examples(600)
@given(ANY_TEXT)
def test_parse_line_never_raises_on_any_text(line: str) -> None:
    rec = parse_line(line)
    assert rec.kind in KINDS


@examples(200)
@given(strace_line())
def test_parse_line_never_raises_on_generated_lines(line: str) -> None:
    rec = parse_line(line)
    assert rec.kind in KINDS
    # The parser drops a CRLF log's carriage return along with the newline.
    assert rec.kind != p.INVALID or rec.line == line.rstrip("\n").removesuffix("\r")


@examples(200)
@given(st.data())
def test_parse_line_reads_well_formed_calls(data: st.DataObject) -> None:
    """A generated whole call comes back with its pid, name, arguments, return and duration."""
    pid = data.draw(st.integers(1, 4194304))
    head, has_pid = data.draw(prefix(pid))
    assume(head)  # a line without pid or time could be a continuation; tested elsewhere
    name, args, ret = data.draw(call_body())
    dt_ = data.draw(st.sampled_from([None, 0.000012, 1.5]))
    tail = "" if dt_ is None else f" <{dt_:.6f}>"
    line = f"{head}{name}({args}) = {ret}{tail}\n"
    rec = parse_line(line)
    assert rec.kind == p.CALL, (line, rec)
    assert rec.syscall == name
    assert rec.args == args, (line, rec)
    assert rec.pid == (pid if has_pid else None), (line, rec)
    if dt_ is not None:
        assert rec.dt == pytest.approx(dt_)
    first = ret.split(" ", 1)[0].split("<", 1)[0]
    expected_ret = None if first == "?" else int(first, 0)
    assert rec.ret == expected_ret, (line, rec)
    m = re.match(r"\S+ (E[A-Z0-9_]+) \(", ret)
    assert rec.errno == (m.group(1) if m else None), (line, rec)


# --- the converter on generated lines -----------------------------------------------------


@examples(60)
@given(st.lists(strace_line(), max_size=60))
def test_converter_never_raises_on_generated_lines(lines: list[str]) -> None:
    convert_fully(lines)


@examples(80)
@given(st.lists(ANY_TEXT, max_size=30))
def test_converter_never_raises_on_any_text(lines: list[str]) -> None:
    conv, _ = convert_fully(lines)
    assert conv.counters()["lines"] == len(lines)


@examples(15)
@given(st.lists(strace_line(), max_size=40))
def test_generated_traces_survive_csv_and_parquet(lines: list[str]) -> None:
    """Whatever the converter made, both writers write and both readers read back."""
    conv = Converter(date=DATE)
    frames = [*conv.feed(lines), conv.finish()]
    events = unify(pd.concat(frames, ignore_index=True))
    trace = iomonitor.Trace(events, conv.processes(), conv.errors(), conv.counters())
    with tempfile.TemporaryDirectory() as tmp:
        for ext in ("csv", "parquet"):
            path = Path(tmp) / f"t.{ext}"
            store.write(trace, path)
            back = store.load(path, date=DATE)
            assert len(back.events) == len(events)
            assert back.events["bytes"].tolist() == events["bytes"].tolist()
            assert [iomonitor.raw_name(f) for f in back.events["file"]] == [
                iomonitor.raw_name(f) for f in events["file"]
            ]


# --- regressions found by the generators above -------------------------------------------

#: Lines a corrupt log can hold whose numbers no column can store.
OUT_OF_RANGE = [
    '7 1795000000.000001 read(1099511627776, "", 0) = 0',
    '7 1795000000.000002 write(1, "x", 18446744073709551615) = 18446744073709551615',
    "7 1795000000.000003 clone(child_stack=NULL, flags=SIGCHLD) = 0x7f0000000000",
    "7 1795000000.000004 mmap(NULL, 0xffffffffffffffff, PROT_READ, MAP_PRIVATE, 0, 0) = 0x7f00",
    '7 99999999999999.000005 write(1, "x", 1) = 1',
    "7 " + "9" * 400 + '.0 write(1, "x", 1) = 1',
    "8 1795000000.000006 +++ exited with 99999999999 +++",
]


def test_out_of_range_numbers_are_unparsed_lines_not_exceptions() -> None:
    """An fd, pid, byte count, exit status or time no column can hold: counted, not raised."""
    good = '7 1795000000.000000 write(1, "hi", 2) = 2'
    conv, got = convert_fully([good, *OUT_OF_RANGE])
    assert got == Counter({(7, 1, "W", 2, "stdout", "write"): 1})
    assert conv.counters()["unparsed_lines"] == len(OUT_OF_RANGE)
    assert set(conv.processes()["pid"]) == {7}


def test_out_of_range_numbers_through_the_fast_path(tmp_path: Path) -> None:
    """The same corrupt lines after lines of the same shape (served from templates by -i)."""
    good = [f'7 1795000000.{i:06d} write(1, "hi", 2) = 2\n' for i in range(5)]
    bad = [
        '7 1795000001.000000 write(1, "hi", 2) = 18446744073709551615\n',
        '7 99999999999999.000000 write(1, "hi", 2) = 2\n',
    ]
    log = tmp_path / "strace.log"
    log.write_text("".join(good + bad + good[:1]))
    out = tmp_path / "t.parquet"
    assert iomonitor.cli.main(["-i", str(log), "-o", str(out)]) == 0
    trace = iomonitor.load(out)
    assert trace.events["bytes"].tolist() == [2] * 6
    assert trace.meta["unparsed_lines"] == len(bad)


def test_out_of_range_ports_are_unknown_ports() -> None:
    lines = [
        "7 1795000000.000000 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3",
        '7 1795000000.000001 sendto(3, "x", 1, 0, {sa_family=AF_INET, sin_port=htons(99999), sin_addr=inet_addr("10.0.0.1")}, 16) = 1',
        '7 1795000000.000002 write(4<UDP:[10.0.0.2:5->10.0.0.1:70000]>, "x", 1) = 1',
    ]
    conv = Converter(date=DATE)
    frames = [*conv.feed(lines), conv.finish()]
    ev = pd.concat(frames)
    assert ev["file"].astype(str).tolist() == ["10.0.0.1", "10.0.0.1"]
    assert ev["port"].isna().all()


def test_undecodable_bytes_in_socket_and_pipe_labels_are_escaped(tmp_path: Path) -> None:
    """A byte that is not UTF-8 inside a pipe or socket label (a damaged log) becomes \\xNN."""
    log = tmp_path / "strace.log"
    log.write_bytes(
        b'7 1795000000.000001 read(3<pipe:[46\x80]>, "", 9) = 0\n'
        b'7 1795000000.000002 write(4<anon_inode:[ev\xff]>, "x", 1) = 1\n'
        b"7 1795000000.000003 socket(AF_\xfe, SOCK_RAW, 0) = 5\n"
        b'7 1795000000.000004 write(5, "x", 1) = 1\n'
        b'7 1795000000.000005 sendto(6<UDP:[1.2.3.4:5->6.7.8.9:53]>, "x", 1, 0, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("6.7.\xff")}, 16) = 1\n'
    )
    files = ["pipe:[46\\x80]", "anon_inode:[ev\\xff]", "socket:AF_\\xfe", "6.7.\\xff"]
    for out in ("t.parquet", "t.csv"):
        assert iomonitor.cli.main(["-i", str(log), "-o", str(tmp_path / out)]) == 0
        ev = iomonitor.load(tmp_path / out, date=DATE).events
        assert ev["file"].astype(str).tolist() == files


#: From the torture program (strace -f -ttt -T, no -y): the receiver's recvmsg
#: end is printed before the sender's sendmsg end.
SCM_RECEIVED_FIRST = r"""31181 1795785392.200699 socketpair(AF_UNIX, SOCK_STREAM, 0,  <unfinished ...>
31181 1795785392.200717 <... socketpair resumed>[3, 4]) = 0 <0.000013>
31181 1795785392.200735 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>
31181 1795785392.200815 <... clone resumed>, child_tidptr=0x7f6a83c91a10) = 31200 <0.000075>
31181 1795785392.200858 close(4 <unfinished ...>
31181 1795785392.200876 <... close resumed>) = 0 <0.000012>
31200 1795785392.200923 close(3 <unfinished ...>
31181 1795785392.200930 recvmsg(3,  <unfinished ...>
31200 1795785392.200938 <... close resumed>) = 0 <0.000011>
31200 1795785392.200970 openat(AT_FDCWD, "/srv/t/f03.txt", O_WRONLY|O_CREAT|O_APPEND, 0644) = 3 <0.000012>
31200 1795785392.201019 sendmsg(4, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="f", iov_len=1}], msg_iovlen=1, msg_control=[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[3]}], msg_controllen=24, msg_flags=0}, 0 <unfinished ...>
31181 1795785392.201045 <... recvmsg resumed>{msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="f", iov_len=1}], msg_iovlen=1, msg_control=[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[4]}], msg_controllen=24, msg_flags=0}, 0) = 1 <0.000100>
31200 1795785392.201054 <... sendmsg resumed>) = 1 <0.000025>
31200 1795785392.201068 close(3)        = 0 <0.000010>
31181 1795785392.201206 write(4, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"..., 1631) = 1631 <0.000016>
31181 1795785392.301206 socketpair(AF_UNIX, SOCK_STREAM, 0, [5, 6]) = 0 <0.000013>
31181 1795785392.301207 openat(AT_FDCWD, "/srv/t/f04.txt", O_WRONLY|O_CREAT|O_APPEND, 0644) = 7 <0.000012>
31181 1795785392.301208 sendmsg(5, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="f", iov_len=1}], msg_iovlen=1, msg_control=[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[7]}], msg_controllen=24, msg_flags=0}, 0) = 1 <0.000025>
31181 1795785392.301209 recvmsg(6, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="f", iov_len=1}], msg_iovlen=1, msg_control=[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[8]}], msg_controllen=24, msg_flags=0}, 0) = 1 <0.000100>
31181 1795785392.301210 write(8, "xx", 2) = 2 <0.000016>
"""


def test_scm_rights_received_before_the_send_completes() -> None:
    """The fd passed is named although the receive ended first in the log."""
    _, got = convert_fully(lines_of(SCM_RECEIVED_FIRST))
    writes = {k: v for k, v in got.items() if k[2] == "W" and k[5] == "write"}
    assert writes == {
        (31181, 4, "W", 1631, "/srv/t/f03.txt", "write"): 1,
        (31181, 8, "W", 2, "/srv/t/f04.txt", "write"): 1,
    }


def test_empty_decoration_names_nothing() -> None:
    """A damaged ``3<>`` is no name: the fd keeps the name the table knows."""
    lines = [
        '7 1795000000.000000 openat(AT_FDCWD, "/srv/a", O_RDONLY) = 3\n',
        '7 1795000000.000001 read(3<>, "", 9) = 0\n',
        '7 1795000000.000002 read(4<>, "", 9) = 0\n',
    ]
    _, got = convert_fully(lines)
    assert got == Counter(
        {(7, 3, "R", 0, "/srv/a", "read"): 1, (7, 4, "R", 0, "unknown:4", "read"): 1}
    )


def test_csv_of_a_log_without_timestamps_reads_back(tmp_path: Path) -> None:
    """Events of a log without -t have no time: the CSV holds an empty time and reads back."""
    log = tmp_path / "strace.log"
    log.write_text('7 write(1, "hi", 2) = 2\n7 read(0, "", 4) = 0\n')
    out = tmp_path / "t.csv"
    assert iomonitor.cli.main(["-i", str(log), "-o", str(out)]) == 0
    assert out.read_text().splitlines()[1] == ",,7,1,W,2,stdout,"
    ev = iomonitor.load(out).events
    assert ev["time"].isna().all()
    assert ev["bytes"].tolist() == [2, 0]


def test_csv_with_a_garbled_time_is_bad_input(tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    out.write_text("time,dt,pid,fd,dir,bytes,file,port\n12:00:0x,,7,1,W,2,stdout,\n")
    with pytest.raises(iomonitor.InputError, match="line 2"):
        iomonitor.load(out)


# --- mutated real logs --------------------------------------------------------------------


def check_truncations(lines: list[str], i: int) -> int:
    """Cut line ``i`` at every byte; the events of every other line stay. Returns cuts tried."""
    expected = events_of(lines[:i] + lines[i + 1 :], std=False)
    line = lines[i].rstrip("\n")
    raw = text_bytes = line.encode("utf-8", "surrogateescape")
    for cut in range(len(raw) + 1):
        cut_line = text(text_bytes[:cut])
        # The last line of a log cut mid-line has no newline.
        end = "" if i == len(lines) - 1 else "\n"
        got = events_of([*lines[:i], cut_line + end, *lines[i + 1 :]], std=False)
        lost = missing(expected, got)
        assert not lost, f"cutting line {i} at byte {cut} ({cut_line!r}) lost {lost}"
    return len(raw) + 1


@pytest.mark.parametrize("name", list(REAL_LOGS))
@examples(4)
@given(data=st.data())
def test_line_truncated_at_every_byte_keeps_the_other_events(name: str, data) -> None:
    lines = lines_of(REAL_LOGS[name])
    if name not in SELF_NAMING:
        # Without -y a cut open/close/dup renames later events: only the
        # byte movers may be cut, and the rest must hold.
        movers = [i for i, line in enumerate(lines) if parse_line(line).syscall in BYTE_MOVERS]
        i = data.draw(st.sampled_from(movers))
    else:
        i = data.draw(st.integers(0, len(lines) - 1))
    check_truncations(lines, i)


@pytest.mark.slow
@pytest.mark.parametrize("name", SELF_NAMING)
def test_every_line_truncated_at_every_byte(name: str) -> None:
    lines = lines_of(REAL_LOGS[name])
    cuts = sum(check_truncations(lines, i) for i in range(len(lines)))
    assert cuts > len(lines) * 40


@pytest.mark.parametrize("name", list(REAL_LOGS))
def test_log_cut_mid_line_converts_the_rest(name: str) -> None:
    """A log that ends anywhere inside its last line: no exception, earlier events all there."""
    lines = lines_of(REAL_LOGS[name])
    whole = "".join(lines).encode()
    last = len(whole) - len(lines[-1].encode())
    expected = events_of(lines[:-1])
    for cut in range(last, len(whole) + 1):
        cut_log = lines_of(text(whole[:cut]))
        # The whole public path (frames, tables) at every 8th byte, the events at each.
        got = convert_fully(cut_log)[1] if cut % 8 == 0 else events_of(cut_log)
        assert not missing(expected, got), cut


_FLIP_CHARS = (
    st.sampled_from(list('0123456789 ()<>[]{},="\\.:-+?*/\n\t|'))
    | st.characters(codec=None, exclude_categories=["Cs"])
    | st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF)
)


@pytest.mark.parametrize("name", SELF_NAMING)
@examples(25)
@given(data=st.data())
def test_flipped_bytes_keep_the_events_of_intact_lines(name: str, data) -> None:
    """Bytes replaced anywhere (newlines too): every untouched line's event is still there.

    Only -yy logs: each of their byte-moving lines names its own fd, so no
    other line is needed. Flipped lines may make events of their own.
    """
    lines = lines_of(REAL_LOGS[name])
    # Not the first line: its execve tells that the process started inside the
    # trace with the std streams of the caller; a process first seen in
    # mid-flight is named from its decorations instead (stdout becomes a path).
    flips = data.draw(
        st.lists(
            st.tuples(st.integers(1, len(lines) - 1), st.floats(0, 1), _FLIP_CHARS),
            min_size=1,
            max_size=6,
        )
    )
    mutated = list(lines)
    touched = set()
    for i, where, char in flips:
        line = mutated[i]
        pos = int(where * (len(line) - 1))
        mutated[i] = line[:pos] + char + line[pos + 1 :]
        touched.add(i)
        if line[pos] == "\n":
            touched.add(i + 1)  # the next line is glued to this one
    touched = with_partners(lines, touched)
    expected = events_of((line for i, line in enumerate(lines) if i not in touched), std=False)
    _, got = convert_fully(lines_of("".join(mutated)), std=False)
    assert not missing(expected, got), (flips, missing(expected, got))


def with_partners(lines: list[str], touched: set[int]) -> set[int]:
    """Touched lines and the other halves of their split calls (a call is made of both)."""
    recs = [parse_line(line) for line in lines]
    out = set(touched)
    for i in touched:
        if i < len(recs) and recs[i].kind == p.UNFINISHED:
            j = next((j for j in range(i + 1, len(recs)) if recs[j].pid == recs[i].pid), None)
            if j is not None and recs[j].kind == p.RESUMED:
                out.add(j)
        elif i < len(recs) and recs[i].kind == p.RESUMED:
            j = next((j for j in range(i - 1, -1, -1) if recs[j].pid == recs[i].pid), None)
            if j is not None and recs[j].kind == p.UNFINISHED:
                out.add(j)
    return out


def merge(a: list[str], b: list[str], order: list[bool]) -> list[str]:
    ia, ib = iter(a), iter(b)
    return [next(ia) if take_a else next(ib) for take_a in order]


@examples(60)
@given(data=st.data())
def test_logs_interleaved_across_pids_convert_as_each_alone(data) -> None:
    """Two processes' logs, lines interleaved in any order: the events are the union, exactly."""
    names = data.draw(st.permutations(list(REAL_LOGS)))[:2]
    a, b = (lines_of(REAL_LOGS[n]) for n in names)
    order = data.draw(st.permutations([True] * len(a) + [False] * len(b)))
    # Each log's first line (its execve) comes first, as in a real log.
    merged = merge(a, b, order)
    assume(merged[0] == a[0] or merged[0] == b[0])
    expected = events_of(a, with_time=True) + events_of(b, with_time=True)
    got = events_of(merged, with_time=True)
    assert got == expected, (names, expected - got, got - expected)


def unfinished_indices(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if parse_line(line).kind == p.UNFINISHED]


@pytest.mark.parametrize("name", SELF_NAMING)
@examples(15)
@given(data=st.data())
def test_resumed_halves_without_their_start_are_counted_not_raised(name: str, data) -> None:
    """Starts of split calls removed: those calls are missing and counted, the rest is intact."""
    lines = lines_of(REAL_LOGS[name])
    candidates = unfinished_indices(lines)
    dropped = set(data.draw(st.lists(st.sampled_from(candidates), min_size=1, unique=True)))
    kept = [line for i, line in enumerate(lines) if i not in dropped]
    starts = [parse_line(lines[i]) for i in dropped]
    gone = {(r.pid, r.time) for r in starts}
    cols = taken(feed(lines))
    expected = Counter(
        key[:-1]
        for key in event_keys(cols, with_time=True).elements()
        if (key[0], round(key[-1], 6)) not in gone
    )
    conv, got = convert_fully(kept)
    assert got == expected
    movers = sum(1 for r in starts if r.syscall in BYTE_MOVERS)
    assert conv.counters()["unparsed_lines"] == movers


@pytest.mark.parametrize("name", list(REAL_LOGS))
@examples(8)
@given(data=st.data())
def test_duplicate_exits_change_nothing(name: str, data) -> None:
    lines = lines_of(REAL_LOGS[name])
    exits = [i for i, line in enumerate(lines) if parse_line(line).kind == p.EXITED]
    mutated = list(lines)
    for i in sorted(data.draw(st.lists(st.sampled_from(exits), min_size=1)), reverse=True):
        at = data.draw(st.integers(i + 1, len(lines)))
        mutated.insert(at, lines[i])
    conv_a, expected = convert_fully(lines)
    conv_b, got = convert_fully(mutated)
    assert got == expected
    codes = conv_a.processes().set_index("pid")["exit_code"]
    assert conv_b.processes().set_index("pid")["exit_code"].equals(codes)


# --- names of arbitrary bytes --------------------------------------------------------------

#: Text that :func:`iomonitor.raw_name` reads as an escaped byte.
_ESCAPE_LOOKALIKE = re.compile(rb"\\x[89a-f][0-9a-f]")


def name_log(dirpath: bytes, names: list[bytes], style: str, decorate: bool) -> bytes:
    """A -ttt -T log that creates and writes each name (write sizes 1, 2, ...)."""
    out = []
    t = 1795000000.0
    out.append(b'100 1795000000.000000 execve("/bin/w", ["w"], 0x7ffd /* 1 var */) = 0 <0.000100>')
    for k, raw in enumerate(names, 1):
        path = dirpath + b"/" + raw
        q = strace_escape(path, style)
        deco = b"<" + strace_escape(path, style, deco=True) + b">" if decorate else b""
        stamp = f"100 {t + k:.6f} ".encode()
        out.append(
            stamp
            + b'openat(AT_FDCWD, "'
            + q
            + b'", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3'
            + deco
            + b" <0.000010>"
        )
        out.append(
            stamp
            + b"write(3"
            + deco
            + b', "'
            + b"x" * k
            + b'", '
            + str(k).encode()
            + b") = "
            + str(k).encode()
            + b" <0.000005>"
        )
        out.append(stamp + b"close(3" + deco + b") = 0 <0.000002>")
    out.append(b"100 1795009999.000000 +++ exited with 0 +++")
    return b"\n".join(out) + b"\n"


def check_names(tmp: Path, names: list[bytes], style: str, decorate: bool) -> None:
    dirpath = b"/srv/d"
    log = tmp / "strace.log"
    log.write_bytes(name_log(dirpath, names, style, decorate))
    expected = {k: dirpath + b"/" + raw for k, raw in enumerate(names, 1)}
    trace = iomonitor.convert_log(log)
    csv, parquet = tmp / "t.csv", tmp / "t.parquet"
    assert iomonitor.cli.main(["-i", str(log), "-o", str(csv)]) == 0
    assert iomonitor.cli.main(["-i", str(log), "-o", str(parquet)]) == 0
    for source, ev in [
        ("log", trace.events),
        ("csv", iomonitor.load(csv, date=DATE).events),
        ("parquet", iomonitor.load(parquet).events),
    ]:
        got = {
            int(b): iomonitor.raw_name(str(f)) for b, f in zip(ev["bytes"], ev["file"], strict=True)
        }
        assert got == expected, source
        assert all(str(f).encode("utf-8") for f in ev["file"])  # valid UTF-8 text


@examples(25)
@given(
    names=st.lists(file_name(), min_size=1, max_size=4),
    style=ESCAPE_STYLES,
    decorate=st.booleans(),
)
def test_names_of_any_bytes_round_trip_csv_and_parquet(names, style, decorate) -> None:
    """Paths with commas, quotes, newlines, <>, invalid UTF-8: the exact bytes come back."""
    assume(not any(_ESCAPE_LOOKALIKE.search(n) for n in names))
    with tempfile.TemporaryDirectory() as tmp:
        check_names(Path(tmp), names, style, decorate)


@pytest.mark.parametrize("decorate", [False, True])
def test_raw_name_of_a_literal_backslash_x_text(tmp_path: Path, decorate: bool) -> None:
    check_names(tmp_path, [b"x\\x8f", b"x\x80\\x8f"], "octal", decorate)
