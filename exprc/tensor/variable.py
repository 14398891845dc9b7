"""Tensor variables with numpy-style operators, and conversion of Python values to constants.

The methods here only dispatch to the functions of the tensor API, where the semantics are
defined; they hold no logic of their own.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from exprc.configuration import config
from exprc.errors import ExprcTypeError
from exprc.graph.ir import Constant, Variable
from exprc.tensor.type import TensorType, canonical_dtype


def _api():
    # The API modules import this one, so they are looked up at call time.
    import exprc.tensor as T

    return T


class TensorVariable(Variable):
    """A symbolic n-dimensional array."""

    # NumPy must not try to treat a symbolic variable as an array operand: with this,
    # ``ndarray * var`` defers to ``var.__rmul__`` and builds a graph.
    __array_ufunc__ = None

    def __array__(self, dtype=None, copy=None):
        # Without this NumPy would wrap the variable in an object array (np.array([x]),
        # np.mean(x)) and fail later, far from the mistake, or not at all.
        raise ExprcTypeError(
            f"cannot convert the symbolic variable {self} to a NumPy array: it has no value "
            "until a compiled function runs; use exprc.tensor functions on it (T.mean, "
            "T.stack, ...), or evaluate it with .eval() or exprc.function")

    # ----------------------------------------------------------------- static facts
    @property
    def ndim(self) -> int:
        return self.type.ndim

    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return self.type.broadcastable

    @property
    def shape(self):
        """The run-time shape, as a symbolic int64 vector (``x.shape[0]`` is a scalar)."""
        return _api().shape(self)

    @property
    def size(self):
        return _api().prod(self.shape)

    @property
    def T(self):
        return _api().transpose(self)

    # ----------------------------------------------------------------- arithmetic
    # A variable of another kind on the right (a sparse matrix) builds the node itself, with
    # its reflected operator: ``dense - sparse`` is exprc.sparse.sub.
    def __add__(self, other):
        return NotImplemented if _foreign(other) else _api().add(self, other)
    def __radd__(self, other): return _api().add(other, self)
    def __sub__(self, other):
        return NotImplemented if _foreign(other) else _api().sub(self, other)
    def __rsub__(self, other): return _api().sub(other, self)
    def __mul__(self, other):
        return NotImplemented if _foreign(other) else _api().mul(self, other)
    def __rmul__(self, other): return _api().mul(other, self)
    def __truediv__(self, other): return _api().true_div(self, other)
    def __rtruediv__(self, other): return _api().true_div(other, self)
    def __floordiv__(self, other): return _api().int_div(self, other)
    def __rfloordiv__(self, other): return _api().int_div(other, self)
    def __mod__(self, other): return _api().mod(self, other)
    def __rmod__(self, other): return _api().mod(other, self)
    def __pow__(self, other): return _api().pow(self, other)
    def __rpow__(self, other): return _api().pow(other, self)
    def __neg__(self): return _api().neg(self)
    def __pos__(self): return self
    def __abs__(self): return _api().abs(self)
    def __invert__(self): return _api().invert(self)
    def __and__(self, other): return _api().and_(self, other)
    def __rand__(self, other): return _api().and_(other, self)
    def __or__(self, other): return _api().or_(self, other)
    def __ror__(self, other): return _api().or_(other, self)
    def __xor__(self, other): return _api().xor(self, other)
    def __rxor__(self, other): return _api().xor(other, self)
    def __lt__(self, other): return _api().lt(self, other)
    def __le__(self, other): return _api().le(self, other)
    def __gt__(self, other): return _api().gt(self, other)
    def __ge__(self, other): return _api().ge(self, other)
    def __matmul__(self, other): return _api().matmul(self, other)
    def __rmatmul__(self, other): return _api().matmul(other, self)

    # Variables hash and compare by identity (they key dicts of givens and updates);
    # elementwise equality is exprc.tensor.eq / neq.
    __eq__ = Variable.__eq__
    __hash__ = Variable.__hash__

    def __bool__(self):
        if config.variable_truth == "theano" and not _is_comparison(self):
            return True  # Theano's rule: `if W:` holds for any variable but a comparison
        raise ExprcTypeError(
            f"the truth value of symbolic variable {self} is unknown until the graph runs; "
            "use exprc.tensor.switch / ifelse for symbolic conditions, or T.eq for equality")

    def __len__(self):
        # No length even when the first dimension is static: NumPy would then treat a variable
        # as a sequence and build object arrays of its elements.
        raise ExprcTypeError(f"len() of symbolic variable {self} is unknown; use {self}.shape[0]")

    def __iter__(self):
        # Unpacking a vector of static length is common and safe: ``n, c, h, w = x.shape``
        # gives the four sizes. Anything else has no length until the graph runs.
        length = self._static_length()
        if length is None:
            what = ("a 0-d variable" if self.ndim == 0
                    else "its first dimension has no static size")
            raise ExprcTypeError(
                f"cannot iterate over symbolic variable {self}: {what}; index it instead")
        return (self[i] for i in range(length))

    def _static_length(self) -> int | None:
        """The size of the first dimension when known at graph-building time."""
        return self.type.shape[0] if self.ndim else None

    def __getitem__(self, index):
        return _api().subtensor.getitem(self, index)

    # ----------------------------------------------------------------- methods
    def astype(self, dtype): return _api().cast(self, dtype)
    def sum(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _api().sum(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)
    def prod(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _api().prod(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)
    def mean(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _api().mean(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)
    def var(self, axis=None, ddof=0, keepdims=False, corrected=False):
        return _api().var(self, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected)
    def std(self, axis=None, ddof=0, keepdims=False, corrected=False):
        return _api().std(self, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected)
    def max(self, axis=None, keepdims=False): return _api().max(self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return _api().min(self, axis, keepdims)
    def argmax(self, axis=None, keepdims=False): return _api().argmax(self, axis, keepdims)
    def argmin(self, axis=None, keepdims=False): return _api().argmin(self, axis, keepdims)
    def any(self, axis=None, keepdims=False): return _api().any(self, axis, keepdims)
    def all(self, axis=None, keepdims=False): return _api().all(self, axis, keepdims)
    def norm(self, L, axis=None, keepdims=False):
        """The L-norm over ``axis``: ``sum(abs(x) ** L) ** (1 / L)``."""
        T = _api()
        if L == 1:
            return T.sum(T.abs(self), axis=axis, keepdims=keepdims)
        if L == 2:
            return T.sqrt(T.sum(T.sqr(self), axis=axis, keepdims=keepdims))
        return T.pow(T.sum(T.pow(T.abs(self), L), axis=axis, keepdims=keepdims), 1.0 / L)
    def reshape(self, shape, *more, ndim=None):
        if more:
            shape = (shape,) + more
        return _api().reshape(self, shape, ndim=ndim)
    def flatten(self, ndim=1): return _api().flatten(self, ndim)
    def dimshuffle(self, *pattern):
        if len(pattern) == 1 and isinstance(pattern[0], (list, tuple)):
            pattern = tuple(pattern[0])
        return _api().dimshuffle(self, pattern)
    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (list, tuple)):
            axes = tuple(axes[0])
        return _api().transpose(self, axes or None)
    def swapaxes(self, axis1, axis2): return _api().swapaxes(self, axis1, axis2)
    def squeeze(self, axis=None): return _api().squeeze(self, axis)
    def dot(self, other): return _api().dot(self, other)
    def clip(self, a_min, a_max): return _api().clip(self, a_min, a_max)
    def round(self, mode="half_to_even"): return _api().round(self, mode)
    def sort(self, axis=-1): return _api().sort(self, axis)
    def argsort(self, axis=-1): return _api().argsort(self, axis)
    def cumsum(self, axis=None): return _api().cumsum(self, axis)
    def cumprod(self, axis=None): return _api().cumprod(self, axis)
    def repeat(self, repeats, axis=None): return _api().repeat(self, repeats, axis)
    def take(self, indices, axis=None, mode="raise"):
        return _api().take(self, indices, axis, mode)
    def nonzero(self, return_matrix=False): return _api().nonzero(self, return_matrix)
    def nonzero_values(self): return _api().nonzero_values(self)
    def diagonal(self, offset=0, axis1=0, axis2=1):
        return _api().diagonal(self, offset, axis1, axis2)
    def ptp(self, axis=None, keepdims=False): return _api().ptp(self, axis, keepdims)
    def searchsorted(self, v, side="left", sorter=None):
        return _api().searchsorted(self, v, side, sorter)


class TensorConstant(Constant, TensorVariable):
    """A tensor whose value is fixed when the graph is built."""

    def __init__(self, type: TensorType, data: Any, name: str | None = None):
        Constant.__init__(self, type, data, name=name)
        self.data.setflags(write=False)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self.data.setflags(write=False)  # unpickled arrays are writeable; constants are not


def _foreign(other: Any) -> bool:
    """Whether ``other`` is a symbolic variable that is not a tensor (a sparse matrix)."""
    return isinstance(other, Variable) and not isinstance(other, TensorVariable)


_COMPARISONS = frozenset({"lt", "gt", "le", "ge", "eq", "neq"})


def _is_comparison(var: Variable) -> bool:
    """Whether ``var`` is the result of an elementwise comparison (``a < b``), whose truth
    value even Theano refused: ``a < b < c`` would silently mean ``(a < b) and (b < c)``."""
    scalar_op = getattr(var.owner.op, "scalar_op", None) if var.owner is not None else None
    return getattr(scalar_op, "name", scalar_op) in _COMPARISONS


def constant(value: Any, name: str | None = None, ndim: int | None = None,
             dtype: Any = None) -> TensorConstant:
    """Make a tensor constant from a Python or NumPy value.

    Python floats become ``floatX``, Python ints int64 and bools bool, unless ``dtype`` is given.
    The constant's static shape is its exact shape.
    """
    if isinstance(value, Variable):
        raise ExprcTypeError(f"constant() takes a value, got the symbolic variable {value}")
    if dtype is None:
        dtype = _default_dtype(value)
    array = np.asarray(value)
    if array.dtype == object:
        raise ExprcTypeError(f"cannot make a constant of {type(value).__name__} {value!r}")
    dtype = canonical_dtype(dtype)
    converted = array.astype(dtype)
    if array.dtype.kind in "iuf" and np.dtype(dtype).kind in "iu" and not np.array_equal(
            converted, array):
        raise ExprcTypeError(f"constant {value!r} does not fit in dtype {dtype}")
    if ndim is not None:
        if converted.ndim > ndim:
            raise ExprcTypeError(f"constant of shape {converted.shape} has more than {ndim} dims")
        converted = converted.reshape((1,) * (ndim - converted.ndim) + converted.shape)
    return TensorConstant(TensorType(dtype, shape=converted.shape), converted.copy(), name=name)


def _default_dtype(value: Any) -> str:
    if isinstance(value, np.ndarray | np.generic):
        return value.dtype.name
    array = np.asarray(value)
    if array.dtype.kind == "f":
        return config.floatX
    if array.dtype.kind in "iu":
        return "int64"
    return array.dtype.name


def as_tensor_variable(x: Any, name: str | None = None, ndim: int | None = None):
    """Return ``x`` as a tensor variable: variables pass through, values become constants.

    Raises a clear error for values that cannot be tensors (strings, None, ragged lists) and,
    when ``ndim`` is given, for a variable of another rank.
    """
    if isinstance(x, TensorVariable):
        var = x
    elif isinstance(x, Variable):
        raise ExprcTypeError(f"{x} of type {x.type} is not a tensor variable")
    elif isinstance(x, (list, tuple)) and any(isinstance(e, Variable) for e in _flatten(x)):
        var = _api().stack([as_tensor_variable(e) for e in x])
    elif isinstance(x, (numbers.Number, np.ndarray, np.generic, list, tuple)):
        var = constant(x, name=name)
    else:
        raise ExprcTypeError(f"cannot convert {type(x).__name__} {x!r} to a tensor variable")
    if ndim is not None and var.ndim != ndim:
        raise ExprcTypeError(f"expected a {ndim}-d tensor, got {var} of type {var.type}")
    return var


def _flatten(items):
    for item in items:
        if isinstance(item, (list, tuple)):
            yield from _flatten(item)
        else:
            yield item
