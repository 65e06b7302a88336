"""The core's ``spawn``: a child's fd table, cwd, group and parent as its clone flags say."""

from __future__ import annotations

import pytest
from iomonitor.strace._core import spawn

from iomonitor.strace.events import EventBuilder
from iomonitor.strace.fdtable import Cwd, FdTable, OpenFile, Process

THREAD = (
    "{flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|"
    "CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f3a, "
    "parent_tid=0x7f3a, exit_signal=0, stack=0x7f39, stack_size=0x7fff00, tls=0x7f3a}"
)
FORK = (
    "child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
    "child_tidptr=0x7efc26374a10"
)


# (call, args) -> (shares the fd table, shares the cwd, tgid, ppid); parent 10 of 1.
@pytest.mark.parametrize(
    ("call", "args", "want"),
    [
        ("clone", FORK, (False, False, 11, 10)),
        ("clone3", THREAD, (True, True, 10, 1)),
        ("clone", "flags=CLONE_FILES", (True, False, 11, 10)),
        ("clone", "flags=CLONE_FS|SIGCHLD", (False, True, 11, 10)),
        # Whole flag names: CLONE_PARENT_SETTID is not CLONE_PARENT, nor CLONE_FILESX CLONE_FILES.
        ("clone", "flags=CLONE_PARENT_SETTID", (False, False, 11, 10)),
        ("clone", "flags=CLONE_PARENT|SIGCHLD", (False, False, 11, 1)),
        ("clone", "flags=CLONE_FILESX|CLONE_FSX", (False, False, 11, 10)),
        # The first "flags=" followed by a flag character counts.
        ("clone", "xflags=lower, flags=CLONE_FILES", (True, False, 11, 10)),
        # A number ends the names at its first small letter: "0x11|CLONE_THREAD" is "0".
        ("clone", "flags=0x11|CLONE_THREAD", (False, False, 11, 10)),
        ("clone", "flags=", (False, False, 11, 10)),
        ("clone", "", (False, False, 11, 10)),
        # fork and vfork have no flags: whatever the text, both are copied.
        ("vfork", "flags=CLONE_FILES", (False, False, 11, 10)),
        ("fork", "", (False, False, 11, 10)),
    ],
)
def test_spawn_follows_the_clone_flags(call: str, args: str, want: tuple) -> None:
    b = EventBuilder()
    of = OpenFile("/etc/passwd", "file")
    parent = Process(10, 10, 1, FdTable({3: (of, True)}), Cwd("/srv"), comm="sh", argv="sh -c x")
    b._add(parent)
    child = spawn(b, parent, 11, call, args)
    assert (child.fdt is parent.fdt, child.cwd is parent.cwd, child.tgid, child.ppid) == want
    # A copy holds the same open files and flags, in a table of its own.
    assert child.fdt.fds == {3: (of, True)}
    assert child.cwd.path == "/srv"
    assert (child.pid, child.comm, child.argv, child.start) == (11, "sh", "sh -c x", None)
    assert b.procs[11] is child
    assert child in b._groups[child.tgid]
    assert parent.children == [11]
