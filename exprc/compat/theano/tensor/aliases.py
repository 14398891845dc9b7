"""Theano's other names of ``theano.tensor`` functions (``bitwise_and``, ``iround``,
``floor_div``, ...) and the few it has that exprc spells differently or builds from others
(``ceil_intdiv``, ``get_vector_length``, ``batched_tensordot``)."""

from __future__ import annotations

from typing import Any

import exprc.tensor as _T

__all__ = ["advanced_inc_subtensor", "advanced_inc_subtensor1", "advanced_set_subtensor",
           "advanced_set_subtensor1", "advanced_subtensor", "advanced_subtensor1",
           "all_dtypes", "argtopk", "as_tensor", "batched_tensordot", "bitwise_and",
           "bitwise_not", "bitwise_or", "bitwise_xor", "ceil_intdiv", "complex_dtypes",
           "consider_constant", "continuous_dtypes", "discrete_dtypes", "divmod",
           "extract_constant", "float_dtypes", "floor_div", "get_vector_length",
           "grad_not_implemented", "grad_undefined", "int_dtypes", "integer_dtypes", "iround",
           "power", "round_half_away_from_zero", "round_half_to_even", "scalar_from_tensor",
           "second", "square", "tensor_from_scalar", "topk", "topk_and_argtopk", "trace",
           "uint_dtypes", "verify_grad"]

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


# ------------------------------------------------------------------ more of Theano's names
from exprc.compat.theano.gradient import (  # noqa: E402
    consider_constant,
    grad_not_implemented,
    grad_undefined,
    verify_grad,
)
from exprc.tensor.nlinalg import trace  # noqa: E402

#: Theano's lists of dtype names (exprc has no complex dtypes, so that list is empty).
float_dtypes = ("float16", "float32", "float64")
uint_dtypes = ("uint8", "uint16", "uint32", "uint64")
int_dtypes = ("int8", "int16", "int32", "int64")
integer_dtypes = int_dtypes + uint_dtypes
discrete_dtypes = ("bool",) + integer_dtypes
continuous_dtypes = float_dtypes
complex_dtypes = ()
all_dtypes = discrete_dtypes + continuous_dtypes

#: ``x ** 2`` (Theano's ``square``, also ``sqr``).
square = _T.sqr


def divmod(x: Any, y: Any):
    """``(x // y, x % y)`` elementwise, as Python's ``divmod``."""
    return _T.int_div(x, y), _T.mod(x, y)


def advanced_subtensor1(x: Any, ilist: Any):
    """``x[ilist]`` for an integer vector ``ilist`` (Theano's name of that indexing)."""
    return _T.as_tensor_variable(x)[ilist]


def advanced_subtensor(x: Any, *indices: Any):
    """``x[indices]`` with integer arrays among the indices."""
    return _T.as_tensor_variable(x)[tuple(indices)]


def advanced_inc_subtensor1(x: Any, y: Any, ilist: Any):
    """``x`` with ``y`` added at rows ``ilist`` (repeated rows add up)."""
    return _T.inc_subtensor(_T.as_tensor_variable(x)[ilist], y)


def advanced_set_subtensor1(x: Any, y: Any, ilist: Any):
    """``x`` with rows ``ilist`` set to ``y``."""
    return _T.set_subtensor(_T.as_tensor_variable(x)[ilist], y)


def advanced_inc_subtensor(x: Any, y: Any, *indices: Any):
    """``x`` with ``y`` added at ``x[indices]``."""
    return _T.inc_subtensor(_T.as_tensor_variable(x)[tuple(indices)], y)


def advanced_set_subtensor(x: Any, y: Any, *indices: Any):
    """``x`` with ``x[indices]`` set to ``y``."""
    return _T.set_subtensor(_T.as_tensor_variable(x)[tuple(indices)], y)


def scalar_from_tensor(x: Any):
    """A 0-d tensor (exprc's scalars are 0-d tensors; Theano's had a separate type)."""
    x = _T.as_tensor_variable(x)
    if x.ndim != 0:
        raise TypeError(f"scalar_from_tensor: {x} has {x.ndim} dimensions, expected 0")
    return x


tensor_from_scalar = scalar_from_tensor


def extract_constant(x: Any, elemwise: bool = True, only_process_constants: bool = False):
    """The constant value of ``x`` as a 0-d array if it has one, else ``x`` itself."""
    from exprc.compat.theano.tensor.basic import NotScalarConstantError, get_scalar_constant_value
    try:
        return get_scalar_constant_value(x, elemwise=elemwise,
                                         only_process_constants=only_process_constants)
    except NotScalarConstantError:
        return x


def topk_and_argtopk(x: Any, kth: int, axis: int = -1, sorted: bool = True,
                     idx_dtype: str = "int64"):
    """The ``kth`` largest values of ``x`` along ``axis`` and their indices (a negative
    ``kth``: the smallest), largest first when ``sorted``."""
    if not isinstance(kth, int) or kth == 0:
        raise ValueError(f"topk: kth must be a non-zero int, got {kth!r}")
    x = _T.as_tensor_variable(x)
    key = -x if kth > 0 else x  # ascending order of the key puts the wanted values first
    index = [slice(None)] * x.ndim
    index[axis] = slice(0, abs(kth))
    first = tuple(index)
    values = _T.sort(key, axis=axis)[first]
    return (-values if kth > 0 else values), _T.cast(_T.argsort(key, axis=axis)[first],
                                                      idx_dtype)


def topk(x: Any, kth: int, axis: int = -1, sorted: bool = True, idx_dtype: str = "int64"):
    """The ``kth`` largest values of ``x`` along ``axis`` (see :func:`topk_and_argtopk`)."""
    return topk_and_argtopk(x, kth, axis, sorted, idx_dtype)[0]


def argtopk(x: Any, kth: int, axis: int = -1, sorted: bool = True, idx_dtype: str = "int64"):
    """The indices of the ``kth`` largest values of ``x`` along ``axis``."""
    return topk_and_argtopk(x, kth, axis, sorted, idx_dtype)[1]
