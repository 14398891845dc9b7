"""Gradient rules of the reductions ``Reduce`` and ``Argmax``.

Each rule puts the reduced axes back into the output gradient (size 1, see
:func:`~exprc.tensor.reduction.keep_dims`) and lets elementwise broadcasting spread it over the
input, so the result has the input's shape.
"""

from __future__ import annotations

import exprc.tensor.math as M
from exprc.gradient.table import GRAD, ZERO
from exprc.tensor.reduction import Argmax, Reduce, keep_dims


def _spread(g, axes, x):
    """``g`` (reduced over ``axes`` of ``x``) broadcast back to ``x``'s shape."""
    return M.fill(x, keep_dims(g, axes, x.ndim))


def _prod_grad(x, axes, gz):
    """d prod / d x_i = product of the other elements, exact when ``x`` holds zeros.

    With no zero in a slice it is ``prod / x_i``; with exactly one zero, only the zero's
    position gets the product of the non-zero elements; with two or more, every element gets 0.
    """
    is_zero = M.eq(x, 0)
    nonzero = M.switch(is_zero, M.cast(1, x.dtype), x)
    prod_nonzero = keep_dims(Reduce("mul", axes, x.dtype)(nonzero), axes, x.ndim)
    zeros = keep_dims(Reduce("add", axes, "int64")(is_zero), axes, x.ndim)
    one_zero = M.and_(M.eq(zeros, 1), is_zero)
    others = M.switch(one_zero, prod_nonzero, M.cast(0, x.dtype))
    partial = M.switch(M.eq(zeros, 0), M.true_div(prod_nonzero, nonzero), others)
    return M.mul(keep_dims(gz, axes, x.ndim), partial)


@GRAD.register(Reduce)
def reduce_grad(node, output_grads):
    (x,), (gz,), op = node.inputs, output_grads, node.op
    name = op.scalar_op.name
    if name == "add":
        return [_spread(gz, op.axis, x)]
    if name == "mul":
        return [_prod_grad(x, op.axis, gz)]
    if name in ("maximum", "minimum"):
        # Every element equal to the extreme gets the whole gradient (ties all get it).
        hit = M.eq(x, keep_dims(node.outputs[0], op.axis, x.ndim))
        return [M.mul(keep_dims(gz, op.axis, x.ndim), hit)]
    return [ZERO]  # logical and/or: a bool output carries no gradient


@GRAD.register(Argmax)
def argmax_grad(node, output_grads):
    # The index is piecewise constant in x.
    return [ZERO]
