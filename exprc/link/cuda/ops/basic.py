"""CUDA rules of the basic constructors: ``Alloc`` (a broadcast copy); ``ARange``, ``Eye``,
``Join`` and ``Split`` run on the CPU with transfers for now."""

from __future__ import annotations

from exprc.errors import ExprcShapeError
from exprc.link.cuda.device import DeviceArray
from exprc.link.cuda.ops.elemwise import copier
from exprc.link.cuda.program import CUDA_CODE, Build, Run
from exprc.tensor.basic import Alloc, ARange, Eye, Join, Split


@CUDA_CODE.register(Alloc)
def alloc(node, build: Build):
    build.host_input(1)
    copy = copier(build, node.outputs[0].dtype)

    def step(run: Run, args: list) -> list[DeviceArray]:
        value, shape = args
        shape = tuple(int(n) for n in shape)
        if any(n < 0 for n in shape):
            raise ValueError(f"{node.op}: negative size in the shape {shape}")
        pad = len(shape) - value.ndim
        for have, want in zip(value.shape, shape[pad:]):
            if have not in (1, want):
                raise ExprcShapeError(f"{node.op}: cannot broadcast a value of shape "
                                      f"{value.shape} to shape {shape}")
        return [copy(run, value, shape)]

    return step


for _op in (ARange, Eye, Join, Split):
    CUDA_CODE.exempt(_op, "runs on the CPU with transfers: no CUDA kernel yet")
