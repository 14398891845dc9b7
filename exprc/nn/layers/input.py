"""The entry point of a network: :class:`InputLayer`."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import exprc
import exprc.tensor as T
from exprc.nn.layers.base import Layer

__all__ = ["InputLayer"]


class InputLayer(Layer):
    """A network's input: holds a symbolic variable and its expected shape.

    Parameters
    ----------
    shape : tuple of int or None
        The input's shape; ``None`` marks sizes only known at run time (usually the batch).
    input_var : TensorVariable, optional
        The variable to use; by default a new ``floatX`` tensor of the right rank, named
        ``"input"`` (or ``"<name>.input"``).
    name : str, optional

    Examples
    --------
    >>> from exprc.nn.layers import InputLayer
    >>> l_in = InputLayer((None, 784))
    >>> l_in.output_shape, l_in.input_var.ndim
    ((None, 784), 2)

    Notes
    -----
    As in Lasagne, only sizes of 1 become static sizes of the variable: a network declared
    for batches of 100 still accepts batches of another size.
    """

    def __init__(self, shape: Any, input_var: T.TensorVariable | None = None,
                 name: str | None = None, **kwargs):
        self.shape = tuple(shape)
        if any(d is not None and d <= 0 for d in self.shape):
            raise ValueError(f"Cannot create InputLayer with a non-positive shape: "
                             f"{self.shape}")
        if input_var is None:
            var_name = f"{name}.input" if name is not None else "input"
            input_var = T.tensor(exprc.config.floatX, name=var_name,
                                 shape=tuple(1 if s == 1 else None for s in self.shape))
        elif input_var.ndim != len(self.shape):
            raise ValueError(f"shape has {len(self.shape)} dimensions, but variable has "
                             f"{input_var.ndim}")
        self.input_var = input_var
        self.input_shape = self.shape
        self.input_layer = None
        self.name = name
        self.params = OrderedDict()
        self.get_output_kwargs = []

    @property
    def output_shape(self) -> tuple:
        """The declared shape."""
        return self.shape
