"""Gradient rules of the construction ops."""

import exprc.tensor as T
from exprc.gradient.table import DISCONNECTED, GRAD, ZERO
from exprc.tensor.basic import (
    Alloc,
    ARange,
    Eye,
    Join,
    Split,
    arange,
    join,
    shape_list,
    split,
    zeros_like,
)

GRAD.exempt(Eye, "its inputs are integer sizes and a diagonal offset")

@GRAD.register(Alloc)
def alloc_grad(node, output_grads):
    # Alloc pads its value to the output's rank when the node is built, and declares
    # gradient_in_output_shape: the walk's summing of the output gradient back to the value's
    # shape is all its gradient needs.
    return [output_grads[0], DISCONNECTED]


@GRAD.register(ARange)
def arange_grad(node, output_grads):
    # out[i] = start + i * step; stop only decides the length, a step function of it.
    (g,) = output_grads
    positions = arange(0, shape_list(node.outputs[0])[0], dtype=g.dtype)
    return [T.sum(g), ZERO, T.sum(g * positions)]


@GRAD.register(Join)
def join_grad(node, output_grads):
    axis = node.op.axis
    sizes = [shape_list(t)[axis] for t in node.inputs]
    return split(output_grads[0], sizes, len(node.inputs), axis)


@GRAD.register(Split)
def split_grad(node, output_grads):
    parts = [g if g is not None else zeros_like(out)
             for g, out in zip(output_grads, node.outputs)]
    return [join(node.op.axis, *parts), DISCONNECTED]
