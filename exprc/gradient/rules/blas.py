"""Gradient rules of ``Gemm``, ``Gemv`` and ``Ger``.

For ``out = beta * z + alpha * P`` with ``P = product(x, y)``: ``z`` gets ``beta * g``,
``alpha`` gets ``sum(g * P)``, ``beta`` gets ``sum(g * z)``, and ``x`` and ``y`` get the
product's own gradients of ``alpha * g``. ``z`` and ``P`` broadcast against each other, so
``g`` is summed down to each one's shape first (nothing is added when static shapes prove it
unnecessary.
"""

from __future__ import annotations

import exprc.tensor.math as M
from exprc.gradient.rules.linalg import dot_grad
from exprc.gradient.table import GRAD, INPLACE_REASON, NullGrad
from exprc.tensor.blas import Gemm, Gemv, Ger
from exprc.tensor.elemwise import DimShuffle, sum_to
from exprc.tensor.linalg import Dot
from exprc.tensor.reduction import sum as tsum

_dot = Dot()


@GRAD.register(Gemm, Gemv, Ger)
def blas_grad(node, output_grads):
    (z, alpha, x, y, beta), (g,) = node.inputs, output_grads
    if node.op.inplace:
        return [NullGrad(node.op, INPLACE_REASON)] * 5
    if isinstance(node.op, Ger):
        product = M.mul(DimShuffle((0, "x"))(x), DimShuffle(("x", 0))(y))
        g_product = sum_to(g, product)
        gx, gy = _dot(g_product, y), _dot(DimShuffle((1, 0))(g_product), x)
    else:
        dot_node = _dot.make_node(x, y)
        product = dot_node.outputs[0]
        g_product = sum_to(g, product)
        gx, gy = dot_grad(dot_node, [g_product])
    return [sum_to(M.mul(beta, g), z), tsum(g_product * product), M.mul(alpha, gx),
            M.mul(alpha, gy), tsum(g * z)]
