"""Reference implementations of the softmax family, each shifted by the row maximum so that
no ``exp`` overflows."""

import numpy as np

from exprc.errors import ExprcShapeError
from exprc.link.reference.table import REFERENCE
from exprc.tensor.nnet.softmax import CrossentropySoftmaxIntLabels, LogSoftmax, Softmax


def _shifted(x: np.ndarray, axis: int) -> np.ndarray:
    """``x`` minus its maximum over ``axis`` (0 where that maximum is infinite)."""
    if x.size == 0:
        return x
    m = np.max(x, axis=axis, keepdims=True)
    return x - np.where(np.isinf(m), 0, m)


@REFERENCE.register(Softmax)
def softmax(node, x):
    with np.errstate(all="ignore"):
        e = np.exp(_shifted(x, node.op.axis))
        return [e / e.sum(axis=node.op.axis, keepdims=True)]


def _logsoftmax(x: np.ndarray, axis: int) -> np.ndarray:
    with np.errstate(all="ignore"):
        shifted = _shifted(x, axis)
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


@REFERENCE.register(LogSoftmax)
def logsoftmax(node, x):
    return [_logsoftmax(x, node.op.axis)]


@REFERENCE.register(CrossentropySoftmaxIntLabels)
def crossentropy_softmax_int_labels(node, logits, labels):
    n, k = logits.shape
    if labels.shape != (n,):
        raise ExprcShapeError(f"{node.op}: {labels.shape[0]} labels for {n} rows of logits")
    bad = (labels < -k) | (labels >= k)
    if bad.any():
        row = int(np.argmax(bad))
        raise IndexError(f"{node.op}: label {int(labels[row])} of row {row} is out of range "
                         f"for {k} classes")
    picked = _logsoftmax(logits, 1)[np.arange(n), labels.astype(np.int64)]
    return [-picked]
