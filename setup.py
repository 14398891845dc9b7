"""Build exprc's native parts at install time (everything else is in pyproject.toml).

It also adds the packages ``exprc._csrc`` and ``exprc._cuda_kernels`` (mapped in
pyproject.toml to ``csrc/`` and ``cuda_kernels/``) to those that pyproject.toml's package
search finds: no folder under ``exprc/`` bears their names, so the search cannot find them.

Two shared objects are built from ``csrc/`` into the ``exprc`` package, both optional: when the
machine cannot build one, the install still succeeds and exprc builds it into its compile cache
on first use instead (``exprc/link/c/runtime.py``, ``exprc/link/c/callpath.py``).

- ``exprc/_runtime_lib``: the runtime library that every generated program links against.
  It is tuned for this machine (``-march=native``), so a stamp beside it records the
  ``csrc/`` digest and the host; exprc uses it only where both still match.
- ``exprc/exprc_callpath``: the CPython extension through which Python calls compiled programs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent
BASE = ["-std=gnu11", "-fvisibility=hidden", "-O2", "-fvect-cost-model=dynamic",
        "-fopenmp-simd", "-fno-math-errno", "-fno-trapping-math"]
TUNING = ["-march=native", "-fno-semantic-interposition"]


SOURCE_PACKAGES = ("exprc._csrc", "exprc._cuda_kernels")
"""The packages that carry ``csrc/`` and ``cuda_kernels/`` in an installation."""


def _fingerprint_module():
    """exprc/cache/fingerprint.py, loaded by path: exprc itself cannot be imported here."""
    path = HERE / "exprc" / "cache" / "fingerprint.py"
    spec = importlib.util.spec_from_file_location("exprc_install_fingerprint", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FINGERPRINT = _fingerprint_module()


def _accepted(compiler: list[str], flags: list[str]) -> bool:
    """Whether the compiler builds a small OpenMP shared object with ``flags``."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, "probe.c")
        source.write_text("#include <omp.h>\nint probe(void) { return omp_get_max_threads(); }\n")
        command = [*compiler, "-shared", "-fPIC", *flags, str(source), "-o",
                   str(Path(tmp, "probe.so"))]
        try:
            return subprocess.run(command, capture_output=True, check=False).returncode == 0
        except OSError:
            return False


class BuildNative(build_ext):
    """build_ext that tunes the runtime library's flags and stamps it."""

    def build_extensions(self):
        compiler = self.compiler.compiler_so[:1] if hasattr(self.compiler, "compiler_so") \
            else [os.environ.get("CC") or shutil.which("cc") or "cc"]
        openmp = _accepted(compiler, ["-fopenmp"])
        tuned = [f for f in TUNING if _accepted(compiler, ["-fopenmp", f] if openmp else [f])]
        for ext in self.extensions:
            if ext.name == "exprc._runtime_lib":
                ext.extra_compile_args = BASE + tuned + (["-fopenmp"] if openmp else [])
                ext.extra_link_args = ["-fopenmp"] if openmp else []
                self._openmp = openmp
        super().build_extensions()

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            print(f"exprc: not building {ext.name} at install time ({exc}); it will be built "
                  "on first use", file=sys.stderr)

    def run(self):
        super().run()
        # The stamp goes beside the library where it ends up (in place for editable installs,
        # which setuptools copies there only after building).
        library = Path(self.get_ext_fullpath("exprc._runtime_lib"))
        stamp = library.with_name("_runtime_lib.json")
        if library.is_file() and getattr(self, "_openmp", False):
            stamp.write_text(json.dumps({"csrc": FINGERPRINT.tree_digest(HERE / "csrc"),
                                         "host": FINGERPRINT.host_fingerprint()}))
        else:
            stamp.unlink(missing_ok=True)

    def get_export_symbols(self, ext):
        # The runtime library is a plain shared object loaded by path, not a Python module.
        return [] if ext.name == "exprc._runtime_lib" else super().get_export_symbols(ext)


class WithSourcePackages(Distribution):
    """A distribution whose packages are those pyproject.toml finds plus SOURCE_PACKAGES."""

    def parse_config_files(self, *args, **kwargs):
        super().parse_config_files(*args, **kwargs)
        found = list(self.packages or [])
        self.packages = found + [name for name in SOURCE_PACKAGES if name not in found]


def _numpy_include() -> list[str]:
    try:
        import numpy
    except ImportError:
        return []
    return [numpy.get_include()]


setup(
    ext_modules=[
        Extension("exprc._runtime_lib",
                  sources=[f"csrc/{n}" for n in FINGERPRINT.runtime_sources(HERE / "csrc")],
                  include_dirs=["csrc"], optional=True),
        Extension("exprc.exprc_callpath", sources=[f"csrc/{FINGERPRINT.CALLPATH_SOURCE}"],
                  include_dirs=["csrc", *_numpy_include()], extra_compile_args=["-O2"],
                  optional=True),
    ],
    cmdclass={"build_ext": BuildNative},
    distclass=WithSourcePackages,
)
