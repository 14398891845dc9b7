"""The extra_ops family (and Argmax) on the CUDA backend (emulated device), against NumPy:
cumulative sums and products (bit for bit: they run in NumPy's order), the linear recurrence
and ``RepeatSum`` through the gradients of ``cumprod`` and ``repeat`` (against the reference
mode), ``repeat``, ``to_one_hot``, ``searchsorted``, ``RuntimeCheck``, their errors, and
argmax/argmin over any axes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcShapeError
from exprc.tensor import extra_ops as E
from exprc.tensor.extra_ops import LinearRecurrence, RuntimeCheck
from tests.cuda_harness import cuda_function, have_compilers

pytestmark = pytest.mark.skipif(not have_compilers(), reason="no C++ compiler for the emulator")

RNG = np.random.default_rng(5)


def _placed_on_device(f, names: tuple[str, ...]) -> None:
    places = {where for what, where in f.placement() if any(n in what for n in names)}
    assert places == {"cuda"}, f.placement()


def _same(got, want) -> None:
    want = np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, want.dtype,
                                                                  got.shape, want.shape)
    np.testing.assert_array_equal(got, want)


def _quiet_cuda_function(inputs, outputs, **kwargs):
    """A CUDA function whose graph may hold nodes without a CUDA rule (they run on the CPU)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cuda_function(inputs, outputs, **kwargs)


# --------------------------------------------------------------------------- cumulative
def test_cumsum_and_cumprod_along_axes_dtypes_and_layouts():
    x = T.tensor3("x", dtype="float32")
    d = T.matrix("d", dtype="float64")
    i = T.matrix("i", dtype="int32")
    u = T.vector("u", dtype="uint8")
    b = T.matrix("b", dtype="bool")
    outs = [E.cumsum(x, axis=0), E.cumsum(x, axis=2), E.cumprod(x, axis=1),
            E.cumsum(x.transpose(1, 2, 0), axis=2), E.cumsum(x[:, ::2, ::-1], axis=1),
            E.cumsum(x), E.cumprod(d.T, axis=0), E.cumsum(d, axis=1),
            E.cumsum(i, axis=0), E.cumprod(i, axis=1), E.cumsum(u), E.cumsum(b, axis=1)]
    f = cuda_function([x, d, i, u, b], outs)
    _placed_on_device(f, ("CumOp",))
    xv = RNG.standard_normal((4, 7, 5)).astype("float32")
    xv[1, 2, 3] = -0.0
    dv = RNG.standard_normal((6, 9))
    iv = RNG.integers(-2**30, 2**30, (5, 8)).astype("int32")  # products wrap around
    uv = RNG.integers(0, 256, 300).astype("uint8")
    bv = RNG.integers(0, 2, (3, 11)).astype(bool)
    want = [np.cumsum(xv, 0), np.cumsum(xv, 2), np.cumprod(xv, 1),
            np.cumsum(xv.transpose(1, 2, 0), 2), np.cumsum(xv[:, ::2, ::-1], 1),
            np.cumsum(xv), np.cumprod(dv.T, 0), np.cumsum(dv, 1),
            np.cumsum(iv, 0, dtype="int64"), np.cumprod(iv, 1, dtype="int64"),
            np.cumsum(uv, dtype="uint64"), np.cumsum(bv, 1, dtype="int64")]
    for got, expected in zip(f(xv, dv, iv, uv, bv), want):
        _same(got, expected)
    empty = cuda_function([d], [E.cumsum(d, axis=1), E.cumprod(d, axis=0)])
    for got in empty(np.zeros((0, 3))):
        _same(got, np.zeros((0, 3)))


def test_reverse_cumulative_and_linear_recurrence_in_gradients():
    """The gradient of cumsum is a reverse CumOp; that of cumprod a LinearRecurrence (exact
    where x has zeros); both against the reference mode."""
    x = T.matrix("x")
    cost = T.sum(E.cumsum(x, axis=0) ** 2) + T.sum(E.cumprod(x, axis=1))
    outs = exprc.grad(cost, [x])
    f = _quiet_cuda_function([x], outs)
    _placed_on_device(f, ("CumOp", "LinearRecurrence"))
    reference = exprc.function([x], outs, mode="REFERENCE")
    xv = RNG.standard_normal((5, 6)).astype(x.dtype)
    xv[2, 3] = xv[4, 0] = 0.0
    np.testing.assert_allclose(f(xv)[0], reference(xv)[0], rtol=1e-5)


def test_linear_recurrence_with_mixed_dtypes_and_infinite_first_a():
    a = T.matrix("a", dtype="int32")
    b = T.matrix("b", dtype="float32")
    c = T.matrix("c")
    outs = [LinearRecurrence(1)(a, b), LinearRecurrence(0, reverse=True)(c.T, c.T),
            LinearRecurrence(1)(a, a)]
    f = cuda_function([a, b, c], outs)
    _placed_on_device(f, ("LinearRecurrence",))
    reference = exprc.function([a, b, c], outs, mode="REFERENCE")
    av = RNG.integers(-3, 4, (3, 6)).astype("int32")
    bv = RNG.standard_normal((3, 6)).astype("float32")
    cv = RNG.standard_normal((4, 5)).astype(c.dtype)
    cv[1, 4] = np.inf  # a of the first step is never used
    for got, expected in zip(f(av, bv, cv), reference(av, bv, cv)):
        _same(got, expected)
    with pytest.raises(ExprcShapeError, match="one shape"):
        cuda_function([b, c], LinearRecurrence(1)(b, c))(bv, cv[:3])


# --------------------------------------------------------------------------- repeat
def test_repeat_with_one_count_or_one_per_element():
    x = T.matrix("x", dtype="float64")
    r = T.lvector("r")
    k = T.lscalar("k")
    outs = [E.repeat(x, r, axis=0), E.repeat(x.T, r, axis=1), E.repeat(x, k, axis=1),
            E.repeat(x, 2), E.repeat(x, r[:1], axis=1)]
    f = cuda_function([x, r, k], outs)
    _placed_on_device(f, ("Repeat",))
    xv = RNG.standard_normal((4, 3))
    rv = np.array([2, 0, 3, 1])
    want = [np.repeat(xv, rv, 0), np.repeat(xv.T, rv, 1), np.repeat(xv, 3, 1),
            np.repeat(xv, 2), np.repeat(xv, rv[:1], 1)]
    for got, expected in zip(f(xv, rv, 3), want):
        _same(got, expected)
    _same(f(xv, np.zeros(4, np.int64), 0)[0], np.zeros((0, 3)))
    with pytest.raises(ExprcShapeError, match="non-negative"):
        f(xv, np.array([1, -1, 1, 1]), 1)
    with pytest.raises(ExprcShapeError, match="3 entries but the repeated axis has size 4"):
        f(xv, np.array([1, 1, 1]), 1)


def test_repeat_sum_in_the_gradient_of_repeat():
    x = T.matrix("x", dtype="float32")
    r = T.lvector("r")
    cost = T.sum(E.repeat(x, r, axis=0) ** 2) + T.sum(E.repeat(x.T, 3, axis=0) * 1.5)
    outs = exprc.grad(cost, [x])
    f = _quiet_cuda_function([x, r], outs)
    _placed_on_device(f, ("RepeatSum",))
    reference = exprc.function([x, r], outs, mode="REFERENCE")
    xv = RNG.standard_normal((4, 5)).astype("float32")
    rv = np.array([1, 0, 3, 2])
    np.testing.assert_allclose(f(xv, rv)[0], reference(xv, rv)[0], rtol=1e-6)
    # bool copies are or-ed together (NumPy's add of bools)
    g = T.matrix("g", dtype="bool")
    shape = T.tensor(dtype="int64", shape=(2,), name="shape")
    summed = E.RepeatSum(1)(g, r, shape)
    f = cuda_function([g, r, shape], summed)
    bv = RNG.integers(0, 2, (3, 6)).astype(bool)
    _same(f(bv, rv, np.array([3, 4])),
          exprc.function([g, r, shape], summed, mode="REFERENCE")(bv, rv, np.array([3, 4])))
    with pytest.raises(ExprcShapeError, match="add up to"):
        f(bv, np.array([1, 1, 1, 1]), np.array([3, 4]))


# --------------------------------------------------------------------------- one-hot
def test_one_hot_and_labels_out_of_range():
    y = T.vector("y", dtype="int16")
    f = cuda_function([y], [E.to_one_hot(y, 4, dtype="float32"), E.to_one_hot(y[::-1], 5,
                                                                               dtype="int8")])
    _placed_on_device(f, ("OneHot",))
    yv = np.array([3, 0, 1, 1, 3], dtype="int16")
    got = f(yv)
    _same(got[0], np.eye(4, dtype="float32")[yv])
    _same(got[1], np.eye(5, dtype="int8")[yv[::-1]])
    _same(f(np.zeros(0, "int16"))[0], np.zeros((0, 4), "float32"))
    with pytest.raises(IndexError, match="label 4 .at position 2. is out of range for 4"):
        f(np.array([0, 1, 4, 2], dtype="int16"))
    with pytest.raises(IndexError, match="label -1"):
        f(np.array([-1], dtype="int16"))


# --------------------------------------------------------------------------- searchsorted
def test_searchsorted_sides_sorter_nans_and_promotion():
    x = T.vector("x")
    v = T.matrix("v")
    xi = T.vector("xi", dtype="int64")
    s = T.vector("s", dtype="int32")
    outs = [E.searchsorted(x, v), E.searchsorted(x, v.T, side="right"),
            E.searchsorted(x[::-1], v, sorter=s), E.searchsorted(xi, v, side="right"),
            E.searchsorted(x, v[0, 0])]
    f = cuda_function([x, v, xi, s], outs)
    _placed_on_device(f, ("SearchSorted",))
    xv = np.array([-1.0, 0.0, 0.0, 2.5, 3.0, np.nan, np.nan], dtype=x.dtype)
    vv = np.array([[-2.0, 0.0, 2.5, np.nan], [3.0, 4.0, -1.0, 0.5]], dtype=v.dtype)
    xiv = np.array([-3, 0, 0, 2, 7])
    sv = np.argsort(xv[::-1], kind="stable").astype("int32")
    want = [np.searchsorted(xv, vv), np.searchsorted(xv, vv.T, side="right"),
            np.searchsorted(xv[::-1], vv, sorter=sv),
            np.searchsorted(xiv.astype(np.float64), vv.astype(np.float64), side="right"),
            np.searchsorted(xv, vv[0, 0])]
    for got, expected in zip(f(xv, vv, xiv, sv), want):
        _same(got, np.asarray(expected, dtype=np.int64))
    bad = sv.copy()
    bad[1] = 7
    with pytest.raises(ValueError, match="sorter holds a position out of range"):
        f(xv, vv, xiv, bad)
    with pytest.raises(ExprcShapeError, match="sorter has 6 entries but x has 7"):
        f(xv, vv, xiv, sv[:6])


# --------------------------------------------------------------------------- checks
def test_runtime_check_passes_x_or_raises_its_error():
    x = T.vector("x", dtype="int64")
    out = RuntimeCheck("bincount_negative")(x * 2, T.all(T.ge(x, 0)))
    f = cuda_function([x], out)
    _placed_on_device(f, ("RuntimeCheck",))
    _same(f(np.array([1, 2, 3])), np.array([2, 4, 6]))
    with pytest.raises(ValueError, match="bincount: x holds negative values"):
        f(np.array([1, -2, 3]))


# --------------------------------------------------------------------------- argmax
def _flat_arg(a: np.ndarray, axes, find) -> np.ndarray:
    """NumPy's argmax/argmin over several axes flattened in C order (Theano's rule)."""
    axes = tuple(range(a.ndim)) if axes is None else axes
    kept = [d for d in range(a.ndim) if d not in axes]
    flat = a.transpose(kept + list(axes)).reshape([a.shape[d] for d in kept] + [-1])
    return find(flat, axis=-1).astype(np.int64)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "uint64", "bool"])
def test_argmax_and_argmin_over_any_axes(dtype):
    if dtype == "bool":
        xv = RNG.integers(0, 2, (5, 40, 33)).astype(bool)
        bv = np.zeros(70001, bool)
        bv[51234] = bv[60000] = True
    elif np.dtype(dtype).kind in "iu":
        xv = RNG.integers(0, 6, (5, 40, 33)).astype(dtype)  # many ties: the first wins
        bv = RNG.integers(0, 50, 70001).astype(dtype)
    else:
        xv = RNG.integers(-3, 4, (5, 40, 33)).astype(dtype)
        xv[1, 5, 7] = xv[3, 5, 7] = np.nan  # the first NaN wins
        bv = RNG.standard_normal(70001).astype(dtype)
        bv[50001] = bv[60001] = np.nan
    x = T.tensor3("x", dtype=dtype)
    big = T.vector("big", dtype=dtype)
    # (symbolic input, its value, axes, largest): rows, columns, several axes, strided
    # views, and a long vector folded in chunks.
    cases = [(x, xv, (2,), True), (x, xv, (2,), False), (x, xv, (0,), True),
             (x, xv, (0, 2), True), (x, xv, None, False),
             (x.transpose(2, 0, 1), xv.transpose(2, 0, 1), (1, 2), False),
             (x[::2, :, ::-1], xv[::2, :, ::-1], (1,), True),
             (big, bv, None, True), (big, bv, None, False)]
    outs = [(T.argmax if largest else T.argmin)(a, axis=axes) for a, _, axes, largest in cases]
    f = cuda_function([x, big], outs)
    _placed_on_device(f, ("Argmax", "Argmin"))
    for got, (_, value, axes, largest) in zip(f(xv, bv), cases):
        _same(got, _flat_arg(value, axes, np.argmax if largest else np.argmin))
    with pytest.raises(ValueError, match="arg(max|min) of an empty axis"):
        f(np.zeros((5, 0, 3), dtype), bv)
