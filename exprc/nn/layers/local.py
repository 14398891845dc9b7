"""Locally connected layers: :class:`LocallyConnected2DLayer`, a convolution whose filters
differ at every output position.

>>> from exprc.nn.layers import InputLayer, LocallyConnected2DLayer
>>> layer = LocallyConnected2DLayer(InputLayer((None, 3, 6, 6)), 4, 3)
>>> layer.output_shape, layer.W.get_value().shape
((None, 4, 6, 6), (4, 3, 3, 3, 6, 6))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import exprc.tensor as T
from exprc.nn import init, nonlinearities
from exprc.nn.extensions import pad
from exprc.nn.layers.conv import BaseConvLayer, _padding

__all__ = ["LocallyConnected2DLayer"]


class LocallyConnected2DLayer(BaseConvLayer):
    """Like :class:`~exprc.nn.layers.Conv2DLayer` without weight sharing: output position
    ``(i, j)`` of filter ``f`` is ``sum_{c, a, b} x_pad[c, i * s0 + a, j * s1 + b] * W[f, c,
    a', b', i, j]``, with ``(a', b') = (a, b)``, or the flipped taps ``(kh - 1 - a, kw - 1 -
    b)`` when ``flip_filters`` (the default, as for a convolution).

    Parameters
    ----------
    incoming : Layer or tuple
        ``(batch, channels, rows, columns)`` with all sizes but the batch known.
    num_filters, filter_size, untie_biases, b, nonlinearity, flip_filters
        As for :class:`~exprc.nn.layers.BaseConvLayer`.
    stride : int or (int, int)
        Lasagne accepts only 1; exprc accepts any stride.
    pad : int, (int, int), 'valid', 'full' or 'same'
        Default 'same' (odd filter sizes). Lasagne accepts only 'same'; exprc accepts all.
    W : initializer, array or expression
        ``(num_filters, channels, filter_rows, filter_columns, output_rows,
        output_columns)``, or with ``channelwise`` ``(num_filters, filter_rows,
        filter_columns, output_rows, output_columns)``.
    channelwise : bool
        Filter ``f`` sees only input channel ``f`` (``num_filters`` must equal the number of
        channels).
    """

    def __init__(self, incoming: Any, num_filters: int, filter_size: Any,
                 stride: Any = (1, 1), pad: Any = "same", untie_biases: bool = False,
                 W: Any = init.GlorotUniform(),  # noqa: B008
                 b: Any = init.Constant(0.),  # noqa: B008
                 nonlinearity: Callable | None = nonlinearities.rectify,
                 flip_filters: bool = True, channelwise: bool = False, **kwargs):
        self.channelwise = channelwise
        super().__init__(incoming, num_filters, filter_size, stride, pad, untie_biases, W, b,
                         nonlinearity, flip_filters, 1, n=2, **kwargs)

    def get_W_shape(self) -> tuple:
        """The shape of ``W``: one filter per output position (see the class)."""
        if any(s is None for s in self.input_shape[1:]):
            raise ValueError(f"A LocallyConnected2DLayer requires a fixed input shape (except "
                             f"for the batch size). Got {self.input_shape}.")
        channels = self.input_shape[1]
        positions = self.get_output_shape_for(self.input_shape)[2:]
        if self.channelwise:
            if self.num_filters != channels:
                raise ValueError(f"num_filters and the number of input channels should match "
                                 f"when channelwise is true, but got num_filters="
                                 f"{self.num_filters} and {channels} input channels")
            return (self.num_filters,) + self.filter_size + positions
        return (self.num_filters, channels) + self.filter_size + positions

    def convolve(self, input, **kwargs):
        pads = self.pad if isinstance(self.pad, tuple) else tuple(
            _padding(self.pad, f) for f in self.filter_size)
        x = pad(input, list(zip(pads, pads)), batch_ndim=2)
        (kh, kw), (sh, sw) = self.filter_size, self.stride
        rows, cols = self.output_shape[2:]
        # The input patch of each tap (a, b) of W, in W's order: (batch, channels, taps,
        # rows, cols).
        patches = []
        for a in range(kh):
            for b in range(kw):
                i, j = (kh - 1 - a, kw - 1 - b) if self.flip_filters else (a, b)
                patches.append(x[:, :, i:i + (rows - 1) * sh + 1:sh,
                                 j:j + (cols - 1) * sw + 1:sw])
        patches = T.stack(patches, axis=2)
        if self.channelwise:
            filters = self.W.reshape((self.num_filters, kh * kw, rows, cols))
            return (patches * T.shape_padleft(filters, 1)).sum(axis=2)
        # One matrix product per output position: (positions, batch, channels * taps) times
        # (positions, channels * taps, filters).
        positions = rows * cols
        columns = patches.reshape((input.shape[0], -1, positions)).dimshuffle(2, 0, 1)
        filters = self.W.reshape((self.num_filters, -1, positions)).dimshuffle(2, 1, 0)
        out = T.batched_dot(columns, filters)   # (positions, batch, filters)
        return out.dimshuffle(1, 2, 0).reshape((input.shape[0], self.num_filters, rows, cols))
