"""Theano's ``extra_ops``: cumulative sums and products, ``repeat``, ``diff``, ``to_one_hot``
and ``searchsorted``.

Everything here follows NumPy's semantics and dtype rules; ``axis=None`` means the flattened
array, as in NumPy. :class:`LinearRecurrence` is not public API: it carries the gradient of
``cumprod``. :class:`RuntimeCheck` guards functions built from other ops whose input can be
wrong in a way only the data shows (a negative count, an index out of range). Theano's other
``extra_ops`` (``bincount``, ``unique``, ``compress``, ``fill_diagonal``, ...) are built from
existing ops in :mod:`exprc.tensor.selection` and :mod:`exprc.tensor.arraytools`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.graph.ir import Apply, Constant, Op
from exprc.tensor import math as tmath
from exprc.tensor.params import choice_param, dtype_param, int_param
from exprc.tensor.scalar import upcast
from exprc.tensor.shape import flatten
from exprc.tensor.sort import check_axis
from exprc.tensor.type import INTEGER_DTYPES, TensorType, canonical_dtype
from exprc.tensor.variable import as_tensor_variable

__all__ = ["cumprod", "cumsum", "diff", "repeat", "searchsorted", "to_one_hot"]


def accumulate_dtype(dtype: str) -> str:
    """NumPy's dtype for ``cumsum``/``cumprod``: small integers and bool widen to 64 bits."""
    if dtype in ("bool", "int8", "int16", "int32"):
        return "int64"
    if dtype in ("uint8", "uint16", "uint32"):
        return "uint64"
    return dtype


class CumOp(Op):
    """Cumulative sum (``mode='add'``) or product (``mode='mul'``) along ``axis``.

    With ``reverse=True`` the accumulation runs from the end of the axis to its start
    (``out[i] = x[i] + x[i+1] + ...``); the gradient of a forward cumulative sum is a reverse
    one, and vice versa.
    """

    __props__ = ("axis", "mode", "reverse")
    unconditional_shape = True

    def __init__(self, axis: int, mode: str = "add", reverse: bool = False):
        if mode not in ("add", "mul"):
            raise ExprcTypeError(f"CumOp mode must be 'add' or 'mul', got {mode!r}")
        self.axis = int_param("CumOp", "axis", axis)
        self.mode = choice_param("CumOp", "mode", mode, ("add", "mul"))
        self.reverse = bool(reverse)

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        check_axis(self, x, self.axis)
        out = TensorType(accumulate_dtype(x.dtype), shape=x.type.shape)
        return Apply(self, [x], [out()])


class LinearRecurrence(Op):
    """The first-order linear recurrence ``s[i] = a[i] * s[i-1] + b[i]`` along ``axis``.

    ``a`` and ``b`` have one shape; the recurrence starts from ``s[-1] = 0``, so ``s[0] =
    b[0]`` and ``a[0]`` is not used. With ``reverse=True`` it runs from the end of the axis:
    ``s[i] = a[i] * s[i+1] + b[i]`` with ``s[n-1] = b[n-1]``. This is the gradient of
    :func:`cumprod` without dividing by ``x`` (exact where ``x`` has zeros), and its own
    gradient is a recurrence the other way, so derivatives of any order stay exact.
    """

    __props__ = ("axis", "reverse")

    def __init__(self, axis: int, reverse: bool = False):
        self.axis = int_param("LinearRecurrence", "axis", axis)
        self.reverse = bool(reverse)

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        if a.ndim != b.ndim:
            raise build_error(ExprcShapeError, self, f"a = {a} of type {a.type} and b = {b} of "
                              f"type {b.type} must have the same rank")
        check_axis(self, a, self.axis)
        shape = []
        for axis, (sa, sb) in enumerate(zip(a.type.shape, b.type.shape)):
            if None not in (sa, sb) and sa != sb:
                raise build_error(ExprcShapeError, self,
                                  f"a and b must have one shape, but axis {axis} has size {sa} "
                                  f"in a ({a.type}) and {sb} in b ({b.type})")
            shape.append(sa if sa is not None else sb)
        out = TensorType(upcast(a.dtype, b.dtype), shape=shape)
        return Apply(self, [a, b], [out()])


def _flat_or_axis(x: Any, axis: int | None, op: Any) -> tuple:
    x = as_tensor_variable(x)
    if axis is None:
        return flatten(x), 0
    return x, check_axis(op, x, axis)


def cumsum(x: Any, axis: int | None = None):
    """Cumulative sum along an axis (NumPy's ``np.cumsum``).

    Parameters
    ----------
    x : tensor-like
    axis : int or None
        Axis to accumulate along; None (the default) accumulates over the flattened array.

    Returns
    -------
    TensorVariable
        Same shape as ``x`` (1-d when ``axis`` is None); bool and integers narrower than 64
        bits widen to int64 (uint64 for unsigned), as in NumPy.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> x = T.dmatrix('x')
    >>> T.cumsum(x, axis=1).eval({x: [[1.0, 2.0], [3.0, 4.0]]})
    array([[1., 3.],
           [3., 7.]])
    """
    x, axis = _flat_or_axis(x, axis, "cumsum")
    return CumOp(axis, "add")(x)


def cumprod(x: Any, axis: int | None = None):
    """Cumulative product along an axis (NumPy's ``np.cumprod``).

    The gradient is exact also where ``x`` has zeros (any number of them): it multiplies the
    products of the elements before each position by a :class:`LinearRecurrence` over the
    elements after it, and never divides by ``x``. It is itself differentiable, so second
    derivatives are exact too.

    Parameters
    ----------
    x : tensor-like
    axis : int or None
        Axis to accumulate along; None (the default) accumulates over the flattened array.

    Returns
    -------
    TensorVariable
        Same shape as ``x`` (1-d when ``axis`` is None), with NumPy's dtype rule (see
        :func:`cumsum`).

    Examples
    --------
    >>> import exprc.tensor as T
    >>> x = T.dvector('x')
    >>> T.cumprod(x).eval({x: [1.0, 2.0, 3.0]})
    array([1., 2., 6.])
    """
    x, axis = _flat_or_axis(x, axis, "cumprod")
    return CumOp(axis, "mul")(x)


class Repeat(Op):
    """Repeat each element of ``x`` along ``axis``: ``np.repeat(x, repeats, axis)``.

    ``repeats`` is an integer scalar (every element repeated that many times) or a vector of
    length 1 or ``x.shape[axis]`` (one count per element); counts must be non-negative.
    """

    __props__ = ("axis",)

    def __init__(self, axis: int):
        self.axis = int_param("Repeat", "axis", axis)

    def make_node(self, x: Any, repeats: Any) -> Apply:
        x = as_tensor_variable(x)
        repeats = as_tensor_variable(repeats)
        axis = check_axis(self, x, self.axis)
        check_repeats(self, repeats, x.type.shape[axis])
        shape = list(x.type.shape)
        shape[axis] = _static_repeated_size(repeats, x.type.shape[axis])
        return Apply(self, [x, repeats], [TensorType(x.dtype, shape=shape)()])


class RepeatSum(Op):
    """Sum the repeated copies made by :class:`Repeat` back into one element each.

    Inputs are ``g`` (shaped like a ``Repeat`` output), ``repeats`` and ``shape`` (the int64
    shape vector of the tensor that was repeated, which gives the number of groups even when
    ``repeats`` is a scalar). This is the transpose of ``Repeat``, hence its gradient, and
    ``Repeat`` is in turn the gradient of this op.
    """

    __props__ = ("axis",)

    def __init__(self, axis: int):
        self.axis = int_param("RepeatSum", "axis", axis)

    def make_node(self, g: Any, repeats: Any, shape: Any) -> Apply:
        g = as_tensor_variable(g)
        repeats = as_tensor_variable(repeats)
        shape = as_tensor_variable(shape)
        axis = check_axis(self, g, self.axis)
        check_repeats(self, repeats, None)
        if shape.dtype != "int64" or shape.type.shape != (g.ndim,):
            raise build_error(ExprcTypeError, self,
                              f"shape must be an int64 vector of length {g.ndim}, got {shape} "
                              f"of type {shape.type}")
        static = list(g.type.shape)
        static[axis] = None
        return Apply(self, [g, repeats, shape], [TensorType(g.dtype, shape=static)()])


def check_repeats(op: Any, repeats: Any, size: int | None) -> None:
    """Check that ``repeats`` is an integer scalar or vector that fits an axis of ``size``."""
    if repeats.dtype not in INTEGER_DTYPES + ("bool",):
        raise build_error(ExprcTypeError, op,
                          f"repeats must have an integer dtype, got {repeats} of type "
                          f"{repeats.type}")
    if repeats.ndim > 1:
        raise build_error(ExprcTypeError, op,
                          f"repeats must be a scalar or a vector, got {repeats} of type "
                          f"{repeats.type}")
    length = repeats.type.shape[0] if repeats.ndim == 1 else 1
    if length not in (None, 1) and size is not None and length != size:
        raise build_error(ExprcShapeError, op,
                          f"repeats has {length} entries but the repeated axis has size {size}; "
                          f"give one count per element, or a single count")
    if isinstance(repeats, Constant) and np.any(repeats.data.astype("int64") < 0):
        raise build_error(ExprcShapeError, op,
                          f"repeats must be non-negative, got {repeats.data.tolist()}")


def _static_repeated_size(repeats: Any, size: int | None) -> int | None:
    if size == 0:
        return 0
    if not isinstance(repeats, Constant):
        return None
    counts = repeats.data.astype("int64").reshape(-1)
    if counts.size == 1:
        if counts[0] == 0:
            return 0
        return None if size is None else size * int(counts[0])
    return int(counts.sum())


def repeat(x: Any, repeats: Any, axis: int | None = None):
    """Repeat elements of a tensor (NumPy's ``np.repeat``).

    Parameters
    ----------
    x : tensor-like
    repeats : int, integer scalar or integer vector
        How many times to repeat each element: one count for all, or one per element along
        ``axis`` (non-negative; checked at run time for symbolic counts).
    axis : int or None
        Axis along which to repeat; None (the default) repeats the flattened array.

    Returns
    -------
    TensorVariable
        Same dtype as ``x``.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> x = T.dvector('x')
    >>> T.repeat(x, [1, 0, 2]).eval({x: [1.0, 2.0, 3.0]})
    array([1., 3., 3.])
    """
    x, axis = _flat_or_axis(x, axis, "repeat")
    return Repeat(axis)(x, repeats)


def diff(x: Any, n: int = 1, axis: int = -1):
    """The n-th discrete difference along an axis (NumPy's ``np.diff``).

    Parameters
    ----------
    x : tensor-like
        At least 1-d.
    n : int
        How many times to take differences (0 returns ``x``).
    axis : int
        Axis along which to take them (negative counts from the end).

    Returns
    -------
    TensorVariable
        ``x[1:] - x[:-1]`` along ``axis``, ``n`` times: the axis shrinks by ``n``. For bool
        inputs the difference is ``!=``, as in NumPy.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> x = T.dvector('x')
    >>> T.diff(x).eval({x: [1.0, 4.0, 9.0]})
    array([3., 5.])
    """
    x = as_tensor_variable(x)
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ExprcTypeError(f"diff: n must be a non-negative int, got {n!r}")
    if x.ndim == 0:
        raise ExprcShapeError(f"diff: x must be at least 1-d, got the 0-d {x} of type {x.type}")
    axis = check_axis("diff", x, axis)
    before = (slice(None),) * axis
    for _ in range(n):
        upper, lower = x[before + (slice(1, None),)], x[before + (slice(None, -1),)]
        x = tmath.neq(upper, lower) if x.dtype == "bool" else tmath.sub(upper, lower)
    return x


class OneHot(Op):
    """One-hot rows of ``nb_class`` columns for a vector of integer labels."""

    __props__ = ("nb_class", "dtype")

    def __init__(self, nb_class: int, dtype: str):
        self.nb_class = int_param("OneHot", "nb_class", nb_class)
        self.dtype = dtype_param("OneHot", "dtype", dtype)

    def make_node(self, y: Any) -> Apply:
        y = as_tensor_variable(y)
        if y.ndim != 1 or y.dtype not in INTEGER_DTYPES:
            raise build_error(ExprcTypeError, self,
                              f"y must be an integer vector of labels, got {y} of type {y.type}")
        out = TensorType(self.dtype, shape=(y.type.shape[0], self.nb_class))
        return Apply(self, [y], [out()])


def to_one_hot(y: Any, nb_class: int, dtype: Any = None):
    """One-hot encode a vector of integer labels (Theano's ``extra_ops.to_one_hot``).

    Parameters
    ----------
    y : integer vector
        Labels in ``[0, nb_class)``; a label outside that range is an IndexError at run time.
    nb_class : int
        Number of classes (columns).
    dtype : str, optional
        Output dtype (default ``config.floatX``).

    Returns
    -------
    TensorVariable
        Matrix of shape ``(len(y), nb_class)`` with a 1 at ``[i, y[i]]`` and 0 elsewhere.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> y = T.lvector('y')
    >>> T.to_one_hot(y, 3).eval({y: [2, 0]})
    array([[0., 0., 1.],
           [1., 0., 0.]])
    """
    if isinstance(nb_class, (bool, np.bool_)) or not isinstance(nb_class, (int, np.integer)) \
            or nb_class < 0:
        raise ExprcTypeError(f"to_one_hot: nb_class must be a non-negative int, got {nb_class!r}")
    return OneHot(int(nb_class), canonical_dtype(dtype))(y)



# --------------------------------------------------------------------------- run-time checks
#: What each :class:`RuntimeCheck` reports when its condition is false: the kind of error and
#: the message (fixed text: the op's parameter is a key of this table, never a message).
CHECKS = {
    "bincount_negative": ("ValueError", "bincount: x holds negative values; bincount counts "
                          "non-negative integers"),
    "index_out_of_range": ("ValueError", "unravel_index: an index is out of range for the "
                           "shape dims (an array of prod(dims) elements)"),
    "coordinate_out_of_range": ("ValueError", "ravel_multi_index: a coordinate of "
                                "multi_index is out of range for its dimension in dims "
                                "(mode='raise')"),
    "negative_dims": ("ValueError", "unravel_index/ravel_multi_index: dims holds a negative "
                      "size"),
    "choice_out_of_range": ("ValueError", "choose: an entry of a is out of range for the "
                            "number of choices (mode='raise')"),
    "unequal_dimensions": ("ValueError", "fill_diagonal: an array of more than two "
                           "dimensions must have all its dimensions equal"),
    "neibs_not_tiled": ("ValueError", "images2neibs: in mode 'valid', the patches must tile "
                        "the image: (size - neib_shape) must be a multiple of neib_step on "
                        "both image axes"),
}


class RuntimeCheck(Op):
    """``x`` itself, once the bool scalar ``ok`` is true; the error :data:`CHECKS` gives for
    ``check`` when it is false.

    The output is a view of ``x``, so the check costs nothing beyond computing ``ok``, and
    every computation reading the output waits for it.
    """

    __props__ = ("check",)
    view_map: ClassVar = {0: [0]}

    def __init__(self, check: str):
        self.check = choice_param("RuntimeCheck", "check", check, tuple(CHECKS))

    def make_node(self, x: Any, ok: Any) -> Apply:
        x, ok = as_tensor_variable(x), as_tensor_variable(ok)
        if ok.dtype != "bool" or ok.ndim != 0:
            raise build_error(ExprcTypeError, self, f"ok must be a bool scalar, got {ok} of "
                              f"type {ok.type}")
        return Apply(self, [x, ok], [x.type()])


def checked(x: Any, ok: Any, check: str):
    """``x`` after :class:`RuntimeCheck` ``check`` has verified ``ok`` (a bool scalar)."""
    return RuntimeCheck(check)(x, ok)


# --------------------------------------------------------------------------- searchsorted
class SearchSorted(Op):
    """Where the values ``v`` would be inserted into the sorted vector ``x`` to keep it sorted
    (``np.searchsorted``); an optional third input, ``sorter``, holds the positions that sort
    ``x``. Both are compared in their promoted dtype, with NaN greater than every number, as
    NumPy sorts."""

    __props__ = ("side",)

    def __init__(self, side: str = "left"):
        self.side = choice_param("SearchSorted", "side", side, ("left", "right"))

    def make_node(self, x: Any, v: Any, sorter: Any = None) -> Apply:
        x, v = as_tensor_variable(x), as_tensor_variable(v)
        if x.ndim != 1:
            raise build_error(ExprcShapeError, self, f"x must be a sorted vector (1-d), got "
                              f"{x} of type {x.type}")
        inputs = [x, v]
        if sorter is not None:
            sorter = as_tensor_variable(sorter)
            if sorter.ndim != 1 or sorter.dtype not in INTEGER_DTYPES:
                raise build_error(ExprcTypeError, self, f"sorter must be an integer vector, "
                                  f"got {sorter} of type {sorter.type}")
            length, size = sorter.type.shape[0], x.type.shape[0]
            if None not in (length, size) and length != size:
                raise build_error(ExprcShapeError, self, f"sorter has {length} entries but x "
                                  f"has {size}")
            inputs.append(sorter)
        return Apply(self, inputs, [TensorType("int64", shape=v.type.shape)()])


def searchsorted(x: Any, v: Any, side: str = "left", sorter: Any = None):
    """Indices where the elements of ``v`` would be inserted into ``x`` to keep it sorted.

    Parameters
    ----------
    x : vector
        Sorted in ascending order (NaNs last), or put in that order by ``sorter``.
    v : tensor-like
        The values to insert; any shape.
    side : {'left', 'right'}
        For a value equal to elements of ``x``, the position before them ('left') or after
        them ('right').
    sorter : integer vector, optional
        The positions that sort ``x`` (typically ``argsort(x)``); an entry out of range is a
        ValueError at run time.

    Returns
    -------
    TensorVariable
        int64 positions in ``[0, len(x)]``, of the shape of ``v``.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> x = T.dvector('x')
    >>> T.searchsorted(x, [0.0, 2.0, 9.0]).eval({x: [1.0, 2.0, 3.0]})
    array([0, 1, 3])
    """
    op = SearchSorted(side)
    return op(x, v) if sorter is None else op(x, v, sorter)
