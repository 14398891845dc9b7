"""ONNX rule of the composite family: a fused ``Composite`` written out step by step, each
scalar op as its ``Elemwise`` would be (see :mod:`exprc.export.onnx.rules.elemwise`)."""

from __future__ import annotations

from exprc.export.onnx.rules import ONNX
from exprc.export.onnx.rules.elemwise import apply_scalar
from exprc.tensor.composite import Composite, constant_value


@ONNX.register(Composite)
def composite(b, node, inputs):
    op = node.op
    dtypes = op.step_dtypes([b.dtype(x) for x in inputs])
    steps: list[str] = []
    for (sop, args), dtype in zip(op.steps, dtypes):
        operands = [inputs[ref[1]] if ref[0] == "i" else steps[ref[1]] if ref[0] == "t"
                    else b.const(constant_value(ref)) for ref in args]
        steps.append(apply_scalar(b, sop, dtype, operands))
    # Each output has the broadcast shape of the inputs it depends on (the graph's shape).
    return [b.expand(steps[step], b.graph.shapes[out])
            for step, out in zip(op.outputs, node.outputs)]
