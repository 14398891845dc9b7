"""Sparse matrices, the ``sparse_math`` family: sums and products with sparse operands.

``add``, ``sub`` and ``mul`` take two matrices of which at least one is sparse: sparse + sparse
is sparse, sparse + dense is dense, and the elementwise product with a sparse matrix is sparse
(its entries are zero wherever the sparse operand's are). The products:

- :func:`dot`: dense result; regular gradients (dense for a sparse operand, as in Theano).
- :func:`structured_dot`: the gradient w.r.t. the sparse operand is structured (only its stored
  entries get one, a sparse matrix of its pattern); a sparse result when both are sparse.
- :func:`true_dot`: a sparse result, regular gradients.

``sp_sum``, ``row_scale`` and ``col_scale`` reduce or scale along one axis. Gradients are in
:mod:`exprc.gradient.rules.sparse_math`, implementations (SciPy) in
:mod:`exprc.link.reference.sparse_math`.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from exprc.errors import ExprcTypeError, build_error
from exprc.graph.ir import Apply, Op
from exprc.tensor import math as tm
from exprc.tensor.params import int_param
from exprc.tensor.shape import transpose as dense_transpose
from exprc.tensor.sparse import dense_input, neg, sparse_input, transpose
from exprc.tensor.sparse_type import SparseType, SparseVariable, as_sparse_or_tensor_variable
from exprc.tensor.type import TensorType
from exprc.tensor.variable import TensorVariable, constant

__all__ = [
    "AddSD", "AddSS", "Dot", "MulSD", "MulSS", "Scale", "SpSum", "StructuredDot",
    "StructuredDotGrad", "TrueDot", "add", "col_scale", "dot", "mul", "row_scale", "sp_sum",
    "structured_dot", "structured_dot_grad", "sub", "true_dot",
]


def upcast(*dtypes: str) -> str:
    return np.result_type(*dtypes).name


def _operand(value: Any, other: Any):
    """``value`` as a sparse or tensor variable; a Python number becomes a constant of the
    dtype NumPy 2 gives it next to ``other`` (weak scalars, as in dense arithmetic)."""
    if isinstance(value, numbers.Number) and not isinstance(value, np.generic) \
            and isinstance(other, (SparseVariable, TensorVariable)):
        return constant(value, dtype=np.result_type(other.dtype, value).name)
    return as_sparse_or_tensor_variable(value)


def _operands(name: str, x: Any, y: Any) -> tuple:
    x_var = x if isinstance(x, (SparseVariable, TensorVariable)) else None
    y_var = y if isinstance(y, (SparseVariable, TensorVariable)) else None
    try:
        x = _operand(x, y_var)
        y = _operand(y, x_var if x_var is not None else x)
    except ExprcTypeError as exc:
        raise build_error(ExprcTypeError, name, str(exc)) from None
    if not isinstance(x, SparseVariable) and not isinstance(y, SparseVariable):
        raise build_error(ExprcTypeError, name, f"needs at least one sparse operand, got {x} "
                          f"({x.type}) and {y} ({y.type})")
    return x, y


# --------------------------------------------------------------------------- sums, products
class AddSS(Op):
    """``x + y`` of two sparse matrices of the same shape: sparse, in ``x``'s format."""

    __props__ = ()

    def make_node(self, x: Any, y: Any) -> Apply:
        x, y = sparse_input(self, x, "x"), sparse_input(self, y, "y")
        return Apply(self, [x, y], [SparseType(x.format, upcast(x.dtype, y.dtype))()])


class AddSD(Op):
    """``x + y`` of a sparse matrix and a dense matrix of the same shape: dense."""

    __props__ = ()

    def make_node(self, x: Any, y: Any) -> Apply:
        x, y = sparse_input(self, x, "x"), dense_input(self, y, "y")
        return Apply(self, [x, y], [TensorType(upcast(x.dtype, y.dtype), shape=y.type.shape)()])


class MulSS(Op):
    """Elementwise ``x * y`` of two sparse matrices of the same shape: sparse, in ``x``'s
    format."""

    __props__ = ()

    def make_node(self, x: Any, y: Any) -> Apply:
        x, y = sparse_input(self, x, "x"), sparse_input(self, y, "y")
        return Apply(self, [x, y], [SparseType(x.format, upcast(x.dtype, y.dtype))()])


class MulSD(Op):
    """Elementwise ``x * y`` of a sparse matrix and a dense matrix of the same shape (or a
    dense 0-d scalar): sparse, with the pattern of ``x``."""

    __props__ = ()

    def make_node(self, x: Any, y: Any) -> Apply:
        x, y = sparse_input(self, x, "x"), dense_input(self, y, "y", (0, 2))
        return Apply(self, [x, y], [SparseType(x.format, upcast(x.dtype, y.dtype))()])


def add(x: Any, y: Any):
    """``x + y`` where at least one of the matrices is sparse.

    Sparse + sparse is sparse (in ``x``'s format); sparse + dense is dense. The gradient w.r.t.
    a sparse operand added to a dense one is structured.
    """
    x, y = _operands("add", x, y)
    if isinstance(x, SparseVariable) and isinstance(y, SparseVariable):
        return AddSS()(x, y)
    if isinstance(x, SparseVariable):
        return AddSD()(x, y)
    return AddSD()(y, x)


def sub(x: Any, y: Any):
    """``x - y`` where at least one of the matrices is sparse (``x + (-y)``)."""
    x, y = _operands("sub", x, y)
    return add(x, neg(y) if isinstance(y, SparseVariable) else tm.neg(y))


def mul(x: Any, y: Any):
    """Elementwise ``x * y`` where at least one operand is sparse; the result is sparse.

    The other operand may be a sparse matrix, a dense matrix of the same shape or a scalar.
    """
    x, y = _operands("mul", x, y)
    if isinstance(x, SparseVariable) and isinstance(y, SparseVariable):
        return MulSS()(x, y)
    if isinstance(x, SparseVariable):
        return MulSD()(x, y)
    return MulSD()(y, x)


# --------------------------------------------------------------------------- matrix products
class Dot(Op):
    """The matrix product ``x . y`` of a sparse and a sparse or dense operand (the dense one a
    matrix or a vector): always dense."""

    __props__ = ()

    def make_node(self, x: Any, y: Any) -> Apply:
        if not isinstance(x, SparseVariable) and not isinstance(y, SparseVariable):
            raise build_error(ExprcTypeError, self, f"needs at least one sparse operand, got "
                              f"{x} and {y}")
        x = x if isinstance(x, SparseVariable) else dense_input(self, x, "x", (1, 2))
        y = y if isinstance(y, SparseVariable) else dense_input(self, y, "y", (1, 2))
        if x.ndim == 1:
            shape = (None,)
        elif y.ndim == 1:
            shape = (x.type.shape[0],)
        else:
            shape = (x.type.shape[0], y.type.shape[1])
        return Apply(self, [x, y], [TensorType(upcast(x.dtype, y.dtype), shape=shape)()])


class StructuredDot(Op):
    """``a . b`` with ``a`` sparse: dense for a dense ``b``, sparse (``a``'s format) for a
    sparse ``b``. Its gradient w.r.t. ``a`` is structured (see :class:`StructuredDotGrad`)."""

    __props__ = ()

    def make_node(self, a: Any, b: Any) -> Apply:
        a = sparse_input(self, a, "a")
        if isinstance(b, SparseVariable):
            return Apply(self, [a, b], [SparseType(a.format, upcast(a.dtype, b.dtype))()])
        b = dense_input(self, b, "b")
        out = TensorType(upcast(a.dtype, b.dtype), shape=(None, b.type.shape[1]))
        return Apply(self, [a, b], [out()])


class StructuredDotGrad(Op):
    """``(g . b.T)`` at the stored entries of ``a`` only: a sparse matrix with ``a``'s pattern
    (the structured gradient of ``a . b`` w.r.t. ``a`` for the output gradient ``g``)."""

    __props__ = ()

    def make_node(self, a: Any, b: Any, g: Any) -> Apply:
        a = sparse_input(self, a, "a")
        b = b if isinstance(b, SparseVariable) else dense_input(self, b, "b")
        g = g if isinstance(g, SparseVariable) else dense_input(self, g, "g")
        return Apply(self, [a, b, g], [SparseType(a.format, upcast(b.dtype, g.dtype))()])


class TrueDot(Op):
    """``x . y`` with ``x`` sparse and ``y`` sparse or dense: a sparse result (``x``'s format).

    ``grad_preserves_dense`` (default True) makes the gradient w.r.t. a dense ``y`` dense;
    False leaves it sparse.
    """

    __props__ = ("grad_preserves_dense",)

    def __init__(self, grad_preserves_dense: bool = True):
        self.grad_preserves_dense = bool(grad_preserves_dense)

    def make_node(self, x: Any, y: Any) -> Apply:
        x = sparse_input(self, x, "x")
        y = y if isinstance(y, SparseVariable) else dense_input(self, y, "y")
        return Apply(self, [x, y], [SparseType(x.format, upcast(x.dtype, y.dtype))()])


def _transpose_any(x: Any):
    return transpose(x) if isinstance(x, SparseVariable) else dense_transpose(x)


def dot(x: Any, y: Any):
    """The matrix product ``x . y``, at least one operand sparse: dense.

    The gradient is regular (not structured): w.r.t. a sparse operand it is the dense matrix
    of every entry's derivative, as in Theano. A dense operand may be a vector.
    """
    x, y = _operands("dot", x, y)
    return Dot()(x, y)


def structured_dot(x: Any, y: Any):
    """``x . y`` with a structured gradient w.r.t. the sparse operand (only its stored entries
    get one). Sparse times dense is dense; sparse times sparse is sparse."""
    x, y = _operands("structured_dot", x, y)
    if isinstance(x, SparseVariable):
        return StructuredDot()(x, y)
    return _transpose_any(StructuredDot()(transpose(y), _transpose_any(x)))


def structured_dot_grad(a: Any, b: Any, g: Any):
    """The structured gradient of ``structured_dot(a, b)`` w.r.t. ``a`` for the output
    gradient ``g``: ``g . b.T`` at the stored entries of ``a``."""
    return StructuredDotGrad()(a, b, g)


def true_dot(x: Any, y: Any, grad_preserves_dense: bool = True):
    """``x . y`` (at least one operand sparse) as a sparse matrix, with a regular gradient.

    Parameters
    ----------
    x, y : sparse or dense matrices
    grad_preserves_dense : bool
        True (default): the gradient w.r.t. a dense operand is dense; False: sparse.
    """
    x, y = _operands("true_dot", x, y)
    if isinstance(x, SparseVariable):
        return TrueDot(grad_preserves_dense)(x, y)
    return transpose(TrueDot(grad_preserves_dense)(transpose(y), _transpose_any(x)))


# --------------------------------------------------------------------------- reductions, scaling
def sum_dtype(dtype: str) -> str:
    """The dtype of a sum of ``dtype`` entries (NumPy's rule, as :func:`exprc.tensor.sum`)."""
    if dtype.startswith("uint"):
        return "uint64"
    if dtype.startswith("int"):
        return "int64"
    return dtype


class SpSum(Op):
    """The sum of a sparse matrix over ``axis`` (None: every entry), as a dense tensor.

    ``sparse_grad=True`` makes the gradient structured (only the stored entries get one);
    False gives the full gradient (as a sparse matrix of the input's format, as in Theano).
    """

    __props__ = ("axis", "sparse_grad")
    unconditional_shape = True

    def __init__(self, axis: int | None = None, sparse_grad: bool = True):
        axis = int_param("SpSum", "axis", axis, optional=True)
        if axis not in (None, 0, 1, -1, -2):
            raise build_error(ExprcTypeError, "SpSum", f"axis must be None, 0 or 1 for a "
                              f"matrix, got {axis}")
        self.axis = axis % 2 if axis is not None else None
        self.sparse_grad = bool(sparse_grad)

    def make_node(self, x: Any) -> Apply:
        x = sparse_input(self, x)
        shape = () if self.axis is None else (None,)
        return Apply(self, [x], [TensorType(sum_dtype(x.dtype), shape=shape)()])


def sp_sum(x: Any, axis: int | None = None, sparse_grad: bool = False):
    """The sum of the sparse matrix ``x`` over ``axis`` (0, 1 or None for all), dense.

    Parameters
    ----------
    x : sparse variable
    axis : {None, 0, 1}
    sparse_grad : bool
        True for a structured gradient (stored entries only); False (default) for the full
        gradient, which is sparse in ``x``'s format and holds every entry.
    """
    return SpSum(axis, sparse_grad)(x)


class Scale(Op):
    """The stored entries of a sparse matrix multiplied by a dense vector along ``axis``:
    entry ``(i, j)`` by ``s[i]`` (``axis=0``, one factor per row) or by ``s[j]`` (``axis=1``,
    one per column). The pattern is kept; the gradient w.r.t. ``x`` is structured."""

    __props__ = ("axis",)

    def __init__(self, axis: int):
        axis = int_param("Scale", "axis", axis)
        if axis not in (0, 1):
            raise build_error(ExprcTypeError, "Scale", f"axis must be 0 or 1, got {axis}")
        self.axis = axis

    def make_node(self, x: Any, s: Any) -> Apply:
        x, s = sparse_input(self, x, "x"), dense_input(self, s, "s", (1,))
        return Apply(self, [x, s], [SparseType(x.format, upcast(x.dtype, s.dtype))()])


def row_scale(x: Any, s: Any):
    """Multiply row ``i`` of the sparse matrix ``x`` by ``s[i]`` (``len(s)`` rows of ``x``);
    the result is sparse, with ``x``'s pattern, and the gradient structured."""
    return Scale(0)(x, s)


def col_scale(x: Any, s: Any):
    """Multiply column ``j`` of the sparse matrix ``x`` by ``s[j]``; see :func:`row_scale`."""
    return Scale(1)(x, s)
