"""The specialize rules: powers, squares, division by powers of two, and reductions, with the
exact graphs they make and equality with REFERENCE mode (inf, NaN and -0.0 included)."""

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.compile.mode import get_mode
from exprc.graph.traversal import equal_computations
from exprc.tensor.reduction import Reduce

#: Every pass up to specialize; fusion, BLAS and in-place would hide the graphs checked here.
SPEC = get_mode("FAST_RUN").excluding("blas", "fusion", "inplace")
SPECIALS = np.array([0.0, -0.0, 0.25, 4.0, -2.0, np.inf, -np.inf, np.nan])
rng = np.random.default_rng(0)


def same_as_reference(inputs, output, *values):
    f = exprc.function(inputs, output, mode=SPEC)
    ref = exprc.function(inputs, output, mode="REFERENCE")
    got, want = f(*values), ref(*values)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)
    # Signed zeros and infinities must match too (1 / got shows the sign of a zero).
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(np.isposinf(1 / got), np.isposinf(1 / want))
    return f


def ops(f):
    return [str(n.op) for n in f.fgraph.toposort()]


@pytest.fixture
def fast_math():
    exprc.config.fast_math = True
    yield
    exprc.config.fast_math = False


# --------------------------------------------------------------------------- powers
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_square_and_reciprocal(dtype):
    x = T.tensor(dtype, shape=(None,), name="x")
    value = SPECIALS.astype(dtype)
    f = same_as_reference([x], x ** 2, value)
    assert equal_computations(f.fgraph.outputs, [T.sqr(x)])
    g = same_as_reference([x], x ** -1, value)
    assert equal_computations(g.fgraph.outputs, [T.reciprocal(x)])
    h = same_as_reference([x], x * x, value)
    assert equal_computations(h.fgraph.outputs, [T.sqr(x)])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_square_roots_match_power_at_special_values(dtype):
    x = T.tensor(dtype, shape=(None,), name="x")
    value = SPECIALS.astype(dtype)
    f = same_as_reference([x], x ** 0.5, value)
    assert equal_computations(f.fgraph.outputs, [T.sqrt(x)])
    g = same_as_reference([x], x ** -0.5, value)
    assert "Elemwise{pow}" not in ops(g) and ops(g)[-2:] == ["Elemwise{sqrt}",
                                                             "Elemwise{reciprocal}"]


def test_square_root_without_guard_under_fast_math(fast_math):
    x = T.dvector("x")
    f = exprc.function([x], [x ** 0.5, x ** -0.5], mode=SPEC)
    root = T.sqrt(x)
    assert equal_computations(f.fgraph.outputs, [root, T.reciprocal(root)])


def test_power_zero_is_ones_of_the_shape():
    x = T.fmatrix("x")
    f = same_as_reference([x], x ** 0, np.array([[np.nan, 0.0, -np.inf]], dtype="float32"))
    assert "Elemwise{pow}" not in ops(f)
    np.testing.assert_array_equal(f(np.zeros((2, 3), "float32")), np.ones((2, 3)))


def test_integer_powers():
    i = T.ivector("i")
    f = same_as_reference([i], i ** 2, np.array([3, -4], dtype="int32"))
    assert equal_computations(f.fgraph.outputs, [T.sqr(i)])
    # Integers to negative powers are an error in NumPy: never specialized.
    assert "Elemwise{pow}" in ops(exprc.function([i], i ** -1, mode=SPEC))
    g = same_as_reference([i], i ** 0.5, np.array([4, -4], dtype="int32"))
    assert g.outputs[0].variable.dtype == "float64" and "Elemwise{sqrt}" in ops(g)


def test_a_broadcasting_exponent_is_kept():
    x = T.dcol("x")
    f = same_as_reference([x], x ** T.constant(np.full((1, 3), 2.0)), np.ones((2, 1)))
    assert ops(f) == ["Elemwise{pow}"]


def test_negations_cancel_in_products():
    x, y = T.dvector("x"), T.dvector("y")
    f = same_as_reference([x, y], (-x) * (-y), SPECIALS, SPECIALS[::-1].copy())
    assert equal_computations(f.fgraph.outputs, [x * y])


# --------------------------------------------------------------------------- division
def test_division_by_a_power_of_two_is_a_multiplication():
    x = T.fvector("x")
    f = same_as_reference([x], x / 8, SPECIALS.astype("float32"))
    assert equal_computations(f.fgraph.outputs, [x * T.constant([0.125], dtype="float32")])
    i = T.ivector("i")
    g = same_as_reference([i], i / 2, np.array([3, -7], dtype="int32"))
    assert ops(g) == ["Elemwise{cast_float64}", "Elemwise{mul}"]


def test_division_by_other_constants_stays():
    x = T.dvector("x")
    for c in (3.0, 1e-320):  # not a power of two / reciprocal not representable
        assert ops(same_as_reference([x], x / c, SPECIALS)) == ["Elemwise{true_div}"]


# --------------------------------------------------------------------------- reductions
def test_constant_factor_moves_out_of_a_sum(fast_math):
    x = T.fmatrix("x")
    value = rng.normal(size=(3, 4)).astype("float32")
    f = same_as_reference([x], T.sum(3 * x, axis=1), value)
    expected = T.sum(x, axis=1) * T.constant([3.0], dtype="float32")
    assert equal_computations(f.fgraph.outputs, [expected])


def test_integer_products_that_wrap_first_stay():
    i = T.tensor("int8", shape=(None,), name="i")
    f = same_as_reference([i], T.sum(i * 100), np.array([100, 3], dtype="int8"))
    assert "Elemwise{mul}" in ops(f) and ops(f).index("Elemwise{mul}") == 0


def test_reductions_over_no_axes_or_unit_axes():
    x = T.tensor("float32", shape=(None, 1, 3), name="x")
    value = rng.normal(size=(2, 1, 3)).astype("float32")
    f = same_as_reference([x], T.sum(x, axis=1), value)
    assert ops(f) == ["DimShuffle{0,2}"]
    g = same_as_reference([x], T.max(x, axis=(0, 1)), value)
    assert [type(n.op).__name__ for n in g.fgraph.toposort()] == ["DimShuffle", "Reduce"]
    assert g.fgraph.outputs[0].owner.op.axis == (0,)
    h = same_as_reference([x], Reduce("add", (), "float64")(x), value)
    assert ops(h) == ["Elemwise{cast_float64}"]


def test_reductions_of_filled_arrays():
    v = T.dvector("v")
    f = same_as_reference([v], T.sum(T.ones((v.shape[0], 3))), np.zeros(4))
    assert "Reduce" not in " ".join(ops(f))
    assert f(np.zeros(0)) == 0.0
    n = T.lscalar("n")
    g = same_as_reference([n], T.max(T.alloc(T.constant(2.5), n, 3), axis=1), 4)
    assert "Reduce" not in " ".join(ops(g))
    # max over a possibly empty axis is an error at run time: kept.
    h = exprc.function([n], T.max(T.ones((n, 3)), axis=0), mode=SPEC)
    assert any(op.startswith("Reduce") for op in ops(h))


def test_sum_of_a_filled_infinity_over_a_possibly_empty_axis_stays():
    n = T.lscalar("n")
    f = same_as_reference([n], T.sum(T.alloc(T.constant(np.inf), n)), 0)
    assert f(0) == 0.0


def test_mean_divides_by_the_product_of_the_sizes():
    x = T.tensor("float64", shape=(None, 5, 4), name="x")
    value = rng.normal(size=(2, 5, 4))
    f = same_as_reference([x], T.mean(x), value)
    reductions = [op for op in ops(f) if op.startswith("Reduce")]
    assert reductions == ["Reduce{add, axis=(0, 1, 2), dtype=float64}"]
    assert any("20" in str(v) for v in f.fgraph.clients if hasattr(v, "data"))
    g = same_as_reference([x], T.var(x, axis=(1, 2)), value)
    assert not any("mul" in op and op.startswith("Reduce") for op in ops(g))


def test_gradients_of_slices_are_written_into_one_array():
    x = T.dmatrix("x")
    cost = T.sin(x[:, :2]).sum() + T.exp(x[:, 2:4]).sum() + (x[:, 4:] ** 2).sum()
    g = exprc.grad(cost, x)
    f = same_as_reference([x], g, rng.uniform(-1, 1, (3, 6)))
    assert f.rewrite_log.fired["add_of_increments_into_zeros"] >= 1
    # One array of zeros, incremented slice by slice: no sum of three arrays.
    assert [n for n in f.fgraph.toposort() if "add" in str(n.op)] == []
    assert sum("IncSubtensor" in o for o in ops(f)) == 3
    # Increments of different arrays, or of an array that is not zeros, are left alone.
    y = T.dmatrix("y")
    h = T.inc_subtensor(y[:, :2], 1.0) + T.inc_subtensor(y[:, 2:], 2.0)
    f = same_as_reference([y], h, rng.uniform(-1, 1, (3, 4)))
    assert f.rewrite_log.fired["add_of_increments_into_zeros"] == 0


def test_fills_read_beside_an_array_of_their_shape_are_broadcast_not_made():
    # The gradient of a weight penalty: sum's gradient is a fill of W's shape, scaled by a
    # constant, multiplied into sgn(W) and W. Neither fill survives, and the values (NaN,
    # -0.0 and inf in W included) are REFERENCE's.
    W = T.matrix("W")
    penalty = 0.25 * abs(W).sum() + 0.5 * (W ** 2).sum()
    g = exprc.grad(penalty, W)
    f = same_as_reference([W], g, np.array([[1.0, -2.0, np.nan], [-0.0, np.inf, 3.0]]))
    assert not any(op.startswith("Alloc") for op in ops(f)), ops(f)
    fused = exprc.function([W], g)  # after fusion too
    assert not any(op.startswith("Alloc") for op in ops(fused)), ops(fused)


def test_a_fill_whose_shape_no_other_input_proves_is_kept():
    x = T.matrix("x")
    n = T.lscalar("n")
    out = x + T.alloc(1.0, n, x.shape[1])  # x may be one row, broadcast to n rows
    f = same_as_reference([x, n], out, np.ones((1, 3)), np.int64(4))
    assert any(op.startswith("Alloc") for op in ops(f))
    assert f(np.ones((1, 3)), np.int64(4)).shape == (4, 3)
