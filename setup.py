"""Build hooks; the project's metadata lives in pyproject.toml.

Two native parts: the compiled event core (``iomonitor/strace/_core.pyx``,
Cython, always built: iomonitor needs it) and the eBPF loader (built when its
tools are there).
"""

import importlib.util
import shutil
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _check_compiler() -> None:
    # Without a C compiler or Python's headers the build fails deep inside
    # setuptools; say what to install instead, in one line.
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    include = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if shutil.which(cc) is None or not include.exists():
        sys.exit(
            "iomonitor needs a C compiler and Python's headers to build its event core: "
            "apt-get install gcc python3-dev"
        )


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


_BUILDS = ("build_ext", "bdist_wheel", "editable_wheel", "develop", "install", "build")
if any(cmd in sys.argv for cmd in _BUILDS):
    _check_compiler()

from Cython.Build import cythonize  # noqa: E402  (a build requirement, after the check)

setup(
    cmdclass={"build_py": BuildPy},
    ext_modules=cythonize(
        [Extension("iomonitor.strace._core", ["iomonitor/strace/_core.pyx"])],
        compiler_directives={"language_level": 3},
    ),
)
