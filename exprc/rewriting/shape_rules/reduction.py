"""Shape rules of the reductions: the input's shape without the reduced axes."""

from exprc.rewriting.shape_rules import SHAPE
from exprc.tensor.reduction import Argmax, Reduce


@SHAPE.register(Reduce, Argmax)
def reduce(node, input_shapes):
    (x,) = input_shapes
    return [tuple(size for axis, size in enumerate(x) if axis not in node.op.axis)]
