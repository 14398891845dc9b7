"""Size expressions for shape rules: comparisons, choices, broadcasting and slice lengths.

Shape rules build their expressions with these helpers rather than with the tensor API
directly, so that statically known sizes give constants and the graphs the ``shape`` pass
inserts stay as small as the facts allow. The arithmetic itself (``add``, ``mul``,
``floordiv``, ``maximum``, ...) is :mod:`exprc.tensor.sizes`, shared with the ops' own static
shapes so that each size formula is written once; it is re-exported here for the rules. Every
helper takes and returns int64 0-d tensor variables (comparisons return bool 0-d tensors).
"""

from __future__ import annotations

from exprc.tensor import math as tm
from exprc.tensor.sizes import (
    NONNEGATIVE_DEPTH,
    add,
    as_size,
    const,
    floordiv,
    known_nonnegative,
    maximum,
    minimum,
    mul,
    same_size,
    sub,
    value_of,
)
from exprc.tensor.variable import TensorVariable, constant

__all__ = [
    "NONNEGATIVE_DEPTH",
    "add",
    "as_size",
    "broadcast",
    "const",
    "eq",
    "floordiv",
    "gt",
    "known_nonnegative",
    "lt",
    "maximum",
    "minimum",
    "mul",
    "product",
    "same_size",
    "slice_length",
    "sub",
    "switch",
    "total",
    "value_of",
]

#: The two truth values, shared like the small constants of :func:`const`.
_TRUTH: dict = {}


def _truth(value: bool) -> TensorVariable:
    key = bool(value)
    if key not in _TRUTH:
        _TRUTH[key] = constant(key)
    return _TRUTH[key]


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
