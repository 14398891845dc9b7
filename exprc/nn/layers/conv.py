"""Convolution layers: :class:`Conv2DLayer` (on ``T.nnet.conv2d``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import exprc.tensor as T
from exprc.nn import init, nonlinearities
from exprc.nn.layers.base import Layer
from exprc.nn.utils import as_tuple

__all__ = ["Conv2DLayer", "conv_output_length"]


def conv_output_length(input_length: int | None, filter_size: int, stride: int,
                       pad: Any = 0) -> int | None:
    """The output size of a convolution along one axis (None when the input's is unknown).

    Parameters
    ----------
    input_length : int or None
    filter_size, stride : int
    pad : int, 'valid', 'full' or 'same'
        Zeros added on each side; 'valid' is 0, 'full' is ``filter_size - 1`` and 'same'
        keeps the size (for odd filter sizes).

    Examples
    --------
    >>> conv_output_length(28, 5, 1, 'valid'), conv_output_length(28, 5, 2, 'same')
    (24, 14)
    """
    if input_length is None:
        return None
    if pad == "valid":
        output_length = input_length - filter_size + 1
    elif pad == "full":
        output_length = input_length + filter_size - 1
    elif pad == "same":
        output_length = input_length
    elif isinstance(pad, int):
        output_length = input_length + 2 * pad - filter_size + 1
    else:
        raise ValueError(f"Invalid pad: {pad!r}")
    return (output_length + stride - 1) // stride


def _normalise_pad(pad: Any, filter_size: tuple, n: int) -> Any:
    if pad == "valid":
        return (0,) * n
    if pad in ("full", "same"):
        if pad == "same" and any(s % 2 == 0 for s in filter_size):
            raise NotImplementedError("`same` padding requires odd filter size.")
        return pad
    return as_tuple(pad, n, int)


class Conv2DLayer(Layer):
    """2D convolution over a batch of images ``(batch, channels, rows, columns)``.

    Parameters
    ----------
    incoming : Layer or tuple
        A 4D input.
    num_filters : int
    filter_size : int or (int, int)
    stride : int or (int, int)
    pad : int, (int, int), 'valid', 'full' or 'same'
        Zero padding on each side (see :func:`conv_output_length`).
    untie_biases : bool
        One bias per filter and output position rather than one per filter.
    W : initializer, array or expression
        Filters ``(num_filters, channels, rows, columns)``; default :class:`GlorotUniform`.
    b : initializer, array, expression or None
        Default ``Constant(0.)``; not regularizable.
    nonlinearity : callable or None
        Default rectify.
    flip_filters : bool
        True (default) for a true convolution, False for a correlation.
    convolution : callable, optional
        Theano's ``conv2d`` signature; default ``T.nnet.conv2d``.

    Examples
    --------
    >>> from exprc.nn.layers import InputLayer, Conv2DLayer
    >>> Conv2DLayer(InputLayer((None, 1, 28, 28)), 20, 5).output_shape
    (None, 20, 24, 24)
    """

    def __init__(self, incoming: Any, num_filters: int, filter_size: Any, stride: Any = (1, 1),
                 pad: Any = 0, untie_biases: bool = False,
                 W: Any = init.GlorotUniform(),  # noqa: B008
                 b: Any = init.Constant(0.),  # noqa: B008
                 nonlinearity: Callable | None = nonlinearities.rectify, flip_filters: bool = True,
                 convolution: Callable | None = None, **kwargs):
        super().__init__(incoming, **kwargs)
        n = 2
        if len(self.input_shape) != n + 2:
            raise ValueError(f"Tried to create a 2D convolution layer with input shape "
                             f"{self.input_shape}. Expected 4 input dimensions "
                             f"(batchsize, channels, 2 spatial dimensions).")
        self.n = n
        self.nonlinearity = nonlinearities.identity if nonlinearity is None else nonlinearity
        self.num_filters = num_filters
        self.filter_size = as_tuple(filter_size, n, int)
        self.flip_filters = flip_filters
        self.stride = as_tuple(stride, n, int)
        self.untie_biases = untie_biases
        self.pad = _normalise_pad(pad, self.filter_size, n)
        self.convolution = convolution
        if self.input_shape[1] is None:
            raise ValueError("The number of input channels must be known.")
        self.W = self.add_param(W, self.get_W_shape(), name="W")
        if b is None:
            self.b = None
        else:
            biases_shape = ((num_filters,) + self.output_shape[2:] if untie_biases
                            else (num_filters,))
            self.b = self.add_param(b, biases_shape, name="b", regularizable=False)

    def get_W_shape(self) -> tuple:
        """The shape of the filters: ``(num_filters, channels) + filter_size``."""
        return (self.num_filters, self.input_shape[1]) + self.filter_size

    def get_output_shape_for(self, input_shape):
        pad = self.pad if isinstance(self.pad, tuple) else (self.pad,) * self.n
        return (input_shape[0], self.num_filters) + tuple(
            conv_output_length(size, f, s, p)
            for size, f, s, p in zip(input_shape[2:], self.filter_size, self.stride, pad))

    def convolve(self, input: T.TensorVariable, **kwargs) -> T.TensorVariable:
        """The convolution of ``input`` with ``W`` (no bias, no nonlinearity)."""
        border_mode = "half" if self.pad == "same" else self.pad
        convolution = self.convolution or T.nnet.conv2d
        return convolution(input, self.W, input_shape=self.input_shape,
                           filter_shape=self.get_W_shape(), subsample=self.stride,
                           border_mode=border_mode, filter_flip=self.flip_filters)

    def get_output_for(self, input, **kwargs):
        conved = self.convolve(input, **kwargs)
        if self.b is None:
            activation = conved
        elif self.untie_biases:
            activation = conved + T.shape_padleft(self.b, 1)
        else:
            activation = conved + self.b.dimshuffle(("x", 0) + ("x",) * self.n)
        return self.nonlinearity(activation)
