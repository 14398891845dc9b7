"""Products of tensors: ``dot``, ``tensordot``, ``outer``, ``batched_dot`` and ``matmul``.

Two primitives carry them all: :class:`Dot` (NumPy's ``dot`` of vectors and matrices) and
:class:`BatchedDot` (one matrix product per entry of a leading batch axis, on 3-d operands).
Every other rank combination is reshaped, transposed or broadcast into one of them, so only
these two need gradient rules and fast kernels. Mixed dtypes promote as in NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.graph.ir import Apply, Op
from exprc.tensor.basic import alloc
from exprc.tensor.elemwise import DimShuffle
from exprc.tensor.math import eq, mul, switch
from exprc.tensor.reduction import normalize_axes, reduced_count
from exprc.tensor.scalar import upcast
from exprc.tensor.shape import flatten, reshape
from exprc.tensor.type import TensorType
from exprc.tensor.variable import TensorVariable, as_tensor_variable

__all__ = ["BatchedDot", "Dot", "batched_dot", "dot", "matmul", "outer", "tensordot"]


def _fmt(var: TensorVariable) -> str:
    dims = ", ".join("?" if s is None else str(s) for s in var.type.shape)
    named = f"{var.name!r} " if var.name else ""
    return f"{named}{var.dtype} tensor of shape ({dims}{',' if var.ndim == 1 else ''})"


def _check_inner(op: Any, a: TensorVariable, b: TensorVariable, a_axis: int, b_axis: int):
    """A build-time error when the summed sizes are both static and differ."""
    sa, sb = a.type.shape[a_axis], b.type.shape[b_axis]
    if sa is not None and sb is not None and sa != sb:
        raise build_error(ExprcShapeError, op,
                          f"inner dimensions differ: axis {a_axis} of a ({_fmt(a)}) has size "
                          f"{sa} but axis {b_axis} of b ({_fmt(b)}) has size {sb}")


class Dot(Op):
    """``np.dot`` of two operands of rank 1 or 2: vector-vector (a 0-d result),
    matrix-vector, vector-matrix and matrix-matrix."""

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        for name, v in (("a", a), ("b", b)):
            if v.ndim not in (1, 2):
                raise build_error(ExprcTypeError, self, f"input {name} = {v} of type {v.type} "
                                  "must be a vector or a matrix (use dot() for other ranks)")
        _check_inner(self, a, b, a.ndim - 1, 0)
        out_shape = a.type.shape[:-1] + b.type.shape[1:]
        return Apply(self, [a, b], [TensorType(upcast(a.dtype, b.dtype), shape=out_shape)()])


class BatchedDot(Op):
    """``out[i] = a[i] @ b[i]`` for 3-d ``a`` (batch, n, k) and ``b`` (batch, k, m)."""

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        for name, v in (("a", a), ("b", b)):
            if v.ndim != 3:
                raise build_error(ExprcTypeError, self, f"input {name} = {v} of type {v.type} "
                                  "must be 3-d (use batched_dot() for other ranks)")
        (ba, n, _), (bb, _, m) = a.type.shape, b.type.shape
        if ba is not None and bb is not None and ba != bb:
            raise build_error(ExprcShapeError, self,
                              f"batch sizes (axis 0) differ: a is a {_fmt(a)}, b is a "
                              f"{_fmt(b)}")
        _check_inner(self, a, b, 2, 1)
        batch = ba if ba is not None else bb
        out = TensorType(upcast(a.dtype, b.dtype), shape=(batch, n, m))
        return Apply(self, [a, b], [out()])


_dot = Dot()
_batched_dot = BatchedDot()


def dot(a: Any, b: Any) -> TensorVariable:
    """NumPy's ``dot`` for every rank combination.

    A 0-d operand multiplies elementwise; vectors and matrices use :class:`Dot`; higher ranks
    sum the last axis of ``a`` against the second-to-last of ``b`` (the only axis of a vector).

    Parameters
    ----------
    a, b : tensor-like

    Returns
    -------
    TensorVariable
        Of rank ``a.ndim + b.ndim - 2`` (or the broadcast rank when one operand is 0-d).

    Examples
    --------
    >>> import exprc.tensor as T
    >>> T.dot(T.matrix('x'), T.vector('v')).type
    TensorType(float64, (?,))
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    return tensordot(a, b, [[a.ndim - 1], [max(b.ndim - 2, 0)]])


def _dim(x: TensorVariable, axis: int):
    """The size of ``axis`` of ``x``: an int when static, else an int64 scalar."""
    size = x.type.shape[axis]
    return size if size is not None else x.shape[axis]


def _size(x: TensorVariable, axes: Sequence[int]):
    """The number of elements ``axes`` of ``x`` span: an int when static, else a scalar."""
    sizes = [x.type.shape[a] for a in axes]
    if all(s is not None for s in sizes):
        return int(np.prod(sizes, dtype="int64"))
    return reduced_count(x, tuple(axes))


def _tensordot_axes(a: TensorVariable, b: TensorVariable, axes: Any):
    """``axes`` of :func:`tensordot` as two equally long lists of non-negative axes."""
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, (bool, np.bool_)):
        if not 0 <= axes <= min(a.ndim, b.ndim):
            raise build_error(ExprcShapeError, "tensordot",
                              f"axes={axes} must be in [0, {min(a.ndim, b.ndim)}] for "
                              f"{_fmt(a)} and {_fmt(b)}")
        return list(range(a.ndim - axes, a.ndim)), list(range(axes))
    try:
        a_axes, b_axes = axes
    except (TypeError, ValueError):
        raise build_error(ExprcTypeError, "tensordot", f"axes must be an int or a pair of "
                          f"axis lists, got {axes!r}") from None
    a_axes = [a_axes] if isinstance(a_axes, (int, np.integer)) else list(a_axes)
    b_axes = [b_axes] if isinstance(b_axes, (int, np.integer)) else list(b_axes)
    if len(a_axes) != len(b_axes):
        raise build_error(ExprcShapeError, "tensordot", f"axes {a_axes} of a and {b_axes} of "
                          "b must be equally many")
    return _ordered_axes(a, a_axes), _ordered_axes(b, b_axes)


def _ordered_axes(x: TensorVariable, axes: list) -> list[int]:
    """``axes`` of ``x`` made non-negative, checked, in the given (not sorted) order."""
    normalize_axes(x, axes, "tensordot")
    return [int(a) % x.ndim for a in axes]


def tensordot(a: Any, b: Any, axes: Any = 2) -> TensorVariable:
    """Sum products over the given axes of ``a`` and ``b`` (NumPy's ``tensordot``).

    Parameters
    ----------
    a, b : tensor-like
    axes : int or pair of sequences of int
        An int ``n`` sums the last ``n`` axes of ``a`` against the first ``n`` of ``b``; a
        pair ``(a_axes, b_axes)`` sums ``a_axes[i]`` against ``b_axes[i]``.

    Returns
    -------
    TensorVariable
        The free axes of ``a`` followed by the free axes of ``b``.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> T.tensordot(T.tensor3('x'), T.matrix('y'), [[1, 2], [0, 1]]).type
    TensorType(float64, (?,))
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    a_sum, b_sum = _tensordot_axes(a, b, axes)
    for i, j in zip(a_sum, b_sum):
        _check_inner("tensordot", a, b, i, j)
    a_free = [d for d in range(a.ndim) if d not in a_sum]
    b_free = [d for d in range(b.ndim) if d not in b_sum]
    # (free of a, summed) @ (summed, free of b), then split the free axes again.
    a2 = reshape(DimShuffle(a_free + a_sum)(a), [_size(a, a_free), _size(a, a_sum)])
    b2 = reshape(DimShuffle(b_sum + b_free)(b), [_size(b, b_sum), _size(b, b_free)])
    out_shape = [_dim(a, d) for d in a_free] + [_dim(b, d) for d in b_free]
    return reshape(_dot(a2, b2), out_shape, ndim=len(out_shape))


def outer(x: Any, y: Any) -> TensorVariable:
    """Outer product ``out[i, j] = x[i] * y[j]`` of the flattened ``x`` and ``y``.

    Parameters
    ----------
    x, y : tensor-like

    Returns
    -------
    TensorVariable
        A matrix.
    """
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.ndim != 1:
        x = flatten(x)
    if y.ndim != 1:
        y = flatten(y)
    return mul(DimShuffle((0, "x"))(x), DimShuffle(("x", 0))(y))


def batched_dot(a: Any, b: Any) -> TensorVariable:
    """``out[i] = dot(a[i], b[i])`` over the leading (batch) axis (Theano's ``batched_dot``).

    Parameters
    ----------
    a, b : tensor-like
        Each of rank 1 or more, with equally many entries on axis 0. A vector multiplies the
        other operand's batch entries elementwise; otherwise the last axis of ``a[i]`` is
        summed against the second-to-last of ``b[i]`` (the only axis of a vector).

    Returns
    -------
    TensorVariable

    Examples
    --------
    >>> import exprc.tensor as T
    >>> T.batched_dot(T.tensor3('x'), T.tensor3('y')).type
    TensorType(float64, (?, ?, ?))
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    for name, v in (("a", a), ("b", b)):
        if v.ndim == 0:
            raise build_error(ExprcTypeError, "batched_dot", f"input {name} = {v} is 0-d; it "
                              "needs a leading batch axis")
    if a.ndim == 1:
        return mul(DimShuffle([0] + ["x"] * (b.ndim - 1))(a), b)
    if b.ndim == 1:
        return mul(a, DimShuffle([0] + ["x"] * (a.ndim - 1))(b))
    if a.ndim <= 3 and b.ndim <= 3:
        a3 = a if a.ndim == 3 else DimShuffle((0, "x", 1))(a)
        b3 = b if b.ndim == 3 else DimShuffle((0, 1, "x"))(b)
        out = _batched_dot(a3, b3)
        keep = [0] + ([1] if a.ndim == 3 else []) + ([2] if b.ndim == 3 else [])
        return DimShuffle(keep)(out)
    return _batched_tensordot(a, b)


def _batched_tensordot(a: TensorVariable, b: TensorVariable) -> TensorVariable:
    """:func:`batched_dot` for an operand of rank above 3, through a 3-d ``BatchedDot``."""
    b_sum = max(1, b.ndim - 2)
    _check_inner("batched_dot", a, b, a.ndim - 1, b_sum)
    a_free = list(range(1, a.ndim - 1))
    b_free = [d for d in range(1, b.ndim) if d != b_sum]
    batch = _dim(a, 0)
    a3 = reshape(a, [batch, _size(a, a_free), _dim(a, a.ndim - 1)])
    b3 = reshape(DimShuffle([0, b_sum] + b_free)(b),
                   [batch, _dim(b, b_sum), _size(b, b_free)])
    out_shape = [batch] + [_dim(a, d) for d in a_free] + [_dim(b, d) for d in b_free]
    return reshape(_batched_dot(a3, b3), out_shape, ndim=len(out_shape))


def _broadcast_batches(a: TensorVariable, b: TensorVariable) -> list[TensorVariable]:
    """3-d ``a`` and ``b`` with their batch axes (axis 0) broadcast against each other.

    NumPy's rule: equal sizes pair up, and a size of 1 (also one known only at run time)
    takes the other operand's size. An operand is copied to the joint size unless its own size
    is known to be it; the gradient walk sums the copies back.
    """
    ba, bb = a.type.shape[0], b.type.shape[0]
    if None not in (ba, bb) and 1 not in (ba, bb) and ba != bb:
        raise build_error(ExprcShapeError, "matmul",
                          f"batch sizes (axis 0) do not broadcast: a is a {_fmt(a)}, b is a "
                          f"{_fmt(b)}")
    if ba == 1:
        batch = _dim(b, 0)
    elif ba is not None or bb == 1:
        batch = _dim(a, 0)
    elif bb is not None:
        batch = bb
    else:
        batch = switch(eq(a.shape[0], 1), b.shape[0], a.shape[0])
    # A size other than 1 is the joint one (anything else is an error), as is any size
    # when the other operand's is 1.
    return [x if x.type.shape[0] not in (None, 1) or other.type.shape[0] == 1
            else alloc(x, batch, _dim(x, 1), _dim(x, 2))
            for x, other in ((a, b), (b, a))]


def matmul(a: Any, b: Any) -> TensorVariable:
    """The ``@`` operator: matrix product, batched over the leading axis of 3-d operands.

    Parameters
    ----------
    a, b : tensor-like
        Ranks 1 to 3. Ranks up to 2 behave as :func:`dot`; a 3-d operand is a stack of
        matrices, multiplied entry by entry with another stack or each with the same matrix or
        vector. Two stacks broadcast their batch sizes as in NumPy: equal sizes pair up, and a
        stack of one matrix (batch size 1, also when known only at run time) is used for
        every entry of the other. 0-d operands are an error, as in NumPy.

    Returns
    -------
    TensorVariable

    Examples
    --------
    >>> import exprc.tensor as T
    >>> a = T.tensor('float64', shape=(2, 3, 4))
    >>> (a @ T.tensor('float64', shape=(1, 4, 5))).type
    TensorType(float64, (2, 3, 5))
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    for name, v in (("a", a), ("b", b)):
        if not 1 <= v.ndim <= 3:
            raise build_error(ExprcTypeError, "matmul",
                              f"operand {name} = {v} of type {v.type} is {v.ndim}-d; matmul "
                              "takes operands of rank 1, 2 or 3")
    if a.ndim == 3 and b.ndim == 3:
        _check_inner("matmul", a, b, 2, 1)
        return _batched_dot(*_broadcast_batches(a, b))
    if a.ndim == 2 and b.ndim == 3:
        # dot puts the rows of a first; matmul puts the batch first.
        return DimShuffle((1, 0, 2))(dot(a, b))
    return dot(a, b)
