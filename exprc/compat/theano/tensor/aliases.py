"""Theano's other names of ``theano.tensor`` functions (``bitwise_and``, ``iround``,
``floor_div``, ...) and the few it has that exprc spells differently or builds from others
(``ceil_intdiv``, ``get_vector_length``, ``batched_tensordot``)."""

from __future__ import annotations

from typing import Any

import exprc.tensor as _T

__all__ = ["as_tensor", "batched_tensordot", "bitwise_and", "bitwise_not", "bitwise_or",
           "bitwise_xor", "ceil_intdiv", "floor_div", "get_vector_length", "iround", "power",
           "round_half_away_from_zero", "round_half_to_even", "second"]

#: NumPy's names of the bitwise (logical, for bool) operations.
bitwise_and, bitwise_or, bitwise_xor, bitwise_not = _T.and_, _T.or_, _T.xor, _T.invert
#: Theano's names of ``int_div``, ``pow``, ``fill`` and ``as_tensor_variable``.
floor_div, power, second, as_tensor = _T.int_div, _T.pow, _T.fill, _T.as_tensor_variable


def iround(a: Any, mode: str | None = None):
    """``round(a, mode)`` as int64 (Theano's ``iround``); ``mode`` defaults to half to even."""
    return _T.cast(_T.round(a, mode or "half_to_even"), "int64")


def round_half_to_even(a: Any):
    """Round to the nearest integer, ties to even (as a float)."""
    return _T.round(a, "half_to_even")


def round_half_away_from_zero(a: Any):
    """Round to the nearest integer, ties away from zero (as a float)."""
    return _T.round(a, "half_away_from_zero")


def ceil_intdiv(a: Any, b: Any):
    """``ceil(a / b)`` for integers: the floor division plus one where it leaves a
    remainder (Theano's ``ceil_intdiv``)."""
    quotient = _T.int_div(a, b)
    return quotient + _T.cast(_T.neq(_T.mod(a, b), 0), quotient.dtype)


def get_vector_length(v: Any) -> int:
    """The length of the vector ``v`` when the graph knows it; a ValueError otherwise."""
    v = _T.as_tensor_variable(v)
    if v.ndim != 1:
        raise ValueError(f"get_vector_length: {v} of type {v.type} is not a vector")
    if v.type.shape[0] is not None:
        return v.type.shape[0]
    raise ValueError(f"get_vector_length: the length of {v} is not known when the graph is "
                     "built")


def batched_tensordot(x: Any, y: Any, axes: Any = 2):
    """``tensordot`` of ``x[i]`` and ``y[i]`` for every ``i`` of the leading (batch) axis
    (Theano's ``batched_tensordot``).

    ``axes`` is an int ``n`` (the last ``n`` axes of ``x`` against the first ``n`` of ``y``
    after the batch axis) or a pair of axis lists (counting the batch axis as 0).
    """
    x, y = _T.as_tensor_variable(x), _T.as_tensor_variable(y)
    if isinstance(axes, int):
        x_axes = list(range(x.ndim - axes, x.ndim))
        y_axes = list(range(1, axes + 1))
    else:
        x_axes, y_axes = ([a % v.ndim for a in ([ax] if isinstance(ax, int) else ax)]
                          for v, ax in zip((x, y), axes))
    if 0 in x_axes or 0 in y_axes or len(x_axes) != len(y_axes):
        raise ValueError(f"batched_tensordot: axes {axes!r} must pair equally many axes, none "
                         "of them the batch axis 0")
    x_free = [d for d in range(1, x.ndim) if d not in x_axes]
    y_free = [d for d in range(1, y.ndim) if d not in y_axes]
    batch = x.shape[0]

    def size(v, dims):
        out = _T.constant(1, dtype="int64")
        for d in dims:
            out = out * v.shape[d]
        return out

    x3 = x.dimshuffle(0, *x_free, *x_axes).reshape((batch, size(x, x_free), size(x, x_axes)))
    y3 = y.dimshuffle(0, *y_axes, *y_free).reshape((batch, size(y, y_axes), size(y, y_free)))
    shape = [batch] + [x.shape[d] for d in x_free] + [y.shape[d] for d in y_free]
    return _T.batched_dot(x3, y3).reshape(shape, ndim=len(shape))
