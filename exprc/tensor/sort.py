"""Sorting along an axis: ``sort``, ``argsort``, and the permutation op their gradients use.

Sorting is always stable, so equal elements keep their order and ``argsort`` is deterministic.
NaNs sort last, as in NumPy. ``axis=None`` sorts the flattened array.
"""

from __future__ import annotations

from typing import Any

from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.graph.ir import Apply, Op
from exprc.tensor.params import int_param
from exprc.tensor.shape import flatten, normalize_axis
from exprc.tensor.type import INTEGER_DTYPES, TensorType
from exprc.tensor.variable import as_tensor_variable

__all__ = ["sort", "argsort"]

#: NumPy's sort kinds. exprc accepts them for compatibility and always sorts stably.
SORT_KINDS = (None, "quicksort", "mergesort", "heapsort", "stable")


def check_axis(op: Any, x: Any, axis: Any, what: str = "axis") -> int:
    """``axis`` as a non-negative axis of ``x``, or a build error naming the op and the rank.

    Like NumPy, negative axes count from the end; a 0-d ``x`` has no axis at all.
    """
    return normalize_axis(x.ndim, axis, op, x=x, what=what)


class Sort(Op):
    """The values of ``x`` sorted along ``axis`` (stably; NaNs last)."""

    __props__ = ("axis",)
    unconditional_shape = True

    def __init__(self, axis: int):
        self.axis = int_param("Sort", "axis", axis)

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        check_axis(self, x, self.axis)
        return Apply(self, [x], [x.type.clone()()])


class ArgSort(Op):
    """The int64 indices that sort ``x`` stably along ``axis``."""

    __props__ = ("axis",)
    unconditional_shape = True

    def __init__(self, axis: int):
        self.axis = int_param("ArgSort", "axis", axis)

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        check_axis(self, x, self.axis)
        return Apply(self, [x], [TensorType("int64", shape=x.type.shape)()])


class Permute(Op):
    """Reorder ``x`` along ``axis`` by ``perm``: ``out[..., i, ...] = x[..., perm[..., i, ...],
    ...]``, where every 1-d slice of ``perm`` along ``axis`` is a permutation.

    This is ``np.take_along_axis`` restricted to permutations, which makes its gradient another
    permutation (by the inverse) rather than a scatter. The gradients of :class:`Sort` and of
    this op are built from it.
    """

    __props__ = ("axis",)

    def __init__(self, axis: int):
        self.axis = int_param("Permute", "axis", axis)

    def make_node(self, x: Any, perm: Any) -> Apply:
        x = as_tensor_variable(x)
        perm = as_tensor_variable(perm)
        check_axis(self, x, self.axis)
        if perm.dtype not in INTEGER_DTYPES:
            raise build_error(ExprcTypeError, self,
                              f"perm must have an integer dtype, got {perm} of type {perm.type}")
        if perm.ndim != x.ndim:
            raise build_error(ExprcTypeError, self,
                              f"perm ({perm.type}) must have the rank of x ({x.type})")
        shape = []
        for axis, (a, b) in enumerate(zip(x.type.shape, perm.type.shape)):
            if a is not None and b is not None and a != b:
                raise build_error(ExprcShapeError, self,
                                  f"perm ({perm.type}) and x ({x.type}) differ in size on "
                                  f"axis {axis}: they must have the same shape")
            shape.append(a if a is not None else b)
        return Apply(self, [x, perm], [TensorType(x.dtype, shape=shape)()])


def permute(x: Any, perm: Any, axis: int = -1):
    """Reorder ``x`` along ``axis`` by the permutations in ``perm`` (same shape as ``x``).

    Parameters
    ----------
    x : tensor-like
    perm : integer tensor-like
        Each 1-d slice along ``axis`` must be a permutation of ``0..n-1`` (checked at run
        time).
    axis : int

    Returns
    -------
    TensorVariable
        ``np.take_along_axis(x, perm, axis)``.
    """
    return Permute(axis)(x, perm)


def _sort_input(a: Any, axis: Any, kind: Any, fname: str):
    if kind not in SORT_KINDS:
        raise ExprcTypeError(f"{fname}: kind must be one of {SORT_KINDS}, got {kind!r}")
    a = as_tensor_variable(a)
    if axis is None:
        return flatten(a), 0
    return a, axis


def sort(a: Any, axis: int | None = -1, kind: str | None = None):
    """Sort a tensor along an axis (NumPy's ``np.sort``).

    Parameters
    ----------
    a : tensor-like
    axis : int or None
        Axis to sort along (negative counts from the end); None sorts the flattened array.
    kind : str, optional
        Accepted for compatibility with NumPy ('quicksort', 'mergesort', 'heapsort',
        'stable'); the sort is always stable.

    Returns
    -------
    TensorVariable
        Same dtype as ``a``; NaNs come last.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> x = T.dvector('x')
    >>> T.sort(x).eval({x: [3.0, 1.0, 2.0]})
    array([1., 2., 3.])
    """
    a, axis = _sort_input(a, axis, kind, "sort")
    return Sort(axis)(a)


def argsort(a: Any, axis: int | None = -1, kind: str | None = None):
    """The indices that sort a tensor along an axis (NumPy's ``np.argsort``).

    Parameters
    ----------
    a : tensor-like
    axis : int or None
        Axis to sort along; None sorts the flattened array.
    kind : str, optional
        Accepted for compatibility; the sort is always stable, so ties keep their order.

    Returns
    -------
    TensorVariable
        int64 indices, of the shape of ``a`` (flattened when ``axis`` is None).

    Examples
    --------
    >>> import exprc.tensor as T
    >>> x = T.dvector('x')
    >>> T.argsort(x).eval({x: [3.0, 1.0, 1.0]})
    array([1, 2, 0])
    """
    a, axis = _sort_input(a, axis, kind, "argsort")
    return ArgSort(axis)(a)
