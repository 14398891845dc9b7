"""Pooling layers: :class:`Pool2DLayer`, :class:`MaxPool2DLayer`, :class:`GlobalPoolLayer`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import exprc.tensor as T
from exprc.nn.layers.base import Layer
from exprc.nn.utils import as_tuple
from exprc.tensor.signal import pool

__all__ = ["GlobalPoolLayer", "MaxPool2DLayer", "Pool2DLayer", "pool_output_length"]


def pool_output_length(input_length: int | None, pool_size: int, stride: int, pad: int,
                       ignore_border: bool) -> int | None:
    """The output size of pooling along one axis (None when the input's is unknown).

    With ``ignore_border=False`` a partial window at the end still gives an output (pad
    must then be 0).

    Examples
    --------
    >>> pool_output_length(5, 2, 2, 0, True), pool_output_length(5, 2, 2, 0, False)
    (2, 3)
    """
    if input_length is None or pool_size is None:
        return None
    if ignore_border:
        output_length = input_length + 2 * pad - pool_size + 1
        return (output_length + stride - 1) // stride
    if pad != 0:
        raise ValueError("padding requires ignore_border=True")
    if stride >= pool_size:
        return (input_length + stride - 1) // stride
    return max(0, (input_length - pool_size + stride - 1) // stride) + 1


class Pool2DLayer(Layer):
    """Pooling over the last two axes of a 4D input ``(batch, channels, rows, columns)``.

    Parameters
    ----------
    incoming : Layer or tuple
    pool_size : int or (int, int)
    stride : int, (int, int) or None
        Default: ``pool_size`` (non-overlapping windows).
    pad : int or (int, int)
    ignore_border : bool
        Drop partial windows at the border (True, required when padding).
    mode : {'max', 'average_inc_pad', 'average_exc_pad', 'sum'}

    Examples
    --------
    >>> from exprc.nn.layers import InputLayer, Pool2DLayer
    >>> Pool2DLayer(InputLayer((None, 3, 9, 8)), 2).output_shape
    (None, 3, 4, 4)
    """

    def __init__(self, incoming: Any, pool_size: Any, stride: Any = None, pad: Any = (0, 0),
                 ignore_border: bool = True, mode: str = "max", **kwargs):
        super().__init__(incoming, **kwargs)
        if len(self.input_shape) != 4:
            raise ValueError(f"Tried to create a 2D pooling layer with input shape "
                             f"{self.input_shape}. Expected 4 input dimensions (batchsize, "
                             f"channels, 2 spatial dimensions).")
        self.pool_size = as_tuple(pool_size, 2)
        self.stride = self.pool_size if stride is None else as_tuple(stride, 2)
        self.pad = as_tuple(pad, 2)
        self.ignore_border = ignore_border
        self.mode = mode

    def get_output_shape_for(self, input_shape):
        output_shape = list(input_shape)
        for axis in (0, 1):
            output_shape[axis + 2] = pool_output_length(
                input_shape[axis + 2], self.pool_size[axis], self.stride[axis],
                self.pad[axis], self.ignore_border)
        return tuple(output_shape)

    def get_output_for(self, input, **kwargs):
        return pool.pool_2d(input, ws=self.pool_size, stride=self.stride,
                       ignore_border=self.ignore_border, pad=self.pad, mode=self.mode)


class MaxPool2DLayer(Pool2DLayer):
    """:class:`Pool2DLayer` taking the maximum of each window."""

    def __init__(self, incoming: Any, pool_size: Any, stride: Any = None, pad: Any = (0, 0),
                 ignore_border: bool = True, **kwargs):
        super().__init__(incoming, pool_size, stride, pad, ignore_border, mode="max",
                         **kwargs)


class GlobalPoolLayer(Layer):
    """Pools each feature map to one value: ``pool_function`` over all axes after 1.

    The default ``pool_function`` is ``T.mean`` (global average pooling); ``T.max`` gives
    global max pooling. The output shape is ``input_shape[:2]``.
    """

    def __init__(self, incoming: Any, pool_function: Callable = T.mean, **kwargs):
        super().__init__(incoming, **kwargs)
        self.pool_function = pool_function

    def get_output_shape_for(self, input_shape):
        return tuple(input_shape[:2])

    def get_output_for(self, input, **kwargs):
        return self.pool_function(input.flatten(3), axis=2)
