"""Registry cases of extra_ops: CumOp, LinearRecurrence, Repeat, RepeatSum, OneHot and the
composed diff."""

import numpy as np

import exprc
import exprc.tensor as T
from exprc.tensor.extra_ops import CumOp, LinearRecurrence, RepeatSum
from tests.registry import Arg, Case, add


def _with_zeros(shape, positions):
    """Uniform values in [-2, 2) with exact zeros at the flat ``positions``."""
    def gen(rng):
        values = rng.uniform(-2.0, 2.0, shape)
        values.flat[list(positions)] = 0.0
        return values
    return gen


def _labels(n, nb_class):
    def gen(rng):
        return rng.integers(0, nb_class, n)
    return gen


# name -> (shape, axis, dtype)
CUM_INPUTS = {
    "axis=None": ((3, 4), None, "float64"),
    "vector": ((5,), 0, "float64"),
    "matrix/axis=0": ((3, 4), 0, "float64"),
    "matrix/axis=-1": ((3, 4), -1, "float64"),
    "tensor3/axis=1": ((2, 3, 2), 1, "float64"),
    "0d/axis=None": ((), None, "float64"),
    "empty": ((0, 3), 1, "float64"),
    "float32": ((3, 4), 1, "float32"),
    "int8": ((3, 4), 1, "int8"),
    "uint8": ((3, 4), 0, "uint8"),
    "int32/axis=None": ((2, 3), None, "int32"),
    "uint64": ((4,), 0, "uint64"),
    "bool": ((3, 4), 1, "bool"),
}

for _name, (_shape, _axis, _dtype) in CUM_INPUTS.items():
    _floats = _dtype.startswith("float")
    _sum_arg = Arg(_shape, _dtype, low=0 if not _floats else -2, high=4)
    _prod_arg = Arg(_shape, _dtype) if _floats else Arg(_shape, _dtype, low=0, high=4)
    _grad = True if _dtype == "float64" else "not float64"
    _tol = {"rtol": 1e-5} if _dtype == "float32" else {}
    add(Case(f"cumsum/{_name}", lambda x, a=_axis: T.cumsum(x, axis=a),
             lambda x, a=_axis: np.cumsum(x, axis=a), [_sum_arg], grad=_grad, **_tol),
        Case(f"cumprod/{_name}", lambda x, a=_axis: T.cumprod(x, axis=a),
             lambda x, a=_axis: np.cumprod(x, axis=a), [_prod_arg], grad=_grad, **_tol))

add(
    Case("cumsum/reverse", lambda x: CumOp(1, "add", reverse=True)(x),
         lambda x: np.flip(np.cumsum(np.flip(x, 1), axis=1), 1), [Arg((3, 4))]),
    Case("cumprod/reverse", lambda x: CumOp(0, "mul", reverse=True)(x),
         lambda x: np.flip(np.cumprod(np.flip(x, 0), axis=0), 0), [Arg((4, 3))]),
    Case("cumsum/method", lambda x: x.cumsum(axis=0), lambda x: np.cumsum(x, axis=0),
         [Arg((3, 2))]),
    Case("cumprod/method", lambda x: x.cumprod(), np.cumprod, [Arg((3, 2))]),
)

# Exact zeros, where dividing by x would make the gradient NaN:
# name -> (shape, axis, flat positions of the zeros)
CUMPROD_ZEROS = {
    "one": ((5,), 0, [2]),
    "first_and_last": ((5,), 0, [0, 4]),
    "several": ((6,), 0, [1, 2, 4]),
    "all": ((3,), 0, [0, 1, 2]),
    "matrix/axis=0": ((4, 3), 0, [3, 4, 7, 11]),
    "matrix/axis=-1": ((3, 4), -1, [1, 5, 6, 11]),
    "tensor3/axis=1": ((2, 4, 2), 1, [2, 3, 4, 10, 12]),
    "axis=None": ((3, 3), None, [1, 4, 5]),
}
for _name, (_shape, _axis, _zeros) in CUMPROD_ZEROS.items():
    add(Case(f"cumprod/zeros/{_name}", lambda x, a=_axis: T.cumprod(x, axis=a),
             lambda x, a=_axis: np.cumprod(x, axis=a),
             [Arg(_shape, gen=_with_zeros(_shape, _zeros))]))
add(Case("cumprod/zeros/reverse", lambda x: CumOp(1, "mul", reverse=True)(x),
         lambda x: np.flip(np.cumprod(np.flip(x, 1), axis=1), 1),
         [Arg((2, 5), gen=_with_zeros((2, 5), [1, 3, 5]))]),
    # The gradient is a graph too: its own gradient checks second derivatives at zeros.
    Case("cumprod/zeros/gradient",
         lambda x, w: exprc.grad(T.sum(T.cumprod(x, axis=1) * w), x),
         lambda x, w: _cumprod_gradient_reference(x, w),
         [Arg((2, 4), gen=_with_zeros((2, 4), [1, 5, 6])), Arg((2, 4))]))


def _cumprod_gradient_reference(x, w):
    """d sum(cumprod(x, axis=1) * w) / dx, summing the products term by term."""
    out = np.zeros_like(x)
    for i in range(x.shape[1]):
        for j in range(i, x.shape[1]):
            others = np.prod(np.delete(x[:, :j + 1], i, axis=1), axis=1)
            out[:, i] += w[:, j] * others
    return out


def _recurrence_reference(a, b, axis, reverse):
    """s[i] = sum over j up to i of b[j] times the product of a[k] for j < k <= i (from the
    other end when ``reverse``), written out term by term."""
    a, b = np.moveaxis(a, axis, 0), np.moveaxis(b, axis, 0)
    if reverse:
        a, b = a[::-1], b[::-1]
    out = np.zeros(np.broadcast(a, b).shape, np.result_type(a, b))
    for i in range(len(out)):
        for j in range(i + 1):
            out[i] += b[j] * np.prod(a[j + 1:i + 1], axis=0)
    if reverse:
        out = out[::-1]
    return np.moveaxis(out, 0, axis)


# name -> (shape, axis, reverse, flat positions of zeros in a)
RECURRENCE_INPUTS = {
    "vector": ((5,), 0, False, []),
    "vector/reverse": ((5,), 0, True, []),
    "matrix/axis=0": ((4, 3), 0, False, []),
    "matrix/axis=-1/reverse": ((3, 4), -1, True, []),
    "tensor3/axis=1": ((2, 3, 2), 1, False, []),
    "zeros": ((6,), 0, False, [0, 2, 3]),
    "zeros/reverse": ((3, 4), 1, True, [1, 2, 7, 11]),
    "length1": ((3, 1), 1, False, []),
}
for _name, (_shape, _axis, _reverse, _zeros) in RECURRENCE_INPUTS.items():
    add(Case(f"linear_recurrence/{_name}",
             lambda a, b, ax=_axis, r=_reverse: LinearRecurrence(ax, r)(a, b),
             lambda a, b, ax=_axis, r=_reverse: _recurrence_reference(a, b, ax, r),
             [Arg(_shape, gen=_with_zeros(_shape, _zeros)), Arg(_shape)]))
add(
    Case("linear_recurrence/empty", lambda a, b: LinearRecurrence(1)(a, b),
         lambda a, b: np.zeros((2, 0)), [Arg((2, 0)), Arg((2, 0))], grad="empty input"),
    Case("linear_recurrence/float32_float64",
         lambda a, b: LinearRecurrence(0, reverse=True)(a, b),
         lambda a, b: _recurrence_reference(a, b, 0, True),
         [Arg((4, 2), "float32"), Arg((4, 2))], grad="float32 forward case"),
    Case("linear_recurrence/static", lambda a, b: LinearRecurrence(0)(a, b),
         lambda a, b: _recurrence_reference(a, b, 0, False),
         [Arg((3, 2), static=(3, None)), Arg((3, 2), static=(None, 2))]),
)

# name -> (x shape, x dtype, repeats (a value, or an Arg for a symbolic count), axis)
REPEAT_INPUTS = {
    "scalar/axis=None": ((2, 3), "float64", 2, None),
    "scalar/axis=0": ((2, 3), "float64", 3, 0),
    "scalar/axis=-1": ((2, 3), "float64", 2, -1),
    "zero": ((2, 3), "float64", 0, 1),
    "vector": ((3, 2), "float64", [1, 0, 2], 0),
    "vector/len1": ((3, 2), "float64", [2], 1),
    "vector/axis=None": ((2, 2), "float64", [1, 2, 0, 3], None),
    "0d/axis=None": ((), "float64", 3, None),
    "empty": ((0, 3), "float64", 2, 0),
    "int32": ((2, 3), "int32", [2, 1, 0], 1),
    "bool": ((4,), "bool", 2, 0),
    "symbolic_scalar": ((2, 3), "float64", Arg((), "int64", low=0, high=3), 1),
    "symbolic_vector": ((3, 2), "float64", Arg((3,), "int32", low=0, high=3), 0),
    "symbolic_vector/axis=None": ((2, 2), "float64", Arg((4,), "uint8", low=0, high=3), None),
}

for _name, (_shape, _dtype, _reps, _axis) in REPEAT_INPUTS.items():
    _x = Arg(_shape, _dtype, low=0 if _dtype != "float64" else -2, high=5)
    _grad = True if _dtype == "float64" else "integer input"
    if isinstance(_reps, Arg):
        add(Case(f"repeat/{_name}", lambda x, r, a=_axis: T.repeat(x, r, axis=a),
                 lambda x, r, a=_axis: np.repeat(x, r, axis=a), [_x, _reps], grad=_grad))
    else:
        add(Case(f"repeat/{_name}", lambda x, r=_reps, a=_axis: T.repeat(x, r, axis=a),
                 lambda x, r=_reps, a=_axis: np.repeat(x, r, axis=a), [_x], grad=_grad))


def _repeat_sum_reference(g, counts, axis):
    ends = np.cumsum(counts)
    parts = [np.take(g, np.arange(e - c, e), axis=axis).sum(axis=axis)
             for c, e in zip(counts, ends)]
    return np.stack(parts, axis=axis)


add(
    Case("repeat/method", lambda x: x.repeat(2, axis=0), lambda x: np.repeat(x, 2, axis=0),
         [Arg((2, 3))]),
    Case("repeat_sum/vector", lambda g: RepeatSum(0)(g, [1, 0, 2], T.constant([3, 4])),
         lambda g: _repeat_sum_reference(g, [1, 0, 2], 0), [Arg((3, 4))]),
    Case("repeat_sum/scalar", lambda g, s: RepeatSum(-1)(g, 2, T.shape(s)),
         lambda g, s: _repeat_sum_reference(g, [2, 2, 2], 1),
         [Arg((2, 6)), Arg((2, 3), differentiable=False)]),
)

# name -> (shape, dtype, n, axis)
DIFF_INPUTS = {
    "vector": ((5,), "float64", 1, -1),
    "n=2": ((6,), "float64", 2, -1),
    "n=0": ((3, 2), "float64", 0, -1),
    "matrix/axis=0": ((4, 3), "float64", 1, 0),
    "tensor3/axis=1/n=2": ((2, 4, 3), "float64", 2, 1),
    "too_short": ((2,), "float64", 3, 0),
    "empty": ((0, 3), "float64", 1, 1),
    "int16": ((3, 5), "int16", 1, -1),
    "uint8": ((5,), "uint8", 1, 0),
    "bool": ((3, 5), "bool", 2, 1),
}

for _name, (_shape, _dtype, _n, _axis) in DIFF_INPUTS.items():
    add(Case(f"diff/{_name}", lambda x, n=_n, a=_axis: T.diff(x, n=n, axis=a),
             lambda x, n=_n, a=_axis: np.diff(x, n=n, axis=a),
             [Arg(_shape, _dtype, low=0 if _dtype != "float64" else -2, high=9)],
             grad=True if _dtype == "float64" else "integer or bool input"))

add(
    Case("to_one_hot/default_dtype", lambda y: T.to_one_hot(y, 4),
         lambda y: np.eye(4)[y], [Arg((5,), "int64", gen=_labels(5, 4))],
         grad="integer labels"),
    Case("to_one_hot/int32", lambda y: T.to_one_hot(y, 3, dtype="int32"),
         lambda y: np.eye(3, dtype="int32")[y], [Arg((6,), "uint8", gen=_labels(6, 3))],
         grad="integer labels"),
    Case("to_one_hot/empty", lambda y: T.to_one_hot(y, 2, dtype="float32"),
         lambda y: np.zeros((0, 2), "float32"), [Arg((0,), "int32")], grad="integer labels"),
)
