"""API behaviour and errors of the reductions (forward values are in the registry)."""

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcShapeError, ExprcTypeError
from exprc.tensor.reduction import Argmax, Reduce


def run(outputs, inputs, *values):
    return exprc.function(inputs, outputs, mode="REFERENCE")(*values)


@pytest.mark.parametrize("fn", [T.sum, T.prod, T.mean, T.var, T.std, T.max, T.min, T.argmax,
                                T.argmin, T.any, T.all])
def test_axis_out_of_range_names_axis_and_rank(fn):
    x = T.matrix("x")
    with pytest.raises(ExprcShapeError, match=r"axis 2 is out of range for the 2-d input x"):
        fn(x, axis=2)
    with pytest.raises(ExprcShapeError, match=r"axis -3 is out of range"):
        fn(x, axis=(0, -3))


@pytest.mark.parametrize("fn", [T.sum, T.max, T.argmax, T.any])
def test_repeated_axis(fn):
    with pytest.raises(ExprcShapeError, match=r"repeated axis in \(1, -1\).*2-d input x"):
        fn(T.matrix("x"), axis=(1, -1))


@pytest.mark.parametrize("axis", [1.0, True, "0", [0, None]])
def test_axis_must_be_ints(axis):
    with pytest.raises(ExprcTypeError, match="axis must be an int"):
        T.sum(T.matrix("x"), axis=axis)


def test_scalar_has_no_axis_0():
    with pytest.raises(ExprcShapeError, match="axis 0 is out of range for the 0-d input"):
        T.max(T.scalar("s"), axis=0)


@pytest.mark.parametrize("dtype, expected", [
    ("bool", "int64"), ("int8", "int64"), ("int32", "int64"), ("uint8", "uint64"),
    ("uint32", "uint64"), ("float32", "float32"), ("float64", "float64")])
def test_sum_and_prod_dtypes_follow_numpy(dtype, expected):
    x = T.tensor(dtype, shape=(None, None))
    assert T.sum(x).dtype == expected == np.sum(np.ones((1, 1), dtype)).dtype.name
    assert T.prod(x, axis=0).dtype == expected


@pytest.mark.parametrize("dtype, expected", [
    ("bool", "float64"), ("int16", "float64"), ("uint64", "float64"), ("float32", "float32")])
def test_mean_var_std_dtypes(dtype, expected):
    x = T.tensor(dtype, shape=(None,))
    assert T.mean(x).dtype == T.var(x).dtype == T.std(x).dtype == expected


def test_other_output_dtypes():
    x = T.tensor("int16", shape=(None, None))
    assert T.max(x).dtype == T.min(x, axis=0).dtype == "int16"
    assert T.argmax(x).dtype == T.argmin(x, axis=1).dtype == "int64"
    assert T.any(x).dtype == T.all(x, axis=0).dtype == "bool"
    assert T.sum(x, dtype="float32", acc_dtype="float64").dtype == "float32"


def test_static_shapes():
    x = T.tensor("float64", shape=(2, None, 4))
    assert T.sum(x, axis=1).type.shape == (2, 4)
    assert T.max(x, axis=(0, -1), keepdims=True).type.shape == (1, None, 1)
    assert T.argmax(x, axis=None, keepdims=True).type.shape == (1, 1, 1)
    assert T.mean(x).type.shape == ()


@pytest.mark.parametrize("fn, name", [(T.max, "max"), (T.min, "min"), (T.argmax, "argmax"),
                                      (T.argmin, "argmin")])
def test_empty_axis_without_identity_is_an_error(fn, name):
    x = T.matrix("x")
    f = exprc.function([x], fn(x, axis=0), mode="REFERENCE")
    with pytest.raises(ValueError, match=f"{name} of an empty axis"):
        f(np.zeros((0, 3)))
    assert f(np.zeros((2, 0))).shape == (0,)


def test_empty_identities():
    x = T.matrix("x")
    s, p, a, b = run([T.sum(x), T.prod(x), T.any(x), T.all(x)], [x], np.zeros((0, 2)))
    assert (s, p, a, b) == (0.0, 1.0, False, True)


def test_mean_of_empty_is_nan():
    x = T.vector("x")
    assert np.isnan(run(T.mean(x), [x], np.zeros(0)))


def test_var_ddof_and_corrected():
    x = T.matrix("x")
    value = np.random.default_rng(0).normal(size=(4, 5))
    got = run([T.var(x, axis=1, ddof=1), T.std(x, corrected=True, keepdims=True)], [x], value)
    np.testing.assert_allclose(got[0], np.var(value, axis=1, ddof=1))
    np.testing.assert_allclose(got[1], np.std(value, keepdims=True))
    with pytest.raises(ExprcTypeError, match="ddof must be an int"):
        T.var(x, ddof=0.5)


def test_reduce_op_validation():
    with pytest.raises(ExprcTypeError, match="cannot reduce with sub"):
        Reduce("sub", (0,), "float64")
    with pytest.raises(ExprcTypeError, match="logical and_ needs dtype bool"):
        Reduce("and_", (0,), "float64")
    with pytest.raises(ExprcShapeError, match="must be sorted"):
        Reduce("add", (1, 0), "float64")(T.matrix("x"))
    with pytest.raises(ExprcShapeError, match="axis 2 is out of range"):
        Argmax((2,))(T.matrix("x"))
    assert str(Reduce("add", (0,), "float32")) == "Reduce{add, axis=(0,), dtype=float32}"
    assert Reduce("mul", [1], "int64") == Reduce("mul", (1,), "int64")


def test_sum_cast_semantics():
    # NumPy casts each element to the requested dtype before accumulating.
    x = T.vector("x")
    assert run(T.sum(x, dtype="int64"), [x], np.array([1.5, 2.5])) == 3


def test_argmax_over_several_axes_flattens_them():
    x = T.tensor3("x")
    value = np.random.default_rng(1).normal(size=(2, 3, 4))
    got = run(T.argmax(x, axis=(1, 2)), [x], value)
    np.testing.assert_array_equal(got, value.reshape(2, 12).argmax(axis=1))


def test_max_and_argmax():
    x = T.matrix("x")
    value = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    m, i = run(T.max_and_argmax(x, axis=-1), [x], value)
    np.testing.assert_array_equal(m, [5.0, 7.0])
    np.testing.assert_array_equal(i, [1, 0])


def test_prod_gradient_with_zeros_is_exact():
    x = T.matrix("x")
    g = exprc.grad(T.sum(T.prod(x, axis=1)), x)
    value = np.array([[2.0, 3.0, 4.0], [0.0, 3.0, 5.0], [0.0, 2.0, 0.0]])
    expected = [[12.0, 8.0, 6.0], [15.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    np.testing.assert_array_equal(run(g, [x], value), expected)


def test_max_gradient_goes_to_every_tie():
    x = T.vector("x")
    g = exprc.grad(T.max(x) * 2.0, x)
    np.testing.assert_array_equal(run(g, [x], np.array([1.0, 3.0, 3.0, -1.0])), [0, 2, 2, 0])


def test_min_gradient_with_keepdims():
    x = T.matrix("x")
    g = exprc.grad(T.sum(T.min(x, axis=0, keepdims=True) * np.array([[1.0, 10.0]])), x)
    value = np.array([[1.0, 4.0], [2.0, 3.0]])
    np.testing.assert_array_equal(run(g, [x], value), [[1.0, 0.0], [0.0, 10.0]])


def test_argmax_and_any_gradients_are_zero():
    x = T.vector("x")
    cost = T.sum(x) + T.argmax(x) + T.cast(T.any(x > 0), "float64")
    np.testing.assert_array_equal(run(exprc.grad(cost, x), [x], np.array([1.0, -2.0])), [1, 1])


def test_second_derivative_of_sum_of_squares_mean():
    x = T.dvector("x", shape=(3,))
    h = exprc.gradient.hessian(T.mean(T.sqr(x)), x)
    np.testing.assert_allclose(run(h, [x], np.arange(3.0)), np.eye(3) * 2 / 3)


def test_corrected_variance_uses_the_two_pass_correction():
    # float32 data far from 0: the mean has rounding error, which the correction term removes.
    x = T.fvector("x")
    corrected = exprc.function([x], T.var(x, ddof=1, corrected=True), mode="REFERENCE")
    plain = exprc.function([x], T.var(x, ddof=1), mode="REFERENCE")
    errors_corrected, errors_plain = [], []
    for seed in range(5):
        v = (1e4 + np.random.default_rng(seed).normal(size=4097)).astype("float32")
        d = v - v.mean(dtype="float32")
        expected = (np.sum(d * d) - np.sum(d) ** 2 / v.size) / (v.size - 1)
        np.testing.assert_allclose(corrected(v), expected, rtol=1e-6)
        exact = np.var(v.astype("float64"), ddof=1)
        errors_corrected.append(abs(corrected(v) - exact))
        errors_plain.append(abs(plain(v) - exact))
    assert all(c <= p for c, p in zip(errors_corrected, errors_plain))
    assert sum(errors_corrected) < sum(errors_plain)
