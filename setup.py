"""Build hooks; the project's metadata lives in pyproject.toml."""

import importlib.util
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildPy(build_py):
    """Also compile the eBPF loader (iomonitor/ebpf/build.py).

    Without clang, bpftool or libbpf the package still installs: the eBPF
    backend then reports itself unavailable and ``--backend auto`` uses strace.
    """

    def run(self) -> None:
        super().run()
        spec = importlib.util.spec_from_file_location(
            "_iomonitor_ebpf_build", ROOT / "iomonitor" / "ebpf" / "build.py"
        )
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        if self.editable_mode:
            out = mod.BUILD_DIR
        else:
            out = Path(self.build_lib) / "iomonitor" / "ebpf" / "_build"
        try:
            mod.build(out)
        except mod.BuildError as e:
            print(f"iomonitor: eBPF backend not built: {e}", file=sys.stderr)


setup(cmdclass={"build_py": BuildPy})
