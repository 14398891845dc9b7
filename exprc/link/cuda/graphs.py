"""CUDA graphs on the pycuda device: record the work of a step once, replay it in one launch.

A training step is many small kernels; launching each from Python costs a few microseconds,
which is most of a small kernel's time. Captured into a graph (``cuStreamBeginCapture`` on the
device's stream, run the step, ``cuStreamEndCapture``, ``cuGraphInstantiate``), the whole step
is one ``cuGraphLaunch``.

pycuda has no binding of stream capture or graphs, so the few driver functions needed are
bound here with cffi (ABI mode) from ``libcuda.so.1``, the library pycuda has loaded already;
the stream is pycuda's, passed by its handle.

What a graph may hold: kernel launches, device-to-device copies, zero fills and cuBLAS
products queued on the device's stream. It may not hold an upload from pageable memory or
anything that waits for the GPU (a download, ``synchronize``): CUDA refuses those while the
stream records, and :func:`capture` raises. Run the work once before capturing it, so that
modules are loaded and cuBLAS has set itself up outside the recording.

Memory: a replay reads and writes the very addresses the recording used. Every block the
device's allocator hands out during the recording is kept by the :class:`CapturedGraph` for
its life, so no later work is given one of them; blocks made before the recording (the
inputs, the parameters) must be kept alive by the caller for as long as it replays.
"""

from __future__ import annotations

import functools
import weakref

from exprc.link.cuda.device import CudaError

__all__ = ["CDEF", "CapturedGraph", "capture"]

CDEF = """
typedef int CUresult;
typedef struct CUstream_st *CUstream;
typedef struct CUgraph_st *CUgraph;
typedef struct CUgraphExec_st *CUgraphExec;

CUresult cuStreamBeginCapture_v2(CUstream hStream, int mode);
CUresult cuStreamEndCapture(CUstream hStream, CUgraph *phGraph);
CUresult cuGraphInstantiateWithFlags(CUgraphExec *phGraphExec, CUgraph hGraph,
                                     unsigned long long flags);
CUresult cuGraphLaunch(CUgraphExec hGraphExec, CUstream hStream);
CUresult cuGraphExecDestroy(CUgraphExec hGraphExec);
CUresult cuGraphDestroy(CUgraph hGraph);
CUresult cuGetErrorName(CUresult error, const char **pStr);
CUresult cuGetErrorString(CUresult error, const char **pStr);
"""
"""The driver functions bound (``cuStreamBeginCapture`` is ``cuStreamBeginCapture_v2`` in
``cuda.h`` since CUDA 10.1, and ``cuGraphInstantiate`` is ``cuGraphInstantiateWithFlags``
since CUDA 12)."""

_CAPTURE_MODE_RELAXED = 2
"""The recording thread may still call ``cuMemAlloc``: the allocator does when a step needs a
block it has not cached (the allocation itself is not recorded; its address is)."""


@functools.lru_cache(maxsize=1)
def _driver():
    import cffi

    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    try:
        lib = ffi.dlopen("libcuda.so.1")
    except OSError as exc:
        raise CudaError(f"CUDA graphs need libcuda.so.1: {exc}") from exc
    return ffi, lib


def _error_text(ffi, lib, code: int) -> str:
    name, text = ffi.new("const char **"), ffi.new("const char **")
    if lib.cuGetErrorName(code, name) != 0 or name[0] == ffi.NULL:
        return f"CUDA error {code}"
    described = ""
    if lib.cuGetErrorString(code, text) == 0 and text[0] != ffi.NULL:
        described = f": {ffi.string(text[0]).decode(errors='replace')}"
    return f"{ffi.string(name[0]).decode(errors='replace')}{described}"


def _check(ffi, lib, code: int, call: str) -> None:
    if code != 0:
        raise CudaError(f"{call} failed: {_error_text(ffi, lib, code)}")


class CapturedGraph:
    """A recorded sequence of device work; :meth:`replay` queues all of it again.

    Attributes
    ----------
    result : object
        What the recorded callable returned (its outputs: each replay writes them again).
    """

    def __init__(self, device, driver, graph, executable, kept: list, result):
        self.device = device
        self.result = result
        self._driver = driver
        self._executable = executable
        self._kept = kept  # the blocks the recording was given: reserved for the replays
        self._finalizer = weakref.finalize(self, _destroy, device, driver, graph, executable)

    def replay(self) -> None:
        """Queue the recorded work on the device's stream (it runs after what is queued
        already; :meth:`Device.synchronize` waits for it)."""
        if not self._finalizer.alive:
            raise CudaError("this CUDA graph was closed")
        ffi, lib = self._driver
        with self.device.activated():
            stream = ffi.cast("CUstream", int(self.device.stream.handle))
            _check(ffi, lib, lib.cuGraphLaunch(self._executable, stream), "cuGraphLaunch")

    def close(self) -> None:
        """Free the graph and give its blocks back to the allocator."""
        self._finalizer()
        self._kept = []


def _destroy(device, driver, graph, executable) -> None:
    if device.released:  # at exit, after the context went: the process takes the graph
        return
    ffi, lib = driver
    with device.activated():
        lib.cuGraphExecDestroy(executable)
        lib.cuGraphDestroy(graph)


def capture(device, work, driver=None) -> CapturedGraph:
    """Record what ``work()`` queues on ``device``'s stream as a CUDA graph.

    Parameters
    ----------
    device : PycudaDevice
    work : callable
        Called once, with no arguments, while the stream records; its return value becomes
        :attr:`CapturedGraph.result`.
    driver : tuple, optional
        ``(ffi, lib)`` bound through :data:`CDEF`; default ``libcuda.so.1`` (for tests).

    Raises
    ------
    CudaError
        When CUDA refuses the recording (an upload or a wait inside ``work``) or the graph.
        An exception of ``work`` itself is raised again once the recording has been ended
        and discarded.
    """
    ffi, lib = driver if driver is not None else _driver()
    allocator = device.allocator
    kept: list = []
    allocate = allocator.allocate

    def recording(nbytes: int):
        block = allocate(nbytes)
        kept.append(block)
        return block

    with device.activated():
        stream = ffi.cast("CUstream", int(device.stream.handle))
        _check(ffi, lib, lib.cuStreamBeginCapture_v2(stream, _CAPTURE_MODE_RELAXED),
               "cuStreamBeginCapture")
        graph = ffi.new("CUgraph *")
        allocator.allocate = recording  # this allocator only, for the recording's length
        try:
            result = work()
        except BaseException:
            lib.cuStreamEndCapture(stream, graph)
            if graph[0] != ffi.NULL:
                lib.cuGraphDestroy(graph[0])
            raise
        finally:
            del allocator.allocate
        _check(ffi, lib, lib.cuStreamEndCapture(stream, graph), "cuStreamEndCapture")
        executable = ffi.new("CUgraphExec *")
        code = lib.cuGraphInstantiateWithFlags(executable, graph[0], 0)
        if code != 0:
            lib.cuGraphDestroy(graph[0])
            _check(ffi, lib, code, "cuGraphInstantiate")
    return CapturedGraph(device, (ffi, lib), graph[0], executable[0], kept, result)
