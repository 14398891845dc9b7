"""The softmax family: ``softmax``, ``logsoftmax``, ``categorical_crossentropy``, the fused
softmax-crossentropy op for integer labels, and Theano's forms of them with a bias
(``softmax_with_bias``, ``crossentropy_softmax_1hot``, ``crossentropy_softmax_1hot_with_bias``,
``crossentropy_softmax_argmax_1hot_with_bias``).

``Softmax`` and ``LogSoftmax`` are ops (not compositions of ``exp`` and ``sum``) because the
stability rewrites and fast kernels need to see them: ``log(softmax(x))`` becomes
``logsoftmax(x)``, and ``-logsoftmax(z)[arange(n), y]`` becomes
:class:`CrossentropySoftmaxIntLabels`, whose value and gradient never form ``log(0)`` or
``exp`` of a large number. ``categorical_crossentropy`` is composed from primitives so that
those rewrites are the only place the fusion is written.
"""

from __future__ import annotations

from typing import Any

from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.graph.ir import Apply, Op
from exprc.tensor.basic import arange
from exprc.tensor.math import add, cast, log, mul, neg, sub
from exprc.tensor.params import int_param
from exprc.tensor.reduction import argmax
from exprc.tensor.reduction import sum as reduce_sum
from exprc.tensor.type import FLOAT_DTYPES, INTEGER_DTYPES, TensorType
from exprc.tensor.variable import as_tensor_variable

__all__ = ["CrossentropySoftmaxIntLabels", "LogSoftmax", "Softmax", "categorical_crossentropy",
           "crossentropy_softmax_1hot", "crossentropy_softmax_1hot_with_bias",
           "crossentropy_softmax_argmax_1hot_with_bias", "crossentropy_softmax_int_labels",
           "logsoftmax", "softmax", "softmax_with_bias"]


def _float_input(op: Any, x: Any):
    x = as_tensor_variable(x)
    if x.dtype not in FLOAT_DTYPES:
        raise build_error(ExprcTypeError, op, f"input {x} must be float32 or float64, got "
                          f"{x.type}; cast it first (x.astype('floatX'))")
    return x


class _AxisOp(Op):
    """An op normalising over one axis of a float tensor; the output has the input's type."""

    abstract = True
    __props__ = ("axis",)
    unconditional_shape = True

    def __init__(self, axis: int = -1):
        self.axis = int_param(type(self).__name__, "axis", axis)

    def make_node(self, x: Any) -> Apply:
        x = _float_input(self, x)
        if not -x.ndim <= self.axis < x.ndim:
            raise build_error(ExprcShapeError, self, f"axis {self.axis} is out of range for "
                              f"the {x.ndim}-d input {x} of type {x.type}")
        return Apply(self, [x], [x.type()])


class Softmax(_AxisOp):
    """``exp(x) / sum(exp(x), axis)``, computed with the max shifted out (never overflows)."""


class LogSoftmax(_AxisOp):
    """``x - logsumexp(x, axis)``: the log of :class:`Softmax`, finite where softmax is 0."""


def softmax(x: Any, axis: int = -1):
    """Softmax of ``x`` over ``axis``, computed stably.

    Parameters
    ----------
    x : tensor-like
        Float tensor of rank >= 1.
    axis : int
        The axis that sums to 1 (default: the last).

    Returns
    -------
    TensorVariable
        Same type as ``x``.

    Examples
    --------
    >>> import numpy as np, exprc.tensor as T
    >>> T.nnet.softmax(np.array([[0.0, 1000.0]])).eval()
    array([[0., 1.]])
    """
    return Softmax(axis)(x)


def logsoftmax(x: Any, axis: int = -1):
    """``log(softmax(x, axis))`` computed as ``x - logsumexp(x, axis)`` (finite for any x).

    Parameters are those of :func:`softmax`.
    """
    return LogSoftmax(axis)(x)


class CrossentropySoftmaxIntLabels(Op):
    """Per-row ``-log(softmax(logits)[i, labels[i]])``, computed as
    ``logsumexp(logits[i]) - logits[i, labels[i]]``.

    Inputs are float logits of shape (n, k) and integer labels of shape (n,); labels may be
    negative and count from the end, as NumPy indices do. A label outside ``[-k, k)`` is an
    IndexError naming it. The gradient w.r.t. the logits is ``softmax(logits) - onehot``.
    """

    def make_node(self, logits: Any, labels: Any) -> Apply:
        logits = _float_input(self, logits)
        labels = as_tensor_variable(labels)
        if logits.ndim != 2:
            raise build_error(ExprcShapeError, self, f"logits {logits} must be a matrix "
                              f"(n, k), got {logits.type}")
        if labels.ndim != 1 or labels.dtype not in INTEGER_DTYPES:
            raise build_error(ExprcTypeError, self, f"labels {labels} must be an integer "
                              f"vector (n,), got {labels.type}")
        n, m = logits.type.shape[0], labels.type.shape[0]
        if n is not None and m is not None and n != m:
            raise build_error(ExprcShapeError, self, f"{m} labels for {n} rows of logits")
        rows = n if n is not None else m
        return Apply(self, [logits, labels], [TensorType(logits.dtype, shape=(rows,))()])


def crossentropy_softmax_int_labels(logits: Any, labels: Any):
    """``-log(softmax(logits))[arange(n), labels]`` in one stable op.

    Parameters
    ----------
    logits : tensor-like
        Float matrix (n, k) of unnormalised log-probabilities.
    labels : tensor-like
        Integer vector (n,) of classes in ``[-k, k)``.

    Returns
    -------
    TensorVariable
        The loss of each row, shape (n,).
    """
    return CrossentropySoftmaxIntLabels()(logits, labels)


def categorical_crossentropy(coding_dist: Any, true_dist: Any):
    """The crossentropy of each row of ``coding_dist`` against ``true_dist`` (Theano's).

    Parameters
    ----------
    coding_dist : tensor-like
        Float matrix (n, k) of predicted probabilities (each row sums to 1).
    true_dist : tensor-like
        Either an integer vector (n,) of class labels, giving ``-log(coding_dist[i, y[i]])``,
        or a float matrix (n, k) of target probabilities (e.g. one-hot), giving
        ``-sum(true_dist * log(coding_dist), axis=1)``.

    Returns
    -------
    TensorVariable
        Shape (n,). With ``coding_dist = softmax(z)`` and integer labels, the optimizer fuses
        the expression into :class:`CrossentropySoftmaxIntLabels`.
    """
    coding_dist = as_tensor_variable(coding_dist)
    true_dist = as_tensor_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim:
        return neg(reduce_sum(mul(true_dist, log(coding_dist)), axis=coding_dist.ndim - 1))
    if true_dist.ndim == coding_dist.ndim - 1 and true_dist.dtype in INTEGER_DTYPES \
            and coding_dist.ndim == 2:
        return neg(log(coding_dist)[arange(true_dist.shape[0]), true_dist])
    raise build_error(ExprcTypeError, "categorical_crossentropy",
                      f"true_dist {true_dist} of type {true_dist.type} must be integer labels "
                      f"(n,) or a distribution (n, k) for coding_dist {coding_dist} of type "
                      f"{coding_dist.type}")


def _biased(x: Any, b: Any, where: str):
    """``x + b`` for a matrix ``x`` and a bias vector ``b`` (one entry per column)."""
    x, b = as_tensor_variable(x), as_tensor_variable(b)
    if x.ndim != 2 or b.ndim != 1:
        raise build_error(ExprcShapeError, where, f"x must be a matrix and b a vector, got "
                          f"{x} of type {x.type} and {b} of type {b.type}")
    return add(x, b)


def softmax_with_bias(x: Any, b: Any):
    """``softmax(x + b)`` of each row of the matrix ``x``, with the bias vector ``b``
    (Theano's ``softmax_with_bias``)."""
    return softmax(_biased(x, b, "softmax_with_bias"))


def crossentropy_softmax_1hot_with_bias(x: Any, b: Any, y_idx: Any):
    """Theano's ``crossentropy_softmax_1hot_with_bias``: for logits ``x + b`` and integer
    labels ``y_idx``, the pair ``(nll, sm)`` of the per-row loss
    ``-log(softmax(x + b)[i, y_idx[i]])`` (computed stably) and the softmax."""
    logits = _biased(x, b, "crossentropy_softmax_1hot_with_bias")
    return crossentropy_softmax_int_labels(logits, y_idx), softmax(logits)


def crossentropy_softmax_1hot(x: Any, y_idx: Any):
    """:func:`crossentropy_softmax_1hot_with_bias` without a bias: ``(nll, softmax(x))``."""
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise build_error(ExprcShapeError, "crossentropy_softmax_1hot", f"x must be a matrix, "
                          f"got {x} of type {x.type}")
    return crossentropy_softmax_int_labels(x, y_idx), softmax(x)


def crossentropy_softmax_argmax_1hot_with_bias(x: Any, b: Any, y_idx: Any):
    """Theano's ``crossentropy_softmax_argmax_1hot_with_bias``: ``(nll, sm, am)``, as
    :func:`crossentropy_softmax_1hot_with_bias` plus the most likely class of each row, in
    ``y_idx``'s dtype."""
    nll, sm = crossentropy_softmax_1hot_with_bias(x, b, y_idx)
    y_idx = as_tensor_variable(y_idx)
    best = argmax(_biased(x, b, "crossentropy_softmax_argmax_1hot_with_bias"), axis=1)
    return nll, sm, cast(best, y_idx.dtype)


def softmax_grad(gp, sm, axis: int):
    """``(gp - sum(gp * sm, axis, keepdims)) * sm``: the gradient through ``sm = softmax(x)``
    given the gradient ``gp`` w.r.t. ``sm``."""
    return mul(sub(gp, reduce_sum(mul(gp, sm), axis=axis, keepdims=True)), sm)


def logsoftmax_grad(g, sm, axis: int):
    """``g - sum(g, axis, keepdims) * sm``: the gradient through ``log(softmax(x))`` given the
    gradient ``g`` w.r.t. it, with ``sm = softmax(x)``; it never divides by ``sm``."""
    return sub(g, mul(reduce_sum(g, axis=axis, keepdims=True), sm))
