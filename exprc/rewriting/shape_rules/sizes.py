"""Arithmetic on sizes: int64 0-d tensors that fold when their operands are constants.

Shape rules build their expressions with these helpers rather than with the tensor API
directly, so that statically known sizes give constants (``n * 1`` is ``n``, ``3 + 4`` is
``7``) and the graphs the ``shape`` pass inserts stay as small as the facts allow. Every
helper takes and returns int64 0-d tensor variables (comparisons return bool 0-d tensors).
"""

from __future__ import annotations

from exprc.graph.ir import Constant, Variable
from exprc.tensor import math as tm
from exprc.tensor.elemwise import DimShuffle, Elemwise
from exprc.tensor.shape import Shape
from exprc.tensor.subtensor import Subtensor
from exprc.tensor.variable import TensorVariable, constant

#: How deep :func:`known_nonnegative` looks into an expression before answering "unknown".
NONNEGATIVE_DEPTH = 8


#: Constants are immutable and may be shared by any number of graphs; sizes reuse the small
#: ones (and the two truth values) rather than create thousands of equal variables.
_SMALL: dict = {}
_SMALL_LIMIT = 1 << 10
_TRUTH: dict = {}


def const(value: int) -> TensorVariable:
    """The int64 0-d constant ``value``."""
    value = int(value)
    if not -_SMALL_LIMIT <= value <= _SMALL_LIMIT:
        return constant(value, dtype="int64")
    if value not in _SMALL:
        _SMALL[value] = constant(value, dtype="int64")
    return _SMALL[value]


def _truth(value: bool) -> TensorVariable:
    key = bool(value)
    if key not in _TRUTH:
        _TRUTH[key] = constant(key)
    return _TRUTH[key]


def value_of(var: Variable) -> int | bool | None:
    """The Python value of a 0-d constant, or None for anything else."""
    if isinstance(var, Constant) and var.data.ndim == 0:
        return var.data.item()
    return None


def as_size(var: TensorVariable) -> TensorVariable:
    """``var`` (a 0-d integer tensor) as int64."""
    known = value_of(var)
    if known is not None:
        return const(known)
    return tm.cast(var, "int64")


def same_size(a: Variable, b: Variable) -> bool:
    """Whether two size expressions are provably equal: the same variable or equal constants."""
    if a is b:
        return True
    va, vb = value_of(a), value_of(b)
    return va is not None and va == vb


def _fold(fn, op, a: TensorVariable, b: TensorVariable) -> TensorVariable:
    """``const(fn(a, b))`` when both are constants, else the node ``op(a, b)``."""
    va, vb = value_of(a), value_of(b)
    if va is None or vb is None:
        return op(a, b)
    return const(fn(va, vb))


def add(a: TensorVariable, b: TensorVariable) -> TensorVariable:
    if value_of(b) == 0:
        return a
    if value_of(a) == 0:
        return b
    return _fold(lambda p, q: p + q, tm.add, a, b)


def sub(a: TensorVariable, b: TensorVariable) -> TensorVariable:
    if value_of(b) == 0:
        return a
    if a is b:
        return const(0)
    return _fold(lambda p, q: p - q, tm.sub, a, b)


def mul(a: TensorVariable, b: TensorVariable) -> TensorVariable:
    if value_of(b) == 1:
        return a
    if value_of(a) == 1:
        return b
    if value_of(a) == 0 or value_of(b) == 0:
        return const(0)
    return _fold(lambda p, q: p * q, tm.mul, a, b)


def floordiv(a: TensorVariable, b: TensorVariable) -> TensorVariable:
    """``a // b`` (NumPy's floor division); ``b`` must not be a constant 0."""
    if value_of(b) == 1:
        return a
    return _fold(lambda p, q: p // q, tm.int_div, a, b)


def maximum(a: TensorVariable, b: TensorVariable) -> TensorVariable:
    if same_size(a, b):
        return a
    for x, y in ((a, b), (b, a)):
        # max(x, 0) of a size is the size itself.
        if value_of(y) == 0 and known_nonnegative(x):
            return x
    return _fold(max, tm.maximum, a, b)


def minimum(a: TensorVariable, b: TensorVariable) -> TensorVariable:
    if same_size(a, b):
        return a
    return _fold(min, tm.minimum, a, b)


def _compare(fn, op, a: TensorVariable, b: TensorVariable) -> TensorVariable:
    va, vb = value_of(a), value_of(b)
    if va is not None and vb is not None:
        return _truth(fn(va, vb))
    return op(a, b)


def eq(a: TensorVariable, b: TensorVariable) -> TensorVariable:
    if a is b:
        return _truth(True)
    return _compare(lambda p, q: p == q, tm.eq, a, b)


def lt(a: TensorVariable, b: TensorVariable) -> TensorVariable:
    return _compare(lambda p, q: p < q, tm.lt, a, b)


def gt(a: TensorVariable, b: TensorVariable) -> TensorVariable:
    return _compare(lambda p, q: p > q, tm.gt, a, b)


def switch(cond: TensorVariable, then: TensorVariable, otherwise: TensorVariable):
    """``then`` where ``cond`` holds, else ``otherwise`` (chosen now when ``cond`` is known)."""
    known = value_of(cond)
    if known is not None:
        return then if known else otherwise
    if same_size(then, otherwise):
        return then
    return tm.switch(cond, then, otherwise)


def product(sizes) -> TensorVariable:
    """The product of ``sizes`` (1 for none)."""
    total = const(1)
    for size in sizes:
        total = mul(total, size)
    return total


def total(sizes) -> TensorVariable:
    """The sum of ``sizes`` (0 for none)."""
    result = const(0)
    for size in sizes:
        result = add(result, size)
    return result


def broadcast(sizes) -> TensorVariable:
    """The size NumPy broadcasting gives an axis whose operands have ``sizes``.

    A size of 1 stretches to the others; different sizes other than 1 are an error that the
    op itself reports at run time, so any size other than 1 may stand for the result.
    """
    distinct: list[TensorVariable] = []
    for size in sizes:
        if value_of(size) == 1 or any(same_size(size, d) for d in distinct):
            continue
        known = value_of(size)
        if known is not None:
            return size
        distinct.append(size)
    if not distinct:
        return const(1)
    result = distinct[0]
    for size in distinct[1:]:
        result = switch(eq(result, const(1)), size, result)
    return result


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


def _bound(value: TensorVariable | None, n: TensorVariable, positive: bool,
           is_start: bool) -> TensorVariable:
    """A slice bound clipped to ``n`` as Python's ``slice.indices`` does."""
    if value is None:
        if positive:
            return const(0) if is_start else n
        return sub(n, const(1)) if is_start else const(-1)
    lower, upper = (const(0), n) if positive else (const(-1), sub(n, const(1)))
    from_end = maximum(add(n, value), lower)
    from_start = minimum(value, upper)
    return switch(lt(value, const(0)), from_end, from_start)


def _signed_slice_length(start, stop, step: TensorVariable, n: TensorVariable,
                         positive: bool) -> TensorVariable:
    if positive and stop is None and value_of(start) is not None and value_of(start) >= 0:
        # A start past the end needs no clipping: the length comes out <= 0 and becomes 0.
        first, last = start, n
    else:
        first, last = _bound(start, n, positive, True), _bound(stop, n, positive, False)
    if positive:
        span, stride = sub(last, first), step
    else:
        span, stride = sub(first, last), sub(const(0), step)
    if value_of(stride) == 1:
        return maximum(span, const(0))
    count = add(floordiv(sub(span, const(1)), stride), const(1))
    return maximum(count, const(0))


def slice_length(start: TensorVariable | None, stop: TensorVariable | None,
                 step: TensorVariable | None, n: TensorVariable) -> TensorVariable:
    """The length of ``range(n)[start:stop:step]`` (None for an omitted component)."""
    if start is None and stop is None and (step is None or value_of(step) == 1):
        return n
    step = const(1) if step is None else step
    known = value_of(step)
    if known is not None:
        return _signed_slice_length(start, stop, step, n, known > 0)
    ahead = _signed_slice_length(start, stop, step, n, True)
    back = _signed_slice_length(start, stop, step, n, False)
    return switch(gt(step, const(0)), ahead, back)
