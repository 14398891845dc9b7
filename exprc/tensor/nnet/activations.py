"""Activation functions and losses of ``T.nnet``, built from elementwise primitives.

Each function composes existing elementwise ops (``switch``, ``maximum``, ``softplus``, ...),
so its reference, C code, shape and gradient come from those primitives' rules and the fusion
pass turns each into one loop; none needs an op of its own. Where Theano's formula would give
a wrong or non-finite gradient through the primitives, the composition is chosen so that it
does not (see :func:`ultra_fast_sigmoid`, :func:`elu` and
:func:`sigmoid_binary_crossentropy`).

``sigmoid`` and ``softplus`` are scalar primitives exported by :mod:`exprc.tensor.math`;
``categorical_crossentropy`` lives with the softmax family and is re-exported here with the
other losses.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from exprc.graph.ir import Variable
from exprc.tensor.math import abs as abs_
from exprc.tensor.math import (
    add,
    clip,
    expm1,
    gt,
    log,
    lt,
    maximum,
    minimum,
    mul,
    neg,
    sgn,
    softplus,
    sub,
    switch,
    true_div,
)
from exprc.tensor.nnet.softmax import categorical_crossentropy

__all__ = ["binary_crossentropy", "categorical_crossentropy", "elu", "hard_sigmoid", "relu",
           "selu", "sigmoid_binary_crossentropy", "softsign", "ultra_fast_sigmoid"]

#: The constants of SELU (Klambauer et al., 2017, "Self-Normalizing Neural Networks").
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

# Theano's piecewise approximation of tanh(s) for s >= 0, used by ultra_fast_sigmoid:
# 1.5 s / (1 + s) below _UFS_KNEE, a line up to _UFS_FLAT, then a constant.
_UFS_KNEE = 1.7
_UFS_FLAT = 3.0
_UFS_LINE_AT_KNEE = 0.935409070603099
_UFS_LINE_SLOPE = 0.0458812946797165
_UFS_TOP = 0.99505475368673


def hard_sigmoid(x: Any):
    """Theano's piecewise-linear approximation of the sigmoid: ``clip(0.2 * x + 0.5, 0, 1)``.

    Parameters
    ----------
    x : tensor-like

    Returns
    -------
    TensorVariable
        Values in ``[0, 1]``; float (integers promote as NumPy does).

    Examples
    --------
    >>> import numpy as np, exprc.tensor as T
    >>> T.nnet.hard_sigmoid(np.array([-5.0, 0.0, 1.0, 5.0])).eval()
    array([0. , 0.5, 0.7, 1. ])
    """
    return clip(mul(x, 0.2) + 0.5, 0, 1)


def ultra_fast_sigmoid(x: Any):
    """Theano's ``ultra_fast_sigmoid``: ``0.5 * (t(x / 2) + 1)`` with ``t`` a piecewise
    approximation of ``tanh``.

    For ``s = |x| / 2``, ``t`` is ``1.5 s / (1 + s)`` for ``s < 1.7``, the line
    ``0.935409070603099 + 0.0458812946797165 (s - 1.7)`` for ``s < 3``, and
    ``0.99505475368673`` beyond, with the sign of ``x``. It is within 0.028 of the sigmoid.

    Parameters
    ----------
    x : tensor-like

    Returns
    -------
    TensorVariable
        Float values in ``(0, 1)``.

    Notes
    -----
    The gradient is the exact derivative of the approximation (zero for ``|x| >= 6``; the
    approximation jumps by about 0.005 at ``|x| = 3.4``, where the jump is not
    differentiated), not the ``y * (1 - y)`` of the true sigmoid.
    """
    half = mul(x, 0.5)
    s = abs_(half)
    # The curve is written as the odd function 1.5 h / (1 + |h|) rather than sgn(h) times its
    # value at |h|, whose derivative would vanish with sgn'(0) = 0 at x = 0.
    curve = true_div(mul(half, 1.5), s + 1)
    line = (s - _UFS_KNEE) * _UFS_LINE_SLOPE + _UFS_LINE_AT_KNEE
    tail = mul(sgn(half), switch(lt(s, _UFS_FLAT), line, _UFS_TOP))
    return mul(switch(lt(s, _UFS_KNEE), curve, tail) + 1, 0.5)


def softsign(x: Any):
    """``x / (1 + |x|)``, a sigmoid-shaped function into ``(-1, 1)`` with polynomial tails.

    Parameters
    ----------
    x : tensor-like

    Returns
    -------
    TensorVariable
    """
    return true_div(x, abs_(x) + 1)


def _is_zero_number(value: Any) -> bool:
    return not isinstance(value, Variable) and isinstance(value, (numbers.Number, np.generic)) \
        and value == 0


def relu(x: Any, alpha: Any = 0):
    """Rectified linear unit, leaky when ``alpha`` is not 0 (Theano's ``T.nnet.relu``).

    Parameters
    ----------
    x : tensor-like
    alpha : scalar or tensor-like
        Slope for negative inputs; a tensor broadcasts against ``x`` (e.g. one slope per
        channel, as in parametric ReLU, where it can be learned: it gets a gradient).

    Returns
    -------
    TensorVariable
        ``max(x, 0)`` for ``alpha == 0``, else ``x`` where ``x > 0`` and ``alpha * x``
        elsewhere. NaN stays NaN.

    Examples
    --------
    >>> import numpy as np, exprc.tensor as T
    >>> T.nnet.relu(np.array([-2.0, 3.0])).eval()
    array([0., 3.])
    >>> T.nnet.relu(np.array([-2.0, 3.0]), alpha=0.1).eval()
    array([-0.2,  3. ])
    """
    if _is_zero_number(alpha):
        return maximum(x, 0)
    # Exact on both sides, where Theano's 0.5 (1 + a) x + 0.5 (1 - a) |x| rounds.
    return switch(gt(x, 0), x, mul(alpha, x))


def elu(x: Any, alpha: Any = 1):
    """Exponential linear unit: ``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Parameters
    ----------
    x : tensor-like
    alpha : scalar or tensor-like
        Value approached as ``x`` goes to minus infinity is ``-alpha``.

    Returns
    -------
    TensorVariable
    """
    # expm1 sees min(x, 0): for large positive x, exp(x) would overflow, and although switch
    # discards that branch, its gradient would be 0 * inf = NaN.
    return switch(gt(x, 0), x, mul(alpha, expm1(minimum(x, 0))))


def selu(x: Any):
    """Scaled exponential linear unit: ``scale * elu(x, alpha)`` with the constants of
    Klambauer et al. (``alpha`` = 1.6732632..., ``scale`` = 1.0507009...).

    Parameters
    ----------
    x : tensor-like

    Returns
    -------
    TensorVariable
    """
    return mul(elu(x, SELU_ALPHA), SELU_SCALE)


def _one_minus(target: Any):
    """``1 - target``, kept a Python number for a Python number target so that it stays weak
    (a float32 loss with ``target=1`` stays float32)."""
    if isinstance(target, (int, float)):
        return 1 - target
    return sub(1, target)


def binary_crossentropy(output: Any, target: Any):
    """Crossentropy of probabilities ``output`` against binary targets (Theano's formula):
    ``-(target * log(output) + (1 - target) * log(1 - output))``, elementwise.

    Parameters
    ----------
    output : tensor-like
        Predicted probabilities in ``[0, 1]``.
    target : tensor-like
        Targets in ``[0, 1]`` (usually 0 or 1); broadcasts against ``output``.

    Returns
    -------
    TensorVariable
        The elementwise loss; average it for a cost.

    Notes
    -----
    When ``output`` is ``sigmoid(z)``, the compiled function's stability pass rewrites the
    logarithms into softplus terms and cancels the gradient's divisions by the sigmoid, so
    the loss and its gradient w.r.t. ``z`` stay finite for saturated ``z``. Use
    :func:`sigmoid_binary_crossentropy` on the logits ``z`` for a loss and gradient that are
    finite and accurate everywhere, in every mode (REFERENCE runs no rewrites).
    """
    return neg(add(mul(target, log(output)), mul(_one_minus(target), log(sub(1, output)))))


def sigmoid_binary_crossentropy(output: Any, target: Any):
    """``binary_crossentropy(sigmoid(output), target)`` from the logits ``output``, computed
    stably (Theano's formula): ``max(output, 0) - output * target + softplus(-|output|)``.

    Parameters
    ----------
    output : tensor-like
        Logits (any real values).
    target : tensor-like
        Targets in ``[0, 1]``; broadcasts against ``output``.

    Returns
    -------
    TensorVariable
        The elementwise loss, finite for any finite logits and accurate to a few ulps even
        where it is tiny (for 0/1 targets the first two terms cancel exactly). Its gradient
        is ``sigmoid(output) - target`` (w.r.t. ``target``: ``-output``), ``0.5 - target`` at
        ``output = 0`` too.

    Examples
    --------
    >>> import numpy as np, exprc.tensor as T
    >>> T.nnet.sigmoid_binary_crossentropy(np.array([1000.0, -1000.0]),
    ...                                    np.array([1.0, 1.0])).eval()
    array([   0., 1000.])
    """
    magnitude = abs_(output)
    # max(x, 0) written as x/2 + |x|/2: its derivative at 0 is then 1/2 (through sgn(0) = 0),
    # which with the softplus term's 0 there gives the true 0.5 - target. With maximum's
    # derivative of 1 at 0, zero-initialised logits would get the gradient 1 - target.
    positive_part = add(mul(output, 0.5), mul(magnitude, 0.5))
    # The linear terms are combined first: for targets of 0 or 1 they cancel exactly, and the
    # small softplus term keeps its precision.
    return add(sub(positive_part, mul(output, target)), softplus(neg(magnitude)))
