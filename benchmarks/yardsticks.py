"""The yardsticks iomonitor's conversion is measured against (run as subprocesses).

``loop``
    A plain Python loop over the lines of the log: read every line, count
    lines and bytes. The floor for anything written in Python that looks at
    each line.
``regex``
    The obvious converter: one compiled regular expression per line that picks
    out pid, time, call, fd, decoration, bytes and duration of every
    successful byte-moving call, appended to lists, then one DataFrame. It
    knows nothing of fd tables, split calls or processes.

    python benchmarks/yardsticks.py loop|regex LOG
"""

from __future__ import annotations

import re
import sys

LINE = re.compile(
    r"^(\d+) +(\d+\.\d+) "
    r"(read|write|pread64|pwrite64|readv|writev|recvfrom|sendto|recvmsg|sendmsg)"
    r"\((\d+)(?:<(.*?)>)?, .*\) = (\d+)(?: <(\d+\.\d+)>)?$"
)


def loop(path: str) -> None:
    lines = chars = 0
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        for line in fh:
            lines += 1
            chars += len(line)
    print(lines, chars)


def regex(path: str) -> None:
    import pandas as pd

    cols: list[list] = [[] for _ in range(7)]
    match = LINE.match
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        for line in fh:
            m = match(line.rstrip("\n"))
            if m is None:
                continue
            pid, t, call, fd, name, nbytes, dt = m.groups()
            cols[0].append(int(pid))
            cols[1].append(float(t))
            cols[2].append(call)
            cols[3].append(int(fd))
            cols[4].append(name)
            cols[5].append(int(nbytes))
            cols[6].append(float(dt) if dt else float("nan"))
    df = pd.DataFrame(
        {
            "time": pd.to_datetime(cols[1], unit="s", utc=True),
            "pid": cols[0],
            "syscall": cols[2],
            "fd": cols[3],
            "file": cols[4],
            "bytes": cols[5],
            "dt": cols[6],
        }
    )
    print(len(df))


if __name__ == "__main__":
    {"loop": loop, "regex": regex}[sys.argv[1]](sys.argv[2])
