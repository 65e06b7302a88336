"""Compile the eBPF backend: the BPF object, its skeleton and the loader.

Run at install (``setup.py``'s build hook) and by hand with
``python -m iomonitor.ebpf.build [DIR]``. Needs clang, bpftool and libbpf's
headers (Debian: ``clang bpftool libbpf-dev``) and the running kernel's BTF
(``/sys/kernel/btf/vmlinux``), from which ``vmlinux.h`` is generated: the
program is compiled once per machine, CO-RE relocations do the rest.

This module imports nothing from iomonitor: the build hook loads it by path,
before the package is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: Where the installed loader lives, next to this file.
HERE = Path(__file__).resolve().parent
BUILD_DIR = HERE / "_build"
LOADER_NAME = "iomonitor-ebpf-loader"
BTF = "/sys/kernel/btf/vmlinux"
#: The loader's C units (their shared declarations: loader.h).
LOADER_SOURCES = ("loader.c", "output.c", "names.c", "lines.c")


class BuildError(Exception):
    """A tool is missing or a compile step failed; the message says which."""


def _tool(name: str, *fallbacks: str) -> str:
    for candidate in (name, *fallbacks):
        found = shutil.which(candidate) or (
            candidate if os.access(candidate, os.X_OK) and "/" in candidate else None
        )
        if found:
            return found
    raise BuildError(f"{name} not found (Debian: apt-get install clang bpftool libbpf-dev)")


def _run(argv: list[str], stdout: Path | None = None) -> None:
    with open(stdout, "wb") if stdout else open(os.devnull, "wb") as out:
        proc = subprocess.run(argv, stdout=out, stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        said = proc.stderr.decode(errors="replace").strip().splitlines()
        raise BuildError(f"{Path(argv[0]).name} failed: {said[-1] if said else proc.returncode}")


def build(out_dir: str | os.PathLike[str] = BUILD_DIR) -> Path:
    """Compile the loader into ``out_dir``; return its path.

    Parameters
    ----------
    out_dir : path, optional
        Where the loader goes (by default ``iomonitor/ebpf/_build``).

    Returns
    -------
    Path
        The loader executable.

    Raises
    ------
    BuildError
        When a tool, libbpf's headers or the kernel's BTF is missing, or a
        step fails.
    """
    clang = _tool("clang")
    bpftool = _tool("bpftool", "/usr/sbin/bpftool")
    cc = _tool(os.environ.get("CC", "cc"), "gcc")
    if not Path("/usr/include/bpf/libbpf.h").exists():
        raise BuildError("libbpf headers not found (Debian: apt-get install libbpf-dev)")
    if not Path(BTF).exists():
        raise BuildError(f"{BTF} not found: the kernel has no BTF")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="iomonitor-ebpf-build-") as tmp:
        t = Path(tmp)
        _run([bpftool, "btf", "dump", "file", BTF, "format", "c"], stdout=t / "vmlinux.h")
        _run(
            [
                clang, "-O2", "-g", "-Wall", "-target", "bpf", "-D__TARGET_ARCH_x86",
                f"-I{t}", f"-I{HERE}", "-c", str(HERE / "iomonitor.bpf.c"),
                "-o", str(t / "iomonitor.bpf.o"),
            ]
        )  # fmt: skip
        skel = t / "iomonitor.skel.h"
        _run([bpftool, "gen", "skeleton", str(t / "iomonitor.bpf.o")], stdout=skel)
        target = out / LOADER_NAME
        _run(
            [
                cc, "-O2", "-Wall", f"-I{t}", f"-I{HERE}", "-o", str(target) + ".tmp",
                *(str(HERE / f) for f in LOADER_SOURCES), "-lbpf", "-pthread",
            ]
        )  # fmt: skip
        os.replace(str(target) + ".tmp", target)
    return target


def main(argv: list[str] | None = None) -> int:
    """Build from the command line: ``python -m iomonitor.ebpf.build [DIR]``."""
    args = sys.argv[1:] if argv is None else argv
    try:
        path = build(args[0] if args else BUILD_DIR)
    except BuildError as e:
        print(f"iomonitor: eBPF backend not built: {e}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
