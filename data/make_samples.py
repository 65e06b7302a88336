"""Regenerate the sample traces in this folder from real programs run under strace.

Each sample is a raw strace log (``NAME.log``) and the trace iomonitor made
of it (``NAME.parquet``). The programs run in a scratch folder,
``/tmp/iomonitor-samples/NAME``, so the paths inside the traces do not depend
on where this repository lives. Run from anywhere, as a user allowed to trace
its own children::

    python data/make_samples.py [--strace /usr/bin/strace] [--python /usr/bin/python3]
    python data/make_samples.py --reconvert

``--reconvert`` runs no program: it converts the logs already here again,
after a change of the schema or of the event semantics, so the samples keep
the same recorded runs.

``--python`` is the interpreter traced for the TCP sample (default: the one
running this script). The script stops with an error when a sample comes out
larger than ``LIMIT`` bytes, so the repository stays small.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import iomonitor
from iomonitor import store

HERE = Path(__file__).resolve().parent
SCRATCH = Path("/tmp/iomonitor-samples")
LIMIT = 300_000

#: -ttt stamps are seconds since the epoch: the logs convert to the same
#: times whatever their file dates become after a git checkout.
STRACE_FLAGS = ("-f", "-ttt", "-T", "-yy")

#: A client and a server thread in one process, talking TCP over loopback:
#: 64 KiB sent in 4 KiB chunks, each echoed back in capitals.
TCP_PROGRAM = """\
import socket, threading

server = socket.create_server(("127.0.0.1", 0))
port = server.getsockname()[1]

def serve():
    conn, _ = server.accept()
    with conn:
        while data := conn.recv(65536):
            conn.sendall(data.upper())

thread = threading.Thread(target=serve)
thread.start()
chunk = bytes(range(97, 123)) * 157 + b"\\n" * 14  # 4096 bytes
with socket.create_connection(("127.0.0.1", port)) as client:
    for _ in range(16):
        client.sendall(chunk)
        got = 0
        while got < len(chunk):
            got += len(client.recv(65536))
    client.shutdown(socket.SHUT_WR)
thread.join()
server.close()
"""


def _words(n: int) -> str:
    """Deterministic text: n lines of made-up words (a linear congruential sequence)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    state, lines = 12345, []
    for _ in range(n):
        words = []
        for _ in range(6):
            state = (state * 1103515245 + 12345) % 2**31
            length = 3 + state % 7
            words.append("".join(letters[(state >> (3 * k)) % 26] for k in range(length)))
        lines.append(" ".join(words))
    return "\n".join(lines) + "\n"


def prepare_pipeline(folder: Path) -> list[str]:
    (folder / "words.txt").write_text(_words(1200))
    return ["sh", "-c", "cat words.txt | tr a-z A-Z | sort | gzip -9 > words.txt.gz"]


def prepare_tar(folder: Path) -> list[str]:
    project = folder / "project"
    for i in range(12):
        sub = project / ("src" if i % 3 else "docs")
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"part{i:02d}.txt").write_text(_words(20 + 25 * i))
    return ["tar", "-czf", "project.tar.gz", "project"]


def prepare_tcp(python: str) -> Callable[[Path], list[str]]:
    def prepare(folder: Path) -> list[str]:
        # -I -S: no user site or site-packages, so the trace shows the program,
        # not the interpreter's search through installed packages.
        return [python, "-I", "-S", "-c", TCP_PROGRAM]

    return prepare


def make(name: str, prepare: Callable[[Path], list[str]], strace: str) -> None:
    folder = SCRATCH / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    command = prepare(folder)
    log = HERE / f"{name}.log"
    done = subprocess.run(
        [strace, *STRACE_FLAGS, "-o", str(log), *command],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"{name}: the traced command exited with {done.returncode}")
    convert(name, command)


def reconvert(name: str) -> None:
    """Convert NAME.log again, keeping the command its Parquet file recorded."""
    command = iomonitor.load(HERE / f"{name}.parquet").meta["command"]
    convert(name, command)


def convert(name: str, command: list[str]) -> None:
    log = HERE / f"{name}.log"
    # Convert from inside this folder so the trace names its source `NAME.log`.
    here = os.getcwd()
    os.chdir(HERE)
    try:
        trace = iomonitor.convert_log(log.name)
    finally:
        os.chdir(here)
    trace.meta["command"] = command
    parquet = HERE / f"{name}.parquet"
    store.write(trace, parquet)
    for path in (log, parquet):
        size = path.stat().st_size
        if size > LIMIT:
            sys.exit(f"{path.name} is {size} bytes, more than the {LIMIT} allowed")
    print(f"{name}: {len(trace.events)} events, {len(trace.processes)} threads/processes")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--strace", default=shutil.which("strace") or "/usr/bin/strace")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--reconvert", action="store_true", help="convert the logs here again")
    ns = ap.parse_args()
    if ns.reconvert:
        for name in ("pipeline", "tar_gzip", "tcp_loopback"):
            reconvert(name)
        return
    make("pipeline", prepare_pipeline, ns.strace)
    make("tar_gzip", prepare_tar, ns.strace)
    make("tcp_loopback", prepare_tcp(ns.python), ns.strace)


if __name__ == "__main__":
    main()
