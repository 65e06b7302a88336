"""Build the compiled event core (``iomonitor/strace/_core.pyx``); the rest is pyproject.toml."""

import shutil
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup


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


if any(cmd in sys.argv for cmd in ("build_ext", "bdist_wheel", "editable_wheel", "develop",
                                   "install", "build")):
    _check_compiler()

from Cython.Build import cythonize  # noqa: E402  (a build requirement, after the check)

setup(
    ext_modules=cythonize(
        [Extension("iomonitor.strace._core", ["iomonitor/strace/_core.pyx"])],
        compiler_directives={"language_level": 3},
    )
)
