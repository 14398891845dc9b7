"""Gradient rules of the softmax family, each written so that it stays finite wherever the
forward value is finite."""

from __future__ import annotations

import exprc.tensor.math as M
from exprc.gradient.table import DISCONNECTED, GRAD
from exprc.tensor.basic import arange
from exprc.tensor.nnet.softmax import (
    CrossentropySoftmaxIntLabels,
    LogSoftmax,
    Softmax,
    logsoftmax_grad,
    softmax_grad,
)
from exprc.tensor.subtensor import inc_subtensor


@GRAD.register(Softmax)
def softmax_rule(node, output_grads):
    return [softmax_grad(output_grads[0], node.outputs[0], node.op.axis)]


@GRAD.register(LogSoftmax)
def logsoftmax_rule(node, output_grads):
    axis = node.op.axis
    return [logsoftmax_grad(output_grads[0], M.exp(node.outputs[0]), axis)]


@GRAD.register(CrossentropySoftmaxIntLabels)
def crossentropy_softmax_int_labels_rule(node, output_grads):
    logits, labels = node.inputs
    # softmax - onehot(labels), scaled per row: no log and no division anywhere.
    sm = Softmax(1)(logits)
    rows = arange(labels.shape[0])
    diff = inc_subtensor(sm[rows, labels], M.cast(-1, sm.dtype))
    return [M.mul(diff, output_grads[0].dimshuffle(0, "x")), DISCONNECTED]
