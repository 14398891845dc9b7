"""CUDA rule of ``Composite``: the elementwise kernels of :mod:`exprc.link.cuda.ops.elemwise`
running the composite's scalar program (one kernel for a whole fused subgraph)."""

from __future__ import annotations

from exprc.link.codegen.loops import ScalarProgram
from exprc.link.cuda.ops.elemwise import elemwise_step
from exprc.link.cuda.program import CUDA_CODE, Build
from exprc.tensor.composite import Composite


@CUDA_CODE.register(Composite)
def composite(node, build: Build):
    program = ScalarProgram.from_op(node.op, [v.dtype for v in node.inputs])
    return elemwise_step(node, build, program)
