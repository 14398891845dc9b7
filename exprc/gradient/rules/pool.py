"""Gradient rules of pooling.

The gradients of pooling are linear in the output gradient, so each gradient op's own
gradient w.r.t. that input is its transpose: :class:`AveragePoolGrad` and :class:`Pool` (in
the same mode) are transposes of each other, and so are :class:`MaxPoolGrad` and
:class:`MaxPoolGradGrad`. W.r.t. the pooled input ``x`` the gradient ops are piecewise
constant (max pooling: which element is the maximum) or read only its shape (sum and
average), so their derivative there is zero.
"""

from __future__ import annotations

from exprc.gradient.table import GRAD, ZERO
from exprc.tensor.signal.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool


def _geometry(op) -> tuple:
    return (op.ws, op.ignore_border, op.stride, op.pad)


@GRAD.register(Pool)
def pool_rule(node, output_grads):
    x, = node.inputs
    op = node.op
    if op.mode == "max":
        return [MaxPoolGrad(*_geometry(op))(x, output_grads[0])]
    return [AveragePoolGrad(*_geometry(op), mode=op.mode)(x, output_grads[0])]


@GRAD.register(AveragePoolGrad)
def average_pool_grad_rule(node, output_grads):
    op = node.op
    return [ZERO, Pool(*_geometry(op), mode=op.mode)(output_grads[0])]


@GRAD.register(MaxPoolGrad)
def max_pool_grad_rule(node, output_grads):
    x, _ = node.inputs
    return [ZERO, MaxPoolGradGrad(*_geometry(node.op))(x, output_grads[0])]


@GRAD.register(MaxPoolGradGrad)
def max_pool_grad_grad_rule(node, output_grads):
    x, _ = node.inputs
    return [ZERO, MaxPoolGrad(*_geometry(node.op))(x, output_grads[0])]
