"""NumPy-style array functions built from exprc's primitive ops, with Theano's names.

Triangles and diagonals (``tri``, ``tril``, ``triu``, ``diag``, ``diagonal``,
``fill_diagonal``, ``fill_diagonal_offset``), rearrangements and grids (``roll``, ``mgrid``,
``ogrid``, ``inverse_permutation``), comparisons and ranges (``isclose``, ``allclose``,
``ptp``, ``largest``, ``smallest``) and the ``bartlett`` window; selections, counts and sets
are in :mod:`exprc.tensor.selection`.

Each is a composition of existing ops (comparisons of ``arange``s, ``switch``, slicing and
joins, indexing with arrays), so it needs no rule of its own: it is exact wherever its parts
are, differentiable through them, and compiled like any graph.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.tensor import math as tm
from exprc.tensor.basic import alloc, arange, concatenate, stack, zeros
from exprc.tensor.extra_ops import checked
from exprc.tensor.reduction import all as all_
from exprc.tensor.reduction import max as max_
from exprc.tensor.reduction import min as min_
from exprc.tensor.shape import (
    flatten,
    normalize_axis,
    reshape,
    static_int_values,
    transpose,
)
from exprc.tensor.sort import argsort
from exprc.tensor.subtensor import set_subtensor
from exprc.tensor.type import INTEGER_DTYPES, canonical_dtype
from exprc.tensor.variable import TensorVariable, as_tensor_variable, constant

__all__ = [
    "allclose", "bartlett", "diag", "diagonal", "fill_diagonal", "fill_diagonal_offset",
    "inverse_permutation", "isclose", "largest", "mgrid", "ogrid", "ptp", "roll", "smallest",
    "tri", "tril", "triu",
]


# --------------------------------------------------------------------------- helpers
def _size(x: TensorVariable, axis: int):
    """The size of ``axis`` of ``x``: an ``int`` when static, else an int64 scalar."""
    static = x.type.shape[axis]
    return static if static is not None else x.shape[axis]


def _int_arg(value: Any, what: str, where: str):
    """An integer argument: a Python ``int`` stays one, a 0-d integer tensor becomes int64."""
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool,
                                                                                   np.bool_)):
        return int(value)
    var = as_tensor_variable(value)
    if var.ndim != 0 or var.dtype not in INTEGER_DTYPES:
        raise build_error(ExprcTypeError, where, f"{what} must be an int or an integer scalar, "
                          f"got {value!r}")
    known = static_int_values(var)[0]
    return known if known is not None else tm.cast(var, "int64")


def _maximum(a, b):
    return max(a, b) if isinstance(a, int) and isinstance(b, int) else tm.maximum(a, b)


def _minimum(a, b):
    return min(a, b) if isinstance(a, int) and isinstance(b, int) else tm.minimum(a, b)


def _diagonal_start(offset) -> tuple:
    """The first row and column of diagonal ``offset`` (> 0 above the main one)."""
    return _maximum(-offset, 0), _maximum(offset, 0)


def _diagonal_length(rows, cols, offset):
    row0, col0 = _diagonal_start(offset)
    return _maximum(_minimum(rows - row0, cols - col0), 0)


def _value_for(a: TensorVariable, value: Any, where: str) -> TensorVariable:
    """``value`` as a 0-d tensor of ``a``'s dtype: Python numbers take it when they fit, a
    tensor must cast to it without loss (Theano's rule for the filled value)."""
    if isinstance(value, numbers.Number) and not isinstance(value, np.generic):
        try:
            return constant(value, dtype=a.dtype)
        except ExprcTypeError as exc:
            raise build_error(ExprcTypeError, where, str(exc)) from None
    var = as_tensor_variable(value)
    if var.ndim != 0:
        raise build_error(ExprcShapeError, where, f"val must be a scalar, got {var} of type "
                          f"{var.type}")
    if not np.can_cast(var.dtype, a.dtype, "safe"):
        raise build_error(ExprcTypeError, where, f"val {var} of dtype {var.dtype} cannot be "
                          f"written into a of dtype {a.dtype} without loss; cast it first")
    return tm.cast(var, a.dtype)


def _two_d(a: Any, where: str, at_least: bool = True) -> TensorVariable:
    a = as_tensor_variable(a)
    if a.ndim < 2 or (not at_least and a.ndim != 2):
        want = "at least 2 dimensions" if at_least else "2 dimensions"
        raise build_error(ExprcShapeError, where, f"the input must have {want}, got {a} of "
                          f"type {a.type}")
    return a


# --------------------------------------------------------------------------- triangles
def tri(N: Any, M: Any = None, k: Any = 0, dtype: Any = None):
    """An ``N`` x ``M`` matrix with ones at and below diagonal ``k`` and zeros above.

    Parameters
    ----------
    N, M : int or integer scalar
        Rows and columns (``M`` defaults to ``N``).
    k : int or integer scalar
        The diagonal: 0 the main one, > 0 above it, < 0 below it.
    dtype : dtype, optional
        Default ``config.floatX``.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> T.tri(3, 4, k=1, dtype='int8').eval()
    array([[1, 1, 0, 0],
           [1, 1, 1, 0],
           [1, 1, 1, 1]], dtype=int8)
    """
    rows, cols = arange(N), arange(N if M is None else M)
    mask = tm.ge(rows.dimshuffle(0, "x") + k, cols.dimshuffle("x", 0))
    return tm.cast(mask, canonical_dtype(dtype))


def _triangle(m: Any, k: Any, lower: bool, where: str):
    m = _two_d(m, where)
    rows = arange(_size(m, -2)).dimshuffle(0, "x") + k
    cols = arange(_size(m, -1)).dimshuffle("x", 0)
    keep = tm.ge(rows, cols) if lower else tm.le(rows, cols)
    return tm.switch(keep, m, constant(0, dtype=m.dtype))


def tril(m: Any, k: Any = 0):
    """``m`` with the entries above diagonal ``k`` of its last two axes set to zero
    (``np.tril``); the kept entries are untouched (an infinity stays one).

    Examples
    --------
    >>> import numpy as np, exprc.tensor as T
    >>> m = T.dmatrix('m')
    >>> T.tril(m).eval({m: np.ones((2, 3))})
    array([[1., 0., 0.],
           [1., 1., 0.]])
    """
    return _triangle(m, k, True, "tril")


def triu(m: Any, k: Any = 0):
    """``m`` with the entries below diagonal ``k`` of its last two axes set to zero
    (``np.triu``).

    Examples
    --------
    >>> import numpy as np, exprc.tensor as T
    >>> m = T.dmatrix('m')
    >>> T.triu(m, k=1).eval({m: np.ones((2, 3))})
    array([[0., 1., 1.],
           [0., 0., 1.]])
    """
    return _triangle(m, k, False, "triu")


# --------------------------------------------------------------------------- diagonals
def diagonal(a: Any, offset: Any = 0, axis1: int = 0, axis2: int = 1):
    """The diagonal ``offset`` of the axes ``axis1`` and ``axis2`` of ``a`` (``np.diagonal``).

    The result has the other axes first, in order, and the diagonal last; it is a copy.

    Examples
    --------
    >>> import numpy as np, exprc.tensor as T
    >>> a = T.dmatrix('a')
    >>> T.diagonal(a, 1).eval({a: np.arange(9.0).reshape(3, 3)})
    array([1., 5.])
    """
    a = _two_d(a, "diagonal")
    axis1 = normalize_axis(a.ndim, axis1, "diagonal", x=a, what="axis1")
    axis2 = normalize_axis(a.ndim, axis2, "diagonal", x=a, what="axis2")
    if axis1 == axis2:
        raise build_error(ExprcShapeError, "diagonal", f"axis1 and axis2 are both axis {axis1}")
    offset = _int_arg(offset, "offset", "diagonal")
    moved = transpose(a, [d for d in range(a.ndim) if d not in (axis1, axis2)] + [axis1, axis2])
    row0, col0 = _diagonal_start(offset)
    idx = arange(_diagonal_length(_size(moved, -2), _size(moved, -1), offset))
    return moved[Ellipsis, idx + row0, idx + col0]


def diag(v: Any, k: Any = 0):
    """A diagonal matrix from a vector, or the diagonal of a matrix (``np.diag``).

    Parameters
    ----------
    v : vector or matrix
        A vector gives a square matrix with ``v`` on diagonal ``k`` and zeros elsewhere; a
        matrix gives its diagonal ``k`` as a vector.
    k : int or integer scalar
        The diagonal: 0 the main one, > 0 above it, < 0 below it.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> v = T.dvector('v')
    >>> T.diag(v, k=-1).eval({v: [1.0, 2.0]})
    array([[0., 0., 0.],
           [1., 0., 0.],
           [0., 2., 0.]])
    """
    v = as_tensor_variable(v)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise build_error(ExprcShapeError, "diag", f"v must be a vector or a matrix, got {v} of "
                          f"type {v.type}")
    k = _int_arg(k, "k", "diag")
    n = _size(v, 0)
    size = n + (abs(k) if isinstance(k, int) else tm.abs(k))
    row0, col0 = _diagonal_start(k)
    idx = arange(n)
    return set_subtensor(zeros((size, size), dtype=v.dtype)[idx + row0, idx + col0], v)


def fill_diagonal(a: Any, val: Any):
    """A copy of ``a`` with its main diagonal set to the scalar ``val`` (Theano's
    ``fill_diagonal``).

    Parameters
    ----------
    a : tensor of at least 2 dimensions
        A matrix may be rectangular (its first ``min(rows, cols)`` diagonal entries are set;
        no wrapping); a tensor of more dimensions must have them all equal.
    val : scalar
        Must cast to ``a``'s dtype without loss.

    Examples
    --------
    >>> import numpy as np, exprc.tensor as T
    >>> a = T.dmatrix('a')
    >>> T.fill_diagonal(a, 5.0).eval({a: np.zeros((3, 2))})
    array([[5., 0.],
           [0., 5.],
           [0., 0.]])
    """
    a = _two_d(a, "fill_diagonal")
    val = _value_for(a, val, "fill_diagonal")
    sizes = [_size(a, d) for d in range(a.ndim)]
    if a.ndim == 2:
        n = _minimum(*sizes)
    else:
        n = sizes[0]
        if all(isinstance(s, int) for s in sizes):
            if len(set(sizes)) > 1:
                raise build_error(ExprcShapeError, "fill_diagonal", f"an array of more than "
                                  f"two dimensions must have them all equal, got {a.type}")
        else:
            ok = all_(stack([tm.eq(a.shape[d], a.shape[0]) for d in range(1, a.ndim)]))
            a = checked(a, ok, "unequal_dimensions")
    idx = arange(n)
    return set_subtensor(a[(idx,) * a.ndim], val)


def fill_diagonal_offset(a: Any, val: Any, offset: Any):
    """A copy of the matrix ``a`` with its diagonal ``offset`` (> 0 above the main one, < 0
    below) set to the scalar ``val`` (Theano's ``fill_diagonal_offset``; no wrapping).

    Examples
    --------
    >>> import numpy as np, exprc.tensor as T
    >>> a = T.dmatrix('a')
    >>> T.fill_diagonal_offset(a, 1.0, -1).eval({a: np.zeros((3, 3))})
    array([[0., 0., 0.],
           [1., 0., 0.],
           [0., 1., 0.]])
    """
    a = _two_d(a, "fill_diagonal_offset", at_least=False)
    val = _value_for(a, val, "fill_diagonal_offset")
    offset = _int_arg(offset, "offset", "fill_diagonal_offset")
    row0, col0 = _diagonal_start(offset)
    idx = arange(_diagonal_length(_size(a, 0), _size(a, 1), offset))
    return set_subtensor(a[idx + row0, idx + col0], val)


# --------------------------------------------------------------------------- rearranging
def roll(x: Any, shift: Any, axis: Any = None):
    """``x`` with its elements shifted ``shift`` places along ``axis``, those pushed off one
    end coming back at the other (``np.roll``).

    Parameters
    ----------
    x : tensor-like
    shift : int, integer scalar, or a sequence of them
        Places to shift (negative shifts go the other way); symbolic shifts are fine.
    axis : int, sequence of ints, or None
        None rolls the flattened tensor and restores its shape. With sequences, each shift
        applies to its axis (a single shift or axis is repeated, as in NumPy).

    Examples
    --------
    >>> import exprc.tensor as T
    >>> x = T.dvector('x')
    >>> T.roll(x, 1).eval({x: [1.0, 2.0, 3.0]})
    array([3., 1., 2.])
    """
    x = as_tensor_variable(x)
    if axis is None:
        flat = x if x.ndim == 1 else flatten(x)
        return reshape(roll(flat, shift, 0), x.shape) if x.ndim != 1 else roll(flat, shift, 0)
    shifts = list(shift) if isinstance(shift, (list, tuple)) else [shift]
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    if len(shifts) != len(axes) and 1 not in (len(shifts), len(axes)):
        raise build_error(ExprcShapeError, "roll", f"shift {shift!r} and axis {axis!r} do not "
                          f"match: give one shift per axis")
    for s, ax in zip(shifts * (len(axes) if len(shifts) == 1 else 1),
                     axes * (len(shifts) if len(axes) == 1 else 1)):
        ax = normalize_axis(x.ndim, ax, "roll", x=x)
        s, n = _int_arg(s, "shift", "roll"), _size(x, ax)
        if isinstance(s, int) and isinstance(n, int):
            cut = n - s % n if n else 0
        else:  # a size of 0 gives a cut at 0: mod by zero is 0 in exprc
            cut = n - tm.mod(s, n)
        before = (slice(None),) * ax
        x = concatenate([x[before + (slice(cut, None),)], x[before + (slice(None, cut),)]], ax)
    return x


def inverse_permutation(perm: Any):
    """The inverse of the permutations along the last axis of ``perm`` (of ``0..n-1``):
    ``out[..., perm[..., i]] = i``, in ``perm``'s dtype.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> p = T.lvector('p')
    >>> T.inverse_permutation(p).eval({p: [2, 0, 1]})
    array([1, 2, 0])
    """
    perm = as_tensor_variable(perm)
    if perm.dtype not in INTEGER_DTYPES or perm.ndim == 0:
        raise build_error(ExprcTypeError, "inverse_permutation", f"perm must be an integer "
                          f"tensor of at least one dimension, got {perm} of type {perm.type}")
    # The positions that sort a permutation are its inverse.
    return tm.cast(argsort(perm, axis=-1), perm.dtype)


class _Grid:
    """``mgrid`` (dense) and ``ogrid`` (open): index with slices to get coordinate grids."""

    def __init__(self, sparse: bool):
        self.sparse = sparse

    def __getitem__(self, key: Any):
        name = "ogrid" if self.sparse else "mgrid"
        slices = key if isinstance(key, tuple) else (key,)
        ranges = [self._range(sl, name) for sl in slices]
        dtype = np.result_type(*(r.dtype for r in ranges)).name  # NumPy upcasts them all
        ranges = [tm.cast(r, dtype) for r in ranges]
        if not isinstance(key, tuple):
            return ranges[0]
        grids = []
        for i, r in enumerate(ranges):
            grid = r.dimshuffle(*[0 if j == i else "x" for j in range(len(ranges))])
            grids.append(grid if self.sparse else alloc(grid, *[q.shape[0] for q in ranges]))
        return grids

    @staticmethod
    def _range(sl: Any, name: str):
        if not isinstance(sl, slice) or sl.stop is None:
            raise build_error(ExprcTypeError, name, f"index with slices that have a stop, such "
                              f"as {name}[0:5, 0:3]; got {sl!r}")
        start = 0 if sl.start is None else sl.start
        step = 1 if sl.step is None else sl.step
        if not isinstance(step, complex):
            return arange(start, sl.stop, step)
        # A complex step counts points, both ends included: mgrid[0:1:5j].
        num = int(abs(step))
        spacing = tm.true_div(tm.sub(sl.stop, start), max(num - 1, 1))
        return tm.add(start, tm.mul(arange(num, dtype="float64"), spacing))


#: Dense coordinate grids: ``mgrid[0:2, 0:3]`` is two 2x3 integer matrices (rows, columns).
mgrid = _Grid(sparse=False)
#: Open coordinate grids: ``ogrid[0:2, 0:3]`` is a 2x1 and a 1x3 matrix.
ogrid = _Grid(sparse=True)


# --------------------------------------------------------------------------- comparing
def isclose(a: Any, b: Any, rtol: Any = 1e-05, atol: Any = 1e-08, equal_nan: bool = False):
    """Where ``a`` and ``b`` are equal within ``atol + rtol * |b|`` (``np.isclose``).

    Infinities are close only to the same infinity; NaNs only to each other, and only with
    ``equal_nan``. Integers are compared as float64.

    Returns
    -------
    TensorVariable
        bool, of the broadcast shape.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> a = T.dvector('a')
    >>> T.isclose(a, [1.0, 2.0]).eval({a: [1.0 + 1e-9, 2.1]})
    array([ True, False])
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    dtype = np.result_type(a.dtype, b.dtype, np.float32).name
    if dtype not in ("float32", "float64"):
        dtype = "float64"
    x, y = tm.cast(a, dtype), tm.cast(b, dtype)
    finite_y = tm.invert(tm.or_(tm.isinf(y), tm.isnan(y)))
    close = tm.and_(tm.le(tm.abs(x - y), atol + rtol * tm.abs(y)), finite_y)
    close = tm.or_(close, tm.eq(x, y))
    if equal_nan:
        close = tm.or_(close, tm.and_(tm.isnan(x), tm.isnan(y)))
    return close


def allclose(a: Any, b: Any, rtol: Any = 1e-05, atol: Any = 1e-08, equal_nan: bool = False):
    """Whether every element of ``a`` is close to ``b`` (a bool scalar; see :func:`isclose`).

    Examples
    --------
    >>> import exprc.tensor as T
    >>> a = T.dvector('a')
    >>> T.allclose(a, 1.0).eval({a: [1.0, 1.0 + 1e-12]})
    array(True)
    """
    return all_(isclose(a, b, rtol, atol, equal_nan))


def ptp(a: Any, axis: Any = None, keepdims: bool = False):
    """The range ``max - min`` along ``axis`` ("peak to peak", ``np.ptp``).

    Examples
    --------
    >>> import exprc.tensor as T
    >>> a = T.dvector('a')
    >>> T.ptp(a).eval({a: [3.0, -1.0, 2.0]})
    array(4.)
    """
    return max_(a, axis, keepdims) - min_(a, axis, keepdims)


def _extreme(args: tuple, combine, name: str):
    if not args:
        raise build_error(ExprcTypeError, name, "needs at least one argument")
    out = as_tensor_variable(args[0])
    for arg in args[1:]:
        out = combine(out, arg)
    return out


def largest(*args: Any):
    """The elementwise maximum of any number of tensors, broadcast together (NaN wins)."""
    return _extreme(args, tm.maximum, "largest")


def smallest(*args: Any):
    """The elementwise minimum of any number of tensors, broadcast together (NaN wins)."""
    return _extreme(args, tm.minimum, "smallest")


# --------------------------------------------------------------------------- windows
def bartlett(M: Any):
    """The Bartlett (triangular) window of ``M`` points (``np.bartlett``), float64.

    ``M`` is an integer scalar; ``M <= 0`` gives an empty vector and ``M == 1`` a single 1.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> T.bartlett(5).eval()
    array([0. , 0.5, 1. , 0.5, 0. ])
    """
    m = _int_arg(M, "M", "bartlett")
    n = tm.cast(arange(1 - m, m, 2), "float64")
    # M == 1 gives n = [0], whose weight 1 needs no division by M - 1 = 0.
    return 1.0 - tm.abs(n) / tm.cast(_maximum(m - 1, 1), "float64")
