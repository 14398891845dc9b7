"""Gradient rules of the ``sparse_math`` family.

Output gradients of sparse results may be sparse or dense (see
:mod:`exprc.gradient.rules.sparse`); products pick the op that fits their operands' kinds with
:func:`product`. Structured rules (``structured_dot``, the sparse operand of ``x + dense``,
``sp_sum(sparse_grad=True)``, scaling) give sparse gradients with the input's pattern.
"""

from __future__ import annotations

from exprc.gradient.rules.sparse import as_dense, is_sparse, pattern_of
from exprc.gradient.table import DISCONNECTED, GRAD
from exprc.tensor import math as tm
from exprc.tensor.basic import alloc
from exprc.tensor.linalg import dot as dense_dot
from exprc.tensor.linalg import outer
from exprc.tensor.shape import transpose as dense_transpose
from exprc.tensor.sparse import SparseFromDense, sp_ones_like, transpose
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
    mul,
    sp_sum,
    structured_dot,
    structured_dot_grad,
    true_dot,
)


def _t(x):
    return transpose(x) if is_sparse(x) else dense_transpose(x)


def product(a, b):
    """The matrix product ``a . b`` whatever the kinds of ``a`` and ``b`` (dense result)."""
    if not is_sparse(a) and not is_sparse(b):
        if a.ndim == 1 and b.ndim == 1:
            return outer(a, b)
        return dense_dot(a, b)
    return Dot()(a, b)


@GRAD.register(AddSS)
def add_ss_grad(node, output_grads):
    (gz,) = output_grads
    return [gz, gz]


@GRAD.register(AddSD)
def add_sd_grad(node, output_grads):
    # Structured for the sparse operand (as in Theano): its stored entries only.
    (x, _), (gz,) = node.inputs, output_grads
    return [pattern_of(x, gz), gz]


@GRAD.register(MulSS)
def mul_ss_grad(node, output_grads):
    (x, y), (gz,) = node.inputs, output_grads
    return [mul(y, gz), mul(x, gz)]


@GRAD.register(MulSD)
def mul_sd_grad(node, output_grads):
    (x, y), (gz,) = node.inputs, output_grads
    gx = mul(gz, y) if is_sparse(gz) else tm.mul(gz, y)
    xg = mul(x, gz)
    gy = sp_sum(xg) if y.ndim == 0 else as_dense(xg)
    return [gx, gy]


@GRAD.register(Dot)
def dot_grad(node, output_grads):
    # Regular gradients: dense, even for a sparse operand (as in Theano).
    (x, y), (gz,) = node.inputs, output_grads
    if x.ndim == 1:  # x . Y with a dense vector x: gz has Y's columns
        return [product(y, gz), product(x, gz)]
    if y.ndim == 1:  # X . y with a dense vector y
        return [product(gz, y), product(_t(x), gz)]
    return [product(gz, _t(y)), product(_t(x), gz)]


@GRAD.register(StructuredDot)
def structured_dot_grad_rule(node, output_grads):
    (a, b), (gz,) = node.inputs, output_grads
    return [structured_dot_grad(a, b, gz), structured_dot(transpose(a), gz)]


@GRAD.register(StructuredDotGrad)
def structured_dot_grad_grad(node, output_grads):
    # The output is g . b.T at a's stored entries: linear in b and in g, and independent of
    # a's values (only its pattern is read). The products are regular: ``picked`` depends on
    # the output gradient, whose pattern says nothing.
    (a, b, g), (gout,) = node.inputs, output_grads
    picked = pattern_of(a, gout)
    return [DISCONNECTED, product(transpose(picked), g), product(picked, b)]


@GRAD.register(TrueDot)
def true_dot_grad(node, output_grads):
    (x, y), (gz,) = node.inputs, output_grads
    if is_sparse(gz):
        gx, gy = true_dot(gz, _t(y)), true_dot(transpose(x), gz)
    else:
        gx, gy = product(gz, _t(y)), product(transpose(x), gz)
    if not is_sparse(y) and node.op.grad_preserves_dense:
        gy = as_dense(gy)
    return [gx, gy]


@GRAD.register(SpSum)
def sp_sum_grad(node, output_grads):
    (x,), (gz,) = node.inputs, output_grads
    axis = node.op.axis
    if node.op.sparse_grad:
        ones = sp_ones_like(x)
        if axis is None:
            return [mul(ones, gz)]
        return [Scale(1 - axis)(ones, gz)]
    # The full gradient: every entry of x (stored or not) gets gz, as a sparse matrix.
    rows, cols = x.shape[0], x.shape[1]
    spread = gz if axis != 1 else gz.dimshuffle(0, "x")
    return [SparseFromDense(x.format)(alloc(spread, rows, cols))]


@GRAD.register(Scale)
def scale_grad(node, output_grads):
    (x, s), (gz,) = node.inputs, output_grads
    axis = node.op.axis
    gx = Scale(axis)(pattern_of(x, gz), s)
    gs = sp_sum(mul(x, gz), axis=1 - axis)
    return [gx, gs]
