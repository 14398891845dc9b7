"""Lookup tables: :class:`EmbeddingLayer`."""

from __future__ import annotations

from typing import Any

from exprc.nn import init
from exprc.nn.layers.base import Layer

__all__ = ["EmbeddingLayer"]


class EmbeddingLayer(Layer):
    """Maps integer indices to rows of a learned matrix ``W``.

    Parameters
    ----------
    incoming : Layer or tuple
        Integer indices in ``[0, input_size)``, of any shape.
    input_size : int
        Number of distinct indices (rows of ``W``).
    output_size : int
        Size of each embedding (columns of ``W``).
    W : initializer, array or expression
        Default ``Normal()`` (std 0.01).

    The output has the input's shape plus a trailing axis of ``output_size``.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> from exprc.nn.layers import InputLayer, EmbeddingLayer
    >>> l_in = InputLayer((None, 5), input_var=T.imatrix('words'))
    >>> EmbeddingLayer(l_in, input_size=100, output_size=8).output_shape
    (None, 5, 8)
    """

    def __init__(self, incoming: Any, input_size: int, output_size: int,
                 W: Any = init.Normal(), **kwargs):  # noqa: B008
        super().__init__(incoming, **kwargs)
        self.input_size = input_size
        self.output_size = output_size
        self.W = self.add_param(W, (input_size, output_size), name="W")

    def get_output_shape_for(self, input_shape):
        return tuple(input_shape) + (self.output_size,)

    def get_output_for(self, input, **kwargs):
        return self.W[input]
