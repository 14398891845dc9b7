"""Gradient rules of the gradient filters (``zero_grad``, ``grad_clip`` and friends)."""

from __future__ import annotations

import exprc.tensor.math as M
from exprc.gradient.table import DISCONNECTED, GRAD, ZERO, NullGrad
from exprc.tensor.gradient_filters import GradientFilter


@GRAD.register(GradientFilter)
def gradient_filter_grad(node, output_grads):
    (gz,) = output_grads
    op = node.op
    if op.kind == "zero":
        return [ZERO]
    if op.kind == "disconnected":
        return [DISCONNECTED]
    if op.kind == "clip":
        return [M.clip(gz, op.low, op.high)]
    if op.kind == "scale":
        return [gz * op.low]
    return [NullGrad(op, "the graph marks this gradient undefined (undefined_grad)")]
