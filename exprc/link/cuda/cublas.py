"""cuBLAS for the CUDA device: the matrix products, bound with cffi in ABI mode.

Only the handful of v2 functions the device calls are declared (:data:`CDEF`), so no cuBLAS
header is needed, only the shared library. :func:`find_cublas` looks for it, in this order:

1. the NVIDIA wheels' folders: ``nvidia/cu13/lib`` (``nvidia-cublas`` for CUDA 13 puts every
   library of the toolkit there) and ``nvidia/cublas/lib`` (``nvidia-cublas-cu12``), in every
   folder of the ``nvidia`` namespace package;
2. ``$CUDA_HOME/lib64``, then ``/usr/local/cuda/lib64``;
3. what :func:`ctypes.util.find_library` finds (the dynamic loader's cache);
4. ``libcublas.so.13``, then ``libcublas.so.12``, left to the dynamic loader (``LD_LIBRARY_PATH``).

A :class:`Cublas` is one cuBLAS handle. It must be created, and called, while the CUDA context
it serves is current (the device takes care of that); its products are queued on the stream
given to :meth:`Cublas.set_stream`. A failed call raises
:class:`~exprc.link.cuda.device.CudaError` naming the function and the cuBLAS status.
"""

from __future__ import annotations

import ctypes.util
import functools
import glob
import importlib.util
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from exprc.errors import ExprcError
from exprc.link.cuda.device import CudaError

__all__ = ["CDEF", "Cublas", "CublasNotFound", "cublas_candidates", "find_cublas",
           "status_message"]

CDEF = """
typedef int cublasStatus_t;
typedef struct cublasContext *cublasHandle_t;

cublasStatus_t cublasCreate_v2(cublasHandle_t *handle);
cublasStatus_t cublasDestroy_v2(cublasHandle_t handle);
cublasStatus_t cublasGetVersion_v2(cublasHandle_t handle, int *version);
cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, void *stream);
cublasStatus_t cublasSetMathMode(cublasHandle_t handle, int mode);

cublasStatus_t cublasSgemm_v2(cublasHandle_t handle, int transa, int transb,
    int m, int n, int k, const float *alpha, size_t A, int lda, size_t B, int ldb,
    const float *beta, size_t C, int ldc);
cublasStatus_t cublasDgemm_v2(cublasHandle_t handle, int transa, int transb,
    int m, int n, int k, const double *alpha, size_t A, int lda, size_t B, int ldb,
    const double *beta, size_t C, int ldc);
cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, int transa, int transb,
    int m, int n, int k, const float *alpha, size_t A, int lda, long long strideA,
    size_t B, int ldb, long long strideB, const float *beta, size_t C, int ldc,
    long long strideC, int batchCount);
cublasStatus_t cublasDgemmStridedBatched(cublasHandle_t handle, int transa, int transb,
    int m, int n, int k, const double *alpha, size_t A, int lda, long long strideA,
    size_t B, int ldb, long long strideB, const double *beta, size_t C, int ldc,
    long long strideC, int batchCount);
"""
"""The declarations cffi binds. Enumerations are ``int`` (their C ABI). Device addresses
are declared ``size_t`` rather than ``float *``: both are one 64-bit integer register in the
calling convention, and an integer parameter takes the Python int the device holds without a
``ffi.cast`` per argument per call."""

# cublasOperation_t and cublasMath_t (cublas_api.h).
_OP_N, _OP_T = 0, 1
_DEFAULT_MATH = 0
"""No TF32 and no reduced-precision tensor-core paths: float32 products stay float32, as the
reference computes them."""

_STATUS = {
    0: ("CUBLAS_STATUS_SUCCESS", "success"),
    1: ("CUBLAS_STATUS_NOT_INITIALIZED", "cuBLAS was not initialised (no CUDA context "
        "current, or the driver is too old for this cuBLAS)"),
    3: ("CUBLAS_STATUS_ALLOC_FAILED", "cuBLAS could not allocate memory"),
    7: ("CUBLAS_STATUS_INVALID_VALUE", "an argument is out of range (a size below zero, a "
        "leading dimension below the rows, a negative batch)"),
    8: ("CUBLAS_STATUS_ARCH_MISMATCH", "the GPU lacks a feature the call needs"),
    11: ("CUBLAS_STATUS_MAPPING_ERROR", "GPU memory could not be accessed"),
    13: ("CUBLAS_STATUS_EXECUTION_FAILED", "the kernel failed to run on the GPU"),
    14: ("CUBLAS_STATUS_INTERNAL_ERROR", "an internal operation failed (often an earlier "
         "kernel's error surfacing)"),
    15: ("CUBLAS_STATUS_NOT_SUPPORTED", "the call is not supported"),
    16: ("CUBLAS_STATUS_LICENSE_ERROR", "a licence check failed"),
}

_INT32_MAX = 2**31 - 1

SYSTEM_FOLDER = Path("/usr/local/cuda/lib64")
"""Where the CUDA toolkit's installer puts its libraries."""


class CublasNotFound(ExprcError):
    """No cuBLAS library was found (or it does not load); the message lists where exprc
    looked."""


def status_message(status: int) -> str:
    """``"CUBLAS_STATUS_INVALID_VALUE (an argument is out of range ...)"`` for a status code
    (an unknown code is named by its number)."""
    name, meaning = _STATUS.get(status, (f"cuBLAS status {status}", "unknown status"))
    return f"{name} ({meaning})"


def _check(status: int, call: str) -> None:
    if status != 0:
        raise CudaError(f"{call} failed: {status_message(status)}")


# --------------------------------------------------------------------------- the library
def _wheel_folders() -> Iterator[Path]:
    """The ``lib`` folders of the NVIDIA wheels, for every folder of the ``nvidia``
    namespace package (a virtual environment and the user's site may each hold one)."""
    try:
        spec = importlib.util.find_spec("nvidia")
    except (ImportError, ValueError):
        return
    if spec is None:
        return
    for root in spec.submodule_search_locations or ():
        yield Path(root, "cu13", "lib")
        yield Path(root, "cublas", "lib")


def _sonames_in(folder: Path) -> list[str]:
    """``libcublas.so.<n>`` files of a folder, newest major version first (the versioned
    ``libcublas.so.13.1.0.3`` is the same library as its ``.so.13`` link)."""
    found = []
    for path in glob.glob(os.path.join(glob.escape(str(folder)), "libcublas.so.*")):
        match = re.fullmatch(r"libcublas\.so\.(\d+)", os.path.basename(path))
        if match and os.path.isfile(path):
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found, reverse=True)]


def cublas_candidates() -> Iterator[tuple[str, list[str]]]:
    """Where :func:`find_cublas` looks, in order: ``(description, paths found there)``.

    A folder with no cuBLAS has an empty list. The last entries are bare library names for
    the dynamic loader, which are only known to exist by loading them. Lazy: asking the
    loader's cache runs ``ldconfig``, which is skipped when a folder has the library.
    """
    for folder in _wheel_folders():
        yield f"the NVIDIA wheel folder {folder}", _sonames_in(folder)
    home = os.environ.get("CUDA_HOME")
    if home:
        folder = Path(home, "lib64")
        yield f"$CUDA_HOME/lib64 ({folder})", _sonames_in(folder)
    yield str(SYSTEM_FOLDER), _sonames_in(SYSTEM_FOLDER)
    found = ctypes.util.find_library("cublas")
    yield "the dynamic loader's cache (ctypes.util.find_library)", [found] if found else []
    for name in ("libcublas.so.13", "libcublas.so.12"):
        yield f"{name} on the loader's path", [name]


def _loads(name: str) -> bool:
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def find_cublas() -> str:
    """The cuBLAS library to load: a path, or a library name the dynamic loader finds.

    Raises
    ------
    CublasNotFound
        With the places looked at and how to install cuBLAS.
    """
    looked = []
    for description, paths in cublas_candidates():
        looked.append(description)
        for path in paths:
            # Files found in a folder are taken as they are (loading them is the device's
            # job); a bare name is only known to exist by asking the loader.
            if os.sep in path or _loads(path):
                return path
    raise CublasNotFound(
        "no libcublas found; looked in " + "; ".join(looked)
        + ". Install it with pip install nvidia-cublas (CUDA 13) or the CUDA toolkit, or "
        "put its folder on LD_LIBRARY_PATH")


@functools.lru_cache(maxsize=1)
def _ffi():
    import cffi

    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    return ffi


_opened: dict[str, object] = {}
_open_lock = threading.Lock()


def _open(path: str):
    """The library bound through :data:`CDEF`, opened once per process per path."""
    with _open_lock:
        lib = _opened.get(path)
        if lib is None:
            try:
                lib = _ffi().dlopen(path)
            except OSError as exc:
                raise CublasNotFound(f"{path} does not load: {exc}") from exc
            _opened[path] = lib
        return lib


# --------------------------------------------------------------------------- the handle
class Cublas:
    """One cuBLAS handle; create it, and call it, with the CUDA context current.

    Parameters
    ----------
    library : str, optional
        The library to load; default :func:`find_cublas`.
    lib : object, optional
        An already-bound library (what ``ffi.dlopen`` returns); for tests.

    Raises
    ------
    CublasNotFound
        When the library is missing or does not load.
    CudaError
        When ``cublasCreate`` fails.
    """

    def __init__(self, library: str | None = None, lib=None):
        if lib is None:
            library = library or find_cublas()
            lib = _open(library)
        self.library = library or "a given library"
        self._lib = lib
        self._ffi = _ffi()
        out = self._ffi.new("cublasHandle_t *")
        _check(self._lib.cublasCreate_v2(out), "cublasCreate")
        self._handle = out[0]
        _check(self._lib.cublasSetMathMode(self._handle, _DEFAULT_MATH), "cublasSetMathMode")

    @property
    def version(self) -> int:
        """cuBLAS's version number (``130100`` for 13.1.0)."""
        out = self._ffi.new("int *")
        _check(self._lib.cublasGetVersion_v2(self._handle, out), "cublasGetVersion")
        return int(out[0])

    def set_stream(self, stream: int) -> None:
        """Queue every later call on ``stream`` (a ``CUstream`` handle as an int; 0 is the
        default stream)."""
        _check(self._lib.cublasSetStream_v2(self._handle, self._ffi.cast("void *", stream)),
               "cublasSetStream")

    def gemm(self, dtype, trans_a: bool, trans_b: bool, m: int, n: int, k: int, alpha: float,
             a: int, lda: int, b: int, ldb: int, beta: float, c: int, ldc: int) -> None:
        """``cublas{S,D}gemm``: ``C = alpha * op(A) @ op(B) + beta * C``, column-major
        (see :meth:`exprc.link.cuda.device.Device.gemm`)."""
        letter, ctype = _precision(dtype)
        _check_ints(m=m, n=n, k=k, lda=lda, ldb=ldb, ldc=ldc)
        function = getattr(self._lib, f"cublas{letter}gemm_v2")
        _check(function(self._handle, _op(trans_a), _op(trans_b), m, n, k,
                        self._ffi.new(ctype, alpha), a, lda, b, ldb,
                        self._ffi.new(ctype, beta), c, ldc), f"cublas{letter}gemm")

    def gemm_strided_batched(self, dtype, trans_a: bool, trans_b: bool, m: int, n: int,
                             k: int, alpha: float, a: int, lda: int, stride_a: int, b: int,
                             ldb: int, stride_b: int, beta: float, c: int, ldc: int,
                             stride_c: int, batch: int) -> None:
        """``cublas{S,D}gemmStridedBatched`` (strides in elements)."""
        letter, ctype = _precision(dtype)
        _check_ints(m=m, n=n, k=k, lda=lda, ldb=ldb, ldc=ldc, batch=batch)
        function = getattr(self._lib, f"cublas{letter}gemmStridedBatched")
        _check(function(self._handle, _op(trans_a), _op(trans_b), m, n, k,
                        self._ffi.new(ctype, alpha), a, lda, stride_a, b, ldb, stride_b,
                        self._ffi.new(ctype, beta), c, ldc, stride_c, batch),
               f"cublas{letter}gemmStridedBatched")

    def close(self) -> None:
        """Destroy the handle (with its context current). Later calls raise."""
        handle, self._handle = self._handle, None
        if handle is not None:
            _check(self._lib.cublasDestroy_v2(handle), "cublasDestroy")

    def __repr__(self) -> str:
        return f"<Cublas {self.library}>"


def _op(transposed: bool) -> int:
    return _OP_T if transposed else _OP_N


def _precision(dtype) -> tuple[str, str]:
    name = np.dtype(dtype).name
    if name == "float32":
        return "S", "float *"
    if name == "float64":
        return "D", "double *"
    raise CudaError(f"cuBLAS products are float32 or float64, not {name}")


def _check_ints(**values: int) -> None:
    """cuBLAS's sizes are C ints: a larger one would be cut silently by the binding."""
    for name, value in values.items():
        if not 0 <= value <= _INT32_MAX:
            raise CudaError(f"cuBLAS argument {name}={value} is outside 0..{_INT32_MAX}")
