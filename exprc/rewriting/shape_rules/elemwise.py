"""Shape rules of the elementwise family: Elemwise, DimShuffle and SumToShape."""

from exprc.rewriting.shape_rules import SHAPE
from exprc.rewriting.shape_rules.sizes import broadcast, const
from exprc.tensor.elemwise import DimShuffle, Elemwise, SumToShape


@SHAPE.register(Elemwise)
def elemwise(node, input_shapes):
    # make_node padded every input to the output rank, so axes line up one to one.
    out = tuple(broadcast(sizes) for sizes in zip(*input_shapes))
    return [out] * len(node.outputs)


@SHAPE.register(DimShuffle)
def dimshuffle(node, input_shapes):
    (x,) = input_shapes
    return [tuple(const(1) if d == "x" else x[d] for d in node.op.new_order)]


@SHAPE.register(SumToShape)
def sum_to_shape(node, input_shapes):
    # The result has exactly the target shape (anything else is a run-time error).
    return [tuple(input_shapes.values(node.inputs[1]))]
