"""Loss functions and accuracies (Lasagne's ``lasagne.objectives``).

Each function returns an element- or item-wise expression; :func:`aggregate` turns it into
the scalar to minimize:

>>> import exprc.tensor as T
>>> from exprc.nn.objectives import categorical_crossentropy, aggregate
>>> probs, labels = T.matrix('probs'), T.ivector('labels')
>>> loss = aggregate(categorical_crossentropy(probs, labels))
>>> loss.ndim
0
"""

from __future__ import annotations

import warnings
from typing import Any

import exprc.tensor as T
from exprc.nn.utils import as_exprc_expression

__all__ = [
    "aggregate",
    "binary_accuracy",
    "binary_crossentropy",
    "binary_hinge_loss",
    "categorical_accuracy",
    "categorical_crossentropy",
    "multiclass_hinge_loss",
    "squared_error",
]


def align_targets(predictions: Any, targets: Any) -> tuple:
    """Make a target vector (n,) a column (n, 1) when predictions are a column (n, 1).

    This covers a network with one sigmoid output unit trained on a vector of labels.
    """
    if (getattr(predictions, "broadcastable", None) == (False, True)
            and getattr(targets, "ndim", None) == 1):
        targets = as_exprc_expression(targets).dimshuffle(0, "x")
    return predictions, targets


def binary_crossentropy(predictions: Any, targets: Any) -> T.TensorVariable:
    """``-(t log(p) + (1 - t) log(1 - p))`` elementwise, for predictions in (0, 1)."""
    predictions, targets = align_targets(predictions, targets)
    return T.nnet.binary_crossentropy(predictions, targets)


def categorical_crossentropy(predictions: Any, targets: Any) -> T.TensorVariable:
    """``-log(p[i, t[i]])`` per row, for integer labels or a matrix of target probabilities.

    Parameters
    ----------
    predictions : matrix
        Rows of class probabilities (e.g. a softmax output).
    targets : int vector or matrix
        Class indices, or one-hot / soft target distributions in the layout of predictions.
    """
    return T.nnet.categorical_crossentropy(predictions, targets)


def squared_error(a: Any, b: Any) -> T.TensorVariable:
    """``(a - b) ** 2`` elementwise."""
    a, b = align_targets(a, b)
    return T.sqr(a - b)


def aggregate(loss: Any, weights: Any = None, mode: str = "mean") -> T.TensorVariable:
    """Reduce an element- or item-wise loss to a scalar.

    Parameters
    ----------
    loss : tensor
    weights : tensor, optional
        Broadcastable to ``loss``; multiplies it before reducing (0/1 weights mask entries).
    mode : {'mean', 'sum', 'normalized_sum'}
        'normalized_sum' divides the weighted sum by ``weights.sum()`` (weights required).
    """
    if weights is not None:
        loss = loss * weights
    if mode == "mean":
        return loss.mean()
    if mode == "sum":
        return loss.sum()
    if mode == "normalized_sum":
        if weights is None:
            raise ValueError("require weights for mode='normalized_sum'")
        return loss.sum() / weights.sum()
    raise ValueError(f"mode must be 'mean', 'sum' or 'normalized_sum', got {mode!r}")


def binary_hinge_loss(predictions: Any, targets: Any, delta: float = 1,
                      log_odds: bool | None = None, binary: bool = True):
    """``max(0, delta - t * p)`` elementwise.

    Parameters
    ----------
    predictions : tensor
        Log-odds (``log_odds=True``) or probabilities in (0, 1) (``log_odds=False``).
    targets : tensor
        Labels in {0, 1} (``binary=True``) or in {-1, 1}.
    delta : float
        The margin.
    log_odds : bool, optional
        None means True, with a ``FutureWarning`` (Lasagne's default is to change to False).
    binary : bool
    """
    if log_odds is None:
        warnings.warn("binary_hinge_loss: pass log_odds explicitly; None means True but the "
                      "default will change to False", FutureWarning, stacklevel=2)
        log_odds = True
    if not log_odds:
        predictions = T.log(predictions / (1 - predictions))
    if binary:
        targets = 2 * targets - 1
    predictions, targets = align_targets(predictions, targets)
    return T.nnet.relu(delta - predictions * targets)


def multiclass_hinge_loss(predictions: Any, targets: Any, delta: float = 1):
    """``max(0, max_{j != t} p_j - p_t + delta)`` per row.

    Parameters
    ----------
    predictions : matrix
        One row of class scores per example.
    targets : int vector or matrix
        Class indices, or one-hot rows (other soft targets are not supported).
    delta : float
        The margin.
    """
    predictions = as_exprc_expression(predictions)
    targets = as_exprc_expression(targets)
    if targets.ndim == predictions.ndim - 1:
        classes = T.arange(predictions.shape[1])
        is_target = T.eq(classes.dimshuffle("x", 0), targets.dimshuffle(0, "x"))
    elif targets.ndim == predictions.ndim:
        is_target = T.neq(targets, 0)
    else:
        raise TypeError("rank mismatch between targets and predictions")
    corrects = T.sum(T.switch(is_target, predictions, 0), axis=1)
    # The largest score among the wrong classes: mask the target class out with -inf.
    rest = T.max(T.switch(is_target, -float("inf"), predictions), axis=1)
    return T.nnet.relu(rest - corrects + delta)


def binary_accuracy(predictions: Any, targets: Any, threshold: float = 0.5):
    """1 where ``(p >= threshold) == t``, else 0, elementwise (not differentiable)."""
    predictions, targets = align_targets(predictions, targets)
    return T.eq(T.ge(predictions, threshold), targets)


def categorical_accuracy(predictions: Any, targets: Any, top_k: int = 1):
    """1 per row where the target class is among the ``top_k`` highest predictions, else 0.

    Parameters
    ----------
    predictions : matrix
    targets : int vector or one-hot matrix
    top_k : int
    """
    predictions = as_exprc_expression(predictions)
    targets = as_exprc_expression(targets)
    if targets.ndim == predictions.ndim:
        targets = T.argmax(targets, axis=-1)
    elif targets.ndim != predictions.ndim - 1:
        raise TypeError("rank mismatch between targets and predictions")
    if top_k == 1:
        return T.eq(T.argmax(predictions, axis=-1), targets)
    top = T.argsort(predictions, axis=-1)[..., -top_k:]
    return T.any(T.eq(top, T.shape_padaxis(targets, axis=-1)), axis=-1)
