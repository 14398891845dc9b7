"""ONNX rules of the softmax family: ``Softmax`` and ``LogSoftmax`` over one axis (opset 13's
operators), and the cross-entropy of integer labels as ``LogSoftmax`` and a gather."""

from __future__ import annotations

from exprc.export.onnx.rules import ONNX
from exprc.tensor.nnet.softmax import CrossentropySoftmaxIntLabels, LogSoftmax, Softmax


@ONNX.register(Softmax, LogSoftmax)
def softmax(b, node, inputs):
    (x,) = inputs
    return [b.unary(type(node.op).__name__, x, axis=node.op.axis % len(b.shape(x)))]


@ONNX.register(CrossentropySoftmaxIntLabels)
def crossentropy_softmax_int_labels(b, node, inputs):
    logits, labels = inputs
    log_probabilities = b.unary("LogSoftmax", logits, axis=1)
    # GatherElements takes negative labels from the end, as NumPy's indexing does.
    index = b.unsqueeze(b.cast(labels, "int64"), [1])
    picked = b.op("GatherElements", [log_probabilities, index], b.dtype(logits),
                  b.shape(index), axis=1)
    return [b.unary("Neg", b.squeeze(picked, [1]))]
