"""Indexing: ``x[...]`` with NumPy's semantics, ``set_subtensor``, ``inc_subtensor`` and ``take``.

An index is described statically by a tuple, ``idx_list``, with one entry per item of the
NumPy index:

- an ``int``: a constant integer index (negative counts from the end);
- :data:`SCALAR`: a symbolic integer scalar, taken from the op's next index input;
- a :class:`SliceSpec`: a slice whose start, stop and step are each an ``int``, None or
  :data:`SCALAR`;
- None: a new axis of size 1 (``np.newaxis``);
- ``Ellipsis``: as many full slices as needed (kept, because where it stands decides where
  NumPy puts the advanced dimensions);
- :data:`ARRAY` / :data:`MASK`: an integer index array / a boolean mask (advanced indexing).

Index inputs follow the indexed tensor (and, for set/inc, the new values) in the order their
markers appear, slice components in start, stop, step order. Indices without arrays or masks
are *basic* (:class:`Subtensor`, :class:`IncSubtensor`); with them, *advanced*
(:class:`AdvancedSubtensor`, :class:`AdvancedIncSubtensor`), where integer scalars count as
0-d index arrays, as in NumPy.
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar, NamedTuple

import numpy as np

from exprc.errors import ExprcError, ExprcShapeError, ExprcTypeError, build_error
from exprc.graph.ir import Apply, Op
from exprc.tensor.elemwise import DimShuffle, broadcast_static_shapes
from exprc.tensor.math import cast, clip, mod
from exprc.tensor.params import INT64_MAX, INT64_MIN, choice_param, int_param
from exprc.tensor.type import INTEGER_DTYPES, TensorType
from exprc.tensor.variable import TensorConstant, TensorVariable, as_tensor_variable, constant

__all__ = ["inc_subtensor", "set_subtensor", "take"]

SCALAR = "scalar"
ARRAY = "array"
MASK = "mask"


class ExprcIndexError(ExprcError, IndexError):
    """An index that is out of range, or more indices than the tensor has axes."""


class SliceSpec(NamedTuple):
    """A slice whose start, stop and step are each an ``int``, None or :data:`SCALAR`."""

    start: int | str | None
    stop: int | str | None
    step: int | str | None

    def __str__(self) -> str:
        text = ":".join("" if c is None else ("$" if c == SCALAR else str(c))
                        for c in (self.start, self.stop, self.step))
        return text[:-1] if text.endswith(":") else text


def _entry_str(entry: Any) -> str:
    if entry is None:
        return "newaxis"
    if entry is Ellipsis:
        return "..."
    if isinstance(entry, str):
        return "$" if entry == SCALAR else f"${entry}"
    return str(entry)


def index_str(idx_list: tuple) -> str:
    """A readable NumPy-like rendering of ``idx_list`` (``$`` marks a symbolic input)."""
    return "[" + ", ".join(map(_entry_str, idx_list)) + "]"


def count_index_inputs(idx_list: tuple) -> int:
    """How many symbolic index inputs ``idx_list`` takes."""
    count = 0
    for entry in idx_list:
        parts = entry if isinstance(entry, SliceSpec) else (entry,)
        count += sum(isinstance(p, str) for p in parts)
    return count


# --------------------------------------------------------------------------- index parsing
def _describe(index: Any) -> str:
    if isinstance(index, TensorVariable):
        return f"{index} of type {index.type}"
    return f"{type(index).__name__} {index!r}"


def _bad_index(index: Any, why: str) -> ExprcTypeError:
    return build_error(ExprcTypeError, "indexing",
                       f"index {_describe(index)} {why}; indices must be ints, slices, None, "
                       "Ellipsis, integer arrays or boolean masks")


def _scalar_component(value: Any) -> tuple[Any, list]:
    """An int / symbolic integer scalar used as an index or slice bound: (entry, inputs)."""
    if isinstance(value, (bool, np.bool_)):
        raise _bad_index(value, "is a bool scalar, which NumPy reads as a mask, not a position")
    if isinstance(value, numbers.Integral):
        return int(value), []
    if isinstance(value, TensorVariable) and value.ndim == 0:
        if value.dtype not in INTEGER_DTYPES:
            raise _bad_index(value, "is not of an integer dtype")
        if isinstance(value, TensorConstant):
            return int(value.data), []
        return SCALAR, [value]
    raise _bad_index(value, "is not an integer scalar")


def _slice_entry(index: slice) -> tuple[SliceSpec, list]:
    parts, inputs = [], []
    for value in (index.start, index.stop, index.step):
        if value is None:
            parts.append(None)
            continue
        part, extra = _scalar_component(value)
        parts.append(part)
        inputs += extra
    if parts[2] == 0:
        raise build_error(ValueError, "indexing", f"slice {index} has step 0")
    return SliceSpec(*parts), inputs


def _array_entry(index: Any) -> tuple[str, list]:
    if isinstance(index, (list, tuple)) and len(index) == 0:
        index = np.zeros(0, dtype="int64")  # NumPy reads an empty list as an integer index
    try:
        var = as_tensor_variable(index)
    except ExprcTypeError:
        raise _bad_index(index, "cannot be converted to an index array") from None
    if var.dtype == "bool":
        if var.ndim == 0:
            raise _bad_index(index, "is a bool scalar, which NumPy reads as a mask, not a position")
        return MASK, [var]
    if var.dtype not in INTEGER_DTYPES:
        raise _bad_index(index, f"has dtype {var.dtype}")
    if var.ndim == 0:
        return _scalar_component(var)
    return ARRAY, [var]


def parse_index(index: Any) -> tuple[tuple, list]:
    """Split a NumPy-style index into a static ``idx_list`` and its symbolic index inputs."""
    items = index if isinstance(index, tuple) else (index,)
    if sum(item is Ellipsis for item in items) > 1:
        raise build_error(ExprcIndexError, "indexing", "an index can only have one Ellipsis")
    entries, inputs = [], []
    for item in items:
        if item is None or item is Ellipsis:
            entry, extra = item, []
        elif isinstance(item, slice):
            entry, extra = _slice_entry(item)
        elif isinstance(item, (numbers.Number, np.generic)):
            entry, extra = _scalar_component(item)
        else:
            entry, extra = _array_entry(item)
        entries.append(entry)
        inputs += extra
    return tuple(entries), inputs


def is_advanced(idx_list: tuple) -> bool:
    """Whether ``idx_list`` holds an index array or a mask."""
    return any(entry in (ARRAY, MASK) for entry in idx_list if isinstance(entry, str))


# --------------------------------------------------------------------------- static shapes
def _slice_length(spec: SliceSpec, size: int | None) -> int | None:
    if size is None or any(c == SCALAR for c in spec):
        return size if spec == SliceSpec(None, None, None) else None
    return len(range(*slice(*spec).indices(size)))


def _check_position(op: Any, position: int, size: int | None, axis: int, x: Any) -> None:
    if size is not None and not -size <= position < size:
        raise build_error(ExprcIndexError, op, f"index {position} is out of range for axis "
                          f"{axis} of {x} (type {x.type}), whose size is {size}")


def _consumed(entry: Any, var: Any) -> int:
    """How many axes of the indexed tensor ``entry`` uses up."""
    if entry is None or entry is Ellipsis:
        return 0
    return var.ndim if entry == MASK else 1


def _pair_inputs(op: Any, x: Any, idx_list: tuple, index_vars: list) -> list:
    """Pairs ``(entry, detail)``: the index variable of an input entry, the number of axes
    an Ellipsis stands for, None otherwise."""
    it = iter(index_vars)
    pairs = []
    for entry in idx_list:
        if isinstance(entry, SliceSpec):
            for _ in range(count_index_inputs((entry,))):
                next(it)
            pairs.append((entry, None))
        else:
            pairs.append((entry, next(it) if isinstance(entry, str) else None))
    used = sum(_consumed(e, v) for e, v in pairs)
    if used > x.ndim:
        raise build_error(ExprcIndexError, op, f"too many indices for {x} (type {x.type}): "
                          f"{index_str(idx_list)} indexes {used} axes, it has {x.ndim}")
    return [(e, x.ndim - used if e is Ellipsis else v) for e, v in pairs]


def _mask_shape(op: Any, x: Any, mask: Any, first_axis: int) -> tuple:
    """The 1-d static shape a mask selects, after checking it fits the axes it covers."""
    for k, size in enumerate(mask.type.shape):
        want = x.type.shape[first_axis + k]
        if size is not None and want is not None and size != want:
            raise build_error(ExprcIndexError, op, f"boolean mask {mask} of type {mask.type} "
                              f"does not match {x} (type {x.type}) on axis {first_axis + k}")
    if isinstance(mask, TensorConstant):
        return (int(np.count_nonzero(mask.data)),)
    return (None,)


def _check_array_bounds(op: Any, x: Any, var: Any, axis: int) -> None:
    size = x.type.shape[axis]
    if isinstance(var, TensorConstant) and var.data.size and size is not None:
        for position in (int(var.data.min()), int(var.data.max())):
            _check_position(op, position, size, axis, x)


def index_output_shape(op: Any, x: Any, idx_list: tuple, index_vars: list) -> tuple:
    """The static shape of ``x[index]``, checking what static sizes allow.

    Basic entries produce their axes in place. Advanced entries (arrays, masks and, when an
    array or mask is present, integers) broadcast together into one block of axes that
    replaces them when they are adjacent in the index, and comes first otherwise (NumPy).
    """
    advanced = is_advanced(idx_list)
    out, adv_shapes, adv_positions, block_at, axis = [], [], [], None, 0
    for position, (entry, detail) in enumerate(_pair_inputs(op, x, idx_list, index_vars)):
        if entry is Ellipsis:
            out += x.type.shape[axis:axis + detail]
            axis += detail
            continue
        if entry is None or isinstance(entry, SliceSpec):
            out.append(1 if entry is None else _slice_length(entry, x.type.shape[axis]))
            axis += entry is not None
            continue
        if entry == MASK:
            adv_shapes.append(_mask_shape(op, x, detail, axis))
        elif entry == ARRAY:
            _check_array_bounds(op, x, detail, axis)
            adv_shapes.append(detail.type.shape)
        else:
            if entry != SCALAR:
                _check_position(op, entry, x.type.shape[axis], axis, x)
            adv_shapes.append(())
        axis += _consumed(entry, detail)
        adv_positions.append(position)
        block_at = len(out) if block_at is None else block_at
    out += x.type.shape[axis:]
    if not advanced:
        return tuple(out)
    block = _broadcast_index_shapes(op, adv_shapes)
    adjacent = adv_positions == list(range(adv_positions[0], adv_positions[-1] + 1))
    at = block_at if adjacent else 0
    return tuple(out[:at]) + block + tuple(out[at:])


def _broadcast_index_shapes(op: Any, shapes: list) -> tuple:
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    try:
        return broadcast_static_shapes(padded)
    except ExprcShapeError:
        raise build_error(ExprcIndexError, op, "the index arrays cannot be broadcast together: "
                          f"shapes {', '.join(map(str, shapes))}") from None


def _check_index_inputs(op: Any, idx_list: tuple, index_vars: list) -> list:
    if count_index_inputs(idx_list) != len(index_vars):
        raise build_error(ExprcTypeError, op, f"{index_str(idx_list)} takes "
                          f"{count_index_inputs(idx_list)} index input(s), got {len(index_vars)}")
    checked = [as_tensor_variable(v) for v in index_vars]
    kinds = [p for e in idx_list for p in (e if isinstance(e, SliceSpec) else (e,))
             if isinstance(p, str)]
    for kind, var in zip(kinds, checked):
        want_dtypes = ("bool",) if kind == MASK else INTEGER_DTYPES
        if var.dtype not in want_dtypes or (kind == SCALAR and var.ndim != 0) \
                or (kind != SCALAR and var.ndim == 0):
            raise build_error(ExprcTypeError, op, f"index input {var} of type {var.type} cannot "
                              f"be a {kind} index")
    return checked


# --------------------------------------------------------------------------- ops
def _plain_entry(owner: str, entry: Any) -> Any:
    """An entry of an ``idx_list`` made of plain built-in values (see
    :mod:`exprc.tensor.params`)."""
    if entry is None or entry is Ellipsis:
        return entry
    if isinstance(entry, SliceSpec):
        # A bound past either end of the int64 range means the same as that end.
        return SliceSpec(*(choice_param(owner, "slice bound", part, (SCALAR,))
                           if isinstance(part, str) else
                           int_param(owner, "slice bound", part, optional=True, clamp=True)
                           for part in entry))
    if isinstance(entry, str):
        return choice_param(owner, "index entry", entry, (SCALAR, ARRAY, MASK))
    value = int_param(owner, "index entry", entry, clamp=True)
    if value in (INT64_MIN, INT64_MAX):  # an axis has at most INT64_MAX entries
        raise build_error(ExprcIndexError, owner, f"index {entry} is out of bounds for any axis")
    return value


class _IndexOp(Op):
    """Shared checks of the four indexing ops; ``advanced`` says which indices they take."""

    abstract = True
    advanced: bool

    def __init__(self, idx_list: tuple):
        owner = type(self).__name__
        self.idx_list = tuple(_plain_entry(owner, entry) for entry in idx_list)
        if is_advanced(self.idx_list) != self.advanced:
            kind = "needs" if self.advanced else "cannot take"
            raise ExprcError(f"{type(self).__name__} {kind} index arrays or masks; got "
                             f"{index_str(self.idx_list)}")

    def _prepare(self, x: Any, index: tuple) -> tuple:
        """``x`` and the index inputs as variables, and the static shape of ``x[index]``."""
        x = as_tensor_variable(x)
        index = _check_index_inputs(self, self.idx_list, list(index))
        return x, index, index_output_shape(self, x, self.idx_list, index)

    def __str__(self) -> str:
        flags = "".join(f", {p}" for p in self.__props__[1:] if getattr(self, p))
        return f"{type(self).__name__}{{{index_str(self.idx_list)}{flags}}}"

    __repr__ = __str__


class _ReadOp(_IndexOp):
    """``x[index]``."""

    abstract = True
    __props__ = ("idx_list",)

    def make_node(self, x: Any, *index: Any) -> Apply:
        x, index, shape = self._prepare(x, index)
        return Apply(self, [x, *index], [TensorType(x.dtype, shape=shape)()])


class Subtensor(_ReadOp):
    """``x[index]`` for a basic index: ints, slices, None and Ellipsis."""

    advanced = False
    view_map: ClassVar = {0: [0]}


class AdvancedSubtensor(_ReadOp):
    """``x[index]`` for an index holding integer arrays or boolean masks (a copy in NumPy)."""

    advanced = True


class _WriteOp(_IndexOp):
    """``x`` with ``x[index]`` set to, or incremented by, ``y`` (a new array)."""

    abstract = True

    def make_node(self, x: Any, y: Any, *index: Any) -> Apply:
        x, index, region = self._prepare(x, index)
        y = as_tensor_variable(y)
        if not np.can_cast(y.dtype, x.dtype, "safe"):
            raise build_error(ExprcTypeError, self, f"values {y} of dtype {y.dtype} cannot be "
                              f"written into {x} of dtype {x.dtype} without loss; cast them "
                              f"first (y.astype('{x.dtype}'))")
        fits = y.ndim <= len(region) and all(
            ys is None or rs is None or ys in (1, rs)
            for ys, rs in zip(y.type.shape, region[len(region) - y.ndim:]))
        if not fits:
            raise build_error(ExprcShapeError, self, f"values {y} of type {y.type} cannot be "
                              f"broadcast to the indexed region of shape "
                              f"{tuple('?' if s is None else s for s in region)}")
        return Apply(self, [x, y, *index], [x.type()])


class IncSubtensor(_WriteOp):
    """``x`` with ``x[index] = y`` (``set_instead_of_inc``) or ``x[index] += y``; basic index."""

    advanced = False
    __props__ = ("idx_list", "set_instead_of_inc")

    def __init__(self, idx_list: tuple, set_instead_of_inc: bool = False):
        super().__init__(idx_list)
        self.set_instead_of_inc = bool(set_instead_of_inc)


class AdvancedIncSubtensor(_WriteOp):
    """``x`` with ``x[index]`` set to or incremented by ``y``, for an advanced index.

    Incrementing accumulates over repeated indices (``np.add.at``) unless
    ``ignore_duplicates``, where each position is written once (``x[index] += y``). Setting
    with repeated indices keeps the last write, as NumPy.
    """

    advanced = True
    __props__ = ("idx_list", "set_instead_of_inc", "ignore_duplicates")

    def __init__(self, idx_list: tuple, set_instead_of_inc: bool = False,
                 ignore_duplicates: bool = False):
        super().__init__(idx_list)
        self.set_instead_of_inc = bool(set_instead_of_inc)
        self.ignore_duplicates = bool(ignore_duplicates)


# --------------------------------------------------------------------------- public API
def getitem(x: Any, index: Any):
    """``x[index]`` with NumPy's semantics (``TensorVariable.__getitem__``).

    Parameters
    ----------
    x : tensor-like
    index : int, slice, None, Ellipsis, array-like, TensorVariable or tuple of them
        Integers and slice bounds may be symbolic integer scalars; integer arrays (of any rank)
        and boolean masks, NumPy or symbolic, select by advanced indexing.

    Returns
    -------
    TensorVariable

    Examples
    --------
    >>> import exprc.tensor as T
    >>> x = T.tensor('float64', shape=(5, None))
    >>> x[1:3, None].type
    TensorType(float64, (2, 1, ?))
    >>> x[[0, 0, 4], -1].type
    TensorType(float64, (3,))
    """
    x = as_tensor_variable(x)
    idx_list, inputs = parse_index(index)
    op = AdvancedSubtensor(idx_list) if is_advanced(idx_list) else Subtensor(idx_list)
    return op(x, *inputs)


def _values_like(x: TensorVariable, y: Any) -> TensorVariable:
    """``y`` as a tensor; Python numbers take ``x``'s dtype when it can hold them."""
    if not isinstance(y, numbers.Number) or isinstance(y, np.generic):
        return as_tensor_variable(y)
    kind = np.dtype(x.dtype).kind
    python_kind = "b" if isinstance(y, bool) else "i" if isinstance(y, numbers.Integral) else "f"
    if (python_kind == "f" and kind != "f") or (python_kind == "i" and kind == "b"):
        raise build_error(ExprcTypeError, "set/inc_subtensor",
                          f"the {type(y).__name__} {y!r} cannot be written into {x} of dtype "
                          f"{x.dtype} without loss")
    try:
        return constant(y, dtype=x.dtype)
    except ExprcTypeError as exc:
        raise build_error(ExprcTypeError, "set/inc_subtensor", str(exc)) from None


def inc_subtensor(x_sub: Any, y: Any, inplace: bool = False, set_instead_of_inc: bool = False,
                  ignore_duplicates: bool = False):
    """A copy of the tensor indexed by ``x_sub`` with ``y`` added to the indexed entries.

    Parameters
    ----------
    x_sub : TensorVariable
        The result of indexing a tensor, e.g. ``x[2:, idx]``: its graph says which tensor and
        which entries.
    y : tensor-like
        Broadcasts to ``x_sub``'s shape; its dtype must cast safely to the tensor's.
    inplace : bool
        Accepted for Theano compatibility; whether the update happens in place is decided when
        the function is compiled, and the result is always a new value.
    set_instead_of_inc : bool
        Overwrite the entries instead of adding to them (see :func:`set_subtensor`).
    ignore_duplicates : bool
        With index arrays, add once per distinct position instead of accumulating one addition
        per occurrence (``x[idx] += y`` rather than ``np.add.at``).

    Returns
    -------
    TensorVariable
        Same type as the indexed tensor.

    Examples
    --------
    >>> import numpy as np, exprc.tensor as T
    >>> x = T.dvector('x')
    >>> T.inc_subtensor(x[[0, 0, 2]], 1.0).eval({x: np.zeros(4)})
    array([2., 0., 1., 0.])
    """
    owner = getattr(x_sub, "owner", None)
    if not isinstance(x_sub, TensorVariable) or owner is None \
            or not isinstance(owner.op, (Subtensor, AdvancedSubtensor)):
        raise build_error(ExprcTypeError, "inc_subtensor/set_subtensor",
                          f"x_sub must be the result of indexing a tensor (such as x[1:3]), "
                          f"got {_describe(x_sub)}")
    x, *index = owner.inputs
    y = _values_like(x, y)
    idx_list = owner.op.idx_list
    if isinstance(owner.op, Subtensor):
        return IncSubtensor(idx_list, set_instead_of_inc)(x, y, *index)
    return AdvancedIncSubtensor(idx_list, set_instead_of_inc, ignore_duplicates)(x, y, *index)


def set_subtensor(x_sub: Any, y: Any, inplace: bool = False):
    """A copy of the tensor indexed by ``x_sub`` with the indexed entries replaced by ``y``.

    Parameters
    ----------
    x_sub : TensorVariable
        The result of indexing a tensor, e.g. ``x[2:, idx]``.
    y : tensor-like
        Broadcasts to ``x_sub``'s shape; its dtype must cast safely to the tensor's. With
        repeated indices the last write wins, as in NumPy.
    inplace : bool
        Accepted for Theano compatibility (see :func:`inc_subtensor`).

    Returns
    -------
    TensorVariable

    Examples
    --------
    >>> import numpy as np, exprc.tensor as T
    >>> x = T.dmatrix('x')
    >>> T.set_subtensor(x[:, 1], 5.0).eval({x: np.zeros((2, 2))})
    array([[0., 5.],
           [0., 5.]])
    """
    return inc_subtensor(x_sub, y, inplace, set_instead_of_inc=True)


_TAKE_MODES = ("raise", "wrap", "clip")


def take(a: Any, indices: Any, axis: int | None = None, mode: str = "raise"):
    """Select entries of ``a`` along ``axis`` by integer ``indices`` (``np.take``).

    Parameters
    ----------
    a : tensor-like
    indices : int array-like or integer TensorVariable
        Any rank; the result has ``a.shape[:axis] + indices.shape + a.shape[axis + 1:]``.
    axis : int, optional
        The axis to select along (negative counts from the end); None takes from the
        flattened ``a``.
    mode : {'raise', 'wrap', 'clip'}
        Out-of-range indices raise an ``IndexError`` ('raise', where negative indices count
        from the end), wrap around ('wrap'), or are clipped to the valid range ('clip', where
        negative indices become 0).

    Returns
    -------
    TensorVariable

    Examples
    --------
    >>> import numpy as np, exprc.tensor as T
    >>> a = T.dmatrix('a')
    >>> T.take(a, [3, -1], axis=1, mode='clip').eval({a: np.arange(6.0).reshape(2, 3)})
    array([[2., 0.],
           [5., 3.]])
    """
    a = as_tensor_variable(a)
    if mode not in _TAKE_MODES:
        raise build_error(ExprcTypeError, "take", f"mode must be one of {_TAKE_MODES}, got "
                          f"{mode!r}")
    if isinstance(indices, (list, tuple)) and len(indices) == 0:
        indices = np.zeros(0, dtype="int64")
    indices = as_tensor_variable(indices)
    if indices.dtype not in INTEGER_DTYPES:
        raise _bad_index(indices, "is not of an integer dtype, as take needs")
    axis = _take_axis(a, axis)
    if axis is None:
        a, axis = _flat(a), 0
    if mode != "raise":
        # int64 first: mixing uint64 indices with the int64 size would promote to float.
        indices = cast(indices, "int64")
        size = a.shape[axis]
        indices = mod(indices, size) if mode == "wrap" else clip(indices, 0, size - 1)
    return getitem(a, (slice(None),) * axis + (indices,))


def _take_axis(a: TensorVariable, axis: Any) -> int | None:
    if axis is None:
        return None
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral) \
            or not -a.ndim <= axis < a.ndim:
        raise build_error(ExprcShapeError, "take", f"axis {axis!r} is out of range for {a} "
                          f"of type {a.type} ({a.ndim} dimension(s))")
    return int(axis) % a.ndim


def _flat(a: TensorVariable) -> TensorVariable:
    """``a`` as a vector, for ``take`` without an axis."""
    if a.ndim == 0:
        return DimShuffle(("x",))(a)
    if a.ndim == 1:
        return a
    from exprc.tensor.shape import flatten  # the shape family builds on this module's API

    return flatten(a, 1)
