"""CUDA rules of the shape ops: ``Reshape`` (a view of a contiguous array, else of a contiguous
copy) and ``SpecifyShape`` (a check). ``Shape`` runs on the host: the program reads the sizes
of the device array, which the host knows, with no transfer."""

from __future__ import annotations

import math

from exprc.errors import ExprcShapeError
from exprc.link.cuda.device import DeviceArray
from exprc.link.cuda.ops.elemwise import contiguous, copier
from exprc.link.cuda.program import CUDA_CODE, Build, Run
from exprc.tensor.shape import Reshape, Shape, SpecifyShape, format_shape

CUDA_CODE.exempt(Shape, "runs on the host: a device array's sizes are known there, so the "
                        "program reads them without a transfer")


def reshape_target(op, x_shape: tuple[int, ...], size: int, newshape) -> tuple[int, ...]:
    """The target shape of ``Reshape`` with its ``-1`` resolved, or an ExprcShapeError (the
    reference's rules)."""
    target = tuple(int(s) for s in newshape)
    if len(target) != op.ndim:
        raise ExprcShapeError(f"{op}: the target shape {target} has {len(target)} entries, "
                              f"expected {op.ndim}")
    rest = [s for s in target if s != -1]
    known = math.prod(rest)
    ok = all(s >= 0 for s in rest) and len(rest) >= len(target) - 1 and (
        known == size if len(rest) == len(target) else known > 0 and size % known == 0)
    if not ok:
        raise ExprcShapeError(f"{op}: cannot reshape an array of shape {x_shape} ({size} "
                              f"elements) into shape {target}")
    return tuple(size // known if s == -1 else s for s in target)


def contiguous_strides(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    strides, step = [], itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


@CUDA_CODE.register(Reshape)
def reshape(node, build: Build):
    build.host_input(1)
    copy = copier(build, node.inputs[0].dtype)

    def step(run: Run, args: list) -> list[DeviceArray]:
        x, newshape = args
        target = reshape_target(node.op, x.shape, x.size, newshape)
        x = contiguous(run, copy, x)
        return [x.view(target, contiguous_strides(target, x.dtype.itemsize))]

    return step


@CUDA_CODE.register(SpecifyShape)
def specify_shape(node, build: Build):
    expected = node.op.shape

    def step(run: Run, args: list[DeviceArray]) -> list[DeviceArray]:
        (x,) = args
        if any(want is not None and want != have for want, have in zip(expected, x.shape)):
            raise ExprcShapeError(f"{node.op}: the value has shape {x.shape}, but the graph "
                                  f"specified shape {format_shape(expected)}")
        return [x]

    return step
