"""The C linker: compile a graph into one native function and call it on NumPy arrays.

:class:`CProgram` has the interface of :class:`~exprc.link.reference.ReferenceProgram`: it is
called with the values of the graph's inputs and returns the outputs. A call describes each
input array (pointer, shape, strides) in an ``exprc_array``, makes one call into the compiled
code and wraps each output buffer as a NumPy array without copying (the array's memory is
given back to the program for reuse when NumPy lets go of it). The native call path
(:mod:`exprc.link.c.callpath`) does all of that in C; the same steps through cffi are the
fallback when that module cannot be built.
"""

from __future__ import annotations

import contextlib
import math
import shlex
import threading
from collections.abc import Sequence

import numpy as np

from exprc.cache.store import CompileCache
from exprc.configuration import config
from exprc.errors import ExprcError, ExprcShapeError
from exprc.graph.ir import Variable

# Importing the rule modules fills C_CODE.
from exprc.link.c import background, callpath, interrupts, ops, python_bridge  # noqa: F401
from exprc.link.c.blas import coordinate_threads, quiet_idle_threads
from exprc.link.c.program import DECLARATIONS, PYTHON_DECLARATIONS, GeneratedProgram, generate
from exprc.link.c.runtime import runtime_library
from exprc.link.c.toolchain import OPENMP_FLAG, compile_flags, declared, default_cache

__all__ = ["CProgram", "warm_up"]

_warm_up_lock = threading.Lock()
_warm_up_thread: threading.Thread | None = None


def warm_up() -> None:
    """Prepare the C backend for a first compile, once per process; return at once.

    Sets the idle-thread settings of OpenBLAS and libgomp (see
    :func:`~exprc.link.c.blas.quiet_idle_threads`) before either is loaded, and starts a
    thread that parses the call declarations, probes the C compiler and loads OpenBLAS while
    the caller rewrites its graph, so that code generation finds all three answered (each
    costs tens of milliseconds). :func:`exprc.function` calls this first thing for a C mode;
    importing exprc does none of it.
    """
    global _warm_up_thread
    with _warm_up_lock:
        if _warm_up_thread is not None:
            return
        quiet_idle_threads()
        _warm_up_thread = background.start(_answer_first_questions, "exprc-warm-up")


def _answer_first_questions() -> None:
    # Any failure is left for the compile itself to report, with its context.
    from exprc.link.c.blas import blas_routine

    with contextlib.suppress(Exception):
        declared(DECLARATIONS)
        compile_flags(default_cache().compiler)
        blas_routine("cblas_sgemm")


_MAXDIM = 16


def _index_error(message: str) -> Exception:
    from exprc.tensor.subtensor import ExprcIndexError

    return ExprcIndexError(message)


# An interrupted call whose handler's exception was lost still stops as Ctrl-C does.
_EXCEPTIONS = {1: _index_error, 2: ExprcShapeError, 3: MemoryError,
               interrupts.INTERRUPTED: KeyboardInterrupt}


class CProgram:
    """A graph from ``inputs`` to ``outputs`` compiled to one C function.

    Parameters
    ----------
    inputs : FunctionGraph or sequence of Variable
        A graph (its inputs and outputs are used), or the input variables.
    outputs : sequence of Variable, optional
        Required when ``inputs`` is a list of variables.
    cache : CompileCache, optional
        Default :func:`~exprc.link.c.toolchain.default_cache`.
    optimize : bool, optional
        Full optimisation or a quick build; default from ``exprc.config.c_optimize``.
    profile : bool
        Build a version that times every node (see :meth:`node_seconds`).

    Raises
    ------
    CUnsupportedError
        At construction, when a node has no C rule.
    """

    #: Where the nodes run, as ``Function.placement`` reports it. Every output is a fresh
    #: buffer (never an input, a constant or another output).
    backend = "c"

    def __init__(self, inputs, outputs: Sequence[Variable] | None = None, *,
                 cache: CompileCache | None = None, optimize: bool | None = None,
                 profile: bool = False):
        if outputs is None:
            inputs, outputs = inputs.inputs, inputs.outputs
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.profile = profile
        self.generated: GeneratedProgram = generate(self.inputs, self.outputs, profile)
        self.nodes = self.generated.nodes
        cache = cache or default_cache()
        callpath.prefetch(cache)  # built beside the program on a cold cache
        if optimize is None:
            optimize = config.c_optimize == "full"
        flags = compile_flags(cache.compiler, optimize=optimize,
                              openmp=None if config.openmp else False,
                              extra=tuple(shlex.split(config.c_flags)))
        runtime = runtime_library(cache, openmp=OPENMP_FLAG in flags)
        # Any runtime kernel may multiply matrices (Gemm, Dot, convolutions): bound once.
        runtime.bind_blas()
        coordinate_threads()
        python_nodes = self.generated.python_nodes
        self.module = cache.load(self.generated.source,
                                 DECLARATIONS + PYTHON_DECLARATIONS if python_nodes
                                 else DECLARATIONS, flags=flags, link_args=runtime.link_args())
        self._prepare()
        if python_nodes:
            python_bridge.attach(self, self.module, self._state, python_nodes)
        self.native = callpath.native_entry(
            cache, run_address=self._address(self._run), free_address=self._address(self._free),
            give_back_address=self._address(self._lib.exprc_give_back),
            state_address=self._address(self._state), input_types=[v.type for v in self.inputs],
            constants=self._constants, output_dtypes=self._dtypes, on_error=self._native_error,
            keep=(self.module, self._state, self._constants),
            arm_address=interrupts.attach(runtime.path))

    def _address(self, cdata) -> int:
        return int(self._ffi.cast("uintptr_t", cdata))

    @property
    def source(self) -> str:
        """The generated C source."""
        return self.generated.source

    def node_seconds(self) -> list[float]:
        """Seconds spent in each node over all calls so far (a profiling build only)."""
        if not self.profile:
            raise ExprcError("this program was not built for profiling (profile=True)")
        return [self._node_ns[k] * 1e-9 for k in range(len(self.nodes))]

    def placement(self) -> list[tuple[str, str]]:
        """``(description, where)`` for each node: ``'c'`` for a node compiled to C,
        ``'python'`` for one called back in Python (an op written in Python). A node of an
        inner graph (a loop body, a branch) that runs in Python follows its outer node, as
        ``"<k>: <outer op> > <op>"``."""
        in_python = {id(node): k for k, node in self.generated.python_nodes}
        rows = []
        for k, node in enumerate(self.nodes):
            rows.append((f"{k}: {node.op}", "python" if id(node) in in_python else "c"))
            rows += [(f"{k}: {node.op} > {inner.op}", "python")
                     for outer, inner in self.generated.python_nodes
                     if outer == k and inner is not node]
        return rows

    def inner_node_seconds(self) -> list[tuple[int, object, float]]:
        """``(outer node index, inner node, seconds)`` for every node of a loop body or a
        branch (a profiling build only); their time is also part of their outer node's."""
        if not self.profile:
            raise ExprcError("this program was not built for profiling (profile=True)")
        base = len(self.nodes)
        return [(k, node, self._node_ns[base + j] * 1e-9)
                for j, (k, node) in enumerate(self.generated.inner_nodes)]

    def _prepare(self) -> None:
        ffi = self.module.ffi
        self._ffi = ffi
        self._lib = self.module._lib
        self._run = self._lib.exprc_run
        self._free = self._lib.exprc_free
        constants = self.generated.constants
        # The argument structs of the cffi path, one set per calling thread: the call releases
        # the GIL, so threads sharing one set would read each other's shapes.
        self._per_thread = threading.local()
        # The state's free list outlives calls; the library frees it with the state.
        self._state = ffi.gc(ffi.new("exprc_state *"), self._lib.exprc_state_clear)
        self._state.keep = 1 if config.keep_buffers else 0
        if self.profile:
            self._node_ns = ffi.new("int64_t[]", max(len(self.nodes)
                                                     + len(self.generated.inner_nodes), 1))
            self._state.node_ns = self._node_ns
        self._dtypes = [np.dtype(d) for d in self.generated.output_dtypes]
        self._constants = constants  # kept alive: the structs point into them

    def _structs(self):
        """This thread's (inputs, outputs, error) structs, made on its first call."""
        structs = getattr(self._per_thread, "structs", None)
        if structs is None:
            ffi, n_in = self._ffi, len(self.inputs)
            slots = ffi.new("exprc_array[]", max(n_in + len(self._constants), 1))
            for k, value in enumerate(self._constants):
                self._fill(slots[n_in + k], value)
            structs = self._per_thread.structs = (
                slots, ffi.new("exprc_array[]", max(len(self.outputs), 1)),
                ffi.new("exprc_error *"))
        return structs

    def _fill(self, slot, value: np.ndarray) -> None:
        ndim = value.ndim
        if ndim > _MAXDIM:
            raise ExprcError(f"the C backend handles arrays of up to {_MAXDIM} dimensions, "
                             f"got {ndim}")
        if value.flags.c_contiguous and value.size:
            # from_buffer is several times cheaper than reading value.ctypes.data.
            slot.data = self._ffi.from_buffer(value)
        else:
            slot.data = self._ffi.cast("char *", value.ctypes.data)
        slot.ndim = ndim
        slot.shape[0:ndim] = value.shape
        slot.strides[0:ndim] = value.strides
        slot.owner = self._ffi.NULL

    def __call__(self, values: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Run the program on ``values`` (arrays of the inputs' types) and return the outputs."""
        values = [_readable(v) for v in values]
        if self.native is not None:
            results = self.native(*values)
            if results is not NotImplemented:
                return results
        return self._call_through_cffi(values)

    def _call_through_cffi(self, values: Sequence[np.ndarray]) -> list[np.ndarray]:
        slots, outputs, error = self._structs()
        for k, value in enumerate(values):
            self._fill(slots[k], value)
        interrupts.arm_cffi_call()
        if self._run(self._state, slots, outputs, error) != 0:
            raised = interrupts.take_raised() if error.kind == interrupts.INTERRUPTED else None
            if raised is not None:
                raise raised
            raise self._native_error(error.kind, error.node, self._ffi.string(error.message))
        return [self._wrap(outputs[j], dtype) for j, dtype in enumerate(self._dtypes)]

    def _give_back(self, buffer) -> None:
        # The buffer's memory is reused by the next call (see exprc_give_back).
        self._lib.exprc_give_back(self._state, buffer)

    def _wrap(self, slot, dtype: np.dtype) -> np.ndarray:
        ffi = self._ffi
        shape = tuple(slot.shape[0:slot.ndim])
        owner = ffi.gc(ffi.cast("char *", slot.owner), self._give_back)
        nbytes = dtype.itemsize * math.prod(shape)
        if nbytes == 0:
            return np.empty(shape, dtype)
        return np.frombuffer(ffi.buffer(owner, nbytes), dtype).reshape(shape)

    def _native_error(self, kind: int, index: int, raw_message: bytes) -> Exception:
        """The exception for an error the program reported from node ``index``."""
        message = raw_message.decode("utf-8", "replace")
        node = self.nodes[index] if 0 <= index < len(self.nodes) else None
        if node is not None:
            where = getattr(node.outputs[0].tag, "trace", "<unknown>")
            message = (f"{message}\n    while computing {node.op} (node {index}, C "
                       f"backend)\n    (graph built at {where})")
        if kind == python_bridge.PYTHON_ERROR:
            return python_bridge.failure(message)
        return _EXCEPTIONS.get(kind, ExprcError)(message)


def _readable(value: np.ndarray) -> np.ndarray:
    """``value``, or a copy the compiled code can read: aligned and in native byte order."""
    if value.flags.aligned and value.dtype.isnative:
        return value
    return np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("="))
