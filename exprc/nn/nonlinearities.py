"""Nonlinearities (Lasagne's ``lasagne.nonlinearities``): functions of one tensor.

>>> import numpy as np, exprc.tensor as T
>>> from exprc.nn.nonlinearities import rectify, LeakyRectify
>>> x = T.vector('x')
>>> rectify(x).eval({x: np.array([-1.0, 2.0])}).tolist()
[0.0, 2.0]
>>> LeakyRectify(0.1)(x).eval({x: np.array([-1.0, 2.0])}).tolist()
[-0.1, 2.0]

The piecewise functions are those of ``T.nnet`` (``relu``, ``elu``): exact on both sides,
with gradients that stay finite where the branch not taken would overflow.
"""

from __future__ import annotations

from typing import Any

import exprc.tensor as T

__all__ = [
    "SELU",
    "LeakyRectify",
    "ScaledTanH",
    "ScaledTanh",
    "elu",
    "identity",
    "leaky_rectify",
    "linear",
    "rectify",
    "selu",
    "sigmoid",
    "softmax",
    "softplus",
    "tanh",
    "very_leaky_rectify",
]


def sigmoid(x: Any) -> T.TensorVariable:
    """The logistic function 1 / (1 + exp(-x)), in (0, 1)."""
    return T.nnet.sigmoid(x)


def softmax(x: Any) -> T.TensorVariable:
    """Row-wise softmax exp(x) / sum(exp(x), axis=1) of a matrix."""
    return T.nnet.softmax(x)


def tanh(x: Any) -> T.TensorVariable:
    """The hyperbolic tangent, in (-1, 1)."""
    return T.tanh(x)


class ScaledTanH:
    """``scale_out * tanh(scale_in * x)``.

    LeCun's recommendation ``ScaledTanH(scale_in=2/3, scale_out=1.7159)`` keeps unit variance
    for inputs of unit variance.
    """

    def __init__(self, scale_in: float = 1, scale_out: float = 1):
        self.scale_in = scale_in
        self.scale_out = scale_out

    def __call__(self, x: Any) -> T.TensorVariable:
        return self.scale_out * T.tanh(self.scale_in * x)


ScaledTanh = ScaledTanH  # Lasagne exports both spellings.


def rectify(x: Any) -> T.TensorVariable:
    """The rectified linear unit max(x, 0)."""
    return T.nnet.relu(x)


class LeakyRectify:
    """The leaky rectifier: ``x`` for x > 0, ``leakiness * x`` otherwise."""

    def __init__(self, leakiness: float = 0.01):
        self.leakiness = leakiness

    def __call__(self, x: Any) -> T.TensorVariable:
        return T.nnet.relu(x, self.leakiness)


leaky_rectify = LeakyRectify()
"""The leaky rectifier with leakiness 0.01."""

very_leaky_rectify = LeakyRectify(1. / 3)
"""The leaky rectifier with leakiness 1/3."""


def elu(x: Any) -> T.TensorVariable:
    """The exponential linear unit: ``x`` for x > 0, ``exp(x) - 1`` otherwise."""
    return T.nnet.elu(x)


class SELU:
    """The scaled exponential linear unit: ``scale * (x if x > 0 else scale_neg * expm1(x))``.

    :data:`selu` has the self-normalizing constants of Klambauer et al. (2017).
    """

    def __init__(self, scale: float = 1, scale_neg: float = 1):
        self.scale = scale
        self.scale_neg = scale_neg

    def __call__(self, x: Any) -> T.TensorVariable:
        return self.scale * T.nnet.elu(x, self.scale_neg)


selu = SELU(scale=1.0507009873554804934193349852946,
            scale_neg=1.6732632423543772848170429916717)
"""SELU with the self-normalizing constants."""


def softplus(x: Any) -> T.TensorVariable:
    """``log(1 + exp(x))``, computed without overflow."""
    return T.nnet.softplus(x)


def linear(x: Any) -> Any:
    """The identity: ``x`` unchanged."""
    return x


identity = linear
