"""``as_op``: a plain Python function on NumPy arrays made into an op (Theano's
``theano.compile.ops.as_op``).

The op runs the function in every mode: on the reference executor, and as a call back into
Python from compiled C code (see ``docs/python_ops.md``). It has no gradient.
"""

from __future__ import annotations

import importlib
import pickle
from collections.abc import Callable, Sequence
from typing import Any

from exprc.errors import ExprcTypeError
from exprc.graph.ir import Op
from exprc.graph.python_op import as_type


class FromFunctionOp(Op):
    """An op computing ``fn(*input_arrays)``, made by :func:`as_op`.

    Parameters
    ----------
    fn : callable
        Called with one NumPy array per input; returns one array, or a list or tuple of
        them (one per output).
    itypes, otypes : sequence of Type or variable constructor
        The inputs' and outputs' types (``[T.dmatrix]``, ``[TensorType('float32', (None,))]``).
    infer_shape : callable, optional
        ``infer_shape(node, input_shapes) -> [output shapes]``, so that the outputs' shapes
        are known without running ``fn``.
    """

    __props__ = ("fn", "itypes", "otypes", "infer_shape_fn")

    def __init__(self, fn: Callable, itypes: Sequence[Any], otypes: Sequence[Any],
                 infer_shape: Callable | None = None):
        if not callable(fn):
            raise ExprcTypeError(f"as_op: {fn!r} is not callable")
        if infer_shape is not None and not callable(infer_shape):
            raise ExprcTypeError(f"as_op: infer_shape {infer_shape!r} is not callable")
        self.fn = fn
        self.__name__ = getattr(fn, "__name__", type(fn).__name__)
        self.__doc__ = getattr(fn, "__doc__", None)
        self.itypes = tuple(as_type(self, t) for t in _listed(itypes, "itypes"))
        self.otypes = tuple(as_type(self, t) for t in _listed(otypes, "otypes"))
        self.infer_shape_fn = infer_shape

    @property
    def unconditional_shape(self) -> bool:
        """With an ``infer_shape``, the outputs' shapes need not run ``fn``."""
        return self.infer_shape_fn is not None

    def perform(self, node, inputs, output_storage) -> None:
        results = self.fn(*inputs)
        if not isinstance(results, (list, tuple)):
            results = [results]
        if len(results) != len(output_storage):
            raise ExprcTypeError(f"{self}: {self.__name__} returned {len(results)} value(s) "
                                 f"for {len(output_storage)} output(s) (otypes)")
        for cell, value in zip(output_storage, results):
            cell[0] = value

    def infer_shape(self, node, input_shapes):
        if self.infer_shape_fn is None:
            return None  # measured when computed
        return self.infer_shape_fn(node, input_shapes)

    def __reduce__(self):
        # The decorated function's module-level name now holds this op: pickle that name.
        module, name = getattr(self.fn, "__module__", None), self.__name__
        if _load_back(module, name) is not self:
            raise pickle.PicklingError(f"{self} can only be pickled when it is the module-level "
                                       f"name {name} of module {module} (as @as_op makes it)")
        return _load_back, (module, name)

    def __str__(self) -> str:
        return f"FromFunctionOp{{{self.__name__}}}"

    __repr__ = __str__


def as_op(itypes: Sequence[Any], otypes: Sequence[Any],
          infer_shape: Callable | None = None) -> Callable[[Callable], FromFunctionOp]:
    """Decorator: make a Python function on NumPy arrays an op.

    Parameters
    ----------
    itypes : sequence of Type or variable constructor
        One per argument of the function; an input of the op must have the dtype and rank of
        its type (and no static size contradicting it).
    otypes : sequence of Type or variable constructor
        One per result; each result must be an array of exactly that dtype and rank.
    infer_shape : callable, optional
        ``infer_shape(node, input_shapes)`` returning one shape (a tuple of sizes) per
        output, so that ``op(x).shape`` is known without running the function.

    Returns
    -------
    callable
        A decorator turning the function into a :class:`FromFunctionOp` (the op; call it on
        symbolic inputs to apply it).

    Examples
    --------
    >>> import numpy as np, exprc, exprc.tensor as T
    >>> @as_op(itypes=[T.dmatrix], otypes=[T.dvector])
    ... def row_norms(m):
    ...     return np.sqrt((m * m).sum(axis=1))
    >>> x = T.dmatrix('x')
    >>> exprc.function([x], row_norms(x))(np.array([[3.0, 4.0], [6.0, 8.0]]))
    array([ 5., 10.])
    """
    def decorate(fn: Callable) -> FromFunctionOp:
        return FromFunctionOp(fn, itypes, otypes, infer_shape)

    return decorate


def _load_back(module: str | None, name: str) -> Any:
    """The object named ``name`` in module ``module`` (None when there is none)."""
    try:
        return getattr(importlib.import_module(module), name, None) if module else None
    except ImportError:
        return None


def _listed(types: Any, what: str) -> list:
    if not isinstance(types, (list, tuple)):
        raise ExprcTypeError(f"as_op: {what} must be a list of types, got "
                             f"{type(types).__name__}")
    return list(types)
