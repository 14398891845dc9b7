"""Arithmetic on sizes that are known ints, unknown (None) or int64 0-d tensor expressions.

A size formula (the output size of a convolution, the number of pooling windows) has three
callers: ``make_node`` works out static shapes from sizes that are ints or unknown; shape
inference has every size as an int64 scalar expression; the reference executor has ints. The
helpers here accept all three, so that each formula is written once and answers in kind:

- ints only: an int;
- any None: None (an unknown operand makes the result unknown);
- otherwise an int64 0-d tensor variable (an int operand becomes a constant).

Expressions fold when their operands are constants and simplify the identities that need no
analysis (``n * 1`` is ``n``, ``3 + 4`` is ``7``, ``max(n, 0)`` is ``n`` for a size ``n``), so
the graphs that shape inference inserts stay as small as the facts allow.

>>> from exprc.tensor.sizes import add, floordiv
>>> floordiv(add(7, 1), 2)
4
>>> floordiv(add(None, 1), 2) is None
True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from exprc.graph.ir import Constant, Variable
from exprc.tensor import math as tm
from exprc.tensor.elemwise import DimShuffle, Elemwise
from exprc.tensor.shape import Shape
from exprc.tensor.subtensor import Subtensor
from exprc.tensor.variable import TensorVariable, constant

__all__ = [
    "Size",
    "add",
    "as_size",
    "const",
    "floordiv",
    "known_nonnegative",
    "maximum",
    "minimum",
    "mul",
    "same_size",
    "sub",
    "value_of",
]

#: What the helpers take and give: a known int, None for unknown, or an int64 scalar tensor.
Size = int | None | TensorVariable

#: How deep :func:`known_nonnegative` looks into an expression before answering "unknown".
NONNEGATIVE_DEPTH = 8

#: Constants are immutable and may be shared by any number of graphs; sizes reuse the small
#: ones rather than create thousands of equal variables.
_SMALL: dict = {}
_SMALL_LIMIT = 1 << 10


def const(value: int) -> TensorVariable:
    """The int64 0-d constant ``value``."""
    value = int(value)
    if not -_SMALL_LIMIT <= value <= _SMALL_LIMIT:
        return constant(value, dtype="int64")
    if value not in _SMALL:
        _SMALL[value] = constant(value, dtype="int64")
    return _SMALL[value]


def value_of(var: Variable) -> int | bool | None:
    """The Python value of a 0-d constant, or None for anything else."""
    if isinstance(var, Constant) and var.data.ndim == 0:
        return var.data.item()
    return None


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer))


def as_size(value: int | TensorVariable) -> TensorVariable:
    """``value`` (an int, or a 0-d integer tensor) as an int64 scalar expression."""
    if _is_int(value):
        return const(value)
    known = value_of(value)
    if known is not None:
        return const(known)
    return tm.cast(value, "int64")


def same_size(a: Variable, b: Variable) -> bool:
    """Whether two size expressions are provably equal: the same variable or equal constants."""
    if a is b:
        return True
    va, vb = value_of(a), value_of(b)
    return va is not None and va == vb


def _binary(fn: Callable[[int, int], int], build: Callable, a: Size, b: Size,
            simplify: Callable | None = None) -> Size:
    """``fn(a, b)`` in kind: an int for ints, None for an unknown operand, else the node
    ``build(a, b)`` (or what ``simplify`` makes of it, or a constant if both are known)."""
    if a is None or b is None:
        return None
    if _is_int(a) and _is_int(b):
        return fn(int(a), int(b))
    a, b = as_size(a), as_size(b)
    if simplify is not None:
        simpler = simplify(a, b)
        if simpler is not None:
            return simpler
    va, vb = value_of(a), value_of(b)
    if va is None or vb is None:
        return build(a, b)
    return const(fn(va, vb))


def _simplify_add(a, b):
    if value_of(b) == 0:
        return a
    if value_of(a) == 0:
        return b
    return None


def _simplify_sub(a, b):
    if value_of(b) == 0:
        return a
    if a is b:
        return const(0)
    return None


def _simplify_mul(a, b):
    if value_of(b) == 1:
        return a
    if value_of(a) == 1:
        return b
    if value_of(a) == 0 or value_of(b) == 0:
        return const(0)
    return None


def _simplify_maximum(a, b):
    if same_size(a, b):
        return a
    for x, y in ((a, b), (b, a)):
        # max(x, 0) of a size is the size itself.
        if value_of(y) == 0 and known_nonnegative(x):
            return x
    return None


def add(a: Size, b: Size) -> Size:
    """``a + b``."""
    return _binary(lambda p, q: p + q, tm.add, a, b, _simplify_add)


def sub(a: Size, b: Size) -> Size:
    """``a - b``."""
    return _binary(lambda p, q: p - q, tm.sub, a, b, _simplify_sub)


def mul(a: Size, b: Size) -> Size:
    """``a * b``."""
    return _binary(lambda p, q: p * q, tm.mul, a, b, _simplify_mul)


def floordiv(a: Size, b: Size) -> Size:
    """``a // b``, rounded down as Python's ``//``; ``b`` must not be 0."""
    return _binary(lambda p, q: p // q, tm.int_div, a, b,
                   lambda p, q: p if value_of(q) == 1 else None)


def maximum(a: Size, b: Size) -> Size:
    """The larger of ``a`` and ``b``."""
    return _binary(max, tm.maximum, a, b, _simplify_maximum)


def minimum(a: Size, b: Size) -> Size:
    """The smaller of ``a`` and ``b``."""
    return _binary(min, tm.minimum, a, b, lambda p, q: p if same_size(p, q) else None)


def known_nonnegative(var: Variable, depth: int = NONNEGATIVE_DEPTH) -> bool:
    """Whether the int64 scalar ``var`` is provably >= 0 (a size, a constant >= 0, or sums,
    products, quotients, maxima and choices of those). False means "not known"."""
    known = value_of(var)
    if known is not None:
        return known >= 0
    node = var.owner
    if node is None or depth == 0:
        return False
    op = node.op
    if isinstance(op, Subtensor):
        return node.inputs[0].owner is not None and isinstance(node.inputs[0].owner.op, Shape)
    if isinstance(op, DimShuffle):
        return known_nonnegative(node.inputs[0], depth - 1)
    if not isinstance(op, Elemwise):
        return False
    name = op.scalar_op.name
    args = node.inputs[1:] if name == "switch" else node.inputs
    if name == "maximum":
        return any(known_nonnegative(a, depth - 1) for a in args)
    if name in ("add", "mul", "int_div", "minimum", "switch") or (
            name == "cast" and op.scalar_op.out_dtype == "int64"):
        return all(known_nonnegative(a, depth - 1) for a in args)
    return False
