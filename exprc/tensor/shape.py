"""Ops that read or change the shape of a tensor without changing its values.

Three ops carry this family: :class:`Shape` (read the run-time shape), :class:`Reshape` (lay
the same elements out in another shape) and :class:`SpecifyShape` (state static sizes, checked
at run time). Everything else here (transposes, squeezes, padding with axes of size 1,
broadcastable-pattern changes) is a :class:`~exprc.tensor.elemwise.DimShuffle` or a
``SpecifyShape``, so it needs no rules of its own.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.graph.ir import Apply, Constant, Op, Variable
from exprc.tensor.elemwise import DimShuffle, Elemwise
from exprc.tensor.math import cast
from exprc.tensor.params import int_param, int_tuple
from exprc.tensor.type import INTEGER_DTYPES, TensorType
from exprc.tensor.variable import TensorVariable, as_tensor_variable, constant

__all__ = [
    "Reshape", "Shape", "SpecifyShape", "addbroadcast", "dimshuffle", "flatten",
    "patternbroadcast", "reshape", "shape", "shape_padaxis", "shape_padleft", "shape_padright",
    "specify_shape", "squeeze", "swapaxes", "transpose", "unbroadcast",
]


def _construction():
    # exprc.tensor.basic (stack, split) builds on this module, so it is looked up at call time.
    from exprc.tensor import basic

    return basic


class Shape(Op):
    """The run-time shape of a tensor, as an int64 vector of length ``ndim``."""

    unconditional_shape = True

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", shape=(x.ndim,))()])


_shape = Shape()


def shape(x: Any):
    """``x.shape``: the symbolic shape of ``x`` (an int64 vector; index it for one size)."""
    return _shape(x)


# --------------------------------------------------------------------------- static values
def static_int_values(var: Variable) -> list[int | None]:
    """What is known at graph-building time of the entries of a 0-d or 1-d integer tensor.

    Returns one entry per element (one for a 0-d tensor): an ``int`` where the value is known,
    None where it is not. Looks through the graphs that shape arguments are made of (constants,
    ``Shape`` of a tensor with static sizes, stacks, joins and splits of such vectors, products
    and sums of sizes), so that e.g. ``reshape(g, x.shape)`` keeps the static sizes of ``x``.
    The vector must have a static length.
    """
    length = 1 if var.ndim == 0 else var.type.shape[0]
    unknown = [None] * length
    if isinstance(var, Constant):
        return [int(v) for v in np.asarray(var.data).reshape(-1)]
    node = var.owner
    if node is None:
        return unknown
    op, basic = node.op, _construction()
    if isinstance(op, Shape):
        return list(node.inputs[0].type.shape)
    if isinstance(op, DimShuffle) or (isinstance(op, Reshape) and var.ndim <= 1
                                      and node.inputs[0].ndim <= 1):
        # A 0-d <-> length-1 change of rank keeps the single value.
        inner = node.inputs[0]
        if inner.ndim <= 1 and inner.type.shape[:1] in ((), (1,)):
            return static_int_values(inner)
        return unknown
    if isinstance(op, basic.Join) and op.axis == 0:
        return [v for part in node.inputs for v in static_int_values(part)]
    if isinstance(op, basic.Split):
        whole, splits = node.inputs
        if None in (whole.type.shape[0], splits.type.shape[0]):
            return unknown
        sizes = static_int_values(splits)
        if None in sizes:
            return unknown
        start = sum(sizes[:var.index])
        return static_int_values(whole)[start:start + sizes[var.index]]
    if isinstance(op, Elemwise) and op.scalar_op.name in ("mul", "add") \
            and all(i.type.shape == var.type.shape for i in node.inputs):
        combine = math.prod if op.scalar_op.name == "mul" else sum
        columns = zip(*(static_int_values(i) for i in node.inputs))
        return [None if None in c else int(combine(c)) for c in columns]
    if isinstance(op, Elemwise) and op.scalar_op.rule == "cast" \
            and op.scalar_op.out_dtype == "int64":
        return static_int_values(node.inputs[0])
    return unknown


def as_shape_vector(entries: Any, what: str, op: Any) -> TensorVariable:
    """A shape argument (int, sequence of ints and 0-d integer tensors, or an integer vector)
    as an int64 vector; ``what`` names the argument in errors."""
    if isinstance(entries, (numbers.Integral, TensorVariable)) and not isinstance(entries, bool):
        entries = entries if getattr(entries, "ndim", 0) == 1 else [entries]
    if isinstance(entries, TensorVariable):
        _check_int(entries, what, op)
        if entries.type.shape[0] is None:
            raise build_error(ExprcShapeError, op, f"{what} {entries} has an unknown length; "
                              "give its length (ndim=) or a tuple of sizes")
        return _int64(entries)
    if not isinstance(entries, (list, tuple, np.ndarray)):
        raise build_error(ExprcTypeError, op, f"{what} must be an int, a sequence of ints and "
                          f"integer scalars, or an integer vector; got {entries!r}")
    items = []
    for k, e in enumerate(entries):
        if isinstance(e, (numbers.Integral, np.integer)) and not isinstance(e, (bool, np.bool_)):
            items.append(int(e))
        elif isinstance(e, TensorVariable) and e.ndim == 0:
            _check_int(e, f"{what}[{k}]", op)
            items.append(_int64(e))
        else:
            raise build_error(ExprcTypeError, op, f"{what}[{k}] must be an int or a 0-d "
                              f"integer tensor, got {e!r}")
    if all(isinstance(e, int) for e in items):
        return constant(np.array(items, dtype="int64").reshape(len(items)))
    return _construction().stack([e if isinstance(e, Variable) else constant(e) for e in items])


def _check_int(var: TensorVariable, what: str, op: Any) -> None:
    if var.dtype not in INTEGER_DTYPES or var.ndim > 1:
        raise build_error(ExprcTypeError, op, f"{what} must be an integer scalar or vector, "
                          f"got {var} of type {var.type}")


def times(a: Any, b: Any) -> Any:
    """The product of two sizes (ints or 0-d integer tensors), adding no node for a 1."""
    if isinstance(a, int) and a == 1:
        return b
    if isinstance(b, int) and b == 1:
        return a
    return a * b


def _int64(var: TensorVariable) -> TensorVariable:
    return cast(var, "int64")


# --------------------------------------------------------------------------- Reshape
class Reshape(Op):
    """The elements of ``x`` (in C order) laid out in the shape given by an integer vector.

    ``ndim`` is the length of that vector, i.e. the output rank. At most one entry may be -1;
    it stands for whatever size makes the element counts agree, as in NumPy.
    """

    __props__ = ("ndim",)
    view_map: ClassVar = {0: [0]}

    def __init__(self, ndim: int):
        self.ndim = int_param("Reshape", "ndim", ndim)

    def make_node(self, x: Any, newshape: Any) -> Apply:
        x = as_tensor_variable(x)
        newshape = as_tensor_variable(newshape)
        if newshape.ndim != 1 or newshape.dtype not in INTEGER_DTYPES:
            raise build_error(ExprcTypeError, self, f"the shape input must be an integer "
                              f"vector, got {newshape} of type {newshape.type}")
        if newshape.type.shape[0] not in (None, self.ndim):
            raise build_error(ExprcShapeError, self, f"the shape input {newshape} has "
                              f"{newshape.type.shape[0]} entries for an output of rank "
                              f"{self.ndim}")
        known_length = newshape.type.shape[0] is not None
        sizes = static_int_values(newshape) if known_length else [None] * self.ndim
        out_shape = self._static_shape(x, sizes)
        return Apply(self, [x, newshape], [TensorType(x.dtype, shape=out_shape)()])

    def _static_shape(self, x: TensorVariable, sizes: list[int | None]) -> tuple:
        if any(s is not None and s < -1 for s in sizes) or sizes.count(-1) > 1:
            raise build_error(ExprcShapeError, self, f"invalid target shape {format_shape(sizes)}: "
                              "sizes must be >= 0, with at most one -1")
        known_in = None if None in x.type.shape else math.prod(x.type.shape)
        rest = [s for s in sizes if s != -1]
        if known_in is None or None in rest:
            return tuple(None if s == -1 else s for s in sizes)
        if -1 not in sizes and math.prod(rest) == known_in:
            return tuple(sizes)
        if -1 in sizes and math.prod(rest) and known_in % math.prod(rest) == 0:
            return tuple(known_in // math.prod(rest) if s == -1 else s for s in sizes)
        raise build_error(ExprcShapeError, self, f"cannot reshape {x} of static shape "
                          f"{format_shape(x.type.shape)} ({known_in} elements) into shape "
                          f"{format_shape(sizes)}")


def reshape(x: Any, newshape: Any, ndim: int | None = None):
    """The elements of ``x`` (in C order) in the shape ``newshape``.

    Parameters
    ----------
    x : tensor-like
    newshape : int, sequence of ints and 0-d integer tensors, or integer vector
        The target shape. One entry may be -1: its size is inferred from the others.
    ndim : int, optional
        The output rank; needed only when ``newshape`` is a vector of unknown length.

    Returns
    -------
    TensorVariable
        Static sizes are known where ``newshape``'s entries are constants (or are read from
        the static shape of another tensor). A size mismatch found at run time raises an
        error naming both shapes.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> T.reshape(T.matrix('x'), (-1,)).type
    TensorType(float64, (?,))
    >>> T.reshape(T.tensor(shape=(2, 6)), (3, -1)).type
    TensorType(float64, (3, 4))
    """
    x = as_tensor_variable(x)
    if isinstance(newshape, TensorVariable) and newshape.ndim == 1 \
            and newshape.type.shape[0] is None and ndim is not None:
        # The length is checked when the graph runs.
        _check_int(newshape, "newshape", "reshape")
        return Reshape(ndim)(x, _int64(newshape))
    vector = as_shape_vector(newshape, "newshape", "reshape")
    length = vector.type.shape[0]
    if ndim is not None and ndim != length:
        raise build_error(ExprcShapeError, "reshape", f"ndim={ndim} but newshape {newshape} "
                          f"has {length} entries")
    return Reshape(length)(x, vector)


def flatten(x: Any, ndim: int = 1):
    """Keep the first ``ndim - 1`` axes of ``x`` and collapse the others into one (Theano's).

    Parameters
    ----------
    x : tensor-like
    ndim : int
        Rank of the result, between 1 and ``x.ndim`` (1 for a 0-d ``x``).

    Examples
    --------
    >>> import exprc.tensor as T
    >>> T.flatten(T.tensor(shape=(2, 3, 4)), 2).type
    TensorType(float64, (2, 12))
    """
    x = as_tensor_variable(x)
    if isinstance(ndim, bool) or not isinstance(ndim, (int, np.integer)) \
            or not 1 <= ndim <= max(x.ndim, 1):
        raise build_error(ExprcShapeError, "flatten", f"ndim must be between 1 and "
                          f"{max(x.ndim, 1)} for {x} of type {x.type}, got {ndim!r}")
    sizes = _construction().shape_list(x)
    collapsed = 1
    for size in sizes[ndim - 1:]:
        collapsed = times(collapsed, size)
    return reshape(x, sizes[:ndim - 1] + [collapsed])


# --------------------------------------------------------------------------- SpecifyShape
class SpecifyShape(Op):
    """``x`` itself, with the static sizes ``shape`` (int or None per axis).

    The output type is exactly ``TensorType(x.dtype, shape)``: sizes may be added (checked at
    run time) or forgotten (None). A known size of ``x`` that contradicts ``shape`` is an error
    when the graph is built.
    """

    __props__ = ("shape",)
    view_map: ClassVar = {0: [0]}

    def __init__(self, shape: Sequence[int | None]):
        self.shape = int_tuple("SpecifyShape", "shape", shape, optional=True)

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if x.ndim != len(self.shape):
            raise build_error(ExprcShapeError, self, f"{x} of type {x.type} has rank {x.ndim}, "
                              f"but the specified shape {format_shape(self.shape)} has rank "
                              f"{len(self.shape)}")
        for axis, (have, want) in enumerate(zip(x.type.shape, self.shape)):
            if None not in (have, want) and have != want:
                raise build_error(ExprcShapeError, self, f"{x} has static size {have} on axis "
                                  f"{axis} (type {x.type}), not the specified {want}")
        return Apply(self, [x], [TensorType(x.dtype, shape=self.shape)()])


def specify_shape(x: Any, shape: Sequence[int | None]):
    """``x`` with the static shape ``shape`` (int or None per axis), checked at run time.

    The result's type is exactly ``TensorType(x.dtype, shape)``; a None forgets what was
    known of that axis. Returns ``x`` itself when its type is already that.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> T.specify_shape(T.matrix('x'), (None, 3)).type
    TensorType(float64, (?, 3))
    """
    x = as_tensor_variable(x)
    if not isinstance(shape, (list, tuple)) or any(
            s is not None and (isinstance(s, bool) or not isinstance(s, (int, np.integer))
                               or s < 0) for s in shape):
        raise build_error(ExprcTypeError, "specify_shape", f"shape must be a tuple of "
                          f"non-negative ints or None, got {shape!r}")
    if tuple(shape) == x.type.shape:
        return x
    return SpecifyShape(shape)(x)


def addbroadcast(x: Any, *axes: int):
    """``x`` with the given axes statically of size 1 (checked at run time)."""
    x = as_tensor_variable(x)
    chosen = _axes(x.ndim, axes, "addbroadcast")
    return specify_shape(x, [1 if a in chosen else s for a, s in enumerate(x.type.shape)])


def unbroadcast(x: Any, *axes: int):
    """``x`` with the given axes no longer statically known to have size 1."""
    x = as_tensor_variable(x)
    chosen = _axes(x.ndim, axes, "unbroadcast")
    return specify_shape(x, [None if a in chosen and s == 1 else s
                             for a, s in enumerate(x.type.shape)])


def patternbroadcast(x: Any, broadcastable: Sequence[bool]):
    """``x`` whose axes are statically of size 1 exactly where ``broadcastable`` is True."""
    x = as_tensor_variable(x)
    if len(broadcastable) != x.ndim:
        raise build_error(ExprcShapeError, "patternbroadcast", f"pattern {broadcastable} has "
                          f"{len(broadcastable)} entries for {x} of rank {x.ndim}")
    return specify_shape(x, [1 if b else (None if s == 1 else s)
                             for b, s in zip(broadcastable, x.type.shape)])


# --------------------------------------------------------------------------- DimShuffles
def dimshuffle(x: Any, pattern: Sequence[int | str]):
    """Reorder the axes of ``x``, insert new axes of size 1 (``'x'``), drop axes of size 1.

    Parameters
    ----------
    x : tensor-like
    pattern : sequence of int or 'x'
        For each output axis, the input axis it takes or ``'x'``. Input axes not listed are
        dropped and must have size 1.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> T.dimshuffle(T.matrix('x'), (1, 'x', 0)).type
    TensorType(float64, (?, 1, ?))
    """
    if not isinstance(pattern, (list, tuple)):
        raise build_error(ExprcTypeError, "dimshuffle", f"pattern must be a sequence of ints "
                          f"and 'x', got {pattern!r}")
    return DimShuffle(pattern)(as_tensor_variable(x))


def transpose(x: Any, axes: Sequence[int] | None = None):
    """Permute the axes of ``x``; by default reverse them (``x.T``).

    Parameters
    ----------
    x : tensor-like
    axes : sequence of int, optional
        A permutation of ``range(x.ndim)``; negative axes count from the end.
    """
    x = as_tensor_variable(x)
    if axes is None:
        return DimShuffle(tuple(reversed(range(x.ndim))))(x)
    perm = _axes(x.ndim, axes, "transpose")
    if len(perm) != x.ndim or len(axes) != x.ndim:
        raise build_error(ExprcShapeError, "transpose", f"axes {tuple(axes)} is not a "
                          f"permutation of the {x.ndim} axes of {x}")
    return DimShuffle(perm)(x)


def swapaxes(x: Any, axis1: int, axis2: int):
    """``x`` with axes ``axis1`` and ``axis2`` exchanged."""
    x = as_tensor_variable(x)
    a, b = (normalize_axis(x.ndim, axis, "swapaxes") for axis in (axis1, axis2))
    order = list(range(x.ndim))
    order[a], order[b] = b, a
    return DimShuffle(order)(x)


def squeeze(x: Any, axis: int | Sequence[int] | None = None):
    """Drop axes of size 1.

    Parameters
    ----------
    x : tensor-like
    axis : int or sequence of int, optional
        The axes to drop. Their size must be 1: an error at graph-building time when it is
        known to be otherwise, at run time when it is unknown. By default, every axis whose
        size is statically known to be 1 is dropped.
    """
    x = as_tensor_variable(x)
    if axis is None:
        dropped = [a for a, s in enumerate(x.type.shape) if s == 1]
    else:
        dropped = _axes(x.ndim, [axis] if not isinstance(axis, (list, tuple)) else axis,
                        "squeeze")
    return DimShuffle([a for a in range(x.ndim) if a not in dropped])(x)


def shape_padleft(x: Any, n_ones: int = 1):
    """``x`` with ``n_ones`` new leading axes of size 1."""
    x = as_tensor_variable(x)
    return DimShuffle(("x",) * _count(n_ones, "shape_padleft") + tuple(range(x.ndim)))(x)


def shape_padright(x: Any, n_ones: int = 1):
    """``x`` with ``n_ones`` new trailing axes of size 1."""
    x = as_tensor_variable(x)
    return DimShuffle(tuple(range(x.ndim)) + ("x",) * _count(n_ones, "shape_padright"))(x)


def shape_padaxis(x: Any, axis: int):
    """``x`` with a new axis of size 1 at position ``axis`` of the result (NumPy's
    ``expand_dims``); ``axis`` may be negative, counting from the end of the result."""
    x = as_tensor_variable(x)
    position = normalize_axis(x.ndim + 1, axis, "shape_padaxis", new=True)
    order: list[int | str] = list(range(x.ndim))
    order.insert(position, "x")
    return DimShuffle(order)(x)


# --------------------------------------------------------------------------- helpers
def normalize_axis(ndim: int, axis: Any, where: Any, new: bool = False, x: Any = None,
                   what: str = "axis") -> int:
    """``axis`` normalised to ``range(ndim)``, or an error naming ``where`` (an op or a name).

    Negative axes count from the end, as in NumPy. ``new`` says that ``axis`` is the position
    of an axis being inserted, so ``ndim`` is the rank of the result (one more than the
    input's); ``x``, when given, is the input the axis belongs to, named in the error.
    """
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise build_error(ExprcTypeError, where,
                          f"{what} must be an int, got {type(axis).__name__} {axis!r}")
    if not -ndim <= axis < ndim:
        if x is not None:
            of = f"the {ndim}-d input {x} (type {x.type})"
        else:
            of = f"a new axis of a {ndim - 1}-d tensor" if new else f"a {ndim}-d tensor"
        raise build_error(ExprcShapeError, where, f"{what} {axis} is out of range for {of} "
                          f"(valid: {-ndim} to {ndim - 1})")
    return int(axis) % ndim


def _axes(ndim: int, axes: Sequence[Any], where: str) -> list[int]:
    result = [normalize_axis(ndim, a, where) for a in axes]
    if len(set(result)) != len(result):
        raise build_error(ExprcShapeError, where, f"repeated axis in {tuple(axes)}")
    return result


def _count(n: Any, where: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise build_error(ExprcTypeError, where, f"n_ones must be a non-negative int, got {n!r}")
    return int(n)


def format_shape(sizes: Sequence[int | None]) -> str:
    inner = ", ".join("?" if s is None else str(s) for s in sizes)
    return f"({inner}{',' if len(sizes) == 1 else ''})"
