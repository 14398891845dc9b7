"""Constructing tensors: filled arrays, ranges, identity matrices, joining and splitting.

The ops are :class:`Alloc` (broadcast a value to a shape), :class:`ARange`, :class:`Eye`,
:class:`Join` and :class:`Split`; ``zeros``, ``ones``, ``stack``, ``tile`` and the rest are
built from them and from the shape ops, so their gradients come from those ops' rules.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.graph.ir import Apply, Op
from exprc.graph.testvalues import compute_test_values
from exprc.tensor.elemwise import DimShuffle, pad_left
from exprc.tensor.math import fill
from exprc.tensor.params import int_param
from exprc.tensor.shape import (
    as_shape_vector,
    flatten,
    format_shape,
    normalize_axis,
    reshape,
    shape,
    shape_padaxis,
    specify_shape,
    static_int_values,
    times,
)
from exprc.tensor.type import INTEGER_DTYPES, TensorType, canonical_dtype
from exprc.tensor.variable import TensorVariable, as_tensor_variable, constant

__all__ = [
    "ARange", "Alloc", "Eye", "Join", "Split", "alloc", "arange", "concatenate", "eye",
    "identity_like", "join", "ones", "ones_like", "split", "stack", "tile", "zeros",
    "zeros_like",
]


def shape_list(x: Any) -> list:
    """The sizes of ``x``, one per axis: an ``int`` where statically known, otherwise a 0-d
    int64 tensor read from ``x``'s run-time shape."""
    x = as_tensor_variable(x)
    if None not in x.type.shape:
        return list(x.type.shape)
    pieces = _split_node(Split(x.ndim, 0), shape(x), constant([1] * x.ndim)).outputs
    return [size if size is not None else DimShuffle(())(piece)
            for size, piece in zip(x.type.shape, pieces)]


def _shape_arg(shape_: Any, where: str) -> TensorVariable:
    return as_shape_vector(shape_, "shape", where)


def _static_sizes(vector: TensorVariable, op: Any, what: str = "shape") -> list[int | None]:
    sizes = static_int_values(vector)
    if any(s is not None and s < 0 for s in sizes):
        raise build_error(ExprcShapeError, op, f"negative size in {what} {format_shape(sizes)}")
    return sizes


# --------------------------------------------------------------------------- Alloc
class Alloc(Op):
    """``value`` broadcast (NumPy's rules) to the shape given by an integer vector.

    The value is padded with leading axes of size 1 to the output's rank when the node is
    built, so the gradient is the output gradient summed back to the value's shape.
    """

    gradient_in_output_shape = True

    def make_node(self, value: Any, shape_: Any) -> Apply:
        value = as_tensor_variable(value)
        shape_ = as_tensor_variable(shape_)
        if shape_.ndim != 1 or shape_.dtype not in INTEGER_DTYPES or shape_.type.shape[0] is None:
            raise build_error(ExprcTypeError, self, f"the shape input must be an integer vector "
                              f"of known length, got {shape_} of type {shape_.type}")
        ndim = shape_.type.shape[0]
        if value.ndim > ndim:
            raise build_error(ExprcShapeError, self, f"the value {value} of type {value.type} "
                              f"has more dimensions than the target shape ({ndim})")
        value = pad_left(value, ndim)
        out = []
        for axis, (have, want) in enumerate(zip(value.type.shape, _static_sizes(shape_, self))):
            if None not in (have, want) and have not in (1, want):
                raise build_error(ExprcShapeError, self, f"cannot broadcast the value of "
                                  f"static shape {format_shape(value.type.shape)} to a size "
                                  f"of {want} on axis {axis}")
            # A value size other than 1 fixes the output size (anything else is an error).
            out.append(want if want is not None or have == 1 else have)
        return Apply(self, [value, shape_], [TensorType(value.dtype, shape=out)()])


def alloc(value: Any, *shape: Any):
    """``value`` broadcast to ``shape``, as a new array.

    Parameters
    ----------
    value : tensor-like
        Broadcast with NumPy's rules (its axes align with the trailing axes of ``shape``).
    *shape : int or 0-d integer tensor
        The sizes of the result. A single tuple, list or integer vector is also accepted.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> T.alloc(T.vector('v'), 2, 3).type
    TensorType(float64, (2, 3))
    """
    if len(shape) == 1 and (isinstance(shape[0], (list, tuple))
                            or getattr(shape[0], "ndim", 0) == 1):
        shape = shape[0]
    return Alloc()(value, _shape_arg(shape, "alloc"))


def zeros(shape: Any, dtype: Any = None):
    """An array of zeros of ``shape`` (int, sequence of sizes or integer vector) and ``dtype``
    (default floatX)."""
    return Alloc()(constant(0, dtype=canonical_dtype(dtype)), _shape_arg(shape, "zeros"))


def ones(shape: Any, dtype: Any = None):
    """An array of ones of ``shape`` (int, sequence of sizes or integer vector) and ``dtype``
    (default floatX)."""
    return Alloc()(constant(1, dtype=canonical_dtype(dtype)), _shape_arg(shape, "ones"))


def zeros_like(x: Any, dtype: Any = None):
    """Zeros with the shape of ``x`` and its dtype (or ``dtype``)."""
    x = as_tensor_variable(x)
    return fill(x, constant(0, dtype=canonical_dtype(dtype or x.dtype)))


def ones_like(x: Any, dtype: Any = None):
    """Ones with the shape of ``x`` and its dtype (or ``dtype``)."""
    x = as_tensor_variable(x)
    return fill(x, constant(1, dtype=canonical_dtype(dtype or x.dtype)))


# --------------------------------------------------------------------------- ARange, Eye
def _scalar_arg(value: Any, what: str, op: Any, integer: bool) -> TensorVariable:
    var = as_tensor_variable(value)
    ok = var.ndim == 0 and var.dtype != "bool" and (var.dtype in INTEGER_DTYPES or not integer)
    if not ok:
        kind = "an integer" if integer else "a numeric (non-bool)"
        raise build_error(ExprcTypeError, op, f"{what} must be {kind} scalar, got {var} of "
                          f"type {var.type}")
    return var


def _static_number(var: TensorVariable) -> float | int | None:
    if var.dtype in INTEGER_DTYPES:
        return static_int_values(var)[0]
    data = getattr(var, "data", None)
    return None if data is None else data.item()


def arange_length(start: Any, stop: Any, step: Any) -> int:
    """The number of elements of ``arange(start, stop, step)``: exact for integer bounds
    (NumPy's double-precision length is off by one beyond 2**53), else NumPy's."""
    if all(isinstance(v, (int, np.integer)) for v in (start, stop, step)):
        return max(0, -((int(start) - int(stop)) // int(step)))
    return max(0, math.ceil((stop - start) / step))


class ARange(Op):
    """``[start, start + step, ...)`` up to (excluding) ``stop``, of dtype ``dtype``."""

    __props__ = ("dtype",)

    def __init__(self, dtype: Any):
        self.dtype = canonical_dtype(dtype)

    def make_node(self, start: Any, stop: Any, step: Any) -> Apply:
        args = [_scalar_arg(v, name, self, integer=False)
                for v, name in zip((start, stop, step), ("start", "stop", "step"))]
        values = [_static_number(v) for v in args]
        if values[2] == 0:
            raise build_error(ExprcShapeError, self, "step must not be zero")
        length = None if None in values else arange_length(*values)
        return Apply(self, args, [TensorType(self.dtype, shape=(length,))()])


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None):
    """Evenly spaced values in ``[start, stop)``, as ``numpy.arange``.

    Parameters
    ----------
    start, stop, step : number or 0-d tensor
        With one argument, it is ``stop`` and ``start`` is 0 (``T.arange(x.shape[0])``).
    dtype : dtype, optional
        By default the promotion of the arguments' dtypes (Python ints count as int64,
        Python floats as floatX).

    Examples
    --------
    >>> import exprc.tensor as T
    >>> T.arange(5).eval()
    array([0, 1, 2, 3, 4])
    """
    if stop is None:
        start, stop = 0, start
    args = [_scalar_arg(v, name, "arange", integer=False)
            for v, name in zip((start, stop, step), ("start", "stop", "step"))]
    if dtype is None:
        dtype = np.result_type(*(a.dtype for a in args)).name
    return ARange(dtype)(*args)


class Eye(Op):
    """An ``n`` x ``m`` matrix of dtype ``dtype`` with ones on diagonal ``k``, zeros elsewhere."""

    __props__ = ("dtype",)

    def __init__(self, dtype: Any):
        self.dtype = canonical_dtype(dtype)

    def make_node(self, n: Any, m: Any, k: Any) -> Apply:
        args = [_scalar_arg(v, name, self, integer=True)
                for v, name in zip((n, m, k), ("n", "m", "k"))]
        sizes = [static_int_values(a)[0] for a in args[:2]]
        if any(s is not None and s < 0 for s in sizes):
            raise build_error(ExprcShapeError, self, f"negative size: n={sizes[0]}, "
                              f"m={sizes[1]}")
        return Apply(self, args, [TensorType(self.dtype, shape=sizes)()])


def eye(n: Any, m: Any = None, k: Any = 0, dtype: Any = None):
    """An ``n`` x ``m`` matrix (``m`` defaults to ``n``) with ones on the ``k``-th diagonal
    (0: main, > 0: above, < 0: below), of ``dtype`` (default floatX)."""
    return Eye(dtype)(n, n if m is None else m, k)


def identity_like(x: Any):
    """A matrix with the shape and dtype of the matrix ``x``, ones on its main diagonal."""
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise build_error(ExprcTypeError, "identity_like", f"needs a matrix, got {x} of type "
                          f"{x.type}")
    rows, cols = shape_list(x)
    return Eye(x.dtype)(rows, cols, 0)


# --------------------------------------------------------------------------- Join, Split
class Join(Op):
    """The inputs (all of one rank) concatenated along ``axis``."""

    __props__ = ("axis",)

    def __init__(self, axis: int):
        self.axis = int_param("Join", "axis", axis)

    def make_node(self, *tensors: Any) -> Apply:
        tensors = [as_tensor_variable(t) for t in tensors]
        if not tensors:
            raise build_error(ExprcTypeError, self, "needs at least one tensor")
        ranks = {t.ndim for t in tensors}
        if len(ranks) != 1 or not 0 <= self.axis < tensors[0].ndim:
            described = ", ".join(f"{t} of type {t.type}" for t in tensors)
            raise build_error(ExprcShapeError, self, f"inputs must all have the same rank, "
                              f"greater than the axis {self.axis}; got {described}")
        out = []
        for axis, sizes in enumerate(zip(*(t.type.shape for t in tensors))):
            known = {s for s in sizes if s is not None}
            if axis == self.axis:
                out.append(None if None in sizes else sum(sizes))
            elif len(known) > 1:
                shapes = ", ".join(format_shape(t.type.shape) for t in tensors)
                raise build_error(ExprcShapeError, self, f"sizes {sorted(known)} on axis "
                                  f"{axis} differ between inputs of static shapes {shapes}")
            else:
                out.append(known.pop() if known else None)
        dtype = np.result_type(*(t.dtype for t in tensors)).name
        return Apply(self, tensors, [TensorType(dtype, shape=out)()])


def join(axis: int, *tensors: Any):
    """Concatenate ``tensors`` (all of one rank) along ``axis`` (Theano's argument order).

    The result's dtype is the promotion of the inputs' dtypes. A single tensor is returned
    unchanged.
    """
    tensors = [as_tensor_variable(t) for t in tensors]
    if not tensors:
        raise build_error(ExprcTypeError, "join", "needs at least one tensor")
    if tensors[0].ndim == 0:
        raise build_error(ExprcShapeError, "join", f"cannot join 0-d tensors ({tensors[0]} is "
                          "0-d); use stack to make a vector of scalars")
    axis = normalize_axis(tensors[0].ndim, axis, "join")
    if len(tensors) == 1:
        return tensors[0]
    return Join(axis)(*tensors)


def concatenate(tensor_list: Sequence[Any], axis: int | None = 0):
    """Concatenate the tensors of ``tensor_list`` along ``axis`` (NumPy's argument order).

    ``axis=None`` flattens every tensor first, as NumPy does.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> T.concatenate([T.tensor(shape=(2, 3)), T.tensor(shape=(4, 3))]).type
    TensorType(float64, (6, 3))
    """
    if not isinstance(tensor_list, (list, tuple)):
        raise build_error(ExprcTypeError, "concatenate", f"tensor_list must be a list or "
                          f"tuple of tensors, got {type(tensor_list).__name__}")
    if axis is None:
        return join(0, *(flatten(t) for t in tensor_list))
    return join(axis, *tensor_list)


def stack(tensors: Sequence[Any], axis: int = 0):
    """Join ``tensors`` (all of one shape) along a new axis ``axis`` of the result.

    Stacking 0-d tensors gives a vector.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> T.stack([T.scalar('a'), T.scalar('b')]).type
    TensorType(float64, (2,))
    """
    if not isinstance(tensors, (list, tuple)) or not tensors:
        raise build_error(ExprcTypeError, "stack", f"tensors must be a non-empty list or "
                          f"tuple of tensors, got {tensors!r}")
    tensors = [as_tensor_variable(t) for t in tensors]
    ndim = tensors[0].ndim
    if any(t.ndim != ndim for t in tensors):
        described = ", ".join(f"{t} of type {t.type}" for t in tensors)
        raise build_error(ExprcShapeError, "stack", f"tensors must all have the same rank; "
                          f"got {described}")
    position = normalize_axis(ndim + 1, axis, "stack", new=True)
    return join(position, *(shape_padaxis(t, position) for t in tensors))


def _split_node(op: Split, x: Any, splits: Any) -> Apply:
    """A Split node (its outputs are a list even for one piece, hence no ``op(...)``), with
    test values as ``op(...)`` would give them."""
    node = op.make_node(x, splits)
    compute_test_values(node)
    return node


class Split(Op):
    """``x`` cut along ``axis`` into ``n_splits`` pieces whose sizes are an integer vector."""

    __props__ = ("n_splits", "axis")

    def __init__(self, n_splits: int, axis: int):
        self.n_splits = int_param("Split", "n_splits", n_splits)
        self.axis = int_param("Split", "axis", axis)

    @property
    def view_map(self) -> dict[int, list[int]]:
        """Every piece may be a view of ``x``."""
        return {k: [0] for k in range(self.n_splits)}

    def make_node(self, x: Any, splits: Any) -> Apply:
        x, splits = as_tensor_variable(x), as_tensor_variable(splits)
        if not 0 <= self.axis < x.ndim:
            raise build_error(ExprcShapeError, self, f"axis {self.axis} is out of range for "
                              f"{x} of type {x.type}")
        if splits.ndim != 1 or splits.dtype not in INTEGER_DTYPES \
                or splits.type.shape[0] not in (None, self.n_splits):
            raise build_error(ExprcTypeError, self, f"the split sizes must be an integer "
                              f"vector of length {self.n_splits}, got {splits} of type "
                              f"{splits.type}")
        sizes = ([None] * self.n_splits if splits.type.shape[0] is None
                 else _static_sizes(splits, self, "split sizes"))
        total = x.type.shape[self.axis]
        if None not in sizes and total is not None and sum(sizes) != total:
            raise build_error(ExprcShapeError, self, f"split sizes {sizes} add up to "
                              f"{sum(sizes)}, but {x} has size {total} on axis {self.axis}")
        outputs = [TensorType(x.dtype, shape=x.type.shape[:self.axis] + (s,)
                              + x.type.shape[self.axis + 1:])() for s in sizes]
        return Apply(self, [x, splits], outputs)


def split(x: Any, splits_size: Any, n_splits: int, axis: int = 0) -> list:
    """Cut ``x`` along ``axis`` into ``n_splits`` pieces of the given sizes.

    Parameters
    ----------
    x : tensor-like
    splits_size : sequence of ints and 0-d integer tensors, or integer vector
        The size of each piece; they must add up to ``x``'s size on ``axis``.
    n_splits : int
    axis : int

    Returns
    -------
    list of TensorVariable
    """
    x = as_tensor_variable(x)
    if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral) \
            or n_splits < 1:
        raise build_error(ExprcTypeError, "split", f"n_splits must be a positive int, got "
                          f"{n_splits!r}")
    if x.ndim == 0:
        raise build_error(ExprcShapeError, "split", f"cannot split the 0-d tensor {x}")
    axis = normalize_axis(x.ndim, axis, "split")
    if isinstance(splits_size, TensorVariable) and splits_size.ndim == 1 \
            and splits_size.type.shape[0] is None:
        splits = splits_size
    else:
        splits = as_shape_vector(splits_size, "splits_size", "split")
        if splits.type.shape[0] != n_splits:
            raise build_error(ExprcShapeError, "split", f"splits_size has "
                              f"{splits.type.shape[0]} entries for n_splits={n_splits}")
    return list(_split_node(Split(n_splits, axis), x, splits).outputs)


# --------------------------------------------------------------------------- tile
def tile(x: Any, reps: Any, ndim: int | None = None):
    """``x`` repeated ``reps[i]`` times along each axis ``i`` (``numpy.tile``).

    Parameters
    ----------
    x : tensor-like
    reps : sequence of ints and 0-d integer tensors, or integer vector
        Repetitions per axis; ``x`` and ``reps`` are aligned on their trailing axes, the
        shorter one padded with ones on the left.
    ndim : int, optional
        The rank of the result (at least ``x.ndim`` and ``len(reps)``); needed only when
        ``reps`` is a vector of unknown length, which must then have ``ndim`` entries
        (checked at run time).
    """
    x = as_tensor_variable(x)
    if isinstance(reps, TensorVariable) and reps.ndim == 1 and reps.type.shape[0] is None:
        if ndim is None:
            raise build_error(ExprcShapeError, "tile", f"reps {reps} has an unknown length; "
                              "give ndim")
        reps = specify_shape(reps, (int(ndim),))
    vector = as_shape_vector(reps, "reps", "tile")
    counts = vector.type.shape[0]
    out_ndim = max(x.ndim, counts) if ndim is None else ndim
    if out_ndim < max(x.ndim, counts):
        raise build_error(ExprcShapeError, "tile", f"ndim={ndim} is smaller than the rank "
                          f"of {x} ({x.ndim}) or the number of reps ({counts})")
    entries = [1] * (out_ndim - counts) + _entries(vector)
    x = pad_left(x, out_ndim)
    if all(isinstance(r, int) and r == 1 for r in entries):
        return x
    sizes = shape_list(x)
    # Each axis of x gets a new axis of size 1 in front of it, broadcast to the repetition
    # count; merging each (count, size) pair gives the tiled axis.
    spread = DimShuffle([d for axis in range(out_ndim) for d in ("x", axis)])(x)
    big = alloc(spread, *[s for pair in zip(entries, sizes) for s in pair])
    return reshape(big, [times(r, s) for r, s in zip(entries, sizes)])


def _entries(vector: TensorVariable) -> list:
    """The elements of a 1-d int64 vector of static length: ints where known statically,
    0-d tensors otherwise."""
    known = static_int_values(vector)
    if None not in known:
        return known
    pieces = _split_node(Split(len(known), 0), vector, constant([1] * len(known))).outputs
    return [k if k is not None else DimShuffle(())(p) for k, p in zip(known, pieces)]
