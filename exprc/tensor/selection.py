"""Selections, counts, sets and index arithmetic built from exprc's primitive ops, with
Theano's names and NumPy's semantics: ``nonzero``, ``flatnonzero``, ``nonzero_values``,
``compress``, ``choose``, ``bincount``, ``unique``, ``ravel_multi_index`` and
``unravel_index``.

Each is a composition of existing ops (masks and index arrays, sorting, indexed accumulation,
integer arithmetic), so it needs no rule of its own: it is exact and differentiable where its
parts are. Where the data makes an input wrong in a way NumPy reports (a negative count, an
index out of range) a :class:`exprc.tensor.extra_ops.RuntimeCheck` raises the same kind of
error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.tensor import math as tm
from exprc.tensor.basic import alloc, arange, concatenate, stack, zeros, zeros_like
from exprc.tensor.extra_ops import checked
from exprc.tensor.reduction import all as all_
from exprc.tensor.reduction import max as max_
from exprc.tensor.shape import as_shape_vector, flatten, reshape, static_int_values
from exprc.tensor.sort import argsort
from exprc.tensor.subtensor import inc_subtensor, set_subtensor, take
from exprc.tensor.type import INTEGER_DTYPES
from exprc.tensor.variable import TensorVariable, as_tensor_variable, constant

__all__ = ["bincount", "choose", "compress", "flatnonzero", "nonzero", "nonzero_values",
           "ravel_multi_index", "unique", "unravel_index"]


def _size(x: TensorVariable, axis: int):
    """The size of ``axis`` of ``x``: an ``int`` when static, else an int64 scalar."""
    static = x.type.shape[axis]
    return static if static is not None else x.shape[axis]


def _flat(a: TensorVariable) -> TensorVariable:
    return a if a.ndim == 1 else flatten(a.dimshuffle("x") if a.ndim == 0 else a)


def _nonzero_mask(flat: TensorVariable) -> TensorVariable:
    return flat if flat.dtype == "bool" else tm.neq(flat, 0)


def flatnonzero(a: Any):
    """The positions of the non-zero elements of ``a`` flattened (``np.flatnonzero``), int64.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> a = T.dmatrix('a')
    >>> T.flatnonzero(a).eval({a: [[0.0, 1.0], [2.0, 0.0]]})
    array([1, 2])
    """
    flat = _flat(as_tensor_variable(a))
    return arange(_size(flat, 0))[_nonzero_mask(flat)]


def nonzero(a: Any, return_matrix: bool = False):
    """The indices of the non-zero elements of ``a``, in C order (``np.nonzero``).

    Parameters
    ----------
    a : tensor of at least one dimension
    return_matrix : bool
        Return one int64 matrix (a row per axis) instead of a tuple of vectors.

    Returns
    -------
    tuple of TensorVariable or TensorVariable
        ``a[nonzero(a)]`` selects the non-zero elements.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> a = T.dmatrix('a')
    >>> [v.eval({a: [[0.0, 1.0], [2.0, 0.0]]}) for v in T.nonzero(a)]
    [array([0, 1]), array([1, 0])]
    """
    a = as_tensor_variable(a)
    if a.ndim == 0:
        raise build_error(ExprcShapeError, "nonzero", f"a must have at least one dimension, "
                          f"got the 0-d {a} (use flatnonzero, or a.reshape((1,)))")
    flat = flatnonzero(a)
    coords, stride = [], 1
    for axis in reversed(range(a.ndim)):
        size = _size(a, axis)
        coord = flat if stride == 1 else tm.int_div(flat, stride)
        coords.append(coord if axis == 0 else tm.mod(coord, size))
        stride = stride * size
    coords.reverse()
    return stack(coords) if return_matrix else tuple(coords)


def nonzero_values(a: Any):
    """The non-zero elements of ``a``, flattened in C order (a vector).

    Examples
    --------
    >>> import exprc.tensor as T
    >>> a = T.dmatrix('a')
    >>> T.nonzero_values(a).eval({a: [[0.0, 1.0], [2.0, 0.0]]})
    array([1., 2.])
    """
    flat = _flat(as_tensor_variable(a))
    return flat[_nonzero_mask(flat)]


def compress(condition: Any, x: Any, axis: int | None = None):
    """The slices of ``x`` along ``axis`` where ``condition`` is non-zero (``np.compress``).

    ``condition`` may be shorter than the axis (the rest is left out); a true entry past its
    end is an IndexError at run time. ``axis=None`` works on the flattened ``x``.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> x = T.dmatrix('x')
    >>> T.compress([0, 1], x, axis=1).eval({x: [[1.0, 2.0], [3.0, 4.0]]})
    array([[2.],
           [4.]])
    """
    condition = as_tensor_variable(condition)
    if condition.ndim != 1:
        raise build_error(ExprcShapeError, "compress", f"condition must be a vector, got "
                          f"{condition} of type {condition.type}")
    return take(x, flatnonzero(condition), axis=axis)


def choose(a: Any, choices: Any, out: Any = None, mode: str = "raise"):
    """Build a tensor by picking, for each position, the choice ``a`` names (``np.choose``).

    Parameters
    ----------
    a : integer tensor
        Which choice each element takes, in ``[0, n)``.
    choices : sequence of tensors, or a tensor
        The ``n`` choices (a tensor's first axis counts them); ``a`` and the choices broadcast
        together.
    out : None
        Accepted for NumPy's signature; a symbolic result has no output buffer.
    mode : {'raise', 'wrap', 'clip'}
        An entry of ``a`` out of range is a ValueError at run time ('raise'), taken modulo
        ``n`` ('wrap') or clipped to ``[0, n - 1]`` ('clip').

    Examples
    --------
    >>> import exprc.tensor as T
    >>> a = T.lvector('a')
    >>> T.choose(a, [[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]]).eval({a: [1, 0, 1]})
    array([10.,  2., 30.])
    """
    if out is not None:
        raise build_error(ExprcTypeError, "choose", "out= is not supported: the result is a "
                          "new symbolic tensor")
    if mode not in ("raise", "wrap", "clip"):
        raise build_error(ExprcTypeError, "choose", f"mode must be 'raise', 'wrap' or 'clip', "
                          f"got {mode!r}")
    a = as_tensor_variable(a)
    if a.dtype not in INTEGER_DTYPES:
        raise build_error(ExprcTypeError, "choose", f"a must be of an integer dtype, got {a} of "
                          f"type {a.type}")
    if not isinstance(choices, (list, tuple)):
        stacked = as_tensor_variable(choices)
        if stacked.ndim == 0:
            raise build_error(ExprcShapeError, "choose", "choices must be a sequence of "
                              f"tensors or a tensor of at least one dimension, got {stacked}")
        if stacked.type.shape[0] is None:
            return _choose_gather(a, stacked, mode)
        choices = [stacked[k] for k in range(stacked.type.shape[0])]
    choices = [as_tensor_variable(c) for c in choices]
    idx = _choice_index(a, len(choices), mode)
    result = choices[-1]
    for k in range(len(choices) - 2, -1, -1):
        result = tm.switch(tm.eq(idx, k), choices[k], result)
    return tm.fill(idx, result) if len(choices) == 1 else result


def _choice_index(a: TensorVariable, n: Any, mode: str) -> TensorVariable:
    idx = tm.cast(a, "int64")
    if mode == "wrap":
        return tm.mod(idx, n)
    if mode == "clip":
        return tm.clip(idx, 0, n - 1)
    return checked(idx, all_(tm.and_(tm.ge(idx, 0), tm.lt(idx, n))), "choice_out_of_range")


def _choose_gather(a: TensorVariable, stacked: TensorVariable, mode: str):
    """``choose`` with a number of choices known only at run time: one gather."""
    n = stacked.shape[0]
    idx = tm.fill(stacked[0], _choice_index(a, n, mode))  # the broadcast shape of the result
    shape = [idx.shape[d] for d in range(idx.ndim)]
    full = alloc(stacked.dimshuffle(0, *(["x"] * (idx.ndim - stacked.ndim + 1)),
                                    *range(1, stacked.ndim)), n, *shape)
    grids = [arange(shape[d]).dimshuffle(*[0 if j == d else "x" for j in range(idx.ndim)])
             for d in range(idx.ndim)]
    return full[(idx, *grids)]


def bincount(x: Any, weights: Any = None, minlength: Any = None, assert_nonneg: bool = False):
    """How many times each non-negative integer occurs in ``x`` (``np.bincount``).

    Parameters
    ----------
    x : integer vector
        Non-negative values (bool counts as 0 and 1); a negative one is a ValueError at run
        time (always checked, so Theano's ``assert_nonneg`` changes nothing).
    weights : vector, optional
        Adds ``weights[i]`` instead of 1 for ``x[i]``; as long as ``x``.
    minlength : int or integer scalar, optional
        The least number of bins.

    Returns
    -------
    TensorVariable
        A vector of ``max(max(x) + 1, minlength)`` bins: int64 counts, or the weights' sums
        (float32 for float32 weights, float64 otherwise, as NumPy).

    Examples
    --------
    >>> import exprc.tensor as T
    >>> x = T.lvector('x')
    >>> T.bincount(x, minlength=5).eval({x: [1, 1, 3]})
    array([0, 2, 0, 1, 0])
    """
    x = as_tensor_variable(x)
    if x.ndim != 1 or x.dtype not in INTEGER_DTYPES + ("bool",) or x.dtype == "uint64":
        raise build_error(ExprcTypeError, "bincount", f"x must be a vector of integers (not "
                          f"uint64, which int64 cannot hold), got {x} of type {x.type}")
    values = tm.cast(x, "int64")
    values = checked(values, all_(tm.ge(values, 0)), "bincount_negative")
    # An empty x has no maximum: the -1 appended makes its number of bins 0.
    bins = max_(concatenate([values, constant(np.array([-1], dtype="int64"))])) + 1
    if minlength is not None:
        bins = tm.maximum(bins, minlength)
    if weights is None:
        return inc_subtensor(zeros((bins,), dtype="int64")[values], 1)
    weights = as_tensor_variable(weights)
    if weights.ndim != 1:
        raise build_error(ExprcShapeError, "bincount", f"weights must be a vector as long as "
                          f"x, got {weights} of type {weights.type}")
    dtype = "float32" if weights.dtype == "float32" else "float64"
    return inc_subtensor(zeros((bins,), dtype=dtype)[values], tm.cast(weights, dtype))


def unique(ar: Any, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis: Any = None):
    """The sorted distinct elements of ``ar`` (``np.unique``), with NaNs counted as one.

    Parameters
    ----------
    ar : tensor-like
        Flattened first.
    return_index : bool
        Also return, for each distinct element, the position of its first occurrence in the
        flattened ``ar``.
    return_inverse : bool
        Also return, for each element of ``ar``, the position of its value among the distinct
        ones (with ``ar``'s shape, as NumPy 2; Theano's ``Unique`` gave a vector).
    return_counts : bool
        Also return how many times each distinct element occurs.
    axis : None
        Only None (the flattened array) is supported.

    Returns
    -------
    TensorVariable or tuple of TensorVariable
        The distinct elements (``ar``'s dtype), then the int64 outputs asked for, in the order
        of the parameters.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> x = T.dvector('x')
    >>> values, counts = T.unique(x, return_counts=True)
    >>> values.eval({x: [3.0, 1.0, 3.0]}), counts.eval({x: [3.0, 1.0, 3.0]})
    (array([1., 3.]), array([1, 2]))
    """
    if axis is not None:
        raise build_error(ExprcTypeError, "unique", f"axis={axis!r} is not supported; unique "
                          "works on the flattened array (axis=None)")
    ar = as_tensor_variable(ar)
    flat = ar if ar.ndim == 1 else flatten(ar.dimshuffle("x") if ar.ndim == 0 else ar)
    order = argsort(flat, kind="stable")
    ordered = flat[order]
    later, earlier = ordered[1:], ordered[:-1]
    changes = tm.neq(later, earlier)
    if flat.dtype.startswith("float"):  # NaNs sort last, and count as one value
        changes = tm.and_(changes, tm.invert(tm.and_(tm.isnan(later), tm.isnan(earlier))))
    # The first element starts a group (an empty array has none).
    starts = concatenate([tm.fill(ordered[:1], constant(True)), changes])
    outputs = [ordered[starts]]
    if return_index:
        outputs.append(order[starts])
    if return_inverse:
        group = starts.cumsum() - 1  # the cumsum of bools is int64
        inverse = set_subtensor(zeros_like(order)[order], group)
        outputs.append(inverse if ar.ndim == 1 else reshape(inverse, ar.shape))
    if return_counts:
        first = arange(flat.shape[0])[starts]
        ends = concatenate([first[1:], flat.shape[0].dimshuffle("x")])
        outputs.append(ends - first)
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def _dims(dims: Any, where: str) -> tuple[list, Any]:
    """``dims`` as int64 scalars (its length must be known), and a bool scalar saying that
    none is negative where that is known only at run time (else None)."""
    vector = as_shape_vector(dims, "dims", where)
    known = static_int_values(vector)
    if any(v is not None and v < 0 for v in known):
        raise build_error(ExprcShapeError, where, f"dims must be non-negative, got {dims!r}")
    sizes = [vector[i] for i in range(len(known))]
    unknown = [s for s, v in zip(sizes, known) if v is None]
    ok = all_(tm.ge(stack(unknown), 0)) if unknown else None
    return sizes, ok


def _strides(sizes: Sequence, order: str, where: str) -> list:
    """The number of elements one step along each axis skips, for C or Fortran order."""
    if order not in ("C", "F"):
        raise build_error(ExprcTypeError, where, f"order must be 'C' or 'F', got {order!r}")
    strides, step = [], constant(np.int64(1))
    axes = range(len(sizes) - 1, -1, -1) if order == "C" else range(len(sizes))
    for d in axes:
        strides.append((d, step))
        step = step * sizes[d]
    return [s for _, s in sorted(strides, key=lambda pair: pair[0])]


def _int_tensor(value: Any, what: str, where: str) -> TensorVariable:
    var = as_tensor_variable(value)
    if var.dtype not in INTEGER_DTYPES:
        raise build_error(ExprcTypeError, where, f"{what} must be of an integer dtype, got "
                          f"{var} of type {var.type}")
    return tm.cast(var, "int64")


def unravel_index(indices: Any, dims: Any, order: str = "C"):
    """The coordinates in an array of shape ``dims`` of the flat positions ``indices``
    (``np.unravel_index``).

    Parameters
    ----------
    indices : integer tensor
        Flat positions in ``[0, prod(dims))``; one out of range is a ValueError at run time.
    dims : sequence of ints and integer scalars, or an integer vector of known length
    order : {'C', 'F'}
        Row-major or column-major positions.

    Returns
    -------
    tuple of TensorVariable
        One int64 tensor per dimension, of the shape of ``indices``.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> i = T.lvector('i')
    >>> [c.eval({i: [5, 1]}) for c in T.unravel_index(i, (2, 3))]
    [array([1, 0]), array([2, 1])]
    """
    sizes, dims_ok = _dims(dims, "unravel_index")
    strides = _strides(sizes, order, "unravel_index")
    idx = _int_tensor(indices, "indices", "unravel_index")
    if dims_ok is not None:
        idx = checked(idx, dims_ok, "negative_dims")
    total = constant(np.int64(1))
    for size in sizes:
        total = total * size
    idx = checked(idx, all_(tm.and_(tm.ge(idx, 0), tm.lt(idx, total))), "index_out_of_range")
    outermost = 0 if order == "C" else len(sizes) - 1
    return tuple(tm.int_div(idx, stride) if d == outermost
                 else tm.mod(tm.int_div(idx, stride), size)
                 for d, (size, stride) in enumerate(zip(sizes, strides)))


def ravel_multi_index(multi_index: Any, dims: Any, mode: Any = "raise", order: str = "C"):
    """The flat positions in an array of shape ``dims`` of the coordinates ``multi_index``
    (``np.ravel_multi_index``).

    Parameters
    ----------
    multi_index : sequence of integer tensors, or an integer tensor (one row per dimension)
        The coordinates, broadcast together.
    dims : sequence of ints and integer scalars, or an integer vector of known length
    mode : {'raise', 'wrap', 'clip'} or a sequence of them (one per dimension)
        A coordinate out of range is a ValueError at run time ('raise'), taken modulo its
        size ('wrap') or clipped into range ('clip').
    order : {'C', 'F'}
        Row-major or column-major positions.

    Returns
    -------
    TensorVariable
        int64, of the broadcast shape of the coordinates.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> r, c = T.lvector('r'), T.lvector('c')
    >>> T.ravel_multi_index((r, c), (2, 3)).eval({r: [1, 0], c: [2, 1]})
    array([5, 1])
    """
    sizes, dims_ok = _dims(dims, "ravel_multi_index")
    if not isinstance(multi_index, (list, tuple)):
        stacked = as_tensor_variable(multi_index)
        if stacked.ndim == 0 or stacked.type.shape[0] is None:
            raise build_error(ExprcTypeError, "ravel_multi_index", "multi_index must be a "
                              "sequence of tensors or a tensor whose first axis has a known "
                              f"length, got {stacked} of type {stacked.type}")
        multi_index = [stacked[k] for k in range(stacked.type.shape[0])]
    if len(multi_index) != len(sizes):
        raise build_error(ExprcShapeError, "ravel_multi_index", f"multi_index has "
                          f"{len(multi_index)} coordinate arrays but dims has {len(sizes)} "
                          "dimensions")
    modes = [mode] * len(sizes) if isinstance(mode, str) else list(mode)
    if len(modes) != len(sizes) or any(m not in ("raise", "wrap", "clip") for m in modes):
        raise build_error(ExprcTypeError, "ravel_multi_index", f"mode must be 'raise', 'wrap' "
                          f"or 'clip', or one of those per dimension; got {mode!r}")
    strides = _strides(sizes, order, "ravel_multi_index")
    flat, in_range = None, None
    for coord, size, stride, m in zip(multi_index, sizes, strides, modes):
        coord = _int_tensor(coord, "multi_index", "ravel_multi_index")
        if m == "wrap":
            coord = tm.mod(coord, size)
        elif m == "clip":
            coord = tm.clip(coord, 0, size - 1)
        else:
            ok = all_(tm.and_(tm.ge(coord, 0), tm.lt(coord, size)))
            in_range = ok if in_range is None else tm.and_(in_range, ok)
        term = coord * stride
        flat = term if flat is None else flat + term
    if dims_ok is not None:
        flat = checked(flat, dims_ok, "negative_dims")
    if in_range is not None:
        flat = checked(flat, in_range, "coordinate_out_of_range")
    return flat
