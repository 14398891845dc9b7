"""Gradient rules of the shape ops: the gradient keeps its values and takes back the input's
shape."""

from exprc.gradient.table import DISCONNECTED, GRAD
from exprc.tensor.shape import Reshape, Shape, SpecifyShape, reshape, shape, specify_shape


@GRAD.register(Shape)
def shape_grad(node, output_grads):
    return [DISCONNECTED]


@GRAD.register(Reshape)
def reshape_grad(node, output_grads):
    x = node.inputs[0]
    return [reshape(output_grads[0], shape(x)), DISCONNECTED]


@GRAD.register(SpecifyShape)
def specify_shape_grad(node, output_grads):
    x, (g,) = node.inputs[0], output_grads
    # The gradient is the output gradient itself; it gets x's static sizes when the output's
    # type forgot some of them (unbroadcast).
    if any(xs is not None and gs is None for xs, gs in zip(x.type.shape, g.type.shape)):
        g = specify_shape(g, tuple(gs if xs is None else xs
                                   for xs, gs in zip(x.type.shape, g.type.shape)))
    return [g]
