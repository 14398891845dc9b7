"""``theano.tensor.extra_ops``: exprc's :mod:`exprc.tensor.extra_ops` and the functions of
Theano's module that exprc builds from other ops (:mod:`exprc.tensor.arraytools`,
:mod:`exprc.tensor.selection`), with Theano's callable classes ``Unique`` and
``SearchsortedOp`` and ``cpu_contiguous``."""

from __future__ import annotations

from typing import Any

from exprc.tensor.arraytools import bartlett, fill_diagonal, fill_diagonal_offset
from exprc.tensor.extra_ops import *
from exprc.tensor.selection import bincount, compress, ravel_multi_index, unique, unravel_index
from exprc.tensor.shape import squeeze
from exprc.tensor.variable import as_tensor_variable

__all__ = ["CpuContiguous", "SearchsortedOp", "Unique", "bartlett", "bincount", "compress",
           "cpu_contiguous", "cumprod", "cumsum", "diff", "fill_diagonal",
           "fill_diagonal_offset", "ravel_multi_index", "repeat", "searchsorted", "squeeze",
           "to_one_hot", "unique", "unravel_index"]


class Unique:
    """Theano's ``Unique(return_index=False, return_inverse=False, return_counts=False)``:
    called on a tensor, the outputs of :func:`unique` as a list (just the values when no flag
    is set), with the inverse flattened as Theano gave it."""

    def __init__(self, return_index: bool = False, return_inverse: bool = False,
                 return_counts: bool = False):
        self.return_index = bool(return_index)
        self.return_inverse = bool(return_inverse)
        self.return_counts = bool(return_counts)

    def __call__(self, x: Any):
        x = as_tensor_variable(x)
        outs = unique(x.flatten() if x.ndim > 1 else x, self.return_index,
                      self.return_inverse, self.return_counts)
        return list(outs) if isinstance(outs, tuple) else outs


class SearchsortedOp:
    """Theano's ``SearchsortedOp(side='left')``, called as ``op(x, v, sorter=None)``."""

    def __init__(self, side: str = "left"):
        self.side = side

    def __call__(self, x: Any, v: Any, sorter: Any = None):
        return searchsorted(x, v, self.side, sorter)


def cpu_contiguous(x: Any):
    """``x`` itself: exprc's compiled code reads any memory layout, so there is nothing to make
    contiguous."""
    return as_tensor_variable(x)


class CpuContiguous:
    """Theano's op class of :func:`cpu_contiguous`."""

    def __call__(self, x: Any):
        return cpu_contiguous(x)
