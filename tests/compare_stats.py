"""Run many ``iomonitor stats`` invocations under two checkouts and compare their outputs.

    python tests/compare_stats.py --make CORPUS      (once: the traces to compare on)
    python tests/compare_stats.py CORPUS OLD_PATH NEW_PATH

A change to the stats path that must not change its outputs (a new writer,
a faster query) is checked by running the same invocations, in one process
per checkout, on the traces under CORPUS (see ``make_corpus``), and
comparing stdout, stderr and the exit status of each. OLD_PATH and NEW_PATH
are folders that hold an ``iomonitor`` package (put first on ``sys.path``).
Prints each difference and exits 1 when there is one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FORMATS = ("table", "csv", "json", "markdown")
KEYS = ("file", "peer", "pid", "process", "syscall", "kind", "tgid", "tree")


def invocations(corpus: Path) -> list[list[str]]:
    """Every stats command line to compare, over the traces in ``corpus``."""
    traces = sorted(str(p) for p in corpus.iterdir())
    out: list[list[str]] = []
    for trace in traces:
        for fmt in FORMATS:
            out.append(["stats", "--format", fmt, trace])
            for key in KEYS:
                out.append(["stats", "--by", key, "--format", fmt, trace])
        for fmt in ("csv", "json"):
            out += [
                ["stats", "--top", "0", "--by", "file", "--format", fmt, trace],
                ["stats", "--top", "2", "--format", "json", trace],
                ["stats", "--dir", "R", "--by", "file", "--format", fmt, trace],
                ["stats", "--dir", "W", "--dir", "M", "--format", fmt, "--by", "pid", trace],
                ["stats", "--kind", "file", "--by", "process", "--format", fmt, trace],
                ["stats", "--file", "*a*", "--by", "syscall", "--format", fmt, trace],
                ["stats", "--file", "no-such*", "--by", "file", "--format", fmt, trace],
                ["stats", "--pid", "1", "--by", "tgid", "--format", fmt, trace],
                ["stats", "--interval", "1s", "--format", fmt, trace],
                ["stats", "--interval", "100ms", "--by", "file", "--top", "3", "--format", fmt,
                 trace],
                ["stats", "--by", "tree", "--dir", "R", "--format", fmt, trace],
            ]  # fmt: skip
        out += [
            ["stats", "--dir", "R", "--format", "json", trace],
            ["stats", "--kind", "tcp", trace],
        ]
    out += [["stats", *traces[:3]], ["stats", "--format", "json", *traces[:3]]]
    out += [["stats", "--by", "file", "--format", f, *traces[:3]] for f in ("csv", "json")]
    out += [["stats", "--format", "csv", traces[0]], ["stats", "--by", "nope", traces[0]]]
    return out


#: Run in a fresh interpreter per checkout: argv[1] is the JSON list of command lines.
_RUNNER = """
import contextlib, io, json, sys
from iomonitor.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exc:
            status = exc.code
    results.append([out.getvalue(), err.getvalue(), status])
json.dump(results, sys.stdout)
"""


def outputs(checkout: str, commands: list[list[str]]) -> list[list]:
    """stdout, stderr and exit status of each command under ``checkout``'s package."""
    env = {"PYTHONPATH": checkout, "TZ": "UTC", "COLUMNS": "100", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER, json.dumps(commands)],
        capture_output=True, text=True, env=env, cwd=checkout,
    )  # fmt: skip
    if done.returncode:
        raise SystemExit(f"{checkout}: the runner failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def make_corpus(folder: Path) -> None:
    """Sample traces of every input kind, a dataset, and edge values (names, sizes, ties)."""
    import shutil
    import zlib

    from iomonitor.trace import Trace, events_frame

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("pipeline.parquet", "tar_gzip.parquet", "tcp_loopback.log"):
        shutil.copy(ROOT / "data" / name, folder / name)
    for name in ("torture.tt-T-yy", "inet_udp6.tt-T-yy", "pipes.ttt", "mmsg.r-T-yy",
                 "chdir_open.t-y", "clone_files.Y-tt-T"):  # fmt: skip
        packed = (ROOT / "tests/golden/logs" / f"{name}.log.gz").read_bytes()
        (folder / f"{name}.log").write_bytes(zlib.decompress(packed, 31))
    pipeline = Trace.load(ROOT / "data" / "pipeline.parquet")
    pipeline.save(folder / "pipeline.csv", "csv")
    (folder / "dataset" / "run=a").mkdir(parents=True, exist_ok=True)
    (folder / "dataset" / "run=b").mkdir(parents=True, exist_ok=True)
    pipeline.save(folder / "dataset" / "run=a" / "part-0.parquet")
    Trace.load(ROOT / "data" / "tar_gzip.parquet").save(folder / "dataset" / "run=b" / "p.parquet")
    n = 8
    columns = {
        "time": [1.5, 2.25, 3.0, 3.0000005, 4.0, 5.0, 6.0, 7.0],
        "dt": [0.5, None, 0.125, 1e-7, 0.0, 2.5e-11, 5e-11, 1.00000000005],
        "pid": [7, 7, 8, 8, 9, 9, 10, 10], "fd": [3] * n,
        "dir": ["R", "W", "R", "W", "M", "R", "W", "R"],
        "bytes": [2**60, 2**60, 3, 4, 5, 1, 2, 7],
        "file": ["/srv/é/ü", "/srv/é/ü", "tab\there", "😀/x\"q'", "a,b", "/x/y", "10.0.0.1", "::1"],
        "port": [None, None, None, None, None, None, 80, 443],
        "syscall": ["read", "write", "pread64", "write", "mmap", "read", "sendto", "recvfrom"],
        "kind": ["file"] * 6 + ["tcp", "udp"], "tgid": [7, 7, 8, 8, 9, 9, 10, 10],
        "comm": ["ça", "ça", "b|c", "b|c", "x\x7fy", "x\x7fy", "net", "net"], "local": [None] * n,
    }  # fmt: skip
    Trace(events_frame(columns)).save(folder / "edge.parquet")
    columns.update(dt=[None] * n, bytes=[3, 3, 1, 2, 0, 0, 0, 1])
    Trace(events_frame(columns)).save(folder / "ties.parquet")


def main(argv: list[str]) -> int:
    if argv[0] == "--make":
        make_corpus(Path(argv[1]))
        return 0
    corpus, old, new = Path(argv[0]), argv[1], argv[2]
    commands = invocations(corpus)
    before, after = outputs(old, commands), outputs(new, commands)
    differ = 0
    for argv_, a, b in zip(commands, before, after, strict=True):
        if a != b:
            differ += 1
            print("DIFFERS:", " ".join(argv_))
            for what, x, y in zip(("stdout", "stderr", "status"), a, b, strict=True):
                if x != y:
                    print(f"  {what}:\n    old {str(x)[:600]!r}\n    new {str(y)[:600]!r}")
    print(f"{len(commands)} invocations, {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
