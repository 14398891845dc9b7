"""The pycuda device, cuBLAS binding and CUDA availability report.

Most tests run anywhere: pycuda is replaced by a fake driver module (device memory is a dict
of byte arrays, launches record their argument buffers, the context stack is counted), cuBLAS
by a fake library, and the library search runs over fake folders. The tests marked ``cuda``
run on a real GPU and skip, with the reason, everywhere else.
"""

from __future__ import annotations

import ctypes
import importlib.util
import sys
import types

import numpy as np
import pytest

from exprc.configuration import config
from exprc.link.cuda import cublas as cb
from exprc.link.cuda import driver as drv
from exprc.link.cuda import graphs
from exprc.link.cuda.device import CudaError, DeviceArray, KernelSpec, param
from exprc.link.cuda.toolchain import Nvcc, NvccNotFound, nvcc_available


@pytest.fixture(autouse=True)
def fresh_probe(request):
    """Every test with a fake pycuda starts, and leaves, with no remembered answer or device
    (the real-GPU tests keep theirs: see ``gpu``)."""
    if request.node.get_closest_marker("cuda"):
        yield
        return
    drv.forget_cuda_probe()
    yield
    drv.forget_cuda_probe()


# --------------------------------------------------------------------------- a fake pycuda
class FakeError(Exception):
    """pycuda.driver.Error."""


class FakeMemoryError(FakeError):
    """pycuda.driver.MemoryError."""


class FakeContext:
    def __init__(self, driver):
        self.driver = driver

    def push(self):
        self.driver.stack.append(self)

    def detach(self):
        self.driver.calls.append("detach")


class FakeAllocation:
    def __init__(self, driver, address, nbytes):
        self.driver, self.address, self.nbytes = driver, address, nbytes

    def __int__(self):
        return self.address

    def free(self):
        self.driver.require_context()
        del self.driver.memory[self.address]


class FakeStream:
    def __init__(self, driver):
        driver.require_context()
        self.handle = 0x5000
        self.driver = driver

    def synchronize(self):
        self.driver.require_context()
        self.driver.calls.append("synchronize")
        if self.driver.sticky:
            raise FakeError("cuStreamSynchronize failed: an illegal memory access was "
                            "encountered")


class FakeFunction:
    def __init__(self, driver, name):
        self.driver, self.name = driver, name

    def _launch_kernel(self, grid, block, buffer, shared, stream):
        self.driver.require_context()
        assert isinstance(grid, tuple) and isinstance(block, tuple)
        self.driver.launches.append((self.name, grid, block, bytes(buffer), shared, stream))


class FakeModule:
    def __init__(self, driver, data):
        self.driver, self.data = driver, data

    def get_function(self, name):
        if name.encode() not in self.data:
            raise FakeError(f"cuModuleGetFunction failed: named symbol not found ({name})")
        return FakeFunction(self.driver, name)


def fake_driver(*, count=1, init_error=None, capacity=1 << 30):
    """A module standing in for ``pycuda.driver``; its state is on the module."""
    cuda = types.ModuleType("pycuda.driver")
    cuda.stack, cuda.memory, cuda.calls, cuda.launches, cuda.inits = [], {}, [], [], []
    cuda.sticky, cuda.next_address, cuda.capacity = False, 0x7F0000000000, capacity
    cuda.Error, cuda.MemoryError = FakeError, FakeMemoryError

    def require_context():
        assert cuda.stack, "a driver call without the device's context current"

    def init():
        cuda.inits.append(1)
        if init_error is not None:
            raise init_error

    class Device:
        def __init__(self, ordinal):
            self.ordinal = ordinal

        @staticmethod
        def count():
            return count

        def compute_capability(self):
            return (9, 0)

        def name(self):
            return "Fake H100"

        def get_attribute(self, attribute):
            return {"sm": 132, "threads": 1024, "shared": 49152, "warp": 32}[attribute]

        def retain_primary_context(self):
            return FakeContext(cuda)

    class Context:
        @staticmethod
        def pop():
            cuda.stack.pop()

    def mem_alloc(nbytes):
        require_context()
        if sum(len(b) for b in cuda.memory.values()) + nbytes > cuda.capacity:
            raise FakeMemoryError("cuMemAlloc failed: out of memory")
        address = cuda.next_address
        cuda.next_address += nbytes + 4096
        cuda.memory[address] = bytearray(nbytes)
        return FakeAllocation(cuda, address, nbytes)

    def locate(address, nbytes):
        for base, block in cuda.memory.items():
            if base <= address and address + nbytes <= base + len(block):
                return block, address - base
        raise FakeError(f"invalid address {address:#x}")

    def memcpy_htod_async(address, host, stream):
        require_context()
        data = memoryview(host).cast("B")
        block, start = locate(address, len(data))
        block[start:start + len(data)] = data
        cuda.calls.append(("htod", stream))

    def memcpy_dtoh_async(host, address, stream):
        require_context()
        view = memoryview(host).cast("B")
        block, start = locate(address, len(view))
        view[:] = block[start:start + len(view)]
        cuda.calls.append(("dtoh", stream))

    def memcpy_dtod_async(destination, source, nbytes, stream):
        require_context()
        src, s = locate(source, nbytes)
        dst, d = locate(destination, nbytes)
        dst[d:d + nbytes] = src[s:s + nbytes]
        cuda.calls.append(("dtod", stream))

    def memset_d8_async(address, value, nbytes, stream):
        require_context()
        block, start = locate(address, nbytes)
        block[start:start + nbytes] = bytes([value]) * nbytes
        cuda.calls.append(("memset", stream))

    def module_from_buffer(data):
        require_context()
        if not data.startswith(b"\x7fELF"):
            raise FakeError("cuModuleLoadDataEx failed: device kernel image is invalid")
        return FakeModule(cuda, bytes(data))

    cuda.require_context = require_context
    cuda.init, cuda.Device, cuda.Context = init, Device, Context
    cuda.device_attribute = types.SimpleNamespace(
        MULTIPROCESSOR_COUNT="sm", MAX_THREADS_PER_BLOCK="threads",
        MAX_SHARED_MEMORY_PER_BLOCK="shared", WARP_SIZE="warp")
    cuda.get_driver_version = lambda: 13000
    cuda.Stream = lambda: FakeStream(cuda)
    cuda.Function = FakeFunction
    cuda.mem_alloc, cuda.module_from_buffer = mem_alloc, module_from_buffer
    cuda.memcpy_htod_async, cuda.memcpy_dtoh_async = memcpy_htod_async, memcpy_dtoh_async
    cuda.memcpy_dtod_async, cuda.memset_d8_async = memcpy_dtod_async, memset_d8_async
    return cuda


def install(monkeypatch, cuda):
    package = types.ModuleType("pycuda")
    package.driver = cuda
    monkeypatch.setitem(sys.modules, "pycuda", package)
    monkeypatch.setitem(sys.modules, "pycuda.driver", cuda)


class FakeCublas:
    """Records calls and checks the context is current for each."""

    def __init__(self, cuda):
        self.cuda, self.calls, self.stream = cuda, [], None

    def set_stream(self, stream):
        self.cuda.require_context()
        self.stream = stream

    def gemm(self, *args):
        self.cuda.require_context()
        self.calls.append(("gemm", args))

    def gemm_strided_batched(self, *args):
        self.cuda.require_context()
        self.calls.append(("batched", args))


FAKE_NVCC = Nvcc(("/opt/fake/nvcc",), "13.0.88", None)


def make_device(monkeypatch, **options):
    cuda = fake_driver(**options)
    install(monkeypatch, cuda)
    return cuda, drv.PycudaDevice(0, cuda, cublas=FakeCublas(cuda), nvcc=FAKE_NVCC)


# --------------------------------------------------------------------------- availability
def test_without_pycuda_the_reason_says_to_install_it(monkeypatch):
    for name in ("pycuda", "pycuda.driver"):  # importing them fails as if not installed
        monkeypatch.setitem(sys.modules, name, None)
    reason = drv.cuda_unavailable_reason()
    assert reason == "pycuda is not installed (pip install 'exprc[cuda]')"
    with pytest.raises(drv.CudaUnavailable) as info:
        drv.cuda_device()
    assert reason in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None


@pytest.mark.skipif(importlib.util.find_spec("pycuda") is not None,
                    reason="pycuda is installed here")
def test_this_machine_without_pycuda_reports_it():
    assert drv.cuda_unavailable_reason().startswith("pycuda is not installed")


def test_pycuda_without_the_driver_library(monkeypatch, tmp_path):
    # A pycuda whose extension cannot find libcuda.so.1, as on a machine with no NVIDIA driver.
    package = tmp_path / "pycuda"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "driver.py").write_text(
        "raise ImportError('libcuda.so.1: cannot open shared object file: No such file or "
        "directory')\n")
    for name in ("pycuda", "pycuda.driver"):
        # setitem first: whatever was there (or nothing) is put back afterwards.
        monkeypatch.setitem(sys.modules, name, None)
        del sys.modules[name]
    monkeypatch.syspath_prepend(str(tmp_path))
    reason = drv.cuda_unavailable_reason()
    assert reason.startswith("no NVIDIA driver (libcuda.so.1 not found")
    assert "cannot open shared object file" in reason


def test_a_failing_driver_is_named_and_the_answer_is_kept(monkeypatch):
    cuda = fake_driver(init_error=FakeError("cuInit failed: CUDA driver version is "
                                            "insufficient for CUDA runtime version"))
    install(monkeypatch, cuda)
    reason = drv.cuda_unavailable_reason()
    assert reason.startswith("the NVIDIA driver does not start")
    assert "driver version is insufficient" in reason
    assert drv.cuda_unavailable_reason() == reason
    assert len(cuda.inits) == 1, "the probe ran twice"
    with pytest.raises(drv.CudaUnavailable, match="insufficient"):
        drv.cuda_device()
    assert len(cuda.inits) == 1
    drv.forget_cuda_probe()
    drv.cuda_unavailable_reason()
    assert len(cuda.inits) == 2


def test_no_device(monkeypatch):
    install(monkeypatch, fake_driver(
        init_error=FakeError("cuInit failed: no CUDA-capable device is detected")))
    assert drv.cuda_unavailable_reason().startswith("no CUDA device (cuInit failed")
    drv.forget_cuda_probe()
    install(monkeypatch, fake_driver(count=0))
    assert drv.cuda_unavailable_reason() == "no CUDA device"


def test_missing_cublas_and_nvcc_are_reported(monkeypatch):
    from exprc.link.cuda import toolchain

    install(monkeypatch, fake_driver())

    def no_cublas():
        raise cb.CublasNotFound("looked in /nowhere")

    def no_nvcc():
        raise NvccNotFound("looked at /usr/local/cuda/bin/nvcc")

    monkeypatch.setattr(cb, "find_cublas", no_cublas)
    assert drv.cuda_unavailable_reason() == "cuBLAS not found (looked in /nowhere)"
    drv.forget_cuda_probe()
    monkeypatch.setattr(cb, "find_cublas", lambda: "/fake/libcublas.so.13")
    monkeypatch.setattr(toolchain, "find_nvcc", no_nvcc)
    assert drv.cuda_unavailable_reason() == \
        "nvcc not found (looked at /usr/local/cuda/bin/nvcc)"
    drv.forget_cuda_probe()
    monkeypatch.setattr(toolchain, "find_nvcc", lambda: FAKE_NVCC)
    assert drv.cuda_unavailable_reason() is None


def test_cuda_device_is_one_per_ordinal(monkeypatch):
    from exprc.link.cuda import toolchain

    cuda = fake_driver(count=2)
    install(monkeypatch, cuda)
    monkeypatch.setattr(cb, "find_cublas", lambda: "/fake/libcublas.so.13")
    monkeypatch.setattr(toolchain, "find_nvcc", lambda: FAKE_NVCC)
    monkeypatch.setattr(cb, "Cublas", lambda: FakeCublas(cuda))
    first = drv.cuda_device(1)
    assert drv.cuda_device(1) is first
    assert drv.cuda_device(0) is not first
    assert first.name == "cuda:1 Fake H100 (sm_90)"
    with pytest.raises(drv.CudaUnavailable, match="no CUDA device 2: this machine has 2"):
        drv.cuda_device(2)
    assert cuda.stack == []


# --------------------------------------------------------------------------- the device
def test_device_facts_come_from_the_driver(monkeypatch):
    cuda, device = make_device(monkeypatch)
    assert (device.kind, device.arch, device.multiprocessors) == ("cuda", "sm_90", 132)
    assert (device.max_threads_per_block, device.max_shared_per_block) == (1024, 49152)
    identity = device.cache_identity()
    assert "sm_90" in identity and "13.0.88" in identity and "driver CUDA 13.0" in identity
    assert device.cublas.stream == 0x5000, "cuBLAS must queue on the device's stream"
    assert cuda.stack == [], "the context was left current"


def test_memory_round_trip_on_the_stream(monkeypatch):
    cuda, device = make_device(monkeypatch)
    rng = np.random.default_rng(0)
    host = rng.standard_normal((5, 7)).astype(np.float32)
    array = DeviceArray.from_host(device, host)
    expected = host.copy()
    host[:] = 0  # the upload has read the array: reusing it changes nothing
    np.testing.assert_array_equal(array.to_host(), expected)
    other = DeviceArray.empty(device, (5, 7), np.float32)
    device.copy(other.address, array.address, array.nbytes)
    np.testing.assert_array_equal(other.to_host(), expected)
    device.fill_zero(other.address, 4 * 7)
    np.testing.assert_array_equal(other.to_host()[0], np.zeros(7, np.float32))
    np.testing.assert_array_equal(other.to_host()[1:], expected[1:])
    assert {call[1] for call in cuda.calls if call != "synchronize"} == {device.stream}
    assert cuda.stack == []


def test_download_reports_a_failed_kernel(monkeypatch):
    cuda, device = make_device(monkeypatch)
    array = DeviceArray.from_host(device, np.arange(4.0))
    cuda.sticky = True
    with pytest.raises(CudaError, match="illegal memory access") as info:
        array.to_host()
    assert "cuda:0 Fake H100" in str(info.value)
    with pytest.raises(CudaError, match="illegal memory access"):
        device.synchronize()
    assert cuda.stack == []


def test_allocator_reuses_freed_blocks_and_frees_on_empty_cache(monkeypatch):
    cuda, device = make_device(monkeypatch)
    first = DeviceArray.empty(device, (1000,), np.float32)
    address = first.address
    del first
    second = DeviceArray.empty(device, (1000,), np.float32)
    assert second.address == address
    assert len(cuda.memory) == 1, "a second cuMemAlloc for a cached size"
    del second
    device.allocator.empty_cache()
    assert cuda.memory == {} and device._allocations == {}


def test_out_of_memory_is_a_memory_error(monkeypatch):
    cuda, device = make_device(monkeypatch, capacity=1 << 20)
    with pytest.raises(MemoryError, match="out of device memory"):
        DeviceArray.empty(device, (1 << 20,), np.float32)
    assert cuda.stack == []


def test_the_context_is_pushed_once_for_nested_work(monkeypatch):
    cuda, device = make_device(monkeypatch)
    pushes = []
    context = device._context
    original = context.push
    context.push = lambda: (pushes.append(1), original())
    with device.activated():
        with device.activated():
            DeviceArray.from_host(device, np.ones(3)).to_host()
        assert len(cuda.stack) == 1
    assert len(pushes) == 1 and cuda.stack == []
    DeviceArray.from_host(device, np.ones(3))
    assert len(pushes) == 2 and cuda.stack == []


def test_release_lets_go_of_the_context_once(monkeypatch):
    cuda, device = make_device(monkeypatch)
    array = DeviceArray.from_host(device, np.ones(4))
    assert device in drv._made, "the device is not released at exit"
    device._release()
    device._release()
    assert device.released and cuda.calls.count("detach") == 1
    with pytest.raises(CudaError, match="was released"):
        array.to_host()
    assert cuda.stack == []


def test_gemm_goes_to_cublas_with_the_context_current(monkeypatch):
    cuda, device = make_device(monkeypatch)
    device.gemm("float32", True, False, 2, 3, 4, 1.0, 10, 4, 20, 4, 0.0, 30, 2)
    device.gemm_strided_batched("float64", False, True, 2, 3, 4, 1.0, 10, 2, 8, 20, 3, 12,
                                0.5, 30, 2, 6, 5)
    assert [call[0] for call in device.cublas.calls] == ["gemm", "batched"]
    assert device.cublas.calls[0][1] == ("float32", True, False, 2, 3, 4, 1.0, 10, 4, 20, 4,
                                         0.0, 30, 2)
    assert cuda.stack == []


# --------------------------------------------------------------------------- kernels
MIXED = KernelSpec("mixed", (param("i32"), param("ptr", "float *"), param("f32"),
                             param("f64"), param("struct", "exprc_loop3", 24), param("i32"),
                             param("i64")))


class MixedLayout(ctypes.Structure):
    """The same parameters as a C struct: each at its natural alignment, as CUDA lays out a
    kernel's parameter buffer."""

    _fields_ = [("a", ctypes.c_int32), ("p", ctypes.c_uint64), ("f", ctypes.c_float),
                ("d", ctypes.c_double), ("s", ctypes.c_int64 * 3), ("b", ctypes.c_int32),
                ("q", ctypes.c_int64)]


def mixed_arguments():
    loop = (ctypes.c_int64 * 3)(7, -8, 1 << 40)
    values = (-3, 0x7F00DEADBEEF, 1.5, -2.25, bytes(loop), 11, -(1 << 50))
    layout = MixedLayout(-3, 0x7F00DEADBEEF, 1.5, -2.25, loop, 11, -(1 << 50))
    used = MixedLayout.q.offset + ctypes.sizeof(ctypes.c_int64)
    return values, bytes(layout)[:used]


def test_pack_matches_the_c_layout():
    values, expected = mixed_arguments()
    assert MIXED.pack(values) == expected


def test_launch_passes_the_packed_buffer_on_the_stream(monkeypatch):
    cuda, device = make_device(monkeypatch)
    kernel = drv.PycudaKernel(device, MIXED, FakeFunction(cuda, "mixed"), None)
    values, expected = mixed_arguments()
    kernel.launch((4, 1, 1), (128, 1, 1), values, 256)
    assert cuda.launches == [("mixed", (4, 1, 1), (128, 1, 1), expected, 256, device.stream)]
    assert cuda.stack == []


@pytest.mark.parametrize("grid, block, shared", [
    ((1, 1, 1), (2048, 1, 1), 0), ((0, 1, 1), (32, 1, 1), 0), ((1, 1, 1), (32, 1, 1), 1 << 20),
])
def test_launch_beyond_the_device_is_refused(monkeypatch, grid, block, shared):
    cuda, device = make_device(monkeypatch)
    kernel = drv.PycudaKernel(device, KernelSpec("k", ()), FakeFunction(cuda, "k"), None)
    with pytest.raises(CudaError, match="kernel k: launch of grid"):
        kernel.launch(grid, block, (), shared)
    assert cuda.launches == []


@pytest.mark.skipif(not nvcc_available(), reason="nvcc not found")
def test_load_module_builds_with_nvcc_and_loads_the_cubin(monkeypatch, tmp_path):
    from exprc.link.cuda.toolchain import find_nvcc

    cuda = fake_driver()
    install(monkeypatch, cuda)
    device = drv.PycudaDevice(0, cuda, cublas=FakeCublas(cuda), nvcc=find_nvcc())
    source = 'extern "C" __global__ void twice(float *x, long long n) {\n' \
             '  long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;\n' \
             '  if (i < n) x[i] *= 2;\n}\n'
    spec = KernelSpec("twice", (param("ptr", "float *"), param("i64")))
    with config.change_flags(compiledir=str(tmp_path)):
        kernels = device.load_module(source, [spec])
        assert set(kernels) == {"twice"}
        with pytest.raises(CudaError, match="no kernel 'absent'"):
            device.load_module(source, [KernelSpec("absent", ())])
    kernels["twice"].launch((1, 1, 1), (32, 1, 1), (0x1000, 32))
    assert cuda.launches[-1][3] == (0x1000).to_bytes(8, "little") + (32).to_bytes(8, "little")
    assert cuda.stack == []


def test_a_cubin_the_driver_rejects_is_an_os_error(monkeypatch, tmp_path):
    cuda, device = make_device(monkeypatch)
    bad = tmp_path / "module.cubin"
    bad.write_bytes(b"not a cubin")
    with pytest.raises(OSError, match="does not load on cuda:0"):
        device._load_cubin(bad)
    assert cuda.stack == []


# --------------------------------------------------------------------------- cuBLAS
def test_the_declarations_parse():
    ffi = cb._ffi()
    assert ffi.typeof("cublasHandle_t").kind == "pointer"
    import cffi

    cffi.FFI().cdef(graphs.CDEF)


def test_status_names():
    assert cb.status_message(7).startswith("CUBLAS_STATUS_INVALID_VALUE (")
    assert cb.status_message(13).startswith("CUBLAS_STATUS_EXECUTION_FAILED (")
    assert cb.status_message(99) == "cuBLAS status 99 (unknown status)"


class FakeCublasLib:
    """The functions of CDEF, recording their arguments and returning ``status``."""

    def __init__(self, status=0):
        self.status, self.calls = status, []

    def __getattr__(self, name):
        def call(*args):
            self.calls.append((name, args))
            return self.status if "gemm" in name else 0
        return call


def test_cublas_calls_and_errors():
    ffi = cb._ffi()
    lib = FakeCublasLib()
    blas = cb.Cublas(lib=lib)
    assert [name for name, _ in lib.calls] == ["cublasCreate_v2", "cublasSetMathMode"]
    assert lib.calls[1][1][1] == 0, "float32 products must not use TF32"
    blas.gemm("float32", True, False, 2, 3, 4, 1.5, 100, 4, 200, 4, 0.0, 300, 2)
    name, args = lib.calls[-1]
    assert name == "cublasSgemm_v2"
    assert args[1:6] == (1, 0, 2, 3, 4)  # CUBLAS_OP_T, CUBLAS_OP_N, m, n, k
    assert ffi.typeof(args[6]) is ffi.typeof("float *") and args[6][0] == 1.5
    assert (args[7], args[8], args[9], args[10], args[12], args[13]) == (100, 4, 200, 4, 300, 2)
    blas.gemm_strided_batched(np.float64, False, True, 2, 3, 4, 2.0, 1, 2, 8, 2, 3, 12, 0.5,
                              3, 2, 6, 5)
    name, args = lib.calls[-1]
    assert name == "cublasDgemmStridedBatched" and args[1:3] == (0, 1)
    assert args[6][0] == 2.0 and args[13][0] == 0.5 and args[-1] == 5
    with pytest.raises(CudaError, match="float32 or float64, not int32"):
        blas.gemm("int32", False, False, 1, 1, 1, 1.0, 1, 1, 1, 1, 0.0, 1, 1)
    with pytest.raises(CudaError, match="k=2147483648"):
        blas.gemm("float32", False, False, 1, 1, 2**31, 1.0, 1, 1, 1, 1, 0.0, 1, 1)
    lib.status = 7
    with pytest.raises(CudaError, match="cublasSgemm failed: CUBLAS_STATUS_INVALID_VALUE"):
        blas.gemm("float32", False, False, 1, 1, 1, 1.0, 1, 1, 1, 1, 0.0, 1, 1)


@pytest.fixture
def no_system_cublas(monkeypatch, tmp_path):
    """Only the folders a test makes hold cuBLAS."""
    monkeypatch.delenv("CUDA_HOME", raising=False)
    monkeypatch.setattr(cb, "SYSTEM_FOLDER", tmp_path / "no-system")
    monkeypatch.setattr(cb.ctypes.util, "find_library", lambda name: None)
    monkeypatch.setattr(cb, "_loads", lambda name: False)
    for name in [n for n in sys.modules if n == "nvidia" or n.startswith("nvidia.")]:
        monkeypatch.delitem(sys.modules, name)
    # syspath_prepend keeps a copy of sys.path that it puts back afterwards: take it first.
    monkeypatch.syspath_prepend(str(tmp_path / "nothing"))
    sys.path[:] = [p for p in sys.path if "site-packages" not in p]


def library(folder, name):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"")
    return str(folder / name)


def test_cublas_search_order(monkeypatch, tmp_path, no_system_cublas):
    site = tmp_path / "site"
    wheel13 = library(site / "nvidia" / "cu13" / "lib", "libcublas.so.13")
    wheel12 = library(site / "nvidia" / "cublas" / "lib", "libcublas.so.12")
    home = library(tmp_path / "home" / "lib64", "libcublas.so.13")
    system = library(tmp_path / "system", "libcublas.so.12")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("CUDA_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(cb, "SYSTEM_FOLDER", tmp_path / "system")

    def not_asked(name):
        raise AssertionError("the loader's cache was searched though a folder has cuBLAS")

    monkeypatch.setattr(cb.ctypes.util, "find_library", not_asked)
    assert cb.find_cublas() == wheel13
    (site / "nvidia" / "cu13" / "lib" / "libcublas.so.13").unlink()
    assert cb.find_cublas() == wheel12
    (site / "nvidia" / "cublas" / "lib" / "libcublas.so.12").unlink()
    assert cb.find_cublas() == home
    monkeypatch.delenv("CUDA_HOME")
    assert cb.find_cublas() == system
    monkeypatch.setattr(cb.ctypes.util, "find_library", lambda name: None)
    descriptions = [description for description, _ in cb.cublas_candidates()]
    assert descriptions[-2:] == ["libcublas.so.13 on the loader's path",
                                 "libcublas.so.12 on the loader's path"]


def test_cublas_newest_major_version_first(tmp_path, no_system_cublas, monkeypatch):
    folder = tmp_path / "system"
    library(folder, "libcublas.so.12")
    newest = library(folder, "libcublas.so.13")
    library(folder, "libcublas.so.13.1.0.3")
    monkeypatch.setattr(cb, "SYSTEM_FOLDER", folder)
    assert cb.find_cublas() == newest


def test_cublas_found_by_the_loader_or_not_at_all(monkeypatch, no_system_cublas):
    monkeypatch.setattr(cb, "_loads", lambda name: name == "libcublas.so.12")
    assert cb.find_cublas() == "libcublas.so.12"
    monkeypatch.setattr(cb.ctypes.util, "find_library", lambda name: "libcublas.so.13")
    monkeypatch.setattr(cb, "_loads", lambda name: name == "libcublas.so.13")
    assert cb.find_cublas() == "libcublas.so.13"
    monkeypatch.setattr(cb.ctypes.util, "find_library", lambda name: None)
    monkeypatch.setattr(cb, "_loads", lambda name: False)
    with pytest.raises(cb.CublasNotFound) as info:
        cb.find_cublas()
    message = str(info.value)
    for place in ("no-system", "find_library", "libcublas.so.13 on the loader's path",
                  "pip install nvidia-cublas"):
        assert place in message


# --------------------------------------------------------------------------- CUDA graphs
class FakeGraphLib:
    def __init__(self, end_status=0):
        self.calls, self.end_status = [], end_status

    def __getattr__(self, name):
        def call(*args):
            self.calls.append(name)
            return self.end_status if name == "cuStreamEndCapture" else 0
        return call


def test_capture_keeps_the_recorded_blocks_and_replays(monkeypatch):
    import cffi

    cuda, device = make_device(monkeypatch)
    ffi = cffi.FFI()
    ffi.cdef(graphs.CDEF)
    lib = FakeGraphLib()

    def work():
        return DeviceArray.empty(device, (10,), np.float32)

    graph = graphs.capture(device, work, driver=(ffi, lib))
    assert lib.calls == ["cuStreamBeginCapture_v2", "cuStreamEndCapture",
                         "cuGraphInstantiateWithFlags"]
    address = graph.result.address
    graph.result = None  # the output array goes, its block stays with the graph
    assert DeviceArray.empty(device, (10,), np.float32).address != address
    assert "allocate" not in vars(device.allocator), "the allocator was left recording"
    graph.replay()
    assert lib.calls[-1] == "cuGraphLaunch"
    graph.close()
    assert lib.calls[-2:] == ["cuGraphExecDestroy", "cuGraphDestroy"]
    assert DeviceArray.empty(device, (10,), np.float32).address == address
    with pytest.raises(CudaError, match="closed"):
        graph.replay()
    again = graphs.capture(device, work, driver=(ffi, lib))
    device._release()
    calls = len(lib.calls)
    again.close()  # after the release (at exit) the process takes the graph
    assert len(lib.calls) == calls and cuda.stack == []


def test_capture_ends_the_recording_when_the_work_fails(monkeypatch):
    import cffi

    cuda, device = make_device(monkeypatch)
    ffi = cffi.FFI()
    ffi.cdef(graphs.CDEF)
    lib = FakeGraphLib()

    def work():
        raise ValueError("from the work")

    with pytest.raises(ValueError, match="from the work"):
        graphs.capture(device, work, driver=(ffi, lib))
    assert lib.calls == ["cuStreamBeginCapture_v2", "cuStreamEndCapture"]
    assert "allocate" not in vars(device.allocator) and cuda.stack == []
    lib.end_status = 901  # CUDA_ERROR_STREAM_CAPTURE_INVALIDATED
    with pytest.raises(CudaError, match="cuStreamEndCapture failed"):
        graphs.capture(device, lambda: None, driver=(ffi, lib))


# --------------------------------------------------------------------------- a real GPU
def _real_reason():
    reason = drv.cuda_unavailable_reason()
    drv.forget_cuda_probe()
    return reason


REAL_REASON = _real_reason()
real_gpu = pytest.mark.skipif(REAL_REASON is not None, reason=f"no CUDA: {REAL_REASON}")


@pytest.fixture(scope="module")
def gpu():
    """The real device 0, one for the whole module (cuBLAS's set-up takes a while)."""
    drv.forget_cuda_probe()
    return drv.cuda_device(0)


def relative_error(got, expected) -> float:
    expected = np.asarray(expected, np.float64)
    return float(np.linalg.norm(np.asarray(got, np.float64) - expected)
                 / max(np.linalg.norm(expected), 1e-300))


@pytest.mark.cuda
@real_gpu
def test_real_device_facts(gpu):
    import pycuda.driver as cuda

    major, minor = cuda.Device(0).compute_capability()
    assert gpu.arch == f"sm_{major}{minor}"
    assert gpu.name.startswith("cuda:0 ") and gpu.name.endswith(f"({gpu.arch})")
    assert gpu.multiprocessors > 0 and gpu.max_threads_per_block >= 1024
    assert gpu.arch in gpu.cache_identity()


@pytest.mark.cuda
@real_gpu
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int8"])
def test_real_round_trip(gpu, dtype):
    rng = np.random.default_rng(1)
    if np.dtype(dtype).kind == "f":
        host = rng.standard_normal(1001).astype(dtype)
    else:
        info = np.iinfo(dtype)
        host = rng.integers(info.min, info.max, 1001, dtype=dtype, endpoint=True)
    expected = host.copy()
    array = DeviceArray.from_host(gpu, host)
    host[:] = 0  # the upload has read the array by the time it returns
    np.testing.assert_array_equal(array.to_host(), expected)
    copy = DeviceArray.empty(gpu, (1001,), dtype)
    gpu.copy(copy.address, array.address, array.nbytes)
    half = array.nbytes // 2
    gpu.fill_zero(array.address, half)
    raw = array.to_host().view(np.uint8)
    assert not raw[:half].any()
    np.testing.assert_array_equal(raw[half:], expected.view(np.uint8)[half:])
    np.testing.assert_array_equal(copy.to_host(), expected)
    size = host.itemsize
    matrix = DeviceArray.from_host(gpu, expected.reshape(7, 143))
    strided = matrix.view((7, 10), (143 * size, 2 * size), 3 * size)
    np.testing.assert_array_equal(strided.to_host(), expected.reshape(7, 143)[:, 3:23:2])


MIXED_SOURCE = r"""
#include "exprc_cuda_common.cuh"
struct exprc_span { long long offset; long long count; long long step; };

extern "C" __global__ void mixed(int scale, float *out, float bias, double shift,
                                 struct exprc_span span, int unused, const float *x)
{
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i < span.count)
        out[i] = x[span.offset + i * span.step] * scale + (float)shift + bias;
}

extern "C" __global__ void row_sums(double *out, const float *x, long long columns)
{
    EXPRC_DYNAMIC_SHARED(float, row);
    const float *mine = x + blockIdx.x * columns;
    double sum = 0;
    for (long long j = threadIdx.x; j < columns; j += blockDim.x) {
        row[j] = mine[j];
        sum += row[j];
    }
    sum = exprc_block_reduce(sum, exprc_add_op(), 0.0);
    if (threadIdx.x == 0)
        out[blockIdx.x] = sum;
}

extern "C" __global__ void add_one(float *x, long long n)
{
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i < n)
        x[i] += 1.0f;
}
"""

MIXED_SPECS = [
    KernelSpec("mixed", (param("i32"), param("ptr", "float *"), param("f32"), param("f64"),
                         param("struct", "exprc_span", 24), param("i32"),
                         param("ptr", "const float *"))),
    KernelSpec("row_sums", (param("ptr", "double *"), param("ptr", "const float *"),
                            param("i64"))),
    KernelSpec("add_one", (param("ptr", "float *"), param("i64"))),
]


@pytest.fixture(scope="module")
def kernels(gpu):
    return gpu.load_module(MIXED_SOURCE, MIXED_SPECS)


@pytest.mark.cuda
@real_gpu
def test_real_kernel_with_mixed_parameters(gpu, kernels):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(3000).astype(np.float32)
    offset, count, step = 17, 900, 3
    source = DeviceArray.from_host(gpu, x)
    out = DeviceArray.from_host(gpu, np.full(count + 5, np.nan, np.float32))
    span = np.array([offset, count, step], np.int64).tobytes()
    kernels["mixed"].launch(((count + 127) // 128, 1, 1), (128, 1, 1),
                            (-3, out.address, 0.25, 1.5, span, 99, source.address))
    got = out.to_host()
    expected = x[offset:offset + count * step:step].astype(np.float64) * -3 + 1.5 + 0.25
    assert relative_error(got[:count], expected) < 1e-6
    assert np.isnan(got[count:]).all(), "the kernel wrote past its count"


@pytest.mark.cuda
@real_gpu
def test_real_block_reduction_with_dynamic_shared_memory(gpu, kernels):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((37, 1000)).astype(np.float32)
    out = DeviceArray.empty(gpu, (37,), np.float64)
    kernels["row_sums"].launch((37, 1, 1), (256, 1, 1),
                               (out.address, DeviceArray.from_host(gpu, x).address, 1000),
                               1000 * 4)
    np.testing.assert_allclose(out.to_host(), x.astype(np.float64).sum(axis=1), rtol=1e-12,
                               atol=1e-12)


def column_major(rng, rows, cols, ld, dtype):
    """A rows x cols column-major matrix with leading dimension ld: its storage (cols x ld,
    row-major) and the matrix itself."""
    storage = rng.standard_normal((cols, ld)).astype(dtype)
    return storage, storage[:, :rows].T


@pytest.mark.cuda
@real_gpu
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("trans_a, trans_b", [(False, False), (True, False), (False, True),
                                              (True, True)])
def test_real_gemm_against_numpy(gpu, dtype, trans_a, trans_b):
    rng = np.random.default_rng(4)
    m, n, k = 45, 38, 257
    a_rows, a_cols = (k, m) if trans_a else (m, k)
    b_rows, b_cols = (n, k) if trans_b else (k, n)
    a_store, a = column_major(rng, a_rows, a_cols, a_rows + 3, dtype)
    b_store, b = column_major(rng, b_rows, b_cols, b_rows + 1, dtype)
    c_store, c = column_major(rng, m, n, m + 2, dtype)
    op_a = a.T if trans_a else a
    op_b = b.T if trans_b else b
    expected = 1.5 * op_a.astype(np.float64) @ op_b.astype(np.float64) - 0.5 * c
    on = {name: DeviceArray.from_host(gpu, store)
          for name, store in (("a", a_store), ("b", b_store), ("c", c_store))}
    gpu.gemm(dtype, trans_a, trans_b, m, n, k, 1.5, on["a"].address, a_rows + 3,
             on["b"].address, b_rows + 1, -0.5, on["c"].address, m + 2)
    got_store = on["c"].to_host()
    # float32 without TF32 stays near 1e-6; TF32 would be near 1e-3.
    assert relative_error(got_store[:, :m].T, expected) < (2e-5 if dtype == "float32" else 1e-12)
    np.testing.assert_array_equal(got_store[:, m:], c_store[:, m:])  # rows past m untouched


@pytest.mark.cuda
@real_gpu
def test_real_gemm_beta_zero_ignores_nan_and_batches(gpu):
    rng = np.random.default_rng(5)
    batch, m, n, k = 6, 9, 11, 13
    a = rng.standard_normal((batch, k, m))  # each a[i] is the storage of an m x k matrix
    b = rng.standard_normal((batch, n, k))
    c = np.full((batch, n, m), np.nan)
    on_a, on_b, on_c = (DeviceArray.from_host(gpu, v) for v in (a, b, c))
    gpu.gemm_strided_batched("float64", False, False, m, n, k, 1.0, on_a.address, m, k * m,
                             on_b.address, k, n * k, 0.0, on_c.address, m, n * m, batch)
    got = on_c.to_host()
    for i in range(batch):
        np.testing.assert_allclose(got[i].T, a[i].T @ b[i].T, rtol=1e-12, atol=1e-12)


@pytest.mark.cuda
@real_gpu
def test_real_allocator_reuse_and_out_of_memory(gpu):
    before = len(gpu._allocations)
    first = DeviceArray.empty(gpu, (12345,), np.float32)
    address = first.address
    del first
    again = DeviceArray.empty(gpu, (12345,), np.float32)
    assert again.address == address
    assert len(gpu._allocations) <= before + 1
    with gpu.activated():
        _, total = gpu._cuda.mem_get_info()
    with pytest.raises(MemoryError, match="out of device memory"):
        DeviceArray.empty(gpu, (2 * total,), np.uint8)
    np.testing.assert_array_equal(DeviceArray.from_host(gpu, np.arange(5.0)).to_host(),
                                  np.arange(5.0))


@pytest.mark.cuda
@real_gpu
def test_real_launch_errors_are_cuda_errors(gpu, kernels):
    with pytest.raises(CudaError, match="at most"):
        kernels["add_one"].launch((1, 1, 1), (2048, 1, 1), (0, 0))
    with pytest.raises(CudaError, match="no kernel 'absent'"):
        gpu.load_module(MIXED_SOURCE, [KernelSpec("absent", ())])
    gpu.synchronize()


@pytest.mark.cuda
@real_gpu
def test_real_graph_replay(gpu, kernels):
    x = DeviceArray.from_host(gpu, np.zeros(1000, np.float32))
    y = DeviceArray.from_host(gpu, np.zeros((1000, 1), np.float32))
    ones = DeviceArray.from_host(gpu, np.ones((1, 1), np.float32))

    def step():
        kernels["add_one"].launch((8, 1, 1), (128, 1, 1), (x.address, 1000))
        # y (1000 x 1) = x (1000 x 1) @ ones (1 x 1), column-major: y = x
        gpu.gemm("float32", False, False, 1000, 1, 1, 1.0, x.address, 1000, ones.address, 1,
                 0.0, y.address, 1000)
        return y

    step()  # outside the recording: module and cuBLAS set-up
    gpu.synchronize()
    graph = gpu.capture(step)
    gpu.synchronize()
    np.testing.assert_array_equal(x.to_host(), 1.0)  # recording runs nothing
    for _ in range(3):
        graph.replay()
    np.testing.assert_array_equal(x.to_host(), 4.0)
    np.testing.assert_array_equal(graph.result.to_host(), 4.0)
    graph.close()
