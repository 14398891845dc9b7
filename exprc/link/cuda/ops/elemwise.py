"""CUDA rules of the elementwise ops: ``Elemwise`` (and ``InplaceElemwise``), ``DimShuffle``
and ``SumToShape``; the helpers here also serve ``Composite`` and every rule that needs a
broadcast copy or a contiguous copy of an array.

An elementwise node is three kernels of :mod:`exprc.link.codegen.loops` (the same scalar
renderer as the C backend, in its CUDA dialect). At run time the step works out the broadcast
loop shape and picks one: the flat kernel when every input is either contiguous with the
loop's shape or a single element, else a strided kernel over the axes left after merging the
ones that are contiguous in every operand, with 32-bit index arithmetic when every offset
fits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from exprc.errors import ExprcShapeError
from exprc.link.codegen.loops import (
    CUDA_MAXDIM,
    ScalarProgram,
    cuda_elemwise_kernels,
    cuda_loop_struct,
)
from exprc.link.cuda.device import DeviceArray, KernelSpec, param
from exprc.link.cuda.program import CUDA_CODE, Build, CudaUnsupportedError, Run, launch_geometry
from exprc.tensor.composite import Composite
from exprc.tensor.elemwise import DimShuffle, Elemwise, InplaceElemwise, SumToShape
from exprc.tensor.scalar import SCALAR_OPS

#: Operands (inputs and outputs) of one elementwise kernel: its strides travel by value in the
#: kernel's parameters, which CUDA limits in size.
MAX_OPERANDS = 32

_INT32_LIMIT = 2**31 - 1


# --------------------------------------------------------------------------- kernels
def elemwise_kernels(build: Build, program: ScalarProgram) -> str:
    """The base name of the three kernels computing ``program`` (see
    :func:`exprc.link.codegen.loops._cuda_kernel`), added to the module once."""
    key = ("elemwise", program.input_dtypes, program.steps, program.outputs)
    nops = len(program.input_dtypes) + len(program.outputs)
    if nops > MAX_OPERANDS:
        raise CudaUnsupportedError(f"an elementwise node with {nops} operands")

    def make(base: str):
        text = _kernel_text(base, program, build)
        pointers = tuple(param("ptr", "void *") for _ in range(nops))
        struct, _, size = cuda_loop_struct(nops)
        specs = [KernelSpec(f"{base}_flat", (param("i64"), param("i32"), *pointers))]
        specs += [KernelSpec(f"{base}_strided{bits}",
                             (param("struct", f"struct {struct}", size), *pointers))
                  for bits in (32, 64)]
        return text, specs

    return build.kernel(key, make)


def _kernel_text(base: str, program: ScalarProgram, build: Build) -> str:
    # Rendered through the module's renderer, so that scalar helpers are defined once.
    return cuda_elemwise_kernels(base, program, build.renderer)


def launch_elemwise(run: Run, base: str, inputs: Sequence[DeviceArray],
                    outputs: Sequence[DeviceArray]) -> None:
    """Queue the kernels ``base`` over ``outputs``' shape (all outputs have it and are
    contiguous; inputs broadcast to it, with missing leading axes read as size 1)."""
    shape = outputs[0].shape
    total = math.prod(shape)
    if total == 0:
        return
    ndim = len(shape)
    inputs = [a if a.ndim == ndim else  # lower rank: leading axes of size 1
              a.view((1,) * (ndim - a.ndim) + a.shape, (0,) * (ndim - a.ndim) + a.strides)
              for a in inputs]
    operands = [*inputs, *outputs]
    pointers = [a.address for a in operands]
    repeated = 0
    flat = True
    for k, a in enumerate(inputs):
        if a.size == 1:
            repeated |= 1 << k
        elif a.shape != shape or not a.is_contiguous:
            flat = False
            break
    if flat:
        run.launch_elements(f"{base}_flat", total, [total, repeated, *pointers])
        return
    sizes, strides = _merged_axes(shape, operands)
    if len(sizes) <= CUDA_MAXDIM:
        _launch_strided(run, base, sizes, strides, pointers)
        return
    # More axes than the kernel's loop struct holds (a rank above CUDA_MAXDIM whose axes do
    # not merge): one launch per index of the outermost axes, from shifted pointers.
    inner, outer = sizes[:CUDA_MAXDIM], sizes[CUDA_MAXDIM:]
    items = [a.dtype.itemsize for a in operands]
    for index in np.ndindex(*reversed(outer)):
        shifted = [p + item * sum(i * s for i, s in zip(reversed(index), st[CUDA_MAXDIM:]))
                   for p, item, st in zip(pointers, items, strides)]
        _launch_strided(run, base, inner, [st[:CUDA_MAXDIM] for st in strides], shifted)


def _launch_strided(run: Run, base: str, sizes: list[int], strides: list[list[int]],
                    pointers: list[int]) -> None:
    """Queue the strided kernel of ``base`` over ``sizes`` (at most CUDA_MAXDIM, innermost
    first) with each operand's element ``strides``."""
    total = math.prod(sizes)
    reach = max((sum(abs(s) * (n - 1) for n, s in zip(sizes, st)) for st in strides), default=0)
    # The 32-bit kernel's grid-stride counter reaches total plus the launch's thread count
    # before its loop ends: that must fit too.
    blocks, threads = launch_geometry(run.device, total)
    bits = 32 if total + blocks * threads <= _INT32_LIMIT and reach <= _INT32_LIMIT else 64
    loop = np.zeros(2 + CUDA_MAXDIM + len(strides) * CUDA_MAXDIM, np.int64)
    loop[0], loop[1] = len(sizes), total
    loop[2:2 + len(sizes)] = sizes
    for k, st in enumerate(strides):
        at = 2 + CUDA_MAXDIM + k * CUDA_MAXDIM
        loop[at:at + len(st)] = st
    run.launch_elements(f"{base}_strided{bits}", total, [loop.tobytes(), *pointers])


def _merged_axes(shape: tuple[int, ...], operands: Sequence[DeviceArray]
                 ) -> tuple[list[int], list[list[int]]]:
    """The loop's sizes and each operand's element strides, innermost axis first, with axes of
    size 1 dropped and neighbours that are contiguous in every operand merged into one."""
    axes = [d for d in range(len(shape)) if shape[d] != 1]
    elem = [[(a.strides[d] // a.dtype.itemsize) if a.shape[d] != 1 else 0 for d in axes]
            for a in operands]
    sizes = [shape[d] for d in axes]
    merged_sizes: list[int] = []
    merged: list[list[int]] = [[] for _ in operands]
    for j in reversed(range(len(sizes))):  # innermost first
        if merged_sizes and all(st[j] == m[-1] * merged_sizes[-1]
                                for st, m in zip(elem, merged)):
            merged_sizes[-1] *= sizes[j]
            continue
        merged_sizes.append(sizes[j])
        for st, m in zip(elem, merged):
            m.append(st[j])
    return merged_sizes, merged


def broadcast_shape(node, shapes: Sequence[tuple[int, ...]], ndim: int) -> tuple[int, ...]:
    """The broadcast of ``shapes`` (all of rank ``ndim``), or an ExprcShapeError naming the
    node."""
    out = [1] * ndim
    for shape in shapes:
        for d, n in enumerate(shape):
            if n != 1:
                if out[d] != 1 and out[d] != n:
                    described = ", ".join(str(tuple(s)) for s in shapes)
                    raise ExprcShapeError(f"{node.op}: input shapes {described} do not "
                                          f"broadcast (axis {d}: {out[d]} vs {n})")
                out[d] = n
    return tuple(out)


def copier(build: Build, dtype: str) -> Callable[[Run, DeviceArray, tuple[int, ...] | None],
                                                 DeviceArray]:
    """A run-time function ``copy(run, array, shape=None)``: a fresh contiguous copy of
    ``array``, broadcast to ``shape`` when given."""
    program = ScalarProgram.from_op(Elemwise(SCALAR_OPS["identity"]), [dtype])
    base = elemwise_kernels(build, program)

    def copy(run: Run, array: DeviceArray, shape: tuple[int, ...] | None = None) -> DeviceArray:
        out = run.empty(array.shape if shape is None else shape, dtype)
        source = array
        if len(out.shape) > array.ndim:  # broadcast from a lower rank: leading axes of size 1
            extra = len(out.shape) - array.ndim
            source = array.view((1,) * extra + array.shape, (0,) * extra + array.strides)
        launch_elemwise(run, base, [source], [out])
        return out

    return copy


def contiguous(run: Run, copy, array: DeviceArray) -> DeviceArray:
    """``array`` when C-contiguous, else ``copy(run, array)`` (a :func:`copier`)."""
    return array if array.is_contiguous else copy(run, array)


# --------------------------------------------------------------------------- rules
@CUDA_CODE.register(Elemwise)
def elemwise(node, build: Build):
    program = ScalarProgram.from_op(node.op, [v.dtype for v in node.inputs])
    return elemwise_step(node, build, program)


def elemwise_step(node, build: Build, program: ScalarProgram):
    """The step of an ``Elemwise`` or ``Composite`` node computing ``program``."""
    if program.output_dtypes != [v.dtype for v in node.outputs]:
        raise CudaUnsupportedError(f"the loop computes {program.output_dtypes}, the node "
                                   f"promises {[v.dtype for v in node.outputs]}")
    ndim = node.outputs[0].ndim
    if ndim > CUDA_MAXDIM:
        raise CudaUnsupportedError(f"an elementwise node of rank {ndim}")
    base = elemwise_kernels(build, program)
    out_dtypes = [v.dtype for v in node.outputs]
    destroyed = node.op.destroyed if isinstance(node.op, InplaceElemwise) else None
    # A Composite output that depends on only some inputs (or on none: a single input's
    # Composite may compute a constant too) has their broadcast shape.
    narrowed = node.op.output_inputs() if isinstance(node.op, Composite) else None
    if narrowed is not None and all(len(deps) == len(node.inputs) for deps in narrowed):
        narrowed = None

    def step(run: Run, args: list[DeviceArray]) -> list[DeviceArray]:
        shape = broadcast_shape(node, [a.shape for a in args], ndim)
        outputs = []
        for j, dtype in enumerate(out_dtypes):
            if j == 0 and destroyed is not None and run.reusable(args[destroyed], shape, dtype):
                outputs.append(args[destroyed])
            else:
                outputs.append(run.empty(shape, dtype))
        launch_elemwise(run, base, args, outputs)
        if narrowed is None:
            return outputs
        # A Composite output that depends on only some inputs has their broadcast shape: the
        # loop filled a buffer of the full shape, and the output keeps a corner of it.
        return [out if len(deps) == len(args) else
                out.view(broadcast_shape(node, [args[k].shape for k in deps], ndim), out.strides)
                for out, deps in zip(outputs, narrowed)]

    return step


@CUDA_CODE.register(DimShuffle)
def dimshuffle(node, build: Build):
    op = node.op
    dropped = op.dropped(node.inputs[0].ndim)

    def step(run: Run, args: list[DeviceArray]) -> list[DeviceArray]:
        (x,) = args
        for axis in dropped:
            if x.shape[axis] != 1:
                raise ValueError(f"{op}: cannot drop axis {axis} of an input of shape "
                                 f"{x.shape}: its size is not 1")
        shape = tuple(1 if a == "x" else x.shape[a] for a in op.new_order)
        strides = tuple(0 if a == "x" else x.strides[a] for a in op.new_order)
        return [x.view(shape, strides)]

    return step


@CUDA_CODE.register(SumToShape)
def sum_to_shape(node, build: Build):
    from exprc.link.cuda.ops.reduction import reducer

    build.host_input(1)
    dtype = node.inputs[0].dtype
    reduce = reducer(build, "or_" if dtype == "bool" else "add", dtype, dtype,
                     ndim=node.inputs[0].ndim)

    def step(run: Run, args: list) -> list[DeviceArray]:
        g, target = args
        target = tuple(int(n) for n in target)
        if len(target) != g.ndim:
            raise ExprcShapeError(f"{node.op}: target shape {target} has rank {len(target)}, "
                                  f"the gradient {g.shape} rank {g.ndim}")
        axes = []
        for d, (n, t) in enumerate(zip(g.shape, target)):
            if t == 1 and n != 1:
                axes.append(d)
            elif t != n:
                raise ExprcShapeError(f"{node.op}: cannot sum a gradient of shape {g.shape} "
                                      f"to shape {target}")
        out = reduce(run, g, tuple(axes))
        return [out.view(target, _strides(target, out.dtype.itemsize))]

    return step


def _strides(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    strides, step = [], itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


__all__ = ["MAX_OPERANDS", "broadcast_shape", "contiguous", "copier", "elemwise_kernels",
           "elemwise_step", "launch_elemwise"]

