"""OpenBLAS for generated C code, from the ``scipy-openblas32`` wheel.

The wheel ships ``cblas.h`` and ``libscipy_openblas.so`` with every symbol prefixed
(``scipy_cblas_sgemm``, ``scipy_openblas_set_num_threads``) so that it can share a process with
NumPy's own BLAS. exprc's runtime library calls the routines through addresses found here
(:func:`blas_routine`, bound by :meth:`~exprc.link.c.runtime.RuntimeLibrary.bind_blas`), so
nothing exprc compiles links to the wheel's library folder.

OpenBLAS runs its own thread pool. When generated code also runs OpenMP loops, call
:func:`set_num_threads` so that the two pools together do not ask for more threads than cores.
The runtime library then picks each product's thread count itself (``csrc/exprc_gemm.c``): one
thread for products too small or too thin to gain from more, and one thread for everything
while the machine is oversubscribed (``exprc.config.thread_backoff``).
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

from exprc.errors import ExprcError


def quiet_idle_threads() -> None:
    """Make OpenBLAS's and libgomp's idle workers sleep soon instead of spinning.

    Generated code alternates BLAS products with OpenMP loops. By default OpenBLAS's workers
    spin for 2**28 cycles (about 0.1 s) after each product and libgomp's for 300,000 spins, so
    each pool's idle threads hold the cores the other pool needs next (the LeNet step, W4, took
    56-80 ms with a wide spread on 2 cores, 20 ms with these settings). Both libraries read the
    variables when they are loaded, so this runs before exprc loads either (at the first
    compile, and again before OpenBLAS is loaded); values the user set are kept. Importing
    exprc changes no environment variable.
    """
    # 2**20 cycles (a few hundred microseconds): long enough that the products of a loop's
    # consecutive steps find OpenBLAS's workers awake (the LSTM step, W8, 10% faster than
    # with 2**4, when every product woke them through the kernel), short enough that they
    # are asleep during the OpenMP loops of a convolution step (W4 unchanged).
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "20")
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")


class BlasNotFoundError(ExprcError, ImportError):
    """The ``scipy-openblas32`` package is not installed or is not laid out as expected."""


@dataclass(frozen=True)
class BlasLibrary:
    """Where OpenBLAS's header and library are, and how its symbols are named.

    Attributes
    ----------
    include_dir : pathlib.Path
        Folder holding ``cblas.h``.
    library : pathlib.Path
        The shared library file.
    symbol_prefix : str
        Prefix of every exported symbol (``"scipy_"`` for the wheel).
    version : str
        The wheel's version.
    """

    include_dir: Path
    library: Path
    symbol_prefix: str
    version: str


@functools.lru_cache(maxsize=1)
def find_openblas() -> BlasLibrary:
    """Locate the ``scipy-openblas32`` wheel's header and library.

    Returns
    -------
    BlasLibrary

    Raises
    ------
    BlasNotFoundError
        When the package is missing, or its header does not declare ``cblas_sgemm``.
    """
    try:
        import scipy_openblas32 as wheel
    except ImportError as exc:
        raise BlasNotFoundError(
            "the C backend's BLAS calls need the scipy-openblas32 package: "
            "pip install scipy-openblas32"
        ) from exc
    include_dir = Path(wheel.get_include_dir())
    library = Path(wheel.get_lib_dir(), wheel.get_library(fullname=True))
    header = include_dir / "cblas.h"
    match = re.search(r"\b(\w*)cblas_sgemm\s*\(", header.read_text(errors="replace"))
    if match is None:
        raise BlasNotFoundError(f"{header} declares no cblas_sgemm")
    return BlasLibrary(include_dir, library, match.group(1), wheel.__version__)


@functools.lru_cache(maxsize=1)
def _runtime() -> ctypes.CDLL:
    # The same path as the one generated objects link against, so the dynamic loader hands
    # back the one copy already in the process and thread settings apply to their calls.
    quiet_idle_threads()
    return ctypes.CDLL(str(find_openblas().library))


def blas_routine(name: str) -> int:
    """The address of the OpenBLAS routine ``name`` (e.g. ``"cblas_sgemm"``), whatever prefix
    the build gives its symbols; for binding it into exprc's runtime library."""
    function = getattr(_runtime(), f"{find_openblas().symbol_prefix}{name}")
    return ctypes.cast(function, ctypes.c_void_p).value


def _setter():
    return getattr(_runtime(), f"{find_openblas().symbol_prefix}openblas_set_num_threads")


_count: int | None = None  # the count last set through this module
_told: dict[str, tuple[int, bool]] = {}  # runtime library path -> what its policy was given


def set_num_threads(count: int) -> None:
    """Set the number of threads OpenBLAS uses for the calls made by generated code.

    This is the most a product uses: the runtime library runs small or thin products, and
    every product while the machine is oversubscribed, on one. It does not affect NumPy,
    which carries its own copy of OpenBLAS.

    Parameters
    ----------
    count : int
        At least 1.
    """
    global _count
    if count < 1:
        raise ValueError(f"OpenBLAS needs at least one thread, got {count}")
    _setter()(int(count))
    _count = int(count)
    _tell_runtime_libraries()


def get_num_threads() -> int:
    """The number of threads OpenBLAS may use for a product (the count last set)."""
    if _count is not None:
        return _count
    return getattr(_runtime(), f"{find_openblas().symbol_prefix}openblas_get_num_threads")()


def _tell_runtime_libraries() -> None:
    """Hand each loaded runtime library OpenBLAS's thread setter, the count and
    ``config.thread_backoff``, for its per-product policy (``exprc_blas_bind_threads``)."""
    from exprc.configuration import config
    from exprc.link.c import runtime

    if _count is None:
        return
    wanted = (_count, bool(config.thread_backoff))
    address = ctypes.cast(_setter(), ctypes.c_void_p).value
    # Each loaded library is opened again by its path, which hands back the copy already
    # loaded.
    for library in runtime.loaded_libraries():
        key = str(library.path)
        if _told.get(key) == wanted:
            continue
        bind = getattr(ctypes.CDLL(key), "exprc_blas_bind_threads", None)
        if bind is None:  # a library built from an older csrc/
            continue
        bind.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_int)
        bind(address, wanted[0], int(wanted[1]))
        _told[key] = wanted


_applied_threads: int | None = None


def openmp_threads() -> int:
    """The threads OpenMP loops of generated code use: ``OMP_NUM_THREADS`` or the cores."""
    text = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def coordinate_threads() -> int:
    """Give OpenBLAS the thread count of ``exprc.config.blas_threads`` (0: OpenMP's).

    Generated code runs its OpenMP loops and its BLAS calls one after the other, never at the
    same time, so with both pools sized to the same count the process never runs more busy
    threads than that count. Returns the count applied.
    """
    global _applied_threads
    from exprc.configuration import config

    count = config.blas_threads or openmp_threads()
    if count != _applied_threads:
        set_num_threads(count)
        _applied_threads = count
    else:
        _tell_runtime_libraries()  # a library loaded since, or thread_backoff changed
    return count
