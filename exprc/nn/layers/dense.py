"""Fully connected layers: :class:`DenseLayer` and :class:`NINLayer` (network in network)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import exprc.tensor as T
from exprc.nn import init, nonlinearities
from exprc.nn.layers.base import Layer

__all__ = ["DenseLayer", "NINLayer"]


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


class NINLayer(Layer):
    """A dense layer applied at every position (network in network, Lin et al. 2013):
    ``nonlinearity(sum_c input[:, c, ...] * W[c, :] + b)``, a 1x1 convolution.

    Parameters
    ----------
    incoming : Layer or tuple
        ``(batch, channels, ...)`` with the number of channels known.
    num_units : int
        Number of output channels.
    untie_biases : bool
        One bias per unit and position (``b`` of shape ``(num_units,) + input_shape[2:]``,
        which must be known) rather than one per unit.
    W : initializer, array or expression
        Weights ``(channels, num_units)``. Default :class:`GlorotUniform`.
    b : initializer, array, expression or None
        Biases (not regularizable), or None for none.
    nonlinearity : callable or None
        Default rectify; None means linear.

    Examples
    --------
    >>> from exprc.nn.layers import InputLayer, NINLayer
    >>> NINLayer(InputLayer((None, 3, 5, 5)), num_units=8).output_shape
    (None, 8, 5, 5)
    """

    def __init__(self, incoming: Any, num_units: int, untie_biases: bool = False,
                 W: Any = init.GlorotUniform(),  # noqa: B008
                 b: Any = init.Constant(0.),  # noqa: B008
                 nonlinearity: Callable | None = nonlinearities.rectify, **kwargs):
        super().__init__(incoming, **kwargs)
        self.nonlinearity = nonlinearities.identity if nonlinearity is None else nonlinearity
        if len(self.input_shape) < 2 or self.input_shape[1] is None:
            raise ValueError(f"NINLayer needs an input of 2 or more dimensions with the number "
                             f"of channels (axis 1) known, got {self.input_shape}")
        self.num_units = num_units
        self.untie_biases = untie_biases
        self.W = self.add_param(W, (self.input_shape[1], num_units), name="W")
        if b is None:
            self.b = None
        else:
            shape = (num_units,) + (tuple(self.input_shape[2:]) if untie_biases else ())
            self.b = self.add_param(b, shape, name="b", regularizable=False)

    def get_output_shape_for(self, input_shape):
        return (input_shape[0], self.num_units) + tuple(input_shape[2:])

    def get_output_for(self, input, **kwargs):
        # (units, batch, ...) -> (batch, units, ...)
        out = T.tensordot(self.W, input, axes=[[0], [1]])
        activation = out.dimshuffle((1, 0) + tuple(range(2, input.ndim)))
        if self.b is not None:
            if self.untie_biases:
                activation = activation + T.shape_padleft(self.b, 1)
            else:
                activation = activation + self.b.dimshuffle(("x", 0) + ("x",) * (input.ndim - 2))
        return self.nonlinearity(activation)
