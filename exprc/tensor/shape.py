"""Ops that read or change the shape of a tensor without changing its values."""

from __future__ import annotations

from typing import Any

from exprc.graph.basic import Apply, Op
from exprc.tensor.type import TensorType
from exprc.tensor.variable import as_tensor_variable


class Shape(Op):
    """The run-time shape of a tensor, as an int64 vector of length ``ndim``."""

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", shape=(x.ndim,))()])


_shape = Shape()


def shape(x: Any):
    """``x.shape``: the symbolic shape of ``x`` (an int64 vector; index it for one size)."""
    return _shape(x)
