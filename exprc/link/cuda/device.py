"""The device a CUDA program runs on, as the rest of the backend sees it.

Everything above this module (the program, the op rules, the shared-variable mirrors) talks to
a :class:`Device`: raw allocations, copies, loading a compiled module of kernels, launching a
kernel, and the matrix products of cuBLAS. Two devices implement it:

- :class:`exprc.link.cuda.driver.PycudaDevice`, an NVIDIA GPU through pycuda (context, module
  loading, launches, copies) and cuBLAS (bound with cffi);
- :class:`exprc.link.cuda.emulator.EmulatedDevice`, which compiles the very same CUDA source
  as C++ for the CPU with a header that emulates the execution model (blocks, threads,
  ``__syncthreads``, warp shuffles, atomics) and runs the launches on the host. It exists so
  that every kernel exprc generates is run and checked against NumPy on machines without a
  GPU (CI); it is a test device, never chosen by ``device=cuda``.

A kernel's parameters are described by a :class:`KernelSpec`, so that both devices can pass
arguments without parsing the source: the emulator generates a typed trampoline per kernel
from it, and pycuda packs the argument buffer from it. Arguments follow the CUDA ABI: each
parameter at its natural alignment, a ``struct`` passed by value as its bytes.

Memory comes from a :class:`CachingAllocator` (one per device): a training step asks for the
same sizes every call, and the blocks freed by the previous call are handed out again without
calling ``cuMemAlloc``. Every launch and copy goes to the device's one stream, in order, so a
block released by Python while a kernel that reads it is still queued is only reused by work
queued after that kernel.
"""

from __future__ import annotations

import contextlib
import math
import struct
import threading
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from exprc.errors import ExprcError

__all__ = ["CachingAllocator", "CudaError", "Device", "DeviceArray", "DeviceBuffer",
           "DeviceKernel", "KernelParam", "KernelSpec", "param"]


class CudaError(ExprcError):
    """A CUDA operation failed (out of device memory, a launch the device rejected, a module
    that does not load); the message names the operation."""


# --------------------------------------------------------------------------- kernel specs
@dataclass(frozen=True)
class KernelParam:
    """One parameter of a kernel.

    Attributes
    ----------
    kind : str
        ``"ptr"`` (a device address, passed as a Python int), ``"i32"``, ``"i64"``,
        ``"f32"``, ``"f64"`` (Python numbers) or ``"struct"`` (passed as ``bytes`` of exactly
        ``size``, laid out as the C struct).
    ctype : str
        The parameter's C type in the kernel's signature (``"const float *"``,
        ``"int64_t"``, ``"exprc_loop3"``), without a name or ``__restrict__``.
    size, align : int
        Bytes and alignment of the parameter in the argument buffer.
    """

    kind: str
    ctype: str
    size: int
    align: int

    def __post_init__(self):
        if self.kind not in _SCALAR_PARAMS and self.kind != "struct":
            raise ValueError(f"unknown kernel parameter kind {self.kind!r}")


_SCALAR_PARAMS = {"ptr": 8, "i32": 4, "i64": 8, "f32": 4, "f64": 8}
_DEFAULT_CTYPES = {"ptr": "void *", "i32": "int32_t", "i64": "int64_t", "f32": "float",
                   "f64": "double"}


def param(kind: str, ctype: str | None = None, size: int | None = None) -> KernelParam:
    """A :class:`KernelParam`: ``param("ptr", "const float *")``, ``param("i64")``, or
    ``param("struct", "exprc_loop3", 136)`` (a struct of int64 fields, 8-byte aligned)."""
    if kind == "struct":
        if ctype is None or size is None:
            raise ValueError("a struct parameter needs its C type and size")
        return KernelParam(kind, ctype, size, 8)
    width = _SCALAR_PARAMS[kind]
    return KernelParam(kind, ctype or _DEFAULT_CTYPES[kind], width, width)


@dataclass(frozen=True)
class KernelSpec:
    """A kernel's name (an ``extern "C"`` identifier exprc generated) and parameters."""

    name: str
    params: tuple[KernelParam, ...]

    def signature(self, names: Sequence[str]) -> str:
        """The kernel's parameter list with ``names``: ``"const float *x, int64_t n"``."""
        if len(names) != len(self.params):
            raise ValueError(f"{self.name}: {len(names)} names for {len(self.params)} params")
        return ", ".join(f"{p.ctype} {n}" if not p.ctype.endswith("*") else f"{p.ctype}{n}"
                         for p, n in zip(self.params, names))

    def pack(self, args: Sequence) -> bytes:
        """The argument buffer of a launch with ``args`` (CUDA's layout: each parameter at
        its natural alignment); checks the count and each struct's size."""
        if len(args) != len(self.params):
            raise CudaError(f"kernel {self.name} takes {len(self.params)} arguments, got "
                            f"{len(args)}")
        for p, value in zip(self.params, args):
            # (struct's "Ns" would pad or cut a wrong size silently)
            if p.kind == "struct" and (not isinstance(value, bytes | bytearray)
                                       or len(value) != p.size):
                raise CudaError(f"kernel {self.name}: struct {p.ctype} needs {p.size} bytes")
        try:
            return self._layout().pack(*args)
        except (struct.error, TypeError, OverflowError) as exc:
            problem = exc
        for index, (p, value) in enumerate(zip(self.params, args)):  # which one
            try:
                struct.pack("<" + _FORMATS.get(p.kind, f"{p.size}s"), value)
            except (struct.error, TypeError, OverflowError) as exc:
                raise CudaError(f"kernel {self.name}: argument {index} ({value!r}) does not "
                                f"fit its {p.kind} parameter ({exc})") from None
        raise CudaError(f"kernel {self.name}: the arguments do not fit its parameters "
                        f"({problem})")

    def _layout(self) -> struct.Struct:
        # One struct format for the whole list, made once per spec: a launch packs its
        # arguments in a single call (launches are the hot path of every GPU function).
        layout = _LAYOUTS.get(self)
        if layout is None:
            fmt, end = "<", 0
            for p in self.params:
                pad = -end % p.align
                fmt += f"{pad}x" if pad else ""
                fmt += f"{p.size}s" if p.kind == "struct" else _FORMATS[p.kind]
                end += pad + p.size
            layout = _LAYOUTS[self] = struct.Struct(fmt)
        return layout


_FORMATS = {"ptr": "Q", "i32": "i", "i64": "q", "f32": "f", "f64": "d"}
_LAYOUTS: dict[KernelSpec, struct.Struct] = {}


class DeviceKernel(ABC):
    """A loaded kernel, launched on its device's stream."""

    spec: KernelSpec

    @abstractmethod
    def launch(self, grid: tuple[int, int, int], block: tuple[int, int, int],
               args: Sequence, shared_bytes: int = 0) -> None:
        """Queue one launch of ``grid`` blocks of ``block`` threads with ``args`` (one value
        per parameter of :attr:`spec`) and ``shared_bytes`` of dynamic shared memory."""


# --------------------------------------------------------------------------- the device
class Device(ABC):
    """An NVIDIA GPU or its CPU emulation (see the module docstring).

    Attributes
    ----------
    kind : str
        ``"cuda"`` or ``"emulated"``.
    name : str
        What a user is told (``"cuda:0 NVIDIA H100 80GB HBM3 (sm_90)"``).
    arch : str
        The architecture kernels are built for (``"sm_90"``; ``"emulated"``).
    multiprocessors : int
        Streaming multiprocessors: launch geometry aims at a few blocks per SM.
    max_threads_per_block, max_shared_per_block : int
    allocator : CachingAllocator
    """

    kind: str
    name: str
    arch: str
    multiprocessors: int
    max_threads_per_block: int = 1024
    max_shared_per_block: int = 48 * 1024
    warp_size: int = 32

    def __init__(self):
        self.allocator = CachingAllocator(self)

    def activated(self):
        """A ``with`` block during which this device is ready for many operations in a row
        (the GPU device makes its context current once for the block rather than per
        operation); nothing to do for devices without a context."""
        return contextlib.nullcontext()

    # -- what the compile cache keys on
    @abstractmethod
    def cache_identity(self) -> str:
        """Everything about this device and its toolchain that changes a built module: the
        architecture, the compiler's version, the driver's CUDA version."""

    # -- memory
    @abstractmethod
    def raw_malloc(self, nbytes: int) -> int:
        """A fresh allocation of ``nbytes`` (> 0), its address; :class:`MemoryError` when the
        device has no room. Only the allocator calls this."""

    @abstractmethod
    def raw_free(self, address: int) -> None:
        """Give an allocation back to the device (only the allocator calls this)."""

    @abstractmethod
    def upload(self, address: int, host: np.ndarray) -> None:
        """Copy the C-contiguous ``host`` array to ``address`` (queued on the stream; the
        array is copied before this returns, so the caller may reuse it)."""

    @abstractmethod
    def download(self, host: np.ndarray, address: int) -> None:
        """Copy ``host.nbytes`` bytes from ``address`` into the C-contiguous ``host`` array;
        returns when the copy, and all work queued before it, is done."""

    @abstractmethod
    def copy(self, destination: int, source: int, nbytes: int) -> None:
        """Device-to-device copy, queued on the stream."""

    @abstractmethod
    def fill_zero(self, address: int, nbytes: int) -> None:
        """Set ``nbytes`` at ``address`` to zero, queued on the stream."""

    @abstractmethod
    def synchronize(self) -> None:
        """Wait for all queued work; raise :class:`CudaError` for a failed kernel."""

    # -- code
    @abstractmethod
    def load_module(self, source: str, kernels: Sequence[KernelSpec]) -> Mapping[str, DeviceKernel]:
        """Build ``source`` (CUDA C++, through the compile cache) and load it; return its
        kernels by name. Raises the toolchain's ``CompileError`` for a source that does not
        build."""

    # -- cuBLAS (column-major, as cuBLAS itself)
    @abstractmethod
    def gemm(self, dtype: str, trans_a: bool, trans_b: bool, m: int, n: int, k: int,
             alpha: float, a: int, lda: int, b: int, ldb: int, beta: float, c: int,
             ldc: int) -> None:
        """``C = alpha * op(A) @ op(B) + beta * C`` on column-major matrices, as
        ``cublas{S,D}gemm``: ``op(A)`` is m x k, ``op(B)`` k x n, ``C`` m x n; ``a``, ``b``,
        ``c`` are addresses and ``ld*`` leading dimensions in elements. ``beta == 0`` ignores
        what ``C`` held (NaN included)."""

    @abstractmethod
    def gemm_strided_batched(self, dtype: str, trans_a: bool, trans_b: bool, m: int, n: int,
                             k: int, alpha: float, a: int, lda: int, stride_a: int, b: int,
                             ldb: int, stride_b: int, beta: float, c: int, ldc: int,
                             stride_c: int, batch: int) -> None:
        """``batch`` products as :meth:`gemm`, the i-th at ``a + i * stride_a`` elements
        (and so on), as ``cublas{S,D}gemmStridedBatched``."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


# --------------------------------------------------------------------------- memory
class DeviceBuffer:
    """One block of device memory from a :class:`CachingAllocator`; it goes back to the
    allocator's cache when the last reference to it goes."""

    __slots__ = ("address", "nbytes", "owner", "_allocator", "__weakref__")

    def __init__(self, allocator: CachingAllocator, address: int, nbytes: int):
        self.address = address
        self.nbytes = nbytes
        self.owner = None  # the call that made it (see exprc.link.cuda.program.Run)
        self._allocator = allocator

    def __del__(self):
        # (__del__ rather than weakref.finalize: a training step makes dozens of buffers per
        # call, and a finalizer costs several times the rest of an allocation)
        try:
            self._allocator._give_back(self.address, self.nbytes)
        except Exception:  # (interpreter shutdown: the cache is going anyway)
            pass

    def __repr__(self) -> str:
        return f"<DeviceBuffer {self.nbytes} bytes at {self.address:#x}>"


class CachingAllocator:
    """Device memory with a cache of freed blocks, so that repeated calls do not allocate.

    Sizes are rounded up (to 512 bytes below 1 MiB, to 1 MiB above) and a freed block is kept
    under its rounded size for the next request of that size. When the device runs out, the
    cached blocks are given back and the allocation is tried once more.
    """

    _SMALL = 512
    _LARGE = 1 << 20

    def __init__(self, device: Device):
        self._device = device
        self._free: dict[int, list[int]] = defaultdict(list)
        # Re-entrant: a garbage collection while the lock is held can free a buffer whose
        # __del__ gives its block back through the same lock.
        self._lock = threading.RLock()
        self.in_use = 0
        self.cached = 0

    @classmethod
    def rounded(cls, nbytes: int) -> int:
        """The size of the block that serves a request of ``nbytes``."""
        unit = cls._SMALL if nbytes < cls._LARGE else cls._LARGE
        return max(unit, -(-nbytes // unit) * unit)

    def allocate(self, nbytes: int) -> DeviceBuffer:
        """A block of at least ``nbytes`` (a zero-byte request gets the smallest block, so
        that every array has a valid address)."""
        size = self.rounded(nbytes)
        address = None
        with self._lock:
            blocks = self._free.get(size)
            if blocks:
                address = blocks.pop()
                self.cached -= size
                self.in_use += size
        if address is not None:
            return DeviceBuffer(self, address, size)  # made outside the lock (see __init__)
        try:
            address = self._device.raw_malloc(size)
        except MemoryError:
            self.empty_cache()
            try:
                address = self._device.raw_malloc(size)
            except MemoryError as exc:
                raise MemoryError(
                    f"{self._device.name}: out of device memory allocating {size} bytes "
                    f"({self.in_use} bytes in use by exprc)") from exc
        with self._lock:
            self.in_use += size
        return DeviceBuffer(self, address, size)

    def _give_back(self, address: int, size: int) -> None:
        with self._lock:
            self._free[size].append(address)
            self.in_use -= size
            self.cached += size

    def empty_cache(self) -> None:
        """Give every cached block back to the device."""
        with self._lock:
            # Swapped, not iterated under the lock: a block given back meanwhile (by a
            # collection) lands in the new table.
            free, self._free = self._free, defaultdict(list)
            self.cached = 0
        for addresses in free.values():
            for address in addresses:
                self._device.raw_free(address)


# --------------------------------------------------------------------------- arrays
class DeviceArray:
    """An array in device memory: a buffer, a byte offset into it, a shape, a dtype and byte
    strides (as NumPy's). Views share their base's buffer.

    This is the value type of a CUDA program and of a shared variable that lives on the GPU;
    :meth:`to_host` gives a NumPy array.
    """

    __slots__ = ("device", "buffer", "offset", "shape", "dtype", "strides")

    def __init__(self, device: Device, buffer: DeviceBuffer, shape: tuple[int, ...],
                 dtype: np.dtype | str, strides: tuple[int, ...] | None = None,
                 offset: int = 0):
        self.device = device
        self.buffer = buffer
        self.offset = offset
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self.strides = tuple(strides) if strides is not None else _contiguous_strides(
            self.shape, self.dtype.itemsize)

    # -- construction
    @classmethod
    def empty(cls, device: Device, shape: Sequence[int], dtype) -> DeviceArray:
        """An uninitialised C-contiguous array."""
        # Every step of every call makes its outputs here: the slots are set directly, with
        # the dtype objects looked up once.
        dtype = _DTYPES.get(dtype) or _dtype(dtype)
        shape = tuple(int(n) for n in shape)
        array = object.__new__(cls)
        array.device, array.dtype, array.offset, array.shape = device, dtype, 0, shape
        array.buffer = device.allocator.allocate(math.prod(shape) * dtype.itemsize)
        array.strides = _contiguous_strides(shape, dtype.itemsize)
        return array

    @classmethod
    def from_host(cls, device: Device, array: np.ndarray) -> DeviceArray:
        """A device copy of ``array``."""
        host = np.asarray(array)
        if not host.dtype.isnative:  # kernels read the machine's byte order
            host = host.astype(host.dtype.newbyteorder("="))
        if not host.flags.c_contiguous:  # (np.ascontiguousarray would make a 0-d array 1-d)
            host = host.copy(order="C")
        result = cls.empty(device, host.shape, host.dtype)
        if host.nbytes:
            device.upload(result.address, host)
        return result

    # -- facts
    @property
    def address(self) -> int:
        """The address of the first element."""
        return self.buffer.address + self.offset

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    @property
    def is_contiguous(self) -> bool:
        """C-contiguous (strides of size-1 axes do not matter)."""
        expected = _contiguous_strides(self.shape, self.dtype.itemsize)
        return all(n == 1 or s == e for n, s, e in zip(self.shape, self.strides, expected))

    def view(self, shape: Sequence[int], strides: Sequence[int], offset: int = 0) -> DeviceArray:
        """A view of the same buffer (``offset`` in bytes from this array's first element)."""
        # Views are made on every call of a program: set the slots without __init__'s
        # conversions (the dtype is already one).
        view = object.__new__(DeviceArray)
        view.device, view.buffer, view.dtype = self.device, self.buffer, self.dtype
        view.offset = self.offset + offset
        view.shape = tuple(int(n) for n in shape)
        view.strides = tuple(int(s) for s in strides)
        return view

    def to_host(self) -> np.ndarray:
        """A NumPy copy (C-contiguous). A non-contiguous array is downloaded through the
        smallest contiguous span that holds it and viewed with its strides."""
        if self.is_contiguous:
            host = np.empty(self.shape, self.dtype)
            if host.nbytes:
                self.device.download(host, self.address)
            return host
        low, high = _span(self.shape, self.strides, self.dtype.itemsize)
        raw = np.empty(high - low, np.uint8)
        self.device.download(raw, self.address + low)
        return np.ascontiguousarray(np.ndarray(self.shape, self.dtype, raw, -low, self.strides))

    def __array__(self, dtype=None, copy=None):
        host = self.to_host()
        return host if dtype is None else host.astype(dtype)

    def __repr__(self) -> str:
        return f"DeviceArray(shape={self.shape}, dtype={self.dtype}, on {self.device.name})"


_DTYPES: dict = {}


def _dtype(dtype) -> np.dtype:
    """``np.dtype(dtype)``, remembered under the name or object it was asked by."""
    result = np.dtype(dtype)
    try:
        _DTYPES[dtype] = result
    except TypeError:  # an unhashable description
        pass
    return result


def _contiguous_strides(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    strides, step = [], itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def _span(shape, strides, itemsize) -> tuple[int, int]:
    """The byte range [low, high) that the elements of a strided array cover, from its first
    element."""
    if any(n == 0 for n in shape):
        return 0, 0
    low = sum(s * (n - 1) for n, s in zip(shape, strides) if s < 0)
    high = sum(s * (n - 1) for n, s in zip(shape, strides) if s > 0) + itemsize
    return low, high
