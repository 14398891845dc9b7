"""Ops written in Python: the conventions of ops that carry their implementation as methods.

exprc's own ops keep their rules in tables (see :mod:`exprc.graph.optable`). An op written
by a user, as Theano's ops were, carries them as methods instead: ``perform`` (the
implementation, on NumPy arrays), and optionally ``grad`` or ``L_op``, ``R_op``,
``infer_shape`` and ``connection_pattern``. Each table's fallback adapts the matching method
(see ``docs/python_ops.md``); this module holds what the IR itself needs to know of them:

- :func:`python_method` tells whether an op class defines one of those methods;
- :func:`adopt_defaults` gives a Python op class Theano's defaults where exprc's differ: an op
  that declares neither ``__props__`` nor ``__eq__`` compares by identity (exprc's default
  would make all its instances equal, and merging would then fuse nodes with different
  parameters), and an op with ``infer_shape`` states its output shape unconditionally, so that
  ``f(x).shape`` need not run it;
- :func:`declared_node` is the default ``make_node`` of an op declaring ``itypes`` and
  ``otypes`` (Theano's short form).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exprc.errors import ExprcTypeError, build_error
from exprc.graph.ir import Apply, Op, Type, Variable


def python_method(op_class: type, name: str) -> Any:
    """The method ``name`` (``"perform"``, ``"grad"``, ...) of ``op_class``, or None.

    exprc's :class:`~exprc.graph.ir.Op` defines none of them, so any found comes from the
    op's own class or a base class written outside the tables.
    """
    method = getattr(op_class, name, None)
    return method if callable(method) else None


def is_python_op(op_class: type) -> bool:
    """Whether ``op_class`` implements itself in Python (defines ``perform``)."""
    return python_method(op_class, "perform") is not None


def adopt_defaults(op_class: type) -> None:
    """Give the Python op class ``op_class`` Theano's identity equality when it declares
    neither ``__props__`` nor ``__eq__``, and ``unconditional_shape`` when it defines
    ``infer_shape`` and does not declare it."""
    own = [vars(k) for k in op_class.__mro__[:op_class.__mro__.index(Op)]]
    if not any("__props__" in d or "__eq__" in d for d in own):
        op_class.__eq__ = object.__eq__
        op_class.__hash__ = object.__hash__
    if python_method(op_class, "infer_shape") and not any("unconditional_shape" in d
                                                           for d in own):
        op_class.unconditional_shape = True


def declared_node(op: Op, inputs: Sequence[Any], itypes: Sequence[Any],
                  otypes: Sequence[Any]) -> Apply:
    """The node of ``op`` on ``inputs``, checked against ``itypes``, with outputs of
    ``otypes``.

    Each entry of ``itypes`` and ``otypes`` is a :class:`~exprc.graph.ir.Type` or a
    constructor of variables such as ``exprc.tensor.dmatrix``. An input fits its type when
    it has the same dtype and rank and no static size that contradicts one of the type's.
    """
    itypes, otypes = [as_type(op, t) for t in itypes], [as_type(op, t) for t in otypes]
    if len(inputs) != len(itypes):
        raise build_error(ExprcTypeError, op, f"takes {len(itypes)} input(s) (itypes), got "
                                              f"{len(inputs)}")
    for k, (x, want) in enumerate(zip(inputs, itypes)):
        if not isinstance(x, Variable):
            raise build_error(ExprcTypeError, op, f"input {k} must be a symbolic variable of "
                                                  f"type {want}, got a {type(x).__name__}; "
                                                  "convert it with as_tensor_variable first")
        if not fits(x.type, want):
            raise build_error(ExprcTypeError, op, f"input {k} ({x}) has type {x.type}, but "
                                                  f"itypes[{k}] is {want}")
    return Apply(op, list(inputs), [t() for t in otypes])


def as_type(op: Op, spec: Any) -> Type:
    """``spec`` (a Type, or a constructor such as ``dmatrix`` called with no argument) as a
    Type."""
    if isinstance(spec, Type):
        return spec
    made = spec() if callable(spec) else None
    if isinstance(made, Variable):
        return made.type
    raise build_error(ExprcTypeError, op, f"{spec!r} in itypes/otypes is not a type (give "
                                          "TensorType(...) or a constructor such as dmatrix)")


def fits(have: Type, want: Type) -> bool:
    """Whether a variable of type ``have`` may stand where ``want`` is declared."""
    if have == want:
        return True
    shapes = getattr(have, "shape", None), getattr(want, "shape", None)
    if None in shapes or getattr(have, "dtype", None) != getattr(want, "dtype", None):
        return False
    return len(shapes[0]) == len(shapes[1]) and all(
        w is None or w == h for h, w in zip(*shapes))
