"""exprc's runtime library: the C support that every generated program links against.

The memory pool, error reporting, the elementwise loop driver, the BLAS product helpers, the
advanced-indexing plans and the float reductions are the same for every program
(every ``.c`` file of ``csrc/`` but the call path's, see
:func:`~exprc.cache.fingerprint.runtime_sources`). Compiling them
into each program would cost every cold compile most of its time, so they are compiled once
into a shared library, and programs link to it by its full path (recorded in the program, so
no search path is involved; the path is part of each program's cache key).

Where the library comes from, in order:

1. **Built at install time** (``pip install``; see ``setup.py``) next to the package as
   ``exprc/_runtime_lib*.so``, with a stamp recording the ``csrc/`` digest and the host it was
   built for. It is used only when both still match: an edited ``csrc/`` (an editable
   install) or another CPU (a copied installation built with ``-march=native``) falls
   through to
2. **built on first use** into the compile cache, like any program.

OpenBLAS is not linked into the library: it is bound at load time (:func:`bind_blas`) to the
``scipy-openblas32`` wheel found then, so the library does not depend on where that wheel
was when the library was built.

The cache may be cleared (or its folder deleted) while a process runs. The loaded library
stays loaded for the programs already linked to it, but new programs are linked against its
file, so a library built into the cache is rebuilt when its file has gone.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from exprc.cache.fingerprint import host_fingerprint, runtime_sources, tree_digest
from exprc.cache.store import CompileCache
from exprc.link.c.toolchain import CModule, compile_flags, load_module

__all__ = ["PREBUILT_NAME", "RuntimeLibrary", "runtime_library"]

PREBUILT_NAME = "_runtime_lib"
"""The name of the library built at install time inside the ``exprc`` package; its stamp is
``<name>.json`` beside it."""

_DECLARATIONS = """
void exprc_blas_bind(void *sgemm, void *dgemm);
int exprc_lapack_bind(void *const *routines, int count);
void exprc_openmp_single_thread(void);
"""


@dataclass
class RuntimeLibrary:
    """The loaded runtime library.

    Attributes
    ----------
    path : pathlib.Path
        The shared object; programs record this path.
    prebuilt : bool
        Whether it was built at install time (else it was built into the compile cache).
    module : CModule
        The library as loaded by cffi (kept loaded for the life of the process).
    blas_bound : bool
        Whether :meth:`bind_blas` has handed it the OpenBLAS routines.
    """

    path: Path
    prebuilt: bool
    module: CModule
    blas_bound: bool = False

    def link_args(self) -> tuple[str, ...]:
        """Linker arguments of a program: the library by its full path."""
        return (str(self.path),)

    def on_disk(self) -> bool:
        """Whether programs can still be linked against it: its file is where it was."""
        return self.path.is_file()

    def bind_blas(self) -> None:
        """Hand the OpenBLAS routines, CBLAS and LAPACK (:mod:`exprc.link.c.lapack`), to the
        library (once), for the programs that multiply matrices or call matrix functions;
        raises :class:`~exprc.link.c.blas.BlasNotFoundError` without the wheel."""
        if self.blas_bound:
            return
        from exprc.link.c import lapack
        from exprc.link.c.blas import blas_routine

        ffi = self.module.ffi
        addresses = [ffi.cast("void *", blas_routine(name)) for name in ("cblas_sgemm",
                                                                          "cblas_dgemm")]
        self.module.exprc_blas_bind(*addresses)
        lapack.bind(self.module)
        self.blas_bound = True


_lock = threading.Lock()
_loaded: dict[tuple, RuntimeLibrary] = {}
# Libraries replaced after their file was removed: programs loaded before still call them.
_replaced: list[RuntimeLibrary] = []


def runtime_library(cache: CompileCache, openmp: bool) -> RuntimeLibrary:
    """The runtime library for programs of ``cache`` (built with OpenMP or not), loaded.

    Parameters
    ----------
    cache : CompileCache
        Where the library is built when no usable prebuilt one is installed; its toolchain
        is a :class:`~exprc.link.c.toolchain.CToolchain`.
    openmp : bool
        Whether the library's loops may run on OpenMP threads (the prebuilt library does).

    Returns
    -------
    RuntimeLibrary

    Raises
    ------
    CompileError
        When the library has to be built and the compiler rejects it.
    """
    csrc_dir = cache.toolchain.csrc_dir
    memo = (str(cache.directory), str(csrc_dir), cache.compiler.identity, openmp)
    with _lock:
        library = _loaded.get(memo)
        if library is not None and not library.on_disk():
            _replaced.append(library)  # the cache was cleared: build it again
            library = None
        if library is None:
            library = _loaded[memo] = _load(cache, openmp)
        return library


def loaded_libraries() -> list[RuntimeLibrary]:
    """Every runtime library this process has loaded, replaced ones included (programs loaded
    before a replacement still call them)."""
    with _lock:
        return [*_loaded.values(), *_replaced]


def _one_thread_in_forked_child() -> None:
    # GNU OpenMP cannot run a parallel loop in a child forked after the parent started its
    # pool (the loop waits forever for workers that were not forked): a child process runs its
    # loops on one thread. Data loaders fork; their work is rarely the process's parallel part.
    for library in [*_loaded.values(), *_replaced]:
        library.module.exprc_openmp_single_thread()


os.register_at_fork(after_in_child=_one_thread_in_forked_child)


def _load(cache: CompileCache, openmp: bool) -> RuntimeLibrary:
    prebuilt = _prebuilt(cache) if openmp else None
    if prebuilt is not None:
        try:
            return RuntimeLibrary(prebuilt, True, load_module(prebuilt, _DECLARATIONS))
        except OSError:
            pass  # not loadable here (e.g. a foreign build): build one below
    flags = compile_flags(cache.compiler, optimize=True, openmp=None if openmp else False)
    path = cache.build(unity_source(cache.toolchain.csrc_dir), flags)
    return RuntimeLibrary(path, False, load_module(path, _DECLARATIONS))


def unity_source(csrc_dir: Path) -> str:
    """The library as one source: each of its files in ``csrc_dir`` included in turn."""
    lines = ["/* exprc's runtime library, built into the compile cache */"]
    lines += [f'#include "{name}"' for name in runtime_sources(csrc_dir)]
    return "\n".join(lines) + "\n"


def _prebuilt(cache: CompileCache, package: Path | None = None) -> Path | None:
    """The library built at install time in ``package`` (default: exprc's folder), if it
    exists and its stamp matches ``cache``'s ``csrc/`` and this host."""
    package = package or Path(__file__).resolve().parents[2]
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = package / f"{PREBUILT_NAME}{suffix}"
        if path.is_file():
            break
    else:
        return None
    try:
        stamp = json.loads(path.with_name(f"{PREBUILT_NAME}.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(stamp, dict):
        return None
    if stamp.get("csrc") != tree_digest(cache.toolchain.csrc_dir):
        return None
    if stamp.get("host") != host_fingerprint():
        return None
    return path
