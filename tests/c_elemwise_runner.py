"""Run generated elementwise kernels on NumPy arrays (a driver for tests and tools).

The whole-graph generator calls the entry points of :mod:`exprc.link.codegen.loops` from C; this
module calls them from Python instead: it builds a batch of programs into one shared object
through the compile cache, works out the broadcast loop shape and every operand's byte strides,
allocates the outputs with NumPy and makes one call through cffi per kernel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from exprc.cache.store import CompileCache
from exprc.errors import ExprcError, ExprcShapeError
from exprc.link.c.runtime import runtime_library
from exprc.link.c.toolchain import OPENMP_FLAG, CModule, compile_flags, default_cache
from exprc.link.codegen.loops import (
    DEFAULT_PARALLEL_THRESHOLD,
    ScalarProgram,
    elemwise_declarations,
    elemwise_source,
)

__all__ = ["ElemwiseKernel", "compile_elemwise"]


class ElemwiseKernel:
    """One compiled program, callable on arrays.

    Call it with the inputs (anything ``np.asarray`` takes; they are converted to the
    program's input dtypes and broadcast as in NumPy) and, optionally, ``out``: arrays of the
    loop shape and the output dtypes to write into (an input array may be given, to compute in
    place). It returns the list of outputs.
    """

    def __init__(self, module: CModule, name: str, program: ScalarProgram):
        self.module = module
        self.name = name
        self.program = program
        self._function = getattr(module, name)

    def __call__(self, *inputs, out: Sequence[np.ndarray] | None = None) -> list[np.ndarray]:
        program = self.program
        if len(inputs) != len(program.input_dtypes):
            raise TypeError(f"{self.name} takes {len(program.input_dtypes)} inputs, got "
                            f"{len(inputs)}")
        arrays = [np.asarray(x, dtype=d) for x, d in zip(inputs, program.input_dtypes)]
        ndim = max(a.ndim for a in arrays)
        try:
            shape = np.broadcast_shapes(*(a.shape for a in arrays))
        except ValueError as exc:
            raise ExprcShapeError(f"{self.name}: {exc}") from None
        full = out if out is not None else [np.empty(shape, dtype=d)
                                            for d in program.output_dtypes]
        for array, dtype in zip(full, program.output_dtypes):
            if array.shape != shape or array.dtype != dtype:
                raise ExprcShapeError(f"{self.name}: an output must have shape {shape} and "
                                      f"dtype {dtype}, got {array.shape} and {array.dtype}")
        self._run(shape, arrays + list(full))
        return [_narrow(array, shape, [arrays[k].shape for k in deps], ndim)
                for array, deps in zip(full, program.output_inputs())]

    def _run(self, shape: tuple, operands: list[np.ndarray]) -> None:
        ffi = self.module.ffi
        ndim = len(shape)
        strides = []
        for array in operands:
            strides += _loop_strides(array, shape)
        data = ffi.new("char *[]", [ffi.cast("char *", a.ctypes.data) for a in operands])
        status = self._function(ndim, ffi.new("int64_t[]", list(shape) or [1]), data,
                                ffi.new("int64_t[]", strides or [0]))
        if status != 0:
            raise ExprcError(f"{self.name} refused a loop of rank {ndim} over "
                             f"{len(operands)} operands (status {status})")


def _loop_strides(array: np.ndarray, shape: tuple) -> list[int]:
    """Byte strides of ``array`` over the loop ``shape``: 0 on broadcast and new axes."""
    pad = len(shape) - array.ndim
    strides = [0] * pad
    for size, stride in zip(array.shape, array.strides):
        strides.append(0 if size == 1 else stride)
    return strides


def _narrow(array: np.ndarray, shape: tuple, dep_shapes: list[tuple], ndim: int) -> np.ndarray:
    """An output computed over the whole loop, cut down to the broadcast shape of the inputs
    it depends on (a Composite output may not depend on every input)."""
    own = np.broadcast_shapes(*dep_shapes, (1,) * ndim)
    if own == shape:
        return array
    return np.ascontiguousarray(array[tuple(slice(None) if s == o else slice(0, 1)
                                            for s, o in zip(shape, own))])


def compile_elemwise(programs: Mapping[str, ScalarProgram], *, cache: CompileCache | None = None,
                     optimize: bool = False,
                     parallel_threshold: int = DEFAULT_PARALLEL_THRESHOLD
                     ) -> dict[str, ElemwiseKernel]:
    """Build all ``programs`` into one shared object and return a kernel per name.

    Parameters
    ----------
    programs : mapping of str to ScalarProgram
        Entry point name (a C identifier) -> program.
    cache : CompileCache, optional
        Default :func:`~exprc.link.c.toolchain.default_cache`.
    optimize : bool
        Full optimisation; the default builds quickly (``-O1``), as tests want.
    parallel_threshold : int
        Loops of at least this many elements use every OpenMP thread.

    Returns
    -------
    dict of str to ElemwiseKernel

    Examples
    --------
    >>> from exprc.tensor.elemwise import Elemwise
    >>> from exprc.tensor.scalar import SCALAR_OPS
    >>> program = ScalarProgram.from_op(Elemwise(SCALAR_OPS["mod"]), ["int32", "int32"])
    >>> kernels = compile_elemwise({"mod_i32": program})
    >>> kernels["mod_i32"](np.array([7, -7, 7], "int32"), np.array([3, 3, 0], "int32"))
    [array([1, 2, 0], dtype=int32)]
    """
    cache = cache or default_cache()
    source = elemwise_source(programs, parallel_threshold=parallel_threshold)
    flags = compile_flags(cache.compiler, optimize=optimize)
    runtime = runtime_library(cache, openmp=OPENMP_FLAG in flags)
    module = cache.load(source, elemwise_declarations(list(programs)), flags=flags,
                        link_args=runtime.link_args())
    return {name: ElemwiseKernel(module, name, program) for name, program in programs.items()}
