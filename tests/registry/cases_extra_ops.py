"""Registry cases of extra_ops: CumOp, LinearRecurrence, Repeat, RepeatSum, OneHot,
SearchSorted, RuntimeCheck, the composed diff, and the functions composed from other ops in
exprc.tensor.arraytools and exprc.tensor.selection."""

import numpy as np

import exprc
import exprc.tensor as T
from exprc.tensor.extra_ops import CumOp, LinearRecurrence, RepeatSum, RuntimeCheck
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


# --------------------------------------------------------------------------- searchsorted
def _sorted(n, dtype="float64", nans=0):
    def gen(rng):
        values = np.sort(rng.integers(-5, 6, n).astype(dtype))
        if nans:
            values[-nans:] = np.nan
        return values
    return gen


def _permutation(n):
    return lambda rng: rng.permutation(n)


def _draws(shape, low, high, dtype="float64", specials=()):
    """Integers in [low, high) as ``dtype`` (ties with a sorted vector of integers), with the
    ``specials`` written at the first positions."""
    def gen(rng):
        values = rng.integers(low, high, shape).astype(dtype)
        values.flat[:len(specials)] = specials
        return values
    return gen


_NO_GRAD_POSITIONS = "integer positions"
add(
    Case("searchsorted/left", lambda x, v: T.searchsorted(x, v),
         lambda x, v: np.searchsorted(x, v, side="left"),
         [Arg((7,), gen=_sorted(7)), Arg((3, 4), gen=_draws((3, 4), -7, 8))],
         grad=_NO_GRAD_POSITIONS),
    Case("searchsorted/right", lambda x, v: T.searchsorted(x, v, side="right"),
         lambda x, v: np.searchsorted(x, v, side="right"),
         [Arg((7,), gen=_sorted(7)), Arg((9,), gen=_draws((9,), -7, 8))],
         grad=_NO_GRAD_POSITIONS),
    Case("searchsorted/nan", lambda x, v: T.searchsorted(x, v, "right"),
         lambda x, v: np.searchsorted(x, v, side="right"),
         [Arg((6,), gen=_sorted(6, nans=2)),
          Arg((5,), gen=_draws((5,), -7, 8, specials=[np.nan, np.inf, -np.inf]))],
         grad=_NO_GRAD_POSITIONS),
    Case("searchsorted/sorter", lambda x, v, s: T.searchsorted(x, v, sorter=s),
         lambda x, v, s: np.searchsorted(x, v, sorter=s),
         [Arg((6,), gen=lambda rng: np.array([3.0, -1.0, 7.0, 0.0, 2.0, 5.0])),
          Arg((8,), gen=_draws((8,), -2, 9)),
          Arg((6,), "int32", gen=lambda rng: np.array([1, 3, 4, 0, 5, 2]))],
         grad=_NO_GRAD_POSITIONS),
    Case("searchsorted/int_in_float", lambda x, v: T.searchsorted(x, v),
         lambda x, v: np.searchsorted(x, v),
         [Arg((5,), "int16", gen=_sorted(5, "int16")), Arg((), gen=lambda rng: np.array(0.5))],
         grad=_NO_GRAD_POSITIONS),
    Case("searchsorted/uint8_in_int64", lambda x, v: T.searchsorted(x, v, side="right"),
         lambda x, v: np.searchsorted(x, v, side="right"),
         [Arg((5,), "int64", gen=_sorted(5, "int64")), Arg((4,), "uint8", 0, 6)],
         grad=_NO_GRAD_POSITIONS),
    Case("searchsorted/empty_x", lambda x, v: T.searchsorted(x, v),
         lambda x, v: np.searchsorted(x, v), [Arg((0,)), Arg((3,))], grad=_NO_GRAD_POSITIONS),
    Case("searchsorted/method", lambda x, v: x.searchsorted(v),
         lambda x, v: np.searchsorted(x, v), [Arg((5,), gen=_sorted(5)), Arg((2, 2))],
         grad=_NO_GRAD_POSITIONS),
)

# --------------------------------------------------------------------------- run-time checks
add(
    Case("runtime_check/passes", lambda x: RuntimeCheck("bincount_negative")(x, T.all(x > -3)),
         lambda x: x, [Arg((3, 4))]),
    Case("runtime_check/int", lambda x: RuntimeCheck("index_out_of_range")(x, T.all(x >= 0)),
         lambda x: x, [Arg((5,), "int32", 0, 9)], grad="integer input"),
)


# --------------------------------------------------------------------------- composed functions
# exprc.tensor.arraytools and exprc.tensor.selection build these from other ops; the cases
# check them against NumPy on every backend, and their gradients.
def _with_specials(values):
    def gen(rng):
        out = rng.uniform(-2, 2, len(values))
        mask = ~np.isnan(np.asarray(values, dtype=float)) | np.isnan(values)
        out[mask] = np.asarray(values, dtype=float)[mask]
        return out
    return gen


def _sparse(shape, dtype="float64"):
    """Values with about half of them exactly zero."""
    def gen(rng):
        values = rng.uniform(-2, 2, shape) * (rng.random(shape) < 0.5)
        return values.astype(dtype)
    return gen


def _diag_reference(v, k):
    return np.diag(v, k)


add(
    Case("tri/square", lambda: T.tri(3, dtype="float64"), lambda: np.tri(3), [],
         grad="no input"),
    Case("tri/k", lambda n: T.tri(n, 4, k=-1, dtype="int8"),
         lambda n: np.tri(int(n), 4, k=-1, dtype="int8"), [Arg((), "int64", 0, 5)],
         grad="integer input"),
    Case("tril/k=0", T.tril, np.tril, [Arg((3, 4))]),
    Case("tril/k=-1/tensor3", lambda m: T.tril(m, -1), lambda m: np.tril(m, -1),
         [Arg((2, 3, 4))]),
    Case("triu/k=1", lambda m: T.triu(m, 1), lambda m: np.triu(m, 1), [Arg((4, 3))]),
    Case("triu/symbolic_k", lambda m, k: T.triu(m, k), lambda m, k: np.triu(m, int(k)),
         [Arg((4, 4)), Arg((), "int32", -2, 3)]),
    Case("tril/keeps_inf", T.tril, np.tril,
         [Arg((2, 2), gen=lambda rng: np.array([[np.inf, np.inf], [1.0, -np.inf]]))],
         grad="infinite input"),
    Case("tril/bool", T.tril, np.tril, [Arg((3, 3), "bool")], grad="bool input"),
    Case("diag/vector", T.diag, np.diag, [Arg((4,))]),
    Case("diag/vector/k=2", lambda v: T.diag(v, 2), lambda v: np.diag(v, 2), [Arg((3,))]),
    Case("diag/vector/k=-1/int", lambda v: T.diag(v, -1), lambda v: np.diag(v, -1),
         [Arg((3,), "int32", -5, 5)], grad="integer input"),
    Case("diag/vector/symbolic_k", lambda v, k: T.diag(v, k),
         lambda v, k: np.diag(v, int(k)), [Arg((3,)), Arg((), "int64", -2, 3)]),
    Case("diag/matrix", T.diag, np.diag, [Arg((3, 4))]),
    Case("diag/matrix/k=-2", lambda m: T.diag(m, -2), lambda m: np.diag(m, -2), [Arg((4, 3))]),
    Case("diag/matrix/k_past_end", lambda m: T.diag(m, 5), lambda m: np.diag(m, 5),
         [Arg((3, 3))], grad="empty output"),
    Case("diagonal/tensor3", lambda a: T.diagonal(a, 1, 2, 0),
         lambda a: np.diagonal(a, 1, 2, 0), [Arg((3, 2, 4))]),
    Case("diagonal/method", lambda a: a.diagonal(-1), lambda a: np.diagonal(a, -1),
         [Arg((4, 4))]),
    Case("fill_diagonal/tall", lambda a, v: T.fill_diagonal(a, v),
         lambda a, v: _fill_diagonal_reference(a, v, 0), [Arg((4, 3)), Arg(())]),
    Case("fill_diagonal/wide", lambda a: T.fill_diagonal(a, 2.5),
         lambda a: _fill_diagonal_reference(a, 2.5, 0), [Arg((2, 5))]),
    Case("fill_diagonal/tensor3", lambda a, v: T.fill_diagonal(a, v),
         lambda a, v: _fill_cube(a, v), [Arg((3, 3, 3)), Arg(())]),
    Case("fill_diagonal/int", lambda a: T.fill_diagonal(a, 7),
         lambda a: _fill_diagonal_reference(a, 7, 0), [Arg((3, 3), "int16", -5, 5)],
         grad="integer input"),
    Case("fill_diagonal_offset/positive", lambda a, v: T.fill_diagonal_offset(a, v, 2),
         lambda a, v: _fill_diagonal_reference(a, v, 2), [Arg((3, 5)), Arg(())]),
    Case("fill_diagonal_offset/negative", lambda a, v: T.fill_diagonal_offset(a, v, -1),
         lambda a, v: _fill_diagonal_reference(a, v, -1), [Arg((4, 3)), Arg(())]),
    Case("fill_diagonal_offset/symbolic", lambda a, o: T.fill_diagonal_offset(a, 0.5, o),
         lambda a, o: _fill_diagonal_reference(a, 0.5, int(o)),
         [Arg((3, 4)), Arg((), "int64", -3, 4)]),
    Case("roll/vector", lambda x: T.roll(x, 2), lambda x: np.roll(x, 2), [Arg((5,))]),
    Case("roll/negative/axis=1", lambda x: T.roll(x, -1, axis=1),
         lambda x: np.roll(x, -1, axis=1), [Arg((3, 4))]),
    Case("roll/axis=None", lambda x: T.roll(x, 4), lambda x: np.roll(x, 4), [Arg((2, 3))]),
    Case("roll/shift_past_size", lambda x: T.roll(x, 7, axis=0),
         lambda x: np.roll(x, 7, axis=0), [Arg((3, 2))]),
    Case("roll/several_axes", lambda x: T.roll(x, (1, -2), axis=(0, 2)),
         lambda x: np.roll(x, (1, -2), axis=(0, 2)), [Arg((2, 3, 4))]),
    Case("roll/symbolic_shift", lambda x, s: T.roll(x, s, axis=0),
         lambda x, s: np.roll(x, int(s), axis=0), [Arg((4, 2)), Arg((), "int32", -6, 6)]),
    Case("roll/empty", lambda x: T.roll(x, 3, axis=0), lambda x: np.roll(x, 3, axis=0),
         [Arg((0, 2))], grad="empty input"),
    Case("inverse_permutation", T.inverse_permutation, np.argsort,
         [Arg((6,), "int64", gen=_permutation(6))], grad="integer input"),
    Case("mgrid", lambda n: T.mgrid[0:n, 1:7:2], lambda n: list(np.mgrid[0:int(n), 1:7:2]),
         [Arg((), "int64", 1, 4)], grad="integer input"),
    Case("mgrid/complex_step", lambda: T.mgrid[0:1:5j, -1:1:3j],
         lambda: list(np.mgrid[0:1:5j, -1:1:3j]), [], grad="no input"),
    Case("ogrid", lambda: T.ogrid[0:3, 0:1:0.25], lambda: list(np.ogrid[0:3, 0:1:0.25]), [],
         grad="no input"),
    Case("isclose", T.isclose, np.isclose,
         [Arg((6,), gen=_with_specials([np.nan, np.inf, 1.0, -np.inf, 2.0, 3.0])),
          Arg((6,), gen=_with_specials([np.nan, np.inf, 1.0 + 1e-9, np.inf, 2.1, 3.0]))],
         grad="bool output"),
    Case("isclose/equal_nan/tolerances", lambda a, b: T.isclose(a, b, 0.1, 0.0, True),
         lambda a, b: np.isclose(a, b, 0.1, 0.0, True),
         [Arg((5,), gen=_with_specials([np.nan, 1.0, 1.05, 0.0, 2.0])),
          Arg((5,), gen=_with_specials([np.nan, 1.1, 1.0, 1e-9, 2.3]))],
         grad="bool output"),
    Case("isclose/int_float32", T.isclose, np.isclose,
         [Arg((4,), "int32", -2, 2), Arg((4,), "float32", gen=lambda rng: rng.integers(
             -2, 2, 4))], grad="bool output"),
    Case("allclose", lambda a, b: T.allclose(a, b), lambda a, b: np.array(np.allclose(a, b)),
         [Arg((3, 4)), Arg((4,))], grad="bool output"),
    Case("ptp", T.ptp, np.ptp, [Arg((3, 4))]),
    Case("ptp/axis", lambda a: T.ptp(a, axis=1, keepdims=True),
         lambda a: np.ptp(a, axis=1, keepdims=True), [Arg((3, 4))]),
    Case("largest", lambda a, b, c: T.largest(a, b, c),
         lambda a, b, c: np.maximum(np.maximum(a, b), c), [Arg((3, 4)), Arg((4,)), Arg(())]),
    Case("smallest", T.smallest, np.minimum, [Arg((3, 1)), Arg((1, 4))]),
    Case("bartlett", T.bartlett, lambda m: np.bartlett(int(m)), [Arg((), "int32", -1, 7)],
         grad="integer input"),
    Case("bartlett/one", lambda: T.bartlett(1), lambda: np.bartlett(1), [], grad="no input"),
)


def _fill_diagonal_reference(a, value, offset):
    out = a.copy()
    for i in range(out.shape[0]):
        if 0 <= i + offset < out.shape[1]:
            out[i, i + offset] = value
    return out


def _fill_cube(a, value):
    out = a.copy()
    for i in range(out.shape[0]):
        out[i, i, i] = value
    return out


add(
    Case("flatnonzero", T.flatnonzero, np.flatnonzero, [Arg((3, 4), gen=_sparse((3, 4)))],
         grad="integer output"),
    Case("flatnonzero/0d", T.flatnonzero, np.flatnonzero, [Arg((), "int8", 0, 2)],
         grad="integer output"),
    Case("nonzero", T.nonzero, lambda a: list(np.nonzero(a)),
         [Arg((2, 3, 4), gen=_sparse((2, 3, 4)))], grad="integer output"),
    Case("nonzero/matrix", lambda a: T.nonzero(a, return_matrix=True),
         lambda a: np.array(np.nonzero(a)), [Arg((3, 5), "bool")], grad="integer output"),
    Case("nonzero/method_indexing", lambda a: a[(a > 0.5).nonzero()], lambda a: a[a > 0.5],
         [Arg((4, 3))]),
    Case("nonzero_values", T.nonzero_values, lambda a: a[a != 0],
         [Arg((3, 4), gen=_sparse((3, 4)))],
         grad="finite differences move the exact zeros, which changes the selection"),
    Case("nonzero_values/gradient", lambda a: exprc.grad(T.sum(T.nonzero_values(a) ** 2), a),
         lambda a: 2 * a, [Arg((3, 4), gen=_sparse((3, 4)))], grad="second derivative"),
    Case("compress/axis=0", lambda c, x: T.compress(c, x, axis=0),
         lambda c, x: np.compress(c, x, axis=0),
         [Arg((4,), "bool"), Arg((4, 3))]),
    Case("compress/axis=None/short", lambda x: T.compress([1, 0, 1], x),
         lambda x: np.compress([1, 0, 1], x), [Arg((2, 3))]),
    Case("compress/axis=-1", lambda c, x: T.compress(c, x, axis=-1),
         lambda c, x: np.compress(c, x, axis=-1), [Arg((3,), "int32", 0, 2), Arg((2, 3))]),
    Case("choose/list", lambda a, x, y: T.choose(a, [x, y]),
         lambda a, x, y: np.choose(a, [x, y]),
         [Arg((3, 4), "int64", 0, 2), Arg((4,)), Arg((3, 1))]),
    Case("choose/wrap", lambda a, x, y, z: T.choose(a, [x, y, z], mode="wrap"),
         lambda a, x, y, z: np.choose(a, [x, y, z], mode="wrap"),
         [Arg((5,), "int32", -5, 8), Arg((5,)), Arg((5,)), Arg(())]),
    Case("choose/clip", lambda a, c: T.choose(a, c, mode="clip"),
         lambda a, c: np.choose(a, c, mode="clip"),
         [Arg((2, 3), "int8", -2, 5), Arg((3, 2, 3), static=(3, None, None))]),
    Case("choose/tensor", lambda a, c: T.choose(a, c), lambda a, c: np.choose(a, c),
         [Arg((2, 3), "int64", 0, 4), Arg((4, 1, 3))]),
    Case("choose/tensor/wrap", lambda a, c: T.choose(a, c, mode="wrap"),
         lambda a, c: np.choose(a, c, mode="wrap"),
         [Arg((4,), "int16", -9, 9), Arg((3, 4))]),
    Case("choose/one_choice", lambda a, x: T.choose(a, [x]), lambda a, x: np.choose(a, [x]),
         [Arg((2, 2), "int64", 0, 1), Arg(())]),
)


def _unique_reference(flags):
    def reference(x):
        out = np.unique(x, *flags)
        return list(out) if isinstance(out, tuple) else out
    return reference


def _with_repeats(shape, dtype="float64", nans=0):
    def gen(rng):
        values = rng.integers(-3, 4, shape).astype(dtype)
        if nans:
            values.flat[rng.choice(values.size, nans, replace=False)] = np.nan
        return values
    return gen


_NO_GRAD_SETS = "unique's outputs are values picked by sorting (and integer positions)"
add(
    Case("unique/values", T.unique, np.unique, [Arg((9,), gen=_with_repeats((9,)))],
         grad=_NO_GRAD_SETS),
    Case("unique/all", lambda x: T.unique(x, True, True, True),
         _unique_reference((True, True, True)),
         [Arg((3, 5), gen=_with_repeats((3, 5), nans=3))], grad=_NO_GRAD_SETS),
    Case("unique/inverse/int", lambda x: T.unique(x, return_inverse=True),
         _unique_reference((False, True)), [Arg((2, 3, 2), "int32", -2, 3)],
         grad="integer input"),
    Case("unique/counts/bool", lambda x: T.unique(x, return_counts=True),
         _unique_reference((False, False, True)), [Arg((7,), "bool")], grad="bool input"),
    Case("unique/empty", lambda x: T.unique(x, True, True, True),
         _unique_reference((True, True, True)), [Arg((0,))], grad=_NO_GRAD_SETS),
    Case("unique/0d", lambda x: T.unique(x, return_index=True),
         _unique_reference((True,)), [Arg(())], grad=_NO_GRAD_SETS),
    Case("bincount", T.bincount, np.bincount, [Arg((8,), "int64", 0, 6)],
         grad="integer input"),
    Case("bincount/minlength", lambda x: T.bincount(x, minlength=9),
         lambda x: np.bincount(x, minlength=9), [Arg((5,), "uint8", 0, 4)],
         grad="integer input"),
    Case("bincount/weights", lambda x, w: T.bincount(x, w),
         lambda x, w: np.bincount(x, w), [Arg((6,), "int32", 0, 4), Arg((6,))]),
    Case("bincount/weights/float32", lambda x, w: T.bincount(x, w, minlength=2),
         lambda x, w: np.bincount(x, w, minlength=2).astype("float32"),
         [Arg((6,), "int16", 0, 4), Arg((6,), "float32")], rtol=1e-6,
         grad="float32 forward check"),
    Case("bincount/empty", lambda x: T.bincount(x, minlength=3),
         lambda x: np.bincount(x, minlength=3), [Arg((0,), "int64")], grad="integer input"),
    Case("bincount/bool", T.bincount, np.bincount, [Arg((5,), "bool")], grad="bool input"),
    Case("unravel_index", lambda i: T.unravel_index(i, (3, 4, 2)),
         lambda i: list(np.unravel_index(i, (3, 4, 2))), [Arg((2, 3), "int64", 0, 24)],
         grad="integer input"),
    Case("unravel_index/F/symbolic_dims", lambda i, n: T.unravel_index(i, (n, 5), order="F"),
         lambda i, n: list(np.unravel_index(i, (int(n), 5), order="F")),
         [Arg((4,), "int32", 0, 10), Arg((), "int64", 2, 3)], grad="integer input"),
    Case("ravel_multi_index", lambda a, b: T.ravel_multi_index((a, b), (3, 4)),
         lambda a, b: np.ravel_multi_index((a, b), (3, 4)),
         [Arg((2, 3), "int64", 0, 3), Arg((3,), "int32", 0, 4)], grad="integer input"),
    Case("ravel_multi_index/wrap_clip_F", lambda a, b: T.ravel_multi_index(
        (a, b), (3, 4), mode=("wrap", "clip"), order="F"),
         lambda a, b: np.ravel_multi_index((a, b), (3, 4), mode=("wrap", "clip"), order="F"),
         [Arg((5,), "int64", -6, 6), Arg((5,), "int64", -6, 9)], grad="integer input"),
    Case("ravel_multi_index/matrix", lambda m: T.ravel_multi_index(m, (2, 3, 4)),
         lambda m: np.ravel_multi_index(m, (2, 3, 4)),
         [Arg((3, 5), "int64", 0, 2, static=(3, None))], grad="integer input"),
)
