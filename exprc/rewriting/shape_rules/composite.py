"""Shape rule of the fused elementwise op: each output has the broadcast shape of the inputs
it reads."""

from exprc.rewriting.shape_rules import SHAPE
from exprc.rewriting.shape_rules.sizes import broadcast, const
from exprc.tensor.composite import Composite


@SHAPE.register(Composite)
def composite(node, input_shapes):
    ndim = node.inputs[0].ndim
    return [tuple(broadcast(sizes) for sizes in zip(*[input_shapes[k] for k in deps]))
            if deps else (const(1),) * ndim
            for deps in node.op.output_inputs()]
