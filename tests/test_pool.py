"""``T.signal.pool.pool_2d`` and its gradients: API, errors, tie-breaking, second derivatives,
the C kernels against the reference on the LeNet shapes, and the C kernels' output sizes
against :func:`pooled_size` over a grid of geometries (forward values against NumPy are also in
the registry, tests/registry/cases_pool.py)."""

import itertools

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcShapeError, ExprcTypeError
from exprc.gradient import verify_grad
from exprc.tensor.signal import pool
from exprc.tensor.signal.pool import (
    MODES,
    AveragePoolGrad,
    MaxPoolGrad,
    MaxPoolGradGrad,
    Pool,
    pool_2d,
)
from tests.registry.cases_pool import np_average_pool_grad, np_max_pool_grad, np_pool_2d

BACKENDS = ["REFERENCE", "FAST_RUN"]


def test_public_names():
    assert T.signal.pool.pool_2d is pool_2d
    assert set(pool.__all__) >= {"pool_2d", "Pool", "MaxPoolGrad", "AveragePoolGrad"}


def test_docstring_example_values():
    x = np.arange(16.0).reshape(4, 4)
    np.testing.assert_array_equal(pool_2d(x, ws=(2, 2)).eval(), [[5, 7], [13, 15]])


@pytest.mark.parametrize("mode", BACKENDS)
def test_max_gradient_goes_to_the_first_maximum_of_each_window(mode):
    x = T.dtensor4("x")
    f = exprc.function([x], exprc.grad(pool_2d(x, (2, 2), stride=(1, 1)).sum(), x), mode=mode)
    # Ties everywhere: each of the four overlapping windows of a 3x3 image picks its top-left.
    expected = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 0]], dtype=float)
    np.testing.assert_array_equal(f(np.ones((1, 1, 3, 3)))[0, 0], expected)
    # A tie between a later and an earlier element keeps the earlier one (row-major order).
    image = np.array([[0, 5, 5], [5, 0, 0], [0, 0, 0]], dtype=float)[None, None]
    expected = np.array([[0, 2, 0], [1, 1, 0], [0, 0, 0]], dtype=float)
    np.testing.assert_array_equal(f(image)[0, 0], expected)


@pytest.mark.parametrize("mode", BACKENDS)
def test_max_pooling_ignores_the_padding(mode):
    x = T.dmatrix("x")
    f = exprc.function([x], pool_2d(x, (2, 2), pad=(1, 1)), mode=mode)
    value = -np.arange(1.0, 5.0).reshape(2, 2)
    # Each corner window holds one input element and three zeros of padding.
    np.testing.assert_array_equal(f(value), value)


@pytest.mark.parametrize("mode", BACKENDS)
def test_average_modes_divide_by_the_padded_or_the_real_window(mode):
    x = T.dmatrix("x")
    ones = np.ones((2, 2))
    inc = exprc.function([x], pool_2d(x, (2, 2), pad=(1, 1), mode="average_inc_pad"),
                         mode=mode)
    exc = exprc.function([x], pool_2d(x, (2, 2), pad=(1, 1), mode="average_exc_pad"),
                         mode=mode)
    np.testing.assert_allclose(inc(ones), np.full((2, 2), 0.25))
    np.testing.assert_allclose(exc(ones), np.ones((2, 2)))


@pytest.mark.parametrize("mode", BACKENDS)
def test_window_larger_than_the_input_gives_an_empty_output(mode):
    x = T.dtensor4("x")
    f = exprc.function([x], pool_2d(x, (5, 5)), mode=mode)
    assert f(np.ones((2, 3, 4, 4))).shape == (2, 3, 0, 0)
    g = exprc.function([x], pool_2d(x, (5, 5), ignore_border=False), mode=mode)
    np.testing.assert_array_equal(g(np.arange(16.0).reshape(1, 1, 4, 4)), [[[[15.0]]]])


def test_static_output_shape_follows_theanos_rule():
    x = T.tensor("float32", shape=(None, 3, 24, 23))
    assert pool_2d(x, (2, 2)).type.shape == (None, 3, 12, 11)
    assert pool_2d(x, (2, 2), ignore_border=False).type.shape == (None, 3, 12, 12)
    assert pool_2d(x, (3, 3), stride=(2, 2), ignore_border=False).type.shape == (None, 3, 12, 11)
    assert pool_2d(x, (3, 3), stride=(1, 1), pad=(2, 1)).type.shape == (None, 3, 26, 23)
    assert pool_2d(x, (2, 2)).dtype == "float32"


@pytest.mark.parametrize("kwargs, match", [
    ({"ws": (0, 2)}, r"ws must lie in \[1, "),
    ({"ws": (2 ** 31, 2)}, r"ws must lie in \[1, 2\*\*31 - 1\]"),
    ({"ws": (2,)}, "ws must be a pair of ints"),
    ({"ws": (2.0, 2)}, "ws must be a pair of ints"),
    ({"ws": None}, "ws .* is required"),
    ({"ws": (2, 2), "stride": (0, 1)}, r"stride must lie in \[1, "),
    ({"ws": (2, 2), "stride": (2 ** 70, 1)}, r"stride must lie in \[1, "),
    ({"ws": (2, 2), "pad": (1, 1), "ignore_border": False}, "requires ignore_border=True"),
    ({"ws": (2, 2), "pad": (2, 0)}, "must be smaller than the window"),
    ({"ws": (2, 2), "pad": (-1, 0)}, r"pad must lie in \[0, "),
    ({"ws": (2, 2), "mode": "average"}, "mode must be one of"),
])
def test_bad_arguments_are_errors_naming_the_op(kwargs, match):
    x = T.dtensor4("x")
    with pytest.raises((ExprcShapeError, ExprcTypeError), match=match) as info:
        pool_2d(x, **kwargs)
    assert str(info.value).startswith(("Pool", "pool_2d"))


def test_bad_inputs_are_errors_naming_the_op():
    with pytest.raises(ExprcTypeError, match="Pool.*must be float32 or float64"):
        pool_2d(T.imatrix("x"), (2, 2))
    with pytest.raises(ExprcShapeError, match="Pool.*at least 2 axes"):
        pool_2d(T.dvector("x"), (2, 2))
    x = T.tensor("float64", shape=(1, 6, 6))
    with pytest.raises(ExprcShapeError, match="MaxPoolGrad.*size 4 on axis 1.*gives 3"):
        MaxPoolGrad((2, 2))(x, T.tensor("float64", shape=(1, 4, 3)))
    with pytest.raises(ExprcTypeError, match="AveragePoolGrad.*dtype and rank"):
        AveragePoolGrad((2, 2), mode="sum")(x, T.fmatrix("gz"))
    with pytest.raises(ExprcTypeError, match="AveragePoolGrad: mode must be one of"):
        AveragePoolGrad((2, 2), mode="max")
    with pytest.raises(ExprcShapeError, match="MaxPoolGradGrad.*must have the type"):
        MaxPoolGradGrad((2, 2))(x, T.tensor("float64", shape=(1, 6, 5)))


@pytest.mark.parametrize("mode", BACKENDS)
@pytest.mark.parametrize("op", [MaxPoolGrad((2, 2)), AveragePoolGrad((2, 2), mode="sum")],
                         ids=str)
def test_output_gradient_of_the_wrong_shape_is_a_run_time_error(op, mode):
    x, gz = T.dtensor3("x"), T.dtensor3("gz")
    f = exprc.function([x, gz], op(x, gz), mode=mode)
    with pytest.raises(ValueError, match=f"{type(op).__name__}.*output gradient has shape"):
        f(np.ones((1, 6, 6)), np.ones((1, 3, 2)))
    g = exprc.function([x, gz], MaxPoolGradGrad((2, 2))(x, gz), mode=mode)
    with pytest.raises(ValueError, match="MaxPoolGradGrad.*values of shape"):
        g(np.ones((1, 6, 6)), np.ones((1, 3, 2)))


def _distinct(shape, seed=0):
    size = int(np.prod(shape))
    scale = 4.0 / max(size, 1)
    return np.random.default_rng(seed).permutation(size).reshape(shape) * scale - 2.0


@pytest.mark.parametrize("mode", ["sum", "average_inc_pad", "average_exc_pad", "max"])
def test_second_derivatives(mode):
    """The gradient of a gradient: through AveragePoolGrad (sum and average modes) or
    MaxPoolGrad and MaxPoolGradGrad (max), with windows that overlap and padding."""
    kwargs = {"ws": (2, 3), "stride": (1, 2), "pad": (1, 1), "mode": mode}
    verify_grad(lambda x: exprc.grad((pool_2d(x, **kwargs) ** 2).sum(), x),
                [_distinct((2, 5, 6))], rng=np.random.default_rng(0))


def test_hessian_of_sum_pooling_is_zero():
    """Sum pooling is linear: its gradient does not depend on x (and needs no
    DisconnectedInputError to say so)."""
    x = T.dmatrix("x")
    g = exprc.grad(pool_2d(x, (2, 2), mode="sum").sum(), x)
    h = exprc.function([x], exprc.grad(g.sum(), x))
    np.testing.assert_array_equal(h(np.ones((4, 4))), np.zeros((4, 4)))


@pytest.mark.parametrize("shape", [(128, 20, 24, 24), (128, 50, 8, 8)])
def test_lenet_max_pooling_on_c_equals_the_reference(shape):
    x = T.tensor("float32", shape=(None,) * 4, name="x")
    y = pool_2d(x, (2, 2))
    gz = T.tensor("float32", shape=(None,) * 4, name="gz")
    gx = exprc.grad((y * gz).sum(), x)
    value = np.random.default_rng(0).standard_normal(shape).astype("float32")
    out_grad = np.random.default_rng(1).standard_normal(
        shape[:2] + (shape[2] // 2, shape[3] // 2)).astype("float32")
    c = exprc.function([x, gz], [y, gx])
    ref = exprc.function([x, gz], [y, gx], mode="REFERENCE")
    assert {backend for _, backend in c.placement()} == {"c"}
    for got, expected in zip(c(value, out_grad), ref(value, out_grad)):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, expected)
    # And one image against the direct loops, so that both are not wrong alike.
    np.testing.assert_array_equal(c(value, out_grad)[0][3, 7],
                                  np_pool_2d(value[3:4, 7:8], (2, 2))[0, 0])


def test_pool_op_is_usable_directly():
    x = T.dtensor4("x")
    op = Pool((2, 2), mode="sum")
    assert str(op) == "Pool{ws=(2, 2), ignore_border=True, stride=(2, 2), pad=(0, 0), mode=sum}"
    assert op == Pool((2, 2), True, (2, 2), (0, 0), "sum")
    value = np.ones((1, 1, 4, 4))
    np.testing.assert_array_equal(exprc.function([x], op(x))(value), np.full((1, 1, 2, 2), 4.0))


@pytest.mark.parametrize("mode", BACKENDS)
@pytest.mark.parametrize("ignore_border", [True, False], ids=["pairs", "general"])
def test_nan_wins_the_maximum_and_takes_the_gradient(mode, ignore_border):
    # ignore_border=True takes the C kernel's 2x2 fast path, False its general loop; the
    # windows are the same here.
    x = T.dmatrix("x")
    y = pool_2d(x, (2, 2), ignore_border=ignore_border)
    f = exprc.function([x], [y, exprc.grad(y.sum(), x)], mode=mode)
    value = np.array([[1, np.nan, 3, 4], [np.nan, 0, 5, 6]])
    pooled, grad = f(value)
    np.testing.assert_array_equal(pooled, [[np.nan, 6]])
    np.testing.assert_array_equal(grad, [[0, 1, 0, 0], [0, 0, 0, 1]])


@pytest.mark.parametrize("mode", BACKENDS)
def test_rows_with_gaps_between_them(mode):
    """A column slice keeps columns contiguous but rows apart (the 2x2 fast path's case)."""
    x = T.dtensor3("x")
    y = pool_2d(x[:, :, 1:], (2, 2))
    value = _distinct((2, 5, 7))
    got = exprc.function([x], [y, exprc.grad((y ** 2).sum(), x)], mode=mode)(value)
    expected = np_pool_2d(value[:, :, 1:], (2, 2))
    np.testing.assert_array_equal(got[0], expected)
    # Each window's gradient 2 * max lands on its maximum: summing it back per window gives
    # 2 * max * (its one position), so the gradient's window sums are 2 * pooled values.
    sums = np_pool_2d(got[1][:, :, 1:], (2, 2), mode="sum")
    np.testing.assert_allclose(sums, 2 * expected)


#: (ws, stride, pad, ignore_border): windows side by side, overlapping and apart, larger than
#: some inputs, with and without padding and border.
GRID = [(ws, stride, pad, ignore_border)
        for ws, stride, pad, ignore_border in itertools.product(
            [(1, 1), (2, 2), (3, 2), (2, 4)], [None, (1, 1), (2, 3), (3, 1), (5, 5)],
            [(0, 0), (1, 0), (1, 1)], [True, False])
        if pad[0] < ws[0] and pad[1] < ws[1] and (ignore_border or pad == (0, 0))]
#: Image sizes from empty to larger than every window.
IMAGE_SIZES = [(0, 3), (1, 1), (2, 5), (3, 4), (6, 7)]


def test_c_output_sizes_follow_pooled_size_over_a_grid():
    """Every geometry compiled in the default (C) mode: the pooled shape is the Python rule's
    and the values (and gradients, which check the output gradient's shape in C) are those of
    the direct loops. The modes take turns along the grid."""
    x = T.dtensor4("x")
    modes = [MODES[i % len(MODES)] for i in range(len(GRID))]
    pooled = [pool_2d(x, ws, ib, stride, pad, mode)
              for (ws, stride, pad, ib), mode in zip(GRID, modes)]
    grads = [exprc.grad(y.sum(), x) for y in pooled]
    f = exprc.function([x], pooled + grads)
    assert {backend for _, backend in f.placement()} == {"c"}
    for rows, cols in IMAGE_SIZES:
        value = _distinct((1, 2, rows, cols))
        results = f(value)
        for k, ((ws, stride, pad, ib), mode) in enumerate(zip(GRID, modes)):
            got, grad = results[k], results[len(GRID) + k]
            where = f"{rows}x{cols}, ws={ws}, stride={stride}, pad={pad}, ignore_border={ib}"
            sizes = Pool(ws, ib, stride, pad).output_sizes(rows, cols)
            assert got.shape == (1, 2, *sizes), where
            np.testing.assert_allclose(got, np_pool_2d(value, ws, ib, stride, pad, mode),
                                       err_msg=where)
            ones = np.ones(got.shape)
            if mode == "max":
                expected = np_max_pool_grad(value, ones, ws, ib, stride, pad)
            else:
                expected = np_average_pool_grad(value, ones, ws, ib, stride, pad, mode)
            np.testing.assert_allclose(grad, expected, err_msg=where)
