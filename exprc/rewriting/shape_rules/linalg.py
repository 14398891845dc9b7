"""Shape rules of the products: Dot and BatchedDot."""

from exprc.rewriting.shape_rules import SHAPE
from exprc.tensor.linalg import BatchedDot, Dot


@SHAPE.register(Dot)
def dot(node, input_shapes):
    a, b = input_shapes
    return [tuple(a[:-1]) + tuple(b[1:])]


@SHAPE.register(BatchedDot)
def batched_dot(node, input_shapes):
    (batch, rows, _), (_, _, cols) = input_shapes
    # Both batch sizes are equal at run time; read the one known statically, if any.
    if node.inputs[0].type.shape[0] is None and node.inputs[1].type.shape[0] is not None:
        batch = input_shapes[1][0]
    return [(batch, rows, cols)]
