"""Gradient rules of the sorting ops.

Sorting permutes the elements of each slice, so the gradient routes each output gradient back
to the position its element came from: a permutation by the inverse of the sorting order.
"""

from exprc.gradient.table import DISCONNECTED, GRAD
from exprc.tensor.sort import ArgSort, Permute, Sort, argsort, permute

GRAD.exempt(ArgSort, "its output is integer indices, piecewise constant in the input")


@GRAD.register(Sort)
def sort(node, output_grads):
    (x,), (gz,) = node.inputs, output_grads
    axis = node.op.axis
    # argsort(order) is the inverse permutation: where each input element went.
    inverse = argsort(argsort(x, axis=axis), axis=axis)
    return [permute(gz, inverse, axis=axis)]


@GRAD.register(Permute)
def permute_grad(node, output_grads):
    (_, perm), (gz,) = node.inputs, output_grads
    axis = node.op.axis
    return [permute(gz, argsort(perm, axis=axis), axis=axis), DISCONNECTED]
