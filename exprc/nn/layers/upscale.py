"""Upscaling layers: :class:`Upscale1DLayer`, :class:`Upscale2DLayer`, :class:`Upscale3DLayer`.

Each multiplies the sizes of the last 1, 2 or 3 axes by ``scale_factor``, by repeating every
element (``mode='repeat'``) or by placing it first in its block and filling the rest with
zeros (``mode='dilate'``; followed by a convolution, this is what a transposed convolution
computes more cheaply).

>>> import numpy as np
>>> from exprc.nn.layers import InputLayer, Upscale1DLayer, get_output
>>> l_in = InputLayer((1, 1, 2))
>>> get_output(Upscale1DLayer(l_in, 2, mode='dilate'), np.array([[[1.0, 2.0]]])).eval()
array([[[1., 0., 2., 0.]]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

import exprc.tensor as T
from exprc.nn.layers.base import Layer
from exprc.nn.utils import as_tuple

__all__ = ["Upscale1DLayer", "Upscale2DLayer", "Upscale3DLayer"]


class _UpscaleLayer(Layer):
    """Upscaling of the last ``n`` axes of an ``(n + 2)``-d input."""

    n = 2

    def __init__(self, incoming: Any, scale_factor: Any, mode: str = "repeat", **kwargs):
        super().__init__(incoming, **kwargs)
        n = self.n
        if len(self.input_shape) != n + 2:
            raise ValueError(f"Tried to create a {n}D upscaling layer with input shape "
                             f"{self.input_shape}. Expected {n + 2} input dimensions "
                             f"(batchsize, channels, {n} spatial dimensions).")
        self.scale_factor = tuple(int(s) for s in as_tuple(scale_factor, n,
                                                            (int, np.integer)))
        if min(self.scale_factor) < 1:
            raise ValueError(f"Scale factor must be >= 1, not {self.scale_factor}")
        if mode not in ("repeat", "dilate"):
            raise ValueError(f"Mode must be either 'repeat' or 'dilate', not {mode!r}")
        self.mode = mode

    def get_output_shape_for(self, input_shape):
        return tuple(input_shape[:2]) + tuple(
            None if size is None else size * factor
            for size, factor in zip(input_shape[2:], self.scale_factor))

    def get_output_for(self, input, **kwargs):
        if max(self.scale_factor) == 1:
            return input
        if self.mode == "repeat":
            for axis, factor in enumerate(self.scale_factor, start=2):
                if factor > 1:
                    input = T.repeat(input, factor, axis=axis)
            return input
        shape = tuple(input.shape[a] for a in range(2)) + tuple(
            input.shape[a + 2] * factor for a, factor in enumerate(self.scale_factor))
        upscaled = T.zeros(shape, dtype=input.dtype)
        region = (slice(None),) * 2 + tuple(slice(None, None, f) for f in self.scale_factor)
        return T.set_subtensor(upscaled[region], input)


_DOC = """{n}D upscaling of the last {k} of a {d}D input ``(batch, channels, {axes})``.

    Parameters
    ----------
    incoming : Layer or tuple
    scale_factor : int or tuple of {n} ints
        The factor of each upscaled axis (>= 1).
    mode : {{'repeat', 'dilate'}}
        Repeat each element, or keep it once followed by zeros.
    """


class Upscale1DLayer(_UpscaleLayer):
    __doc__ = _DOC.format(n=1, k="axis", d=3, axes="length")
    n = 1


class Upscale2DLayer(_UpscaleLayer):
    __doc__ = _DOC.format(n=2, k="two axes", d=4, axes="rows, columns")
    n = 2


class Upscale3DLayer(_UpscaleLayer):
    __doc__ = _DOC.format(n=3, k="three axes", d=5, axes="depth, rows, columns")
    n = 3
