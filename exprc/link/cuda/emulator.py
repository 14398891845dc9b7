"""A CUDA device emulated on the CPU, so that every kernel exprc generates runs in tests.

:class:`EmulatedDevice` implements :class:`~exprc.link.cuda.device.Device` on the host:

- memory is host memory (NumPy byte arrays kept by address); copies are ``memmove`` and
  ``memset``, and each checks that its bytes lie inside one live allocation, so that a program
  that addresses memory it does not own fails with a :class:`CudaError` instead of corrupting
  the process. Fresh allocations are filled with 0xff bytes (NaN in every float), as device
  memory holds whatever was there before, so that reading memory never written shows;
- a module is the CUDA source compiled as C++ by g++ with ``cuda_kernels/exprc_cuda_emu.h``
  included first, which emulates the execution model (blocks, threads as fibers,
  ``__syncthreads``, warp shuffles, atomics, device math); each kernel gets a launcher that
  reads the packed argument buffer by the kernel's own parameter types, and the build checks
  those types against the :class:`KernelSpec` (a spec the GPU would misread does not build).
  Builds go through the compile cache like the C backend's;
- a launch runs at once, block after block, on the calling thread; a kernel that traps, fails
  an assert, deadlocks at a barrier, reaches a ``__syncthreads`` in divergent code, or faults
  (touches unmapped memory, divides an integer by zero) raises :class:`CudaError` naming the
  kernel, its block and thread. (An out-of-range access that lands in mapped memory is not
  caught: host memory has no per-allocation protection.)
- ``gemm`` and ``gemm_strided_batched`` follow cuBLAS exactly (column-major operands, leading
  dimensions and batch strides in elements, ``beta == 0`` ignoring ``C``), computed by NumPy
  on views of the allocations.

It is a test device: correct and strict rather than fast, never chosen by ``device=cuda``.
"""

from __future__ import annotations

import bisect
import ctypes
import hashlib
import mmap
import os
import re
import struct
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from exprc.cache.store import CompileCache, default_cache_dir
from exprc.link.c.toolchain import CModule, Compiler, compile_shared, find_compiler, load_module
from exprc.link.cuda.device import CudaError, Device, DeviceKernel, KernelSpec
from exprc.link.sources import source_dir

__all__ = ["EMULATOR_HEADER", "EmulatedDevice", "EmulatedKernel", "EmulatorToolchain",
           "module_source"]

EMULATOR_HEADER = "exprc_cuda_emu.h"
"""The header, in ``cuda_kernels/``, that emulates CUDA's execution model in C++."""

FLAGS = ("-x", "c++", "-std=c++17", "-O1", "-fPIC", "-shared", "-fvisibility=hidden")
"""How modules are built: quick optimisation (test kernels are small and run once), and only
the launchers exported, so that modules loaded side by side keep their own emulator state."""

FIBER_KINDS = ("fast", "ucontext")
"""How threads switch: hand-written on x86-64 (falls back to ucontext elsewhere), or ucontext
everywhere (slower; chosen to test the fallback)."""

_KINDS = {"ptr": "KIND_PTR", "i32": "KIND_I32", "i64": "KIND_I64", "f32": "KIND_F32",
          "f64": "KIND_F64", "struct": "KIND_STRUCT"}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

STACK_BYTES = 128 * 1024
"""Stack of each emulated thread: kernels keep little there (indices, a few locals)."""

# One launch at a time in the whole process: a module's emulator state (its fibers, and the
# static variables that hold each kernel's __shared__ memory) serves one launch, and a kernel
# may be loaded by several devices through the compile cache.
_LOCK = threading.RLock()


_stacks: tuple[mmap.mmap, int] | None = None


def _stack_pool() -> tuple[int, int]:
    """The fiber stacks every module of the process shares (launches never overlap): the
    address of 1024 stacks of :data:`STACK_BYTES`, made on first use. Pages no thread touches
    cost no memory, and the mapping reserves no swap."""
    global _stacks
    with _LOCK:
        if _stacks is None:
            # Python's mmap module does not name MAP_NORESERVE; Linux's value
            no_reserve = getattr(mmap, "MAP_NORESERVE",
                                 0x4000 if sys.platform.startswith("linux") else 0)
            flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | no_reserve
            region = mmap.mmap(-1, 1024 * STACK_BYTES, flags=flags)
            _stacks = region, ctypes.addressof(ctypes.c_char.from_buffer(region))
        return _stacks[1], 1024


# --------------------------------------------------------------------------- the toolchain
class EmulatorToolchain:
    """g++ as the compile cache's toolchain for emulated CUDA modules.

    Parameters
    ----------
    compiler : Compiler, optional
        Default: the ``CXX`` variable, else ``g++``, found on first use.
    fibers : {"fast", "ucontext"}
        See :data:`FIBER_KINDS`.
    """

    source_name = "module.cpp"
    library_name = "module.so"

    def __init__(self, compiler: Compiler | None = None, fibers: str = "fast"):
        if fibers not in FIBER_KINDS:
            raise ValueError(f"fibers must be one of {FIBER_KINDS}, not {fibers!r}")
        self._compiler = compiler
        self.fibers = fibers
        self.csrc_dir = source_dir("csrc")
        self.kernel_dir = source_dir("cuda_kernels")

    @property
    def compiler(self) -> Compiler:
        """The C++ compiler."""
        if self._compiler is None:
            self._compiler = find_compiler(os.environ.get("CXX") or "g++")
        return self._compiler

    @property
    def header_digest(self) -> str:
        """SHA-256 of the emulation header (the first 16 hex digits)."""
        data = (self.kernel_dir / EMULATOR_HEADER).read_bytes()
        return hashlib.sha256(data).hexdigest()[:16]

    @property
    def identity(self) -> str:
        """The compiler, the emulation header and the fiber kind."""
        return (f"cuda-emulator fibers={self.fibers} {EMULATOR_HEADER} {self.header_digest}\n"
                f"{self.compiler.identity}")

    @property
    def source_trees(self) -> dict[str, Path]:
        """``csrc`` and ``cuda_kernels``: a module includes headers of both."""
        return {"csrc": self.csrc_dir, "cuda_kernels": self.kernel_dir}

    def default_flags(self) -> tuple[str, ...]:
        """:data:`FLAGS`, and the switch to ucontext fibers when asked for."""
        return FLAGS + (("-DEXPRC_EMU_UCONTEXT",) if self.fibers == "ucontext" else ())

    def build(self, source_path: Path, output_path: Path, flags: Sequence[str],
              link_args: Sequence[str] = ()) -> tuple[str, ...]:
        """Compile with both header folders on the include path; return the flags used."""
        used = (*flags, f"-I{os.path.abspath(self.kernel_dir)}",
                f"-I{os.path.abspath(self.csrc_dir)}")
        compile_shared(self.compiler, source_path, output_path, used, link_args)
        return used

    def load(self, path: Path, declarations: str) -> CModule:
        """Load the module with cffi."""
        return load_module(path, declarations)


_CACHES: dict[tuple, CompileCache] = {}


def _cache(toolchain: EmulatorToolchain) -> CompileCache:
    """The process-wide cache of emulated modules (in the C backend's folder: entries are
    keyed by the toolchain's identity, so they never mix)."""
    where = (default_cache_dir(), toolchain.identity, toolchain.fibers)
    if where not in _CACHES:
        _CACHES[where] = CompileCache(where[0], toolchain)
    return _CACHES[where]


# --------------------------------------------------------------------------- module sources
def module_source(source: str, kernels: Sequence[KernelSpec]) -> str:
    """The C++ translation unit of a module: the emulation header, ``source`` as given, and a
    launcher per kernel that checks the kernel's parameters against its spec at compile time.
    """
    parts = [f'/* CUDA source built for the CPU emulator */\n#include "{EMULATOR_HEADER}"\n',
             source, "\n\n/* launchers */\n"]
    for spec in kernels:
        name = _checked_name(spec.name)
        checks = [f'static_assert(exprc_emu::kernel_traits<decltype({name})>::arity == '
                  f'{len(spec.params)}, "kernel {name}: its KernelSpec has {len(spec.params)} '
                  f'parameters");']
        for index, p in enumerate(spec.params):
            size, align = int(p.size), int(p.align)
            checks.append(
                f"static_assert(exprc_emu::param_is<exprc_emu::kernel_traits<decltype({name})>"
                f"::param<{index}>>(exprc_emu::{_KINDS[p.kind]}, {size}, {align}), "
                f'"kernel {name}: parameter {index} is not the {p.kind} of {size} bytes '
                f'aligned to {align} its KernelSpec says");')
        body = "\n".join(f"    {line}" for line in checks)
        parts.append(
            f"EXPRC_EMU_EXPORT int exprc_emu_launch_{name}(unsigned gx, unsigned gy, "
            f"unsigned gz, unsigned bx, unsigned by, unsigned bz, size_t shared_bytes, "
            f"void **args)\n{{\n{body}\n"
            f'    return exprc_emu::launch({name}, "{name}", gx, gy, gz, bx, by, bz, '
            f"shared_bytes, args);\n}}\n")
    return "".join(parts)


def declarations(kernels: Sequence[KernelSpec]) -> str:
    """The cffi declarations of a module's launchers and its error message."""
    lines = ["const char *exprc_emu_error(void);",
             "void exprc_emu_use_stacks(void *, size_t, unsigned);"]
    lines += [f"int exprc_emu_launch_{_checked_name(spec.name)}(unsigned, unsigned, unsigned, "
              "unsigned, unsigned, unsigned, size_t, void **);" for spec in kernels]
    return "\n".join(lines)


def _checked_name(name: str) -> str:
    """A kernel name fit for C source, or CudaError: it is written into the launcher."""
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise CudaError(f"kernel name {name!r} is not a C identifier")
    return name


# --------------------------------------------------------------------------- kernels
class EmulatedKernel(DeviceKernel):
    """A kernel of an emulated module; :meth:`launch` runs it before returning."""

    def __init__(self, device: EmulatedDevice, module: CModule, spec: KernelSpec):
        self.spec = spec
        self._device = device
        self._module = module  # keeps the library loaded
        self._launcher = getattr(module, f"exprc_emu_launch_{spec.name}")
        ffi = module.ffi
        stacks, count = _stack_pool()
        with _LOCK:
            module.exprc_emu_use_stacks(ffi.cast("void *", stacks), STACK_BYTES, count)
        offsets, end = [], 0
        for p in spec.params:  # KernelSpec.pack's layout
            end += -end % p.align
            offsets.append(end)
            end += p.size
        # The argument buffer and the pointers into it, made once: launches are serialised.
        self._buffer = ffi.new("char[]", max(end, 1))
        start = ffi.cast("char *", self._buffer)
        self._pointers = ffi.new("void *[]", [start + offset for offset in offsets] or 1)

    def launch(self, grid: tuple[int, int, int], block: tuple[int, int, int],
               args: Sequence, shared_bytes: int = 0) -> None:
        """Run ``grid`` blocks of ``block`` threads with ``args``.

        Raises
        ------
        CudaError
            For a launch the GPU would reject (a grid or block dimension below 1 or above
            CUDA's limits, more than 1024 threads a block, more dynamic shared memory than a
            block may have), arguments that do not fit the spec (a pointer into no
            allocation among them), or a kernel that trapped, failed an assert, deadlocked,
            overflowed its stack or faulted.
        """
        name = self.spec.name
        grid = _dimensions(grid, "grid", (2**31 - 1, 65535, 65535), name)
        block = _dimensions(block, "block", (1024, 1024, 64), name)
        threads = block[0] * block[1] * block[2]
        if threads > self._device.max_threads_per_block:
            raise CudaError(f"kernel {name}: a block of {block} is {threads} threads, more "
                            f"than the {self._device.max_threads_per_block} a block may have")
        if (not isinstance(shared_bytes, int | np.integer) or shared_bytes < 0
                or shared_bytes > self._device.max_shared_per_block):
            raise CudaError(f"kernel {name}: {shared_bytes!r} bytes of dynamic shared memory "
                            f"(a block may have 0 to {self._device.max_shared_per_block})")
        data = self._pack(args)
        module = self._module
        with _LOCK:
            module.ffi.memmove(self._buffer, data, len(data))
            status = self._launcher(*grid, *block, int(shared_bytes), self._pointers)
            if status != 0:
                message = module.ffi.string(module.exprc_emu_error()).decode(errors="replace")
                raise CudaError(f"launch of grid {grid} x block {block} failed: {message}")

    def _pack(self, args: Sequence) -> bytes:
        name = self.spec.name
        if len(args) != len(self.spec.params):
            raise CudaError(f"kernel {name} takes {len(self.spec.params)} arguments, got "
                            f"{len(args)}")
        for index, (p, value) in enumerate(zip(self.spec.params, args)):
            if p.kind == "ptr":
                if not isinstance(value, int | np.integer) or isinstance(value, bool):
                    raise CudaError(f"kernel {name}: argument {index} must be a device "
                                    f"address (an int), not {type(value).__name__}")
                self._device._check_pointer(int(value), name, index)
        try:
            return self.spec.pack(args)
        except (struct.error, TypeError, OverflowError) as exc:
            problem = exc
        for index, (p, value) in enumerate(zip(self.spec.params, args)):  # which one
            try:
                KernelSpec(name, (p,)).pack([value])
            except (struct.error, TypeError, OverflowError) as exc:
                raise CudaError(f"kernel {name}: argument {index} ({value!r}) does not fit its "
                                f"{p.kind} parameter ({exc})") from None
        raise CudaError(f"kernel {name}: the arguments do not fit its parameters ({problem})")


def _dimensions(value, what: str, limits: tuple[int, int, int], kernel: str) -> tuple:
    try:
        dims = tuple(int(v) for v in value)
    except TypeError:
        dims = ()
    if len(dims) != 3 or any(not 1 <= d <= limit for d, limit in zip(dims, limits)):
        raise CudaError(f"kernel {kernel}: {what} {value!r} must be three dimensions from 1 "
                        f"to {limits}")
    return dims


# --------------------------------------------------------------------------- the device
class EmulatedDevice(Device):
    """CUDA emulated on the CPU (see the module docstring).

    Parameters
    ----------
    memory_limit : int, optional
        Bytes the device may hand out (its "device memory"); a larger total raises
        :class:`MemoryError` as a full GPU does. Default: no limit but the host's.
    compiler : Compiler, optional
        The C++ compiler; default ``CXX`` or ``g++``.
    fibers : {"fast", "ucontext"}
        How the emulated threads switch (see :data:`FIBER_KINDS`).
    """

    kind = "emulated"
    name = "CUDA emulator on the CPU"
    arch = "emulated"
    multiprocessors = 2
    max_threads_per_block = 1024
    max_shared_per_block = 48 * 1024

    ALIGNMENT = 256
    """Allocations start at multiples of this, as ``cuMemAlloc``'s do (kernels may load
    16-byte vectors from the start of an array)."""

    def __init__(self, memory_limit: int | None = None, compiler: Compiler | None = None,
                 fibers: str = "fast"):
        super().__init__()
        self.toolchain = EmulatorToolchain(compiler, fibers)
        self.memory_limit = memory_limit
        self.allocated = 0
        self._arrays: dict[int, np.ndarray] = {}  # address -> the allocation's bytes
        self._starts: list[int] = []  # the addresses, sorted

    def cache_identity(self) -> str:
        """The emulator toolchain's identity: g++'s and the emulation header's digest."""
        return self.toolchain.identity

    # -- memory
    def raw_malloc(self, nbytes: int) -> int:
        nbytes = int(nbytes)
        if nbytes <= 0:
            raise CudaError(f"raw_malloc of {nbytes} bytes")
        with _LOCK:
            if self.memory_limit is not None and self.allocated + nbytes > self.memory_limit:
                raise MemoryError(f"{self.name}: {nbytes} bytes do not fit beside the "
                                  f"{self.allocated} allocated (limit {self.memory_limit})")
            raw = np.empty(nbytes + self.ALIGNMENT, np.uint8)
            skip = -raw.ctypes.data % self.ALIGNMENT
            array = raw[skip:skip + nbytes]
            array.fill(0xFF)
            address = array.ctypes.data
            self._arrays[address] = array
            bisect.insort(self._starts, address)
            self.allocated += nbytes
            return address

    def raw_free(self, address: int) -> None:
        with _LOCK:
            array = self._arrays.pop(address, None)
            if array is None:
                raise CudaError(f"raw_free of {address:#x}, which is not an allocation")
            del self._starts[bisect.bisect_left(self._starts, address)]
            self.allocated -= array.nbytes

    def _find(self, address: int, nbytes: int, what: str) -> tuple[np.ndarray, int]:
        """The allocation holding ``nbytes`` bytes at ``address``, and the offset in it."""
        index = bisect.bisect_right(self._starts, address) - 1
        if index >= 0:
            start = self._starts[index]
            array = self._arrays[start]
            if address + nbytes <= start + array.nbytes:
                return array, address - start
        raise CudaError(f"{what}: the {nbytes} bytes at {address:#x} are not inside one "
                        f"allocation of {self.name}")

    def _check_pointer(self, address: int, kernel: str, index: int) -> None:
        """A kernel's pointer argument must be null or point into (or just past) an
        allocation."""
        if address == 0:
            return
        with _LOCK:
            position = bisect.bisect_right(self._starts, address) - 1
            if position >= 0:
                start = self._starts[position]
                if address <= start + self._arrays[start].nbytes:
                    return
        raise CudaError(f"kernel {kernel}: argument {index} ({address:#x}) points into no "
                        f"allocation of {self.name}")

    def upload(self, address: int, host: np.ndarray) -> None:
        host = _contiguous(host, "upload")
        if host.nbytes == 0:
            return
        address = int(address)
        with _LOCK:
            self._find(address, host.nbytes, "upload")
            ctypes.memmove(address, host.ctypes.data, host.nbytes)

    def download(self, host: np.ndarray, address: int) -> None:
        host = _contiguous(host, "download")
        if not host.flags.writeable:
            raise CudaError("download into a read-only array")
        if host.nbytes == 0:
            return
        address = int(address)
        with _LOCK:
            self._find(address, host.nbytes, "download")
            ctypes.memmove(host.ctypes.data, address, host.nbytes)

    def copy(self, destination: int, source: int, nbytes: int) -> None:
        destination, source, nbytes = int(destination), int(source), int(nbytes)
        if nbytes == 0:
            return
        with _LOCK:
            self._find(source, nbytes, "copy from")
            self._find(destination, nbytes, "copy to")
            ctypes.memmove(destination, source, nbytes)

    def fill_zero(self, address: int, nbytes: int) -> None:
        address, nbytes = int(address), int(nbytes)
        if nbytes == 0:
            return
        with _LOCK:
            self._find(address, nbytes, "fill_zero")
            ctypes.memset(address, 0, nbytes)

    def synchronize(self) -> None:
        """Nothing to wait for: every launch and copy has finished when it returns."""

    # -- code
    def load_module(self, source: str,
                    kernels: Sequence[KernelSpec]) -> Mapping[str, EmulatedKernel]:
        """Build ``source`` for the emulator (through the compile cache) and load it.

        Raises
        ------
        exprc.link.c.toolchain.CompileError
            When g++ rejects the module (the source, or a kernel whose parameters are not
            those of its spec); the message names the kept ``module.cpp``.
        """
        kernels = list(kernels)
        names = [spec.name for spec in kernels]
        if len(set(names)) != len(names):
            raise CudaError(f"load_module: kernel names repeat in {names}")
        module = _cache(self.toolchain).load(module_source(source, kernels),
                                             declarations(kernels))
        return {spec.name: EmulatedKernel(self, module, spec) for spec in kernels}

    # -- cuBLAS
    def gemm(self, dtype: str, trans_a: bool, trans_b: bool, m: int, n: int, k: int,
             alpha: float, a: int, lda: int, b: int, ldb: int, beta: float, c: int,
             ldc: int) -> None:
        self.gemm_strided_batched(dtype, trans_a, trans_b, m, n, k, alpha, a, lda, 0, b, ldb,
                                  0, beta, c, ldc, 0, 1)

    def gemm_strided_batched(self, dtype: str, trans_a: bool, trans_b: bool, m: int, n: int,
                             k: int, alpha: float, a: int, lda: int, stride_a: int, b: int,
                             ldb: int, stride_b: int, beta: float, c: int, ldc: int,
                             stride_c: int, batch: int) -> None:
        dt = np.dtype(dtype)
        if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise CudaError(f"gemm: dtype {dtype!r} is neither float32 nor float64")
        if min(m, n, k, batch, stride_a, stride_b, stride_c) < 0:
            raise CudaError(f"gemm: negative size or stride (m={m}, n={n}, k={k}, "
                            f"batch={batch}, strides {stride_a}, {stride_b}, {stride_c})")
        # the stored matrices, before op(): A is m x k or (transposed) k x m, B k x n or n x k
        rows_a, cols_a = (k, m) if trans_a else (m, k)
        rows_b, cols_b = (n, k) if trans_b else (k, n)
        for what, ld, rows in (("lda", lda, rows_a), ("ldb", ldb, rows_b), ("ldc", ldc, m)):
            if ld < max(1, rows):
                raise CudaError(f"gemm: {what}={ld} is less than the {rows} rows of its matrix")
        if m == 0 or n == 0 or batch == 0:
            return
        with _LOCK:
            out = self._matrices(c, dt, m, n, ldc, stride_c, batch, "C")
            if alpha == 0 or k == 0:
                # nothing to read (k == 0), or, as the reference BLAS, A and B not read when
                # alpha is 0 (so NaN in them does not reach C)
                product = np.zeros(out.shape, dt)
            else:
                op_a = self._matrices(a, dt, rows_a, cols_a, lda, stride_a, batch, "A")
                op_b = self._matrices(b, dt, rows_b, cols_b, ldb, stride_b, batch, "B")
                op_a = op_a.transpose(0, 2, 1) if trans_a else op_a
                op_b = op_b.transpose(0, 2, 1) if trans_b else op_b
                product = dt.type(alpha) * np.matmul(op_a, op_b)
            if beta != 0:  # beta == 0 ignores C, NaN included
                product += dt.type(beta) * out
            out[...] = product

    def _matrices(self, address: int, dt: np.dtype, rows: int, cols: int, ld: int,
                  stride: int, batch: int, what: str) -> np.ndarray:
        """``batch`` column-major ``rows`` x ``cols`` matrices at ``address``, as a view."""
        size = dt.itemsize
        last = ((rows - 1) + (cols - 1) * ld + (batch - 1) * stride) * size
        array, offset = self._find(address, last + size, f"gemm operand {what}")
        return np.ndarray((batch, rows, cols), dt, array, offset,
                          (stride * size, size, ld * size))


def _contiguous(host: np.ndarray, what: str) -> np.ndarray:
    if not isinstance(host, np.ndarray) or not host.flags.c_contiguous:
        raise CudaError(f"{what} needs a C-contiguous NumPy array")
    return host
