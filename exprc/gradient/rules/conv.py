"""Gradient rules of convolution (conv2d and its gradients).

The three ops are bilinear and adjoint to one another (see :mod:`exprc.tensor.nnet.conv`):
with ``C(x, w)`` the convolution, ``I(w, y)`` its input gradient and ``W(x, y)`` its filter
gradient, ``<C(x, w), y> = <x, I(w, y)> = <w, W(x, y)>``. So every gradient is one of the
three ops with the same parameters, and second derivatives come for free.
"""

from __future__ import annotations

from exprc.gradient.table import DISCONNECTED, GRAD
from exprc.tensor.nnet.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights


def _same(op, cls):
    """``cls`` with ``op``'s parameters."""
    return cls(op.border_mode, op.subsample, op.filter_flip, op.filter_dilation,
               op.num_groups)


def _spatial(var):
    return var.shape[2:]


@GRAD.register(Conv2d)
def conv2d_rule(node, output_grads):
    x, w = node.inputs
    gy = output_grads[0]
    return [_same(node.op, Conv2dGradInputs)(w, gy, _spatial(x)),
            _same(node.op, Conv2dGradWeights)(x, gy, _spatial(w))]


@GRAD.register(Conv2dGradInputs)
def conv2d_grad_inputs_rule(node, output_grads):
    # cost = <G, I(w, y)> = <C(G, w), y> = <w, W(G, y)>
    w, gy, _ = node.inputs
    g = output_grads[0]
    return [_same(node.op, Conv2dGradWeights)(g, gy, _spatial(w)),
            _same(node.op, Conv2d)(g, w), DISCONNECTED]


@GRAD.register(Conv2dGradWeights)
def conv2d_grad_weights_rule(node, output_grads):
    # cost = <G, W(x, y)> = <C(x, G), y> = <x, I(G, y)>
    x, gy, _ = node.inputs
    g = output_grads[0]
    return [_same(node.op, Conv2dGradInputs)(g, gy, _spatial(x)),
            _same(node.op, Conv2d)(x, g), DISCONNECTED]
