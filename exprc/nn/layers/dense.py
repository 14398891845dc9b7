"""Fully connected layers: :class:`DenseLayer`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import exprc.tensor as T
from exprc.nn import init, nonlinearities
from exprc.nn.layers.base import Layer

__all__ = ["DenseLayer"]


class DenseLayer(Layer):
    """``nonlinearity(dot(input, W) + b)``, a fully connected layer.

    Parameters
    ----------
    incoming : Layer or tuple
    num_units : int
        Number of output units.
    W : initializer, array or expression
        Weights of shape ``(num_inputs, num_units)`` where ``num_inputs`` is the product of
        the input's trailing sizes (after the leading axes). Default :class:`GlorotUniform`.
    b : initializer, array, expression or None
        Biases of shape ``(num_units,)`` (not regularizable), or None for none.
        Default ``Constant(0.)``.
    nonlinearity : callable or None
        Default :func:`~exprc.nn.nonlinearities.rectify`; None means linear.
    num_leading_axes : int
        Axes kept as they are (1: one example per row); the others are flattened into the
        inputs of each unit. Negative values count from the end.

    Examples
    --------
    >>> from exprc.nn.layers import InputLayer, DenseLayer
    >>> l1 = DenseLayer(InputLayer((100, 20)), num_units=50)
    >>> l1.output_shape, l1.W.get_value().shape
    ((100, 50), (20, 50))
    """

    def __init__(self, incoming: Any, num_units: int,
                 W: Any = init.GlorotUniform(),  # noqa: B008
                 b: Any = init.Constant(0.),  # noqa: B008
                 nonlinearity: Callable | None = nonlinearities.rectify,
                 num_leading_axes: int = 1, **kwargs):
        super().__init__(incoming, **kwargs)
        self.nonlinearity = nonlinearities.identity if nonlinearity is None else nonlinearity
        self.num_units = num_units
        if num_leading_axes >= len(self.input_shape):
            raise ValueError(f"Got num_leading_axes={num_leading_axes} for a "
                             f"{len(self.input_shape)}-dimensional input, leaving no "
                             f"trailing dimensions for the dot product.")
        if num_leading_axes < -len(self.input_shape):
            raise ValueError(f"Got num_leading_axes={num_leading_axes} for a "
                             f"{len(self.input_shape)}-dimensional input, requesting more "
                             f"trailing axes than there are input dimensions.")
        self.num_leading_axes = num_leading_axes
        trailing = self.input_shape[num_leading_axes:]
        if any(s is None for s in trailing):
            raise ValueError(f"A DenseLayer requires a fixed input shape (except for the "
                             f"leading axes). Got {self.input_shape} for "
                             f"num_leading_axes={num_leading_axes}.")
        num_inputs = int(np.prod(trailing))
        self.W = self.add_param(W, (num_inputs, num_units), name="W")
        self.b = (None if b is None else
                  self.add_param(b, (num_units,), name="b", regularizable=False))

    def get_output_shape_for(self, input_shape):
        return input_shape[:self.num_leading_axes] + (self.num_units,)

    def get_output_for(self, input, **kwargs):
        num_leading_axes = self.num_leading_axes
        if num_leading_axes < 0:
            num_leading_axes += input.ndim
        if input.ndim > num_leading_axes + 1:
            input = input.flatten(num_leading_axes + 1)
        activation = T.dot(input, self.W)
        if self.b is not None:
            activation = activation + self.b
        return self.nonlinearity(activation)
