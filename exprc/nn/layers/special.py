"""Layers applying a fixed function or one parameter: nonlinearity, bias, scale, expression."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import exprc.tensor as T
from exprc.nn import init, nonlinearities
from exprc.nn.layers.base import Layer

__all__ = ["BiasLayer", "ExpressionLayer", "NonlinearityLayer", "ScaleLayer"]


class NonlinearityLayer(Layer):
    """Applies ``nonlinearity`` (default rectify; None means linear) to its input."""

    def __init__(self, incoming: Any, nonlinearity: Callable | None = nonlinearities.rectify,
                 **kwargs):
        super().__init__(incoming, **kwargs)
        self.nonlinearity = nonlinearities.identity if nonlinearity is None else nonlinearity

    def get_output_for(self, input, **kwargs):
        return self.nonlinearity(input)


def _param_axes(input_shape: tuple, shared_axes: Any) -> tuple[tuple, tuple]:
    """The axes a per-position parameter shares, and the parameter's shape."""
    if shared_axes == "auto":
        # Share over the batch and the spatial axes of (batch, channels, rows, ...).
        shared_axes = (0,) + tuple(range(2, len(input_shape)))
    elif isinstance(shared_axes, int):
        shared_axes = (shared_axes,)
    shape = tuple(size for axis, size in enumerate(input_shape) if axis not in shared_axes)
    if any(size is None for size in shape):
        raise ValueError("the input sizes must be known on all axes that are not shared")
    return tuple(shared_axes), shape


def _broadcast_param(param: T.TensorVariable, ndim: int, shared_axes: tuple):
    axes = iter(range(param.ndim))
    pattern = ["x" if axis in shared_axes else next(axes) for axis in range(ndim)]
    return param.dimshuffle(pattern)


class BiasLayer(Layer):
    """Adds a learned bias ``b`` (not regularizable), shared over ``shared_axes``.

    ``shared_axes='auto'`` shares over axis 0 and the axes after 1 (one bias per channel).
    """

    def __init__(self, incoming: Any, b: Any = init.Constant(0),  # noqa: B008
                 shared_axes: Any = "auto",
                 **kwargs):
        super().__init__(incoming, **kwargs)
        self.shared_axes, shape = _param_axes(self.input_shape, shared_axes)
        self.b = None if b is None else self.add_param(b, shape, "b", regularizable=False)

    def get_output_for(self, input, **kwargs):
        if self.b is None:
            return input
        return input + _broadcast_param(self.b, input.ndim, self.shared_axes)


class ScaleLayer(Layer):
    """Multiplies by a learned ``scales`` (not regularizable), shared over ``shared_axes``."""

    def __init__(self, incoming: Any, scales: Any = init.Constant(1),  # noqa: B008
                 shared_axes: Any = "auto",
                 **kwargs):
        super().__init__(incoming, **kwargs)
        self.shared_axes, shape = _param_axes(self.input_shape, shared_axes)
        self.scales = self.add_param(scales, shape, "scales", regularizable=False)

    def get_output_for(self, input, **kwargs):
        return input * _broadcast_param(self.scales, input.ndim, self.shared_axes)


class ExpressionLayer(Layer):
    """Applies ``function`` to its input.

    Parameters
    ----------
    incoming : Layer or tuple
    function : callable
        Maps the input expression to the output expression.
    output_shape : tuple or callable, optional
        The output shape, or a function of the input shape; by default the input shape.
    """

    def __init__(self, incoming: Any, function: Callable, output_shape: Any = None,
                 **kwargs):
        super().__init__(incoming, **kwargs)
        self.function = function
        self._output_shape = output_shape

    def get_output_shape_for(self, input_shape):
        if self._output_shape is None:
            return input_shape
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        return tuple(self._output_shape)

    def get_output_for(self, input, **kwargs):
        return self.function(input)
