"""Shape rules of the ``sparse_math`` family: elementwise results keep their operands' shape,
products take the outer sizes, sums drop the summed axis."""

from exprc.rewriting.shape_rules import SHAPE
from exprc.tensor.sparse_math import (
    AddSD,
    AddSS,
    Dot,
    MulSD,
    MulSS,
    Scale,
    SpSum,
    StructuredDot,
    StructuredDotGrad,
    TrueDot,
)


@SHAPE.register(AddSS, MulSS, MulSD, Scale, StructuredDotGrad)
def like_first(node, input_shapes):
    return [input_shapes[0]]


@SHAPE.register(AddSD)
def like_dense(node, input_shapes):
    return [input_shapes[1]]  # the dense operand's, with its static sizes


@SHAPE.register(Dot, StructuredDot, TrueDot)
def product(node, input_shapes):
    x, y = input_shapes
    return [tuple(x[:-1]) + tuple(y[1:])]


@SHAPE.register(SpSum)
def sp_sum(node, input_shapes):
    rows, cols = input_shapes[0]
    axis = node.op.axis
    if axis is None:
        return [()]
    return [(cols,) if axis == 0 else (rows,)]
