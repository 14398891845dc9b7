"""The real GPU: an NVIDIA device through pycuda, with cuBLAS for the matrix products.

:func:`cuda_unavailable_reason` says, once per process, why CUDA cannot be used here (pycuda
missing, no driver, no device, no cuBLAS, no nvcc), or ``None`` when it can; the tests of
real-device behaviour skip on it and ``device=cuda`` reports it through
:class:`CudaUnavailable`. :func:`cuda_device` gives the one :class:`PycudaDevice` of a GPU.

Contexts
    A device works in the GPU's *primary* context (``cuDevicePrimaryCtxRetain``), the one the
    CUDA runtime, cuBLAS, PyTorch and CuPy use too, so their memory and modules live in one
    context and no second context takes its few hundred MiB. The context is made current
    around each device operation (pushed, then popped), not once for good: pycuda's context
    stack is per thread and aborts the process when a thread ends with a context still pushed
    on it, and a context left current would leak into the user's own pycuda or CuPy code.
    Pushing is reentrant and costs a thread-local check once the context is current, so a
    caller that runs many launches wraps them in one ``with device.activated():`` and pays
    the push and pop once.

    At exit the device lets go of the primary context itself (``cuDevicePrimaryCtxRelease``,
    through pycuda's ``Context.detach``): left to pycuda's clean-up, the context object's
    destructor would call ``cuCtxDetach``, which is meant for contexts pycuda created, and
    print a warning where the driver refuses it.

Streams
    All work goes to one non-default stream of the device, in order (see
    :mod:`exprc.link.cuda.device`). It is a blocking stream: work other code queues on the
    legacy default stream waits for it, and the other way round.
"""

from __future__ import annotations

import atexit
import importlib
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from exprc.errors import ExprcError
from exprc.link.cuda.device import CudaError, Device, DeviceKernel, KernelSpec

__all__ = ["CudaUnavailable", "PycudaDevice", "PycudaKernel", "cuda_device",
           "cuda_unavailable_reason", "forget_cuda_probe"]

INSTALL_HINT = "pip install 'exprc[cuda]'"


class CudaUnavailable(ExprcError):
    """CUDA cannot be used in this process; the message says why (see
    :func:`cuda_unavailable_reason`)."""


# --------------------------------------------------------------------------- availability
_lock = threading.RLock()
_UNKNOWN = object()
_reason: object = _UNKNOWN
_devices: dict[int, PycudaDevice] = {}
_made: list[PycudaDevice] = []  # every device made, released at exit


def cuda_unavailable_reason() -> str | None:
    """Why CUDA cannot be used in this process, or ``None`` when it can.

    The first call imports pycuda, initialises the driver and looks for a device, cuBLAS and
    nvcc; the answer is kept for the life of the process. The reasons read:

    - ``pycuda is not installed (pip install 'exprc[cuda]')``
    - ``no NVIDIA driver (libcuda.so.1 not found: ...)``
    - ``no CUDA device`` (with the driver's words when it gave any)
    - ``cuBLAS not found (...)`` and ``nvcc not found (...)``, saying where exprc looked

    and otherwise ``pycuda does not load (...)`` or ``the NVIDIA driver does not start
    (...)`` with the error's own text. Never raises.
    """
    global _reason
    with _lock:
        if _reason is _UNKNOWN:
            _reason = _probe()
        return _reason


def forget_cuda_probe() -> None:
    """Forget the answer of :func:`cuda_unavailable_reason` and the devices made so far, so
    the next call probes again (for tests that fake pycuda)."""
    global _reason
    with _lock:
        _reason = _UNKNOWN
        _devices.clear()


def _import_driver():
    return importlib.import_module("pycuda.driver")


def _probe() -> str | None:
    try:
        cuda = _import_driver()
    except ModuleNotFoundError as exc:
        if exc.name in ("pycuda", "pycuda.driver"):
            return f"pycuda is not installed ({INSTALL_HINT})"
        return f"pycuda does not load ({exc})"
    except ImportError as exc:
        # pycuda's extension links libcuda.so.1, which only the NVIDIA driver installs.
        if "libcuda" in str(exc):
            return f"no NVIDIA driver (libcuda.so.1 not found: {exc})"
        return f"pycuda does not load ({exc})"
    except Exception as exc:  # any failure is a reason, never a traceback
        return f"pycuda does not load ({type(exc).__name__}: {exc})"
    try:
        cuda.init()
        count = cuda.Device.count()
    except Exception as exc:
        text = f"{exc}".strip() or type(exc).__name__
        if "no CUDA-capable device" in text or "NO_DEVICE" in text:
            return f"no CUDA device ({text})"
        return f"the NVIDIA driver does not start ({text})"
    if count < 1:
        return "no CUDA device"
    from exprc.link.cuda.cublas import CublasNotFound, find_cublas
    from exprc.link.cuda.toolchain import NvccNotFound, find_nvcc

    try:
        find_cublas()
    except CublasNotFound as exc:
        return f"cuBLAS not found ({exc})"
    try:
        find_nvcc()
    except NvccNotFound as exc:
        return f"nvcc not found ({exc})"
    return None


def cuda_device(ordinal: int = 0) -> PycudaDevice:
    """The device of GPU number ``ordinal``: one per process, made on first use.

    Raises
    ------
    CudaUnavailable
        With :func:`cuda_unavailable_reason`'s text as its message, when there is no such
        GPU, or when setting the device up fails (the driver's words included).
    """
    with _lock:
        device = _devices.get(ordinal)
        if device is not None:
            return device
        reason = cuda_unavailable_reason()
        if reason is not None:
            raise CudaUnavailable(reason)
        cuda = _import_driver()
        count = cuda.Device.count()
        if not 0 <= ordinal < count:
            raise CudaUnavailable(f"there is no CUDA device {ordinal}: this machine has "
                                  f"{count} (cuda0 to cuda{count - 1})")
        try:
            device = PycudaDevice(ordinal, cuda)
        except CudaUnavailable:
            raise
        except (ExprcError, cuda.Error) as exc:
            raise CudaUnavailable(f"cuda:{ordinal} cannot be set up: {exc}") from exc
        _devices[ordinal] = device
        return device


def _release_all() -> None:
    for device in _made:
        device._release()


# --------------------------------------------------------------------------- context
class _Released:
    """What a device's context block becomes once the device has let go of its context."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        raise CudaError(f"{self.name} was released (the process is exiting)")

    def __exit__(self, *exc_info) -> bool:
        return False


class _Activation:
    """``with`` block during which the device's context is current in this thread.

    Reentrant: only the outermost block of a thread pushes and pops, so nested device calls
    cost one thread-local lookup.
    """

    __slots__ = ("_context", "_pop", "_local")

    def __init__(self, context, pop):
        self._context = context
        self._pop = pop
        self._local = threading.local()

    def __enter__(self):
        local = self._local
        depth = getattr(local, "depth", 0)
        if depth == 0:
            self._context.push()
        local.depth = depth + 1
        return self

    def __exit__(self, *exc_info) -> bool:
        local = self._local
        local.depth -= 1
        if local.depth == 0:
            self._pop()
        return False


# --------------------------------------------------------------------------- the device
class PycudaDevice(Device):
    """An NVIDIA GPU through pycuda (see the module docstring); made by :func:`cuda_device`.

    Parameters
    ----------
    ordinal : int
        The GPU's number.
    cuda : module
        ``pycuda.driver``, initialised.
    cublas : Cublas, optional
        Default: a new handle on the library :func:`~exprc.link.cuda.cublas.find_cublas`
        finds.
    nvcc : Nvcc, optional
        Default :func:`~exprc.link.cuda.toolchain.find_nvcc`.
    """

    kind = "cuda"

    def __init__(self, ordinal: int, cuda, cublas=None, nvcc=None):
        super().__init__()
        if not hasattr(cuda.Function, "_launch_kernel"):
            raise CudaUnavailable("this pycuda cannot launch a kernel with an argument buffer "
                                  "(no Function._launch_kernel); install pycuda>=2024.1")
        if nvcc is None:
            from exprc.link.cuda.toolchain import find_nvcc

            nvcc = find_nvcc()
        self._cuda = cuda
        self._nvcc = nvcc
        self.ordinal = ordinal
        gpu = cuda.Device(ordinal)
        major, minor = gpu.compute_capability()
        attribute = cuda.device_attribute
        self.arch = f"sm_{major}{minor}"
        self.name = f"cuda:{ordinal} {gpu.name()} ({self.arch})"
        self.multiprocessors = int(gpu.get_attribute(attribute.MULTIPROCESSOR_COUNT))
        self.max_threads_per_block = int(gpu.get_attribute(attribute.MAX_THREADS_PER_BLOCK))
        # The limit without opting in per kernel (cuFuncSetAttribute); launches stay under it.
        self.max_shared_per_block = int(
            gpu.get_attribute(attribute.MAX_SHARED_MEMORY_PER_BLOCK))
        self.warp_size = int(gpu.get_attribute(attribute.WARP_SIZE))
        version = int(cuda.get_driver_version())
        self.driver_cuda_version = f"{version // 1000}.{version % 1000 // 10}"
        self._context = gpu.retain_primary_context()
        self._active = _Activation(self._context, cuda.Context.pop)
        self._allocations: dict[int, object] = {}
        self._modules = None
        with self._active:
            self.stream = cuda.Stream()
            if cublas is None:
                from exprc.link.cuda.cublas import Cublas

                cublas = Cublas()
            self.cublas = cublas
            self.cublas.set_stream(int(self.stream.handle))
        with _lock:
            if not _made:
                atexit.register(_release_all)
            _made.append(self)

    @property
    def released(self) -> bool:
        """Whether the device has let go of its context (at exit); it can do nothing more."""
        return isinstance(self._active, _Released)

    def _release(self) -> None:
        """Let go of the primary context, once. What still holds device memory or modules is
        dropped with the process (pycuda skips objects of a released context)."""
        if self.released:
            return
        self._active = _Released(self.name)
        try:
            self._context.detach()
        except Exception:  # at exit there is no one left to tell
            pass

    def activated(self) -> _Activation:
        """A ``with`` block during which this device's context stays current in this thread
        (reentrant), so the device calls inside it do not push and pop it each."""
        return self._active

    def cache_identity(self) -> str:
        return f"{self.arch} nvcc {self._nvcc.version} driver CUDA {self.driver_cuda_version}"

    def _failed(self, what: str, exc: Exception) -> CudaError:
        return CudaError(f"{self.name}: {what} failed: {exc}")

    # -- memory
    def raw_malloc(self, nbytes: int) -> int:
        cuda = self._cuda
        with self._active:
            try:
                allocation = cuda.mem_alloc(nbytes)
            except cuda.MemoryError as exc:
                raise MemoryError(f"{self.name}: cuMemAlloc of {nbytes} bytes: {exc}") from exc
            except cuda.Error as exc:
                raise self._failed(f"cuMemAlloc of {nbytes} bytes", exc) from exc
        address = int(allocation)
        # pycuda frees an allocation when its object goes: keep it until raw_free.
        self._allocations[address] = allocation
        return address

    def raw_free(self, address: int) -> None:
        allocation = self._allocations.pop(address, None)
        if allocation is None:
            raise CudaError(f"{self.name}: {address:#x} is no allocation of this device")
        # cuMemFree waits for the work queued before it, so a block still read by a queued
        # kernel is not pulled from under it.
        with self._active:
            try:
                allocation.free()
            except self._cuda.Error as exc:
                raise self._failed(f"cuMemFree of {address:#x}", exc) from exc

    def upload(self, address: int, host: np.ndarray) -> None:
        # An asynchronous copy from pageable memory returns only once the driver has read the
        # host buffer (into a pinned staging buffer, or straight to the GPU), so the caller
        # may reuse the array at once; it is queued on the stream after earlier work.
        host = np.ascontiguousarray(host)
        with self._active:
            try:
                self._cuda.memcpy_htod_async(address, host, self.stream)
            except self._cuda.Error as exc:
                raise self._failed(f"upload of {host.nbytes} bytes to {address:#x}", exc) \
                    from exc

    def download(self, host: np.ndarray, address: int) -> None:
        if not (host.flags.c_contiguous and host.flags.writeable):
            raise ValueError("download needs a writable C-contiguous array")
        with self._active:
            try:
                self._cuda.memcpy_dtoh_async(host, address, self.stream)
                self.stream.synchronize()
            except self._cuda.Error as exc:
                raise self._failed(f"download of {host.nbytes} bytes from {address:#x} "
                                   "(or a kernel queued before it)", exc) from exc

    def copy(self, destination: int, source: int, nbytes: int) -> None:
        with self._active:
            try:
                self._cuda.memcpy_dtod_async(destination, source, nbytes, self.stream)
            except self._cuda.Error as exc:
                raise self._failed(f"copy of {nbytes} bytes", exc) from exc

    def fill_zero(self, address: int, nbytes: int) -> None:
        with self._active:
            try:
                self._cuda.memset_d8_async(address, 0, nbytes, self.stream)
            except self._cuda.Error as exc:
                raise self._failed(f"zeroing {nbytes} bytes at {address:#x}", exc) from exc

    def synchronize(self) -> None:
        with self._active:
            try:
                self.stream.synchronize()
            except self._cuda.Error as exc:
                raise self._failed("a queued kernel or copy", exc) from exc

    # -- code
    def load_module(self, source: str, kernels: Sequence[KernelSpec]) -> Mapping[str, DeviceKernel]:
        with self._active:
            module = self._module_cache().load(source, declarations="")
            result = {}
            for spec in kernels:
                try:
                    function = module.get_function(spec.name)
                except self._cuda.Error as exc:
                    raise CudaError(f"{self.name}: the built module has no kernel "
                                    f"{spec.name!r} ({exc})") from exc
                result[spec.name] = PycudaKernel(self, spec, function, module)
        return result

    def _module_cache(self):
        if self._modules is None:
            from exprc.link.cuda.toolchain import NvccToolchain, cuda_cache

            toolchain = NvccToolchain(self.arch, f"driver CUDA {self.driver_cuda_version}",
                                      loader=self._load_cubin, nvcc=self._nvcc)
            self._modules = cuda_cache(toolchain)
        return self._modules

    def _load_cubin(self, path: Path):
        data = Path(path).read_bytes()
        with self._active:
            try:
                return self._cuda.module_from_buffer(data)
            except self._cuda.Error as exc:
                # OSError: the cache rebuilds the entry once, then reports it.
                raise OSError(f"{path} does not load on {self.name}: {exc}") from exc

    # -- cuBLAS
    def gemm(self, dtype, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
        with self._active:
            self.cublas.gemm(dtype, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,
                             ldc)

    def gemm_strided_batched(self, dtype, trans_a, trans_b, m, n, k, alpha, a, lda, stride_a,
                             b, ldb, stride_b, beta, c, ldc, stride_c, batch):
        with self._active:
            self.cublas.gemm_strided_batched(dtype, trans_a, trans_b, m, n, k, alpha, a, lda,
                                             stride_a, b, ldb, stride_b, beta, c, ldc,
                                             stride_c, batch)

    # -- CUDA graphs
    def capture(self, work):
        """Record the device work ``work()`` queues as a CUDA graph, to replay it with one
        launch; see :func:`exprc.link.cuda.graphs.capture`."""
        from exprc.link.cuda.graphs import capture

        return capture(self, work)


class PycudaKernel(DeviceKernel):
    """A kernel of a module loaded on a :class:`PycudaDevice`."""

    __slots__ = ("spec", "_device", "_function", "_module")

    def __init__(self, device: PycudaDevice, spec: KernelSpec, function, module):
        self.spec = spec
        self._device = device
        self._function = function
        self._module = module  # the function is only valid while its module is loaded

    def launch(self, grid, block, args, shared_bytes: int = 0) -> None:
        device = self._device
        grid, block = tuple(grid), tuple(block)
        threads = block[0] * block[1] * block[2] if len(block) == 3 else 0
        if (len(grid) != 3 or min(grid) < 1 or min(block) < 1
                or not 0 < threads <= device.max_threads_per_block
                or not 0 <= shared_bytes <= device.max_shared_per_block):
            raise CudaError(f"kernel {self.spec.name}: launch of grid {grid} and block {block} "
                            f"with {shared_bytes} bytes of shared memory is beyond "
                            f"{device.name} (at most {device.max_threads_per_block} threads "
                            f"and {device.max_shared_per_block} bytes per block)")
        buffer = self.spec.pack(args)
        cuda = device._cuda
        with device._active:
            try:
                self._function._launch_kernel(grid, block, buffer, shared_bytes, device.stream)
            except cuda.Error as exc:
                raise CudaError(f"{device.name}: launch of kernel {self.spec.name} (grid "
                                f"{grid}, block {block}, {shared_bytes} bytes shared) failed: "
                                f"{exc}") from exc

    def __repr__(self) -> str:
        return f"<PycudaKernel {self.spec.name} on {self._device.name}>"
