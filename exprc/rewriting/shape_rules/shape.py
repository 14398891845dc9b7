"""Shape rules of the shape family: Shape, SpecifyShape and Reshape."""

from exprc.rewriting.shape_rules import SHAPE
from exprc.rewriting.shape_rules.sizes import (
    as_size,
    const,
    eq,
    floordiv,
    known_nonnegative,
    maximum,
    product,
    switch,
)
from exprc.tensor.shape import Reshape, Shape, SpecifyShape


@SHAPE.register(Shape)
def shape(node, input_shapes):
    return [(const(node.inputs[0].ndim),)]


@SHAPE.register(SpecifyShape)
def specify_shape(node, input_shapes):
    # The static sizes it states are filled in by shape_of from the output type.
    return [input_shapes[0]]


@SHAPE.register(Reshape)
def reshape(node, input_shapes):
    newshape = node.inputs[1]
    if newshape.type.shape[0] is None:
        sizes = [as_size(newshape[i]) for i in range(node.op.ndim)]
    else:
        sizes = input_shapes.values(newshape)
    unknown = [not known_nonnegative(s) for s in sizes]
    if not any(unknown):
        return [tuple(sizes)]
    # A -1 (at most one) stands for the size that keeps the number of elements.
    ones = [switch(eq(s, const(-1)), const(1), s) if u else s for s, u in zip(sizes, unknown)]
    missing = floordiv(product(input_shapes[0]), maximum(product(ones), const(1)))
    return [tuple(switch(eq(s, const(-1)), missing, s) if u else s
                  for s, u in zip(sizes, unknown))]
