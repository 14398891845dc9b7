"""Reductions over axes: sum, prod, max, min, any, all, argmax, argmin, and what they compose.

Two primitives carry every reduction. :class:`Reduce` folds the reduced axes with one
associative scalar operation (add, mul, maximum, minimum, and, or) after casting the input to
its ``dtype``; :class:`Argmax` finds the position of the largest (or smallest) element.
``keepdims`` is a ``DimShuffle`` after the reduction, and ``mean``, ``var`` and ``std`` are
built from ``Reduce`` and elementwise ops, so no rule is written twice.

Dtypes follow NumPy: ``sum`` and ``prod`` of bool and signed integers give int64, of unsigned
integers uint64, of floats the same float; ``mean``, ``var`` and ``std`` of integers give
float64; ``argmax`` gives int64; ``any`` and ``all`` give bool.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.graph.ir import Apply, Op
from exprc.tensor.elemwise import DimShuffle
from exprc.tensor.math import cast, sqr, sqrt, sub, switch, true_div
from exprc.tensor.params import dtype_param, int_tuple
from exprc.tensor.scalar import SCALAR_OPS, ScalarOp
from exprc.tensor.shape import normalize_axis, shape
from exprc.tensor.type import DISCRETE_DTYPES, TensorType, canonical_dtype
from exprc.tensor.variable import TensorVariable, as_tensor_variable, constant

__all__ = ["Argmax", "Reduce", "all", "any", "argmax", "argmin", "max", "max_and_argmax", "mean",
           "min", "prod", "std", "sum", "var"]

#: The scalar operations a Reduce may fold with.
REDUCIBLE = ("add", "mul", "maximum", "minimum", "and_", "or_")
LOGICAL = ("and_", "or_")
#: The reducible operations with no identity (NumPy's), by their user-facing names.
_NO_IDENTITY = {"maximum": "max", "minimum": "min"}


def normalize_axes(x: TensorVariable, axis: Any, op: Any) -> tuple[int, ...]:
    """``axis`` (None, an int or a sequence of ints, negatives allowed) as sorted axes of ``x``.

    Raises an error naming ``op``, the axis and ``x``'s rank for out-of-range, repeated or
    non-integer axes.
    """
    if axis is None:
        return tuple(range(x.ndim))
    items = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    axes = [normalize_axis(x.ndim, a, op, x=x) for a in items]
    if len(set(axes)) != len(axes):
        raise build_error(ExprcShapeError, op,
                          f"repeated axis in {axis!r} for the {x.ndim}-d input {x}")
    return tuple(sorted(axes))


def _kept_shape(x: TensorVariable, axes: tuple[int, ...]) -> tuple:
    return tuple(s for d, s in enumerate(x.type.shape) if d not in axes)


class Reduce(Op):
    """Fold ``axis`` of the input with the associative ``scalar_op``, computing in ``dtype``.

    The input is cast to ``dtype`` and the reduced axes are removed. Over an empty axis, add,
    mul, and, or give their identity (0, 1, True, False); maximum and minimum have none and
    fail at run time, as in NumPy.

    Parameters
    ----------
    scalar_op : ScalarOp
        One of ``add``, ``mul``, ``maximum``, ``minimum``, ``and_``, ``or_`` (the last two are
        logical and need ``dtype='bool'``).
    axis : tuple of int
        The reduced axes, non-negative and sorted.
    dtype : str
        The accumulator and output dtype.
    """

    __props__ = ("scalar_op", "axis", "dtype")

    def __init__(self, scalar_op: ScalarOp | str, axis: Sequence[int], dtype: Any):
        self.scalar_op = SCALAR_OPS[scalar_op] if isinstance(scalar_op, str) else scalar_op
        if self.scalar_op.name not in REDUCIBLE:
            raise ExprcTypeError(f"Reduce: cannot reduce with {self.scalar_op}; "
                                 f"reducible operations: {', '.join(REDUCIBLE)}")
        self.axis = int_tuple("Reduce", "axis", axis)
        self.dtype = dtype_param("Reduce", "dtype", dtype)
        if self.scalar_op.name in LOGICAL and self.dtype != "bool":
            raise ExprcTypeError(f"Reduce: logical {self.scalar_op} needs dtype bool, "
                                 f"got {self.dtype}")

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if normalize_axes(x, self.axis, self) != self.axis:
            raise build_error(ExprcShapeError, self, f"axes {self.axis} must be sorted, "
                              f"distinct and non-negative for input {x} of type {x.type}")
        out = TensorType(self.dtype, shape=_kept_shape(x, self.axis))
        return Apply(self, [x], [out()])

    @property
    def no_identity(self) -> str | None:
        """The name users know this reduction by (``max``, ``min``) when it has no identity,
        so that every backend refuses an empty reduced axis; None when it has one."""
        return _NO_IDENTITY.get(self.scalar_op.name)

    def __str__(self) -> str:
        return f"Reduce{{{self.scalar_op}, axis={self.axis}, dtype={self.dtype}}}"

    __repr__ = __str__


class Argmax(Op):
    """The int64 index of the largest (``largest=True``) or smallest element over ``axis``.

    Several axes are searched as one, flattened in C order (as Theano); the first occurrence
    wins ties, and a NaN counts as the extreme value (as NumPy).
    """

    __props__ = ("axis", "largest")

    def __init__(self, axis: Sequence[int], largest: bool = True):
        self.axis = int_tuple("Argmax", "axis", axis)
        self.largest = bool(largest)

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if normalize_axes(x, self.axis, self) != self.axis:
            raise build_error(ExprcShapeError, self, f"axes {self.axis} must be sorted, "
                              f"distinct and non-negative for input {x} of type {x.type}")
        return Apply(self, [x], [TensorType("int64", shape=_kept_shape(x, self.axis))()])

    def __str__(self) -> str:
        return f"{'Argmax' if self.largest else 'Argmin'}{{axis={self.axis}}}"

    __repr__ = __str__


def keep_dims(out: TensorVariable, axes: tuple[int, ...], ndim: int) -> TensorVariable:
    """``out`` (``axes`` of a rank-``ndim`` tensor reduced away) with those axes back, size 1."""
    kept = iter(range(out.ndim))
    return DimShuffle(["x" if d in axes else next(kept) for d in range(ndim)])(out)


def _finish(out: TensorVariable, axes: tuple[int, ...], ndim: int, keepdims: bool):
    return keep_dims(out, axes, ndim) if keepdims else out


def _accumulate_dtype(dtype: str) -> str:
    """NumPy's default dtype for sum and prod of ``dtype``."""
    if dtype == "bool" or dtype.startswith("int"):
        return "int64"
    if dtype.startswith("uint"):
        return "uint64"
    return dtype


def _fold(name: str, op_name: str, x: Any, axis: Any, dtype: Any, keepdims: bool,
          acc_dtype: Any) -> TensorVariable:
    x = as_tensor_variable(x)
    axes = normalize_axes(x, axis, name)
    out_dtype = _accumulate_dtype(x.dtype) if dtype is None else canonical_dtype(dtype)
    acc = out_dtype if acc_dtype is None else canonical_dtype(acc_dtype)
    out = cast(Reduce(op_name, axes, acc)(x), out_dtype)
    return _finish(out, axes, x.ndim, keepdims)


def sum(x: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False,
        acc_dtype: Any = None) -> TensorVariable:
    """Sum of the elements over ``axis``.

    Parameters
    ----------
    x : tensor-like
    axis : None, int or sequence of int
        Axes to sum over (negative counts from the end); None sums everything.
    dtype : str, optional
        Output dtype. Default: int64 for bool and signed integers, uint64 for unsigned
        integers, ``x.dtype`` for floats (NumPy's rule).
    keepdims : bool
        Keep the reduced axes with size 1, so the result broadcasts against ``x``.
    acc_dtype : str, optional
        Dtype to accumulate in (default: the output dtype).

    Returns
    -------
    TensorVariable

    Examples
    --------
    >>> import exprc.tensor as T
    >>> x = T.matrix('x')
    >>> T.sum(x, axis=-1).type
    TensorType(float64, (?,))
    >>> T.sum(x, axis=0, keepdims=True).type
    TensorType(float64, (1, ?))
    """
    return _fold("sum", "add", x, axis, dtype, keepdims, acc_dtype)


def prod(x: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False,
         acc_dtype: Any = None) -> TensorVariable:
    """Product of the elements over ``axis`` (1 over an empty axis).

    Parameters are those of :func:`sum`, with the same dtype rules.
    """
    return _fold("prod", "mul", x, axis, dtype, keepdims, acc_dtype)


def _extreme(name: str, op_name: str, x: Any, axis: Any, keepdims: bool) -> TensorVariable:
    x = as_tensor_variable(x)
    axes = normalize_axes(x, axis, name)
    return _finish(Reduce(op_name, axes, x.dtype)(x), axes, x.ndim, keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """Largest element over ``axis``; NaN wins (as NumPy).

    Parameters
    ----------
    x : tensor-like
    axis : None, int or sequence of int
    keepdims : bool

    Returns
    -------
    TensorVariable
        Of ``x.dtype``. Reducing an empty axis is a ValueError at run time.
    """
    return _extreme("max", "maximum", x, axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """Smallest element over ``axis``; NaN wins. Parameters are those of :func:`max`."""
    return _extreme("min", "minimum", x, axis, keepdims)


def _arg(name: str, largest: bool, x: Any, axis: Any, keepdims: bool) -> TensorVariable:
    x = as_tensor_variable(x)
    axes = normalize_axes(x, axis, name)
    return _finish(Argmax(axes, largest)(x), axes, x.ndim, keepdims)


def argmax(x: Any, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """Index of the largest element over ``axis`` (int64; first one on ties).

    Parameters
    ----------
    x : tensor-like
    axis : None, int or sequence of int
        None searches the flattened array; several axes are flattened together (Theano).
    keepdims : bool

    Returns
    -------
    TensorVariable
        int64. Searching an empty axis is a ValueError at run time.
    """
    return _arg("argmax", True, x, axis, keepdims)


def argmin(x: Any, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """Index of the smallest element over ``axis``. Parameters are those of :func:`argmax`."""
    return _arg("argmin", False, x, axis, keepdims)


def max_and_argmax(x: Any, axis: Any = None, keepdims: bool = False) -> list[TensorVariable]:
    """``[max(x, axis), argmax(x, axis)]`` (Theano's pair).

    Parameters
    ----------
    x : tensor-like
    axis : None, int or sequence of int
    keepdims : bool

    Returns
    -------
    list of two TensorVariable
    """
    return [max(x, axis, keepdims), argmax(x, axis, keepdims)]


def _logical(name: str, op_name: str, x: Any, axis: Any, keepdims: bool) -> TensorVariable:
    x = as_tensor_variable(x)
    axes = normalize_axes(x, axis, name)
    return _finish(Reduce(op_name, axes, "bool")(x), axes, x.ndim, keepdims)


def any(x: Any, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """Whether any element over ``axis`` is non-zero (False over an empty axis).

    Parameters
    ----------
    x : tensor-like
    axis : None, int or sequence of int
    keepdims : bool

    Returns
    -------
    TensorVariable
        bool.
    """
    return _logical("any", "or_", x, axis, keepdims)


def all(x: Any, axis: Any = None, keepdims: bool = False) -> TensorVariable:
    """Whether every element over ``axis`` is non-zero (True over an empty axis).

    Parameters are those of :func:`any`.
    """
    return _logical("all", "and_", x, axis, keepdims)


def reduced_count(x: TensorVariable, axes: tuple[int, ...]) -> TensorVariable:
    """The number of elements that reducing ``axes`` of ``x`` folds into one (int64 scalar).

    A constant when those sizes are static; otherwise the product of the run-time sizes.
    """
    sizes = [x.type.shape[a] for a in axes]
    if builtins.all(s is not None for s in sizes):
        return constant(int(np.prod(sizes, dtype="int64")), dtype="int64")
    mask = constant(np.array([d in axes for d in range(x.ndim)], dtype=bool))
    return Reduce("mul", (0,), "int64")(switch(mask, shape(x), constant(1, dtype="int64")))


def _mean_dtype(dtype: str) -> str:
    return "float64" if dtype in DISCRETE_DTYPES else dtype


def mean(x: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False,
         acc_dtype: Any = None) -> TensorVariable:
    """Arithmetic mean over ``axis`` (NaN over an empty axis, as NumPy).

    Parameters
    ----------
    x : tensor-like
    axis : None, int or sequence of int
    dtype : str, optional
        Output dtype; default float64 for bool and integers, ``x.dtype`` for floats.
    keepdims : bool
    acc_dtype : str, optional
        Dtype the sum is accumulated in (default: the output dtype).

    Returns
    -------
    TensorVariable
    """
    x = as_tensor_variable(x)
    axes = normalize_axes(x, axis, "mean")
    out_dtype = _mean_dtype(x.dtype) if dtype is None else canonical_dtype(dtype)
    total = Reduce("add", axes, out_dtype if acc_dtype is None else acc_dtype)(x)
    work = out_dtype if out_dtype in ("float32", "float64") else "float64"
    out = true_div(cast(total, work), cast(reduced_count(x, axes), work))
    return _finish(cast(out, out_dtype), axes, x.ndim, keepdims)


def var(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False,
        corrected: bool = False) -> TensorVariable:
    """Variance over ``axis``: ``sum((x - mean(x)) ** 2) / (N - ddof)``.

    Parameters
    ----------
    x : tensor-like
    axis : None, int or sequence of int
    ddof : int
        Delta degrees of freedom (NumPy): the divisor is ``N - ddof``.
    keepdims : bool
    corrected : bool
        Subtract the rounding error of the mean (the corrected two-pass algorithm, as Theano):
        ``(sum(x - mean(x))) ** 2 / (N * (N - ddof))``, zero in exact arithmetic.

    Returns
    -------
    TensorVariable
        float64 for bool and integer ``x``, else ``x.dtype``.
    """
    x = as_tensor_variable(x)
    axes = normalize_axes(x, axis, "var")
    if isinstance(ddof, (bool, np.bool_)) or not isinstance(ddof, (int, np.integer)):
        raise ExprcTypeError(f"var: ddof must be an int, got {ddof!r}")
    out_dtype = _mean_dtype(x.dtype)
    centered = sub(cast(x, out_dtype), mean(x, axes, dtype=out_dtype, keepdims=True))
    count = cast(reduced_count(x, axes), out_dtype)
    divisor = sub(count, constant(ddof, dtype=out_dtype))
    out = true_div(Reduce("add", axes, out_dtype)(sqr(centered)), divisor)
    if corrected:
        error = sqr(Reduce("add", axes, out_dtype)(centered))
        out = sub(out, true_div(true_div(error, count), divisor))
    return _finish(out, axes, x.ndim, keepdims)


def std(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False,
        corrected: bool = False) -> TensorVariable:
    """Standard deviation over ``axis``: ``sqrt(var(...))``. Parameters are those of :func:`var`.
    """
    return sqrt(var(x, axis, ddof=ddof, keepdims=keepdims, corrected=corrected))
