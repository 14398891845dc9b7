"""Gradient rules of ``Dot`` and ``BatchedDot``.

For ``z = a . b`` the gradients are ``gz . b^T`` and ``a^T . gz``; where an operand is a
vector, the corresponding product with a vector becomes an outer product (elementwise multiply
of a column by a row) or, for two vectors, a scaling by the 0-d ``gz``.
"""

from __future__ import annotations

import exprc.tensor.math as M
from exprc.gradient.table import GRAD
from exprc.tensor.elemwise import DimShuffle
from exprc.tensor.linalg import BatchedDot, Dot

_transpose = DimShuffle((1, 0))
_batch_transpose = DimShuffle((0, 2, 1))


def _outer(x, y):
    return M.mul(DimShuffle((0, "x"))(x), DimShuffle(("x", 0))(y))


@GRAD.register(Dot)
def dot_grad(node, output_grads):
    (a, b), (gz,), dot = node.inputs, output_grads, node.op
    if a.ndim == 1 and b.ndim == 1:
        return [M.mul(gz, b), M.mul(gz, a)]
    if a.ndim == 2 and b.ndim == 1:
        return [_outer(gz, b), dot(_transpose(a), gz)]
    if a.ndim == 1:
        return [dot(b, gz), _outer(a, gz)]
    return [dot(gz, _transpose(b)), dot(_transpose(a), gz)]


@GRAD.register(BatchedDot)
def batched_dot_grad(node, output_grads):
    (a, b), (gz,), bdot = node.inputs, output_grads, node.op
    return [bdot(gz, _batch_transpose(b)), bdot(_batch_transpose(a), gz)]
