"""``theano.tensor.nnet.nnet``: the softmax family and the losses under Theano's names, and
Theano's ``crossentropy_categorical_1hot`` and ``confusion_matrix``."""

from __future__ import annotations

from typing import Any

# ruff: noqa: F401
from exprc.tensor.basic import concatenate
from exprc.tensor.extra_ops import searchsorted
from exprc.tensor.nnet.activations import *
from exprc.tensor.nnet.hsoftmax import h_softmax
from exprc.tensor.nnet.softmax import *
from exprc.tensor.selection import bincount, unique
from exprc.tensor.shape import reshape
from exprc.tensor.variable import as_tensor_variable

#: Theano's name of the crossentropy against integer labels: ``-log(coding_dist[i, y[i]])``.
crossentropy_categorical_1hot = categorical_crossentropy


def confusion_matrix(actual: Any, pred: Any):
    """The confusion matrix of integer labels (Theano's ``confusion_matrix``).

    Parameters
    ----------
    actual, pred : integer vectors
        The true and the predicted labels, one per example.

    Returns
    -------
    (TensorVariable, TensorVariable)
        ``conf_mat``, an int64 matrix whose entry ``[i, j]`` counts the examples of label
        ``order[i]`` predicted as ``order[j]``, and ``order``, the sorted labels that occur in
        either vector.
    """
    actual, pred = as_tensor_variable(actual), as_tensor_variable(pred)
    for var, what in ((actual, "actual"), (pred, "pred")):
        if var.ndim != 1:
            raise ValueError(f"confusion_matrix: {what} must be a vector of labels, got {var} "
                             f"of type {var.type}")
    order = unique(concatenate([actual, pred]))
    n = order.shape[0]
    pairs = searchsorted(order, actual) * n + searchsorted(order, pred)
    return reshape(bincount(pairs, minlength=n * n), (n, n)), order
