"""Pooling layers: :class:`Pool1DLayer`, :class:`Pool2DLayer`, :class:`Pool3DLayer` (and their
``MaxPool*`` shortcuts), :class:`GlobalPoolLayer`, :class:`FeaturePoolLayer`,
:class:`FeatureWTALayer` and :class:`SpatialPyramidPoolingLayer`. The upscaling layers are in
:mod:`exprc.nn.layers.upscale`.

2-d pooling is ``T.signal.pool.pool_2d``; exprc has no 1-d or 3-d pooling op, so those layers
use the exact compositions of :mod:`exprc.nn.extensions`.

>>> from exprc.nn.layers import InputLayer, MaxPool3DLayer, FeaturePoolLayer
>>> MaxPool3DLayer(InputLayer((None, 2, 8, 9, 9)), 2).output_shape
(None, 2, 4, 4, 4)
>>> FeaturePoolLayer(InputLayer((None, 12)), 3).output_shape
(None, 4)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import exprc.tensor as T
from exprc.nn.extensions import pool_1d, pool_3d
from exprc.nn.layers.base import Layer
from exprc.nn.utils import as_tuple
from exprc.tensor.signal import pool

__all__ = [
    "FeaturePoolLayer",
    "FeatureWTALayer",
    "GlobalPoolLayer",
    "MaxPool1DLayer",
    "MaxPool2DLayer",
    "MaxPool3DLayer",
    "Pool1DLayer",
    "Pool2DLayer",
    "Pool3DLayer",
    "SpatialPyramidPoolingLayer",
    "pool_output_length",
]

_INT = (int, np.integer)


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


class _PoolLayer(Layer):
    """Pooling over the last ``n`` axes of an ``(n + 2)``-d input."""

    n = 2

    def __init__(self, incoming: Any, pool_size: Any, stride: Any, pad: Any,
                 ignore_border: bool, mode: str, **kwargs):
        super().__init__(incoming, **kwargs)
        n = self.n
        if len(self.input_shape) != n + 2:
            raise ValueError(f"Tried to create a {n}D pooling layer with input shape "
                             f"{self.input_shape}. Expected {n + 2} input dimensions "
                             f"(batchsize, channels, {n} spatial dimensions).")
        self.pool_size = as_tuple(pool_size, n, _INT)
        self.stride = self.pool_size if stride is None else as_tuple(stride, n, _INT)
        self.pad = as_tuple(pad, n, _INT)
        if min(self.pool_size + self.stride) < 1 or min(self.pad) < 0:
            raise ValueError(f"pool_size and stride must be >= 1 and pad >= 0, got "
                             f"pool_size={pool_size!r}, stride={stride!r}, pad={pad!r}")
        if any(p >= w for p, w in zip(self.pad, self.pool_size)):
            raise ValueError(f"pad={pad!r} must be smaller than pool_size={pool_size!r}")
        if mode not in pool.MODES:
            raise ValueError(f"mode must be one of {pool.MODES}, got {mode!r}")
        self.ignore_border = ignore_border
        self.mode = mode
        self.get_output_shape_for(self.input_shape)   # fail now on padding without borders

    def get_output_shape_for(self, input_shape):
        return tuple(input_shape[:2]) + tuple(
            pool_output_length(size, w, s, p, self.ignore_border)
            for size, w, s, p in zip(input_shape[2:], self.pool_size, self.stride, self.pad))

    def _arguments(self) -> dict:
        return dict(ignore_border=self.ignore_border, stride=self.stride, pad=self.pad,
                    mode=self.mode)


class Pool1DLayer(_PoolLayer):
    """Pooling over the last axis of a 3D input ``(batch, channels, length)``.

    Parameters
    ----------
    incoming : Layer or tuple
    pool_size : int or (int,)
    stride : int, (int,) or None
        Default: ``pool_size`` (windows side by side).
    pad : int or (int,)
        Zeros added on each side (smaller than ``pool_size``; needs ``ignore_border``).
    ignore_border : bool
        Drop a partial window at the end (True, required when padding).
    mode : {'max', 'average_inc_pad', 'average_exc_pad', 'sum'}
        Max pooling ignores the padding; 'average_inc_pad' divides by the whole window,
        'average_exc_pad' by the input elements in it.
    """

    n = 1

    def __init__(self, incoming: Any, pool_size: Any, stride: Any = None, pad: Any = 0,
                 ignore_border: bool = True, mode: str = "max", **kwargs):
        super().__init__(incoming, pool_size, stride, pad, ignore_border, mode, **kwargs)

    def get_output_for(self, input, **kwargs):
        return pool_1d(input, self.pool_size, **self._arguments())


class Pool2DLayer(_PoolLayer):
    """Pooling over the last two axes of a 4D input ``(batch, channels, rows, columns)``.

    The arguments are those of :class:`Pool1DLayer`, with an int or a pair for each size.

    Examples
    --------
    >>> from exprc.nn.layers import InputLayer, Pool2DLayer
    >>> Pool2DLayer(InputLayer((None, 3, 9, 8)), 2).output_shape
    (None, 3, 4, 4)
    """

    n = 2

    def __init__(self, incoming: Any, pool_size: Any, stride: Any = None, pad: Any = (0, 0),
                 ignore_border: bool = True, mode: str = "max", **kwargs):
        super().__init__(incoming, pool_size, stride, pad, ignore_border, mode, **kwargs)

    def get_output_for(self, input, **kwargs):
        return pool.pool_2d(input, ws=self.pool_size, **self._arguments())


class Pool3DLayer(_PoolLayer):
    """Pooling over the last three axes of a 5D input ``(batch, channels, depth, rows,
    columns)``, by :func:`exprc.nn.extensions.pool_3d`.

    The arguments are those of :class:`Pool1DLayer`, with an int or three for each size.
    """

    n = 3

    def __init__(self, incoming: Any, pool_size: Any, stride: Any = None,
                 pad: Any = (0, 0, 0), ignore_border: bool = True, mode: str = "max",
                 **kwargs):
        super().__init__(incoming, pool_size, stride, pad, ignore_border, mode, **kwargs)

    def get_output_for(self, input, **kwargs):
        return pool_3d(input, self.pool_size, **self._arguments())


class MaxPool1DLayer(Pool1DLayer):
    """:class:`Pool1DLayer` taking the maximum of each window."""

    def __init__(self, incoming: Any, pool_size: Any, stride: Any = None, pad: Any = 0,
                 ignore_border: bool = True, **kwargs):
        super().__init__(incoming, pool_size, stride, pad, ignore_border, mode="max",
                         **kwargs)


class MaxPool2DLayer(Pool2DLayer):
    """:class:`Pool2DLayer` taking the maximum of each window."""

    def __init__(self, incoming: Any, pool_size: Any, stride: Any = None, pad: Any = (0, 0),
                 ignore_border: bool = True, **kwargs):
        super().__init__(incoming, pool_size, stride, pad, ignore_border, mode="max",
                         **kwargs)


class MaxPool3DLayer(Pool3DLayer):
    """:class:`Pool3DLayer` taking the maximum of each window."""

    def __init__(self, incoming: Any, pool_size: Any, stride: Any = None,
                 pad: Any = (0, 0, 0), ignore_border: bool = True, **kwargs):
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


def _split_axis(layer: Layer, pool_size: Any, axis: int, what: str) -> tuple[int, int]:
    """Check that ``pool_size`` divides the input's size along ``axis`` (when known)."""
    ndim = len(layer.input_shape)
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for input shape {layer.input_shape}")
    axis %= ndim
    if not isinstance(pool_size, _INT) or pool_size < 1:
        raise ValueError(f"pool_size must be a positive int, got {pool_size!r}")
    size = layer.input_shape[axis]
    if size is not None and size % pool_size:
        raise ValueError(f"Number of input feature maps ({size}) is not a multiple of the "
                         f"{what} (pool_size={pool_size})")
    return int(pool_size), axis


def _grouped(input, axis: int, pool_size: int):
    """``input`` with ``axis`` split into (groups, pool_size)."""
    shape = [input.shape[a] for a in range(input.ndim)]
    return input.reshape(tuple(shape[:axis]) + (shape[axis] // pool_size, pool_size)
                         + tuple(shape[axis + 1:]))


class FeaturePoolLayer(Layer):
    """Pools groups of ``pool_size`` consecutive features along ``axis`` (default 1) with
    ``pool_function`` (default ``T.max``: maxout). The size of ``axis`` must be a multiple of
    ``pool_size``; the output has it divided by ``pool_size``.
    """

    def __init__(self, incoming: Any, pool_size: int, axis: int = 1,
                 pool_function: Callable = T.max, **kwargs):
        super().__init__(incoming, **kwargs)
        self.pool_size, self.axis = _split_axis(self, pool_size, axis, "pool size")
        self.pool_function = pool_function

    def get_output_shape_for(self, input_shape):
        output_shape = list(input_shape)
        size = input_shape[self.axis]
        output_shape[self.axis] = None if size is None else size // self.pool_size
        return tuple(output_shape)

    def get_output_for(self, input, **kwargs):
        grouped = _grouped(input, self.axis, self.pool_size)
        return self.pool_function(grouped, axis=self.axis + 1)


class FeatureWTALayer(Layer):
    """'Winner take all' across groups of ``pool_size`` consecutive features along ``axis``:
    keeps the largest value of each group (the first, on ties) and zeroes the others. The
    shape is unchanged; the size of ``axis`` must be a multiple of ``pool_size``.
    """

    def __init__(self, incoming: Any, pool_size: int, axis: int = 1, **kwargs):
        super().__init__(incoming, **kwargs)
        self.pool_size, self.axis = _split_axis(self, pool_size, axis, "region size")

    def get_output_for(self, input, **kwargs):
        grouped = _grouped(input, self.axis, self.pool_size)
        winners = T.argmax(grouped, axis=self.axis + 1, keepdims=True)
        pattern = ["x"] * grouped.ndim
        pattern[self.axis + 1] = 0
        positions = T.arange(self.pool_size).dimshuffle(pattern)
        mask = T.cast(T.eq(winners, positions), input.dtype).reshape(input.shape)
        return input * mask


class SpatialPyramidPoolingLayer(Layer):
    """Spatial pyramid pooling (He et al., 2015): pools a 4D input of any rows and columns to
    a fixed number of features, ``n * n`` bins per level for each ``n`` of ``pool_dims``.

    The output is ``(batch, channels, sum(n * n for n in pool_dims))``: the bins of each level
    in row-major order, the levels in the order of ``pool_dims``.

    Parameters
    ----------
    incoming : Layer or tuple
    pool_dims : list of int
        Bins per side of each level.
    mode : {'max', 'average_inc_pad', 'average_exc_pad'}
        The maximum or the mean of each bin (there is no padding: both averages are the
        mean).
    implementation : {'fast', 'kaiming'}
        Where the bins lie along an axis of ``size`` entries. 'kaiming' (He et al.): bin ``i``
        covers ``[floor(i * size / n), ceil((i + 1) * size / n))``. 'fast' (Lasagne's
        default): windows of ``ceil(size / n)`` entries, ``size // n`` apart (a pooling
        with those windows and strides where it gives ``n`` windows).
    """

    def __init__(self, incoming: Any, pool_dims: Any = (4, 2, 1), mode: str = "max",
                 implementation: str = "fast", **kwargs):
        super().__init__(incoming, **kwargs)
        if len(self.input_shape) != 4:
            raise ValueError(f"Tried to create a SPP layer with input shape "
                             f"{self.input_shape}. Expected 4 input dimensions (batchsize, "
                             f"channels, 2 spatial dimensions).")
        if mode not in ("max", "average_inc_pad", "average_exc_pad"):
            raise ValueError(f"Mode must be either 'max', 'average_inc_pad' or "
                             f"'average_exc_pad'. Got {mode!r}")
        if implementation not in ("fast", "kaiming"):
            raise ValueError(f"implementation must be 'fast' or 'kaiming', got "
                             f"{implementation!r}")
        self.pool_dims = list(pool_dims)
        if not self.pool_dims or any(not isinstance(n, _INT) or n < 1 for n in self.pool_dims):
            raise ValueError(f"pool_dims must be positive ints, got {pool_dims!r}")
        self.mode = mode
        self.implementation = implementation

    def get_output_shape_for(self, input_shape):
        return (input_shape[0], input_shape[1], sum(n * n for n in self.pool_dims))

    def _bounds(self, size: Any, n: int, i: int) -> tuple:
        """Start and stop of bin ``i`` of ``n`` along an axis of ``size`` entries."""
        if self.implementation == "kaiming":
            return (i * size) // n, ((i + 1) * size + n - 1) // n
        start = i * (size // n)
        return start, start + (size + n - 1) // n

    def get_output_for(self, input, **kwargs):
        reduce = T.max if self.mode == "max" else T.mean
        # Known sizes stay Python ints, so the slices of the bins are constants.
        sizes = [known if known is not None else input.shape[2 + a]
                 for a, known in enumerate(self.input_shape[2:])]
        bins = []
        for n in self.pool_dims:
            for row in range(n):
                r0, r1 = self._bounds(sizes[0], n, row)
                for col in range(n):
                    c0, c1 = self._bounds(sizes[1], n, col)
                    bins.append(reduce(input[:, :, r0:r1, c0:c1], axis=(2, 3)))
        return T.stack(bins, axis=2)
