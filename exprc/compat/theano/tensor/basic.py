"""Theano's ``theano.tensor`` names that :mod:`exprc.tensor` lacks, as thin adapters.

Everything else of ``theano.tensor`` is exprc's own (see the package ``__init__``).
"""

from __future__ import annotations

import numbers
from functools import partial
from typing import Any

import numpy as np

import exprc.tensor as _T
from exprc.compile.function import function as _function
from exprc.configuration import config as _config
from exprc.gradient import Lop, Rop, grad, hessian, jacobian
from exprc.graph.ir import Constant, Variable
from exprc.graph.traversal import graph_inputs
from exprc.tensor.sharedvar import SharedVariable as _SharedVariable

__all__ = [
    "Lop", "NotScalarConstantError", "Rop", "TensorType", "TensorVariable", "flatten",
    "get_scalar_constant_value", "grad", "hessian", "horizontal_stack", "inv", "jacobian",
    "stack", "stacklists", "vertical_stack",
]

#: Theano's name of ``reciprocal``.
inv = _T.reciprocal


class _ResultsOnly(type):
    """Theano's class tests: a shared variable or a constant is not a ``TensorVariable``
    (in Theano they are sibling classes), and programs rely on it — Lasagne uses
    ``isinstance(init, T.TensorVariable)`` to tell an expression given by the user from a
    parameter."""

    def __instancecheck__(cls, obj: Any) -> bool:
        if cls is not TensorVariable:
            return super().__instancecheck__(obj)
        return (isinstance(obj, _T.TensorVariable)
                and not isinstance(obj, (_SharedVariable, Constant)))

    def __subclasscheck__(cls, sub: type) -> bool:
        if cls is not TensorVariable:
            return super().__subclasscheck__(sub)
        return (issubclass(sub, _T.TensorVariable)
                and not issubclass(sub, (_SharedVariable, Constant)))


class TensorVariable(_T.TensorVariable, metaclass=_ResultsOnly):
    """Theano's ``TensorVariable``: exprc's tensor variables that are neither shared
    variables nor constants (see ``TensorSharedVariable`` and ``TensorConstant``)."""


class TensorType(_T.TensorType):
    """exprc's tensor type with Theano's constructor: ``TensorType(dtype, broadcastable,
    name=None, sparse_grad=False)``; ``name`` only labels the type in messages."""

    def __init__(self, dtype: Any, broadcastable: Any = None, name: str | None = None,
                 sparse_grad: bool = False, shape: Any = None):
        super().__init__(dtype, broadcastable, shape=shape)
        self.name = name

    def __repr__(self) -> str:
        return self.name if self.name else super().__repr__()


def stack(*tensors: Any, **kwargs: Any):
    """Theano's ``stack``: ``stack([a, b], axis=0)`` as exprc, and the older form
    ``stack(a, b, c)`` (tensors as separate arguments, stacked along a new first axis)."""
    if tensors and isinstance(tensors[0], (list, tuple)):
        if len(tensors) > 2:
            raise TypeError("stack(tensors, axis): too many positional arguments")
        return _T.stack(*tensors, **kwargs)
    if "tensors" in kwargs:
        return _T.stack(**kwargs)
    if kwargs:
        raise TypeError(f"stack(*tensors) takes no keyword arguments; got {sorted(kwargs)} "
                        "(give the tensors as a list to pass axis=)")
    return _T.stack(list(tensors))


# --------------------------------------------------------------- constructors of rank 6 and 7
def _constructor(ndim: int, fixed_dtype: str | None, kind: str):
    def make(name: str | None = None, dtype: Any = None):
        return _T.tensor(fixed_dtype or dtype or _config.floatX, shape=(None,) * ndim,
                         name=name)
    make.__name__ = make.__qualname__ = kind
    make.__doc__ = (f"A symbolic {ndim}-d tensor of dtype "
                    f"{fixed_dtype or 'dtype (default config.floatX)'} (Theano's {kind}).")
    return make


_PREFIXES = {"": None, "b": "int8", "w": "int16", "i": "int32", "l": "int64", "f": "float32",
             "d": "float64"}
for _ndim in (5, 6, 7):
    for _prefix, _dtype in _PREFIXES.items():
        _kind = f"{_prefix}tensor{_ndim}"
        if not hasattr(_T, _kind):
            globals()[_kind] = _constructor(_ndim, _dtype, _kind)
            __all__.append(_kind)


# --------------------------------------------------------------------- plural constructors
def _multi(constructor, *names: Any):
    """Theano's plural constructors: ``T.dmatrices('x', 'y')`` (one variable per name),
    ``T.dmatrices(3)`` (a list of unnamed ones), ``T.dscalars('x,y, z')`` (a comma- or
    space-separated string, an exprc extension), and Theano's own reading of one string
    without separators, one variable per character (``T.dscalars('xy')``; a one-letter
    string gives a single variable, not a list)."""
    if names and isinstance(names[0], numbers.Integral) and not isinstance(names[0], bool):
        return [constructor() for _ in range(int(names[0]))]
    if len(names) == 1:
        names = names[0]
        if isinstance(names, str) and ("," in names or " " in names):
            return [constructor(n) for n in names.replace(",", " ").split()]
    if len(names) == 1:
        return constructor(names if isinstance(names, str) else names[0])
    return [constructor(name) for name in names]


def _plural(kind: str) -> str:
    return kind[:-2] + "ices" if kind.endswith("matrix") else kind + "s"


for _kind in ("scalar", "vector", "matrix", "row", "col", "tensor3", "tensor4", "tensor5",
              "tensor6", "tensor7"):
    for _prefix in ("", "i", "l", "f", "d"):
        _name = _prefix + _kind
        _single = getattr(_T, _name, None) or globals()[_name]
        _many = partial(_multi, _single)
        globals()[_plural(_name)] = _many
        __all__.append(_plural(_name))


# ------------------------------------------------------------- dtype-prefixed constructors
# In Theano, ``T.dscalar``, ``T.fmatrix``, ``T.ivector``, ... are TensorType instances (calling
# one makes a variable; ``x.type == T.dscalar``); the unprefixed ``T.matrix`` is a function of
# floatX. exprc's are functions, so the compatibility package defines the types.
_PATTERNS = {"scalar": (), "vector": (False,), "matrix": (False, False), "row": (True, False),
             "col": (False, True), "tensor3": (False,) * 3, "tensor4": (False,) * 4,
             "tensor5": (False,) * 5, "tensor6": (False,) * 6, "tensor7": (False,) * 7}
for _kind, _pattern in _PATTERNS.items():
    for _prefix, _dtype in _PREFIXES.items():
        if _dtype is not None:
            globals()[_prefix + _kind] = TensorType(_dtype, _pattern)
            if _prefix + _kind not in __all__:
                __all__.append(_prefix + _kind)


# ------------------------------------------------------------------------------ shape helpers
def flatten(x: Any, ndim: int | None = None, outdim: int | None = None):
    """Keep the first ``ndim - 1`` axes of ``x`` and collapse the rest (``outdim`` is
    Theano's older name of ``ndim``; default 1)."""
    if outdim is not None:
        if ndim is not None and ndim != outdim:
            raise TypeError("flatten: give ndim or outdim, not both")
        ndim = outdim
    return _T.flatten(x, 1 if ndim is None else ndim)


def stacklists(arg: Any):
    """A tensor from nested lists of tensors or numbers, stacking recursively
    (``T.stacklists([[a, b], [c, d]])`` is a 2x2 matrix for scalars a..d)."""
    if isinstance(arg, (tuple, list)):
        return _T.stack([stacklists(item) for item in arg])
    return arg


def _stack_matrices(args: tuple, axis: int, name: str):
    tensors = [_T.as_tensor_variable(a) for a in args]
    for t in tensors:
        if t.ndim != 2:
            raise TypeError(f"{name}: every argument must be a matrix, got {t} of type {t.type}")
    return _T.concatenate(tensors, axis=axis)


def horizontal_stack(*args: Any):
    """Concatenate matrices side by side (along axis 1)."""
    return _stack_matrices(args, 1, "horizontal_stack")


def vertical_stack(*args: Any):
    """Concatenate matrices one above the other (along axis 0)."""
    return _stack_matrices(args, 0, "vertical_stack")


# ------------------------------------------------------------------- get_scalar_constant_value
class NotScalarConstantError(Exception):
    """``get_scalar_constant_value`` found no constant scalar value."""


def get_scalar_constant_value(v: Any, elemwise: bool = True, only_process_constants: bool = False,
                              max_recur: int = 10) -> np.ndarray:
    """The value of ``v`` as a 0-d NumPy array, when it is a constant whose elements all agree
    (a number, an array, a constant or an expression of constants only, folded with the
    reference executor); otherwise raise :class:`NotScalarConstantError`.

    ``elemwise`` and ``max_recur`` are accepted for Theano's signature.
    """
    if v is None:
        raise NotScalarConstantError("None is not a constant")
    if isinstance(v, Constant):
        data = v.data
    elif isinstance(v, Variable):
        if only_process_constants or not all(isinstance(i, Constant)
                                             for i in graph_inputs([v])):
            raise NotScalarConstantError(f"{v} is not a constant")
        data = _function([], v, mode="REFERENCE")()
    elif isinstance(v, (numbers.Number, np.number, np.ndarray, np.bool_)):
        data = v
    else:
        raise NotScalarConstantError(f"{v!r} is not a constant")
    data = np.asarray(data)
    if data.size == 0:
        raise NotScalarConstantError(f"{v} is empty")
    flat = data.ravel()
    if not np.array_equal(flat, np.full_like(flat, flat[0]), equal_nan=data.dtype.kind in "fc"):
        raise NotScalarConstantError(f"{v} is a constant with several different values")
    return np.asarray(flat[0])
