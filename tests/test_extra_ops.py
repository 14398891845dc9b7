"""API behaviour and errors of extra_ops: cumsum, cumprod, repeat, diff, to_one_hot."""

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcShapeError, ExprcTypeError
from exprc.tensor import extra_ops
from exprc.tensor.extra_ops import CumOp, LinearRecurrence, RepeatSum


def test_theano_module_path():
    assert extra_ops.cumsum is T.cumsum and extra_ops.to_one_hot is T.to_one_hot


@pytest.mark.parametrize("dtype, expected", [("bool", "int64"), ("int8", "int64"),
                                             ("uint16", "uint64"), ("int64", "int64"),
                                             ("float32", "float32")])
def test_cumulative_dtypes_follow_numpy(dtype, expected):
    x = T.tensor(dtype, shape=(None, 4))
    assert T.cumsum(x, axis=1).type == T.TensorType(expected, shape=(None, 4))
    assert T.cumprod(x, axis=0).dtype == np.cumprod(np.ones(2, dtype)).dtype.name == expected


@pytest.mark.parametrize("fn", [T.cumsum, T.cumprod])
def test_cumulative_axis_errors(fn):
    with pytest.raises(ExprcShapeError, match="axis 2 is out of range for the 2-d input"):
        fn(T.dmatrix("x"), axis=2)
    with pytest.raises(ExprcShapeError, match="0-d input"):
        fn(T.dscalar("s"), axis=0)
    with pytest.raises(ExprcTypeError, match="axis must be an int"):
        fn(T.dvector("v"), axis="0")
    assert fn(T.dscalar("s")).ndim == 1  # axis=None flattens


def test_cumop_mode_is_checked():
    with pytest.raises(ExprcTypeError, match="mode must be 'add' or 'mul'"):
        CumOp(0, "max")


def test_cumprod_gradient_without_zeros():
    x = T.dvector("x")
    g = exprc.gradient.grad(T.sum(T.cumprod(x)), x)
    # d/dx0 (x0 + x0 x1 + x0 x1 x2) = 1 + x1 + x1 x2, and so on.
    np.testing.assert_allclose(g.eval({x: [2.0, 3.0, 4.0]}), [16.0, 10.0, 6.0])


def test_cumprod_gradient_with_zeros_is_exact():
    x = T.dvector("x")
    f = exprc.function([x], exprc.gradient.grad(T.sum(x.cumprod()), x), mode="REFERENCE")
    # 1 + x1 + x1 x2, x0 + x0 x2, x0 x1: no NaN where x is 0.
    np.testing.assert_array_equal(f([2.0, 0.0, 3.0]), [1.0, 8.0, 0.0])
    np.testing.assert_array_equal(f([0.0, 0.0, 3.0]), [1.0, 0.0, 0.0])


def test_cumprod_second_derivative_with_zeros():
    x = T.dvector("x", shape=(3,))
    h = exprc.gradient.hessian(T.sum(T.cumprod(x)), x)
    # The Hessian of x0 + x0 x1 + x0 x1 x2 at (2, 0, 3).
    np.testing.assert_array_equal(h.eval({x: [2.0, 0.0, 3.0]}),
                                  [[0.0, 4.0, 0.0], [4.0, 0.0, 2.0], [0.0, 2.0, 0.0]])


def test_linear_recurrence_checks_its_inputs():
    with pytest.raises(ExprcShapeError, match="must have the same rank"):
        LinearRecurrence(0)(T.dvector("a"), T.dmatrix("b"))
    with pytest.raises(ExprcShapeError, match="axis 1 has size 3 in a"):
        LinearRecurrence(0)(T.tensor("float64", shape=(2, 3)), T.tensor("float64", shape=(2, 4)))
    with pytest.raises(ExprcShapeError, match="axis 1 is out of range"):
        LinearRecurrence(1)(T.dvector("a"), T.dvector("b"))
    a, b = T.dvector("a"), T.dvector("b")
    f = exprc.function([a, b], LinearRecurrence(0)(a, b), mode="REFERENCE")
    # s = b0, a1 s0 + b1, a2 s1 + b2; a0 is never used, even when infinite.
    np.testing.assert_array_equal(f([np.inf, 2.0, 0.0], [1.0, 1.0, 5.0]), [1.0, 3.0, 5.0])
    with pytest.raises(ExprcShapeError, match="must have one shape"):
        f([1.0, 2.0], [1.0, 2.0, 3.0])


def test_repeat_static_shapes():
    x = T.tensor("float64", shape=(2, 3))
    assert T.repeat(x, 2, axis=1).type.shape == (2, 6)
    assert T.repeat(x, [1, 0, 4], axis=-1).type.shape == (2, 5)
    assert T.repeat(x, [3], axis=0).type.shape == (6, 3)
    assert T.repeat(x, 0, axis=0).type.shape == (0, 3)
    assert T.repeat(x, T.lscalar("r"), axis=0).type.shape == (None, 3)
    assert T.repeat(x, 2).type.shape == (12,)


def test_repeat_errors_name_the_repeats():
    x = T.tensor("float64", shape=(2, 3))
    with pytest.raises(ExprcTypeError, match="repeats must have an integer dtype"):
        T.repeat(x, 1.5, axis=0)
    with pytest.raises(ExprcTypeError, match="scalar or a vector"):
        T.repeat(x, [[1, 2]], axis=0)
    with pytest.raises(ExprcShapeError, match="repeats has 3 entries but the repeated axis has "
                                              "size 2"):
        T.repeat(x, [1, 2, 3], axis=0)
    with pytest.raises(ExprcShapeError, match="non-negative"):
        T.repeat(x, -1, axis=0)
    with pytest.raises(ExprcShapeError, match="out of range"):
        T.repeat(x, 2, axis=2)


def test_repeat_run_time_checks():
    x, r = T.dvector("x"), T.lvector("r")
    f = exprc.function([x, r], T.repeat(x, r))
    np.testing.assert_array_equal(f([1.0, 2.0], [2, 1]), [1.0, 1.0, 2.0])
    with pytest.raises(ExprcShapeError, match="non-negative"):
        f([1.0, 2.0], [2, -1])
    with pytest.raises(ExprcShapeError, match="repeats has 3 entries"):
        f([1.0, 2.0], [1, 1, 1])


MODES = ["REFERENCE", exprc.Mode(linker="c")]


@pytest.mark.parametrize("mode", MODES, ids=["reference", "c"])
@pytest.mark.parametrize("r, rv", [(2**62, [1, 1, 1, 1]), (1, [2**62] * 4),
                                   (1, [2**63 - 1, 1, 0, 0]), (2**60, [1, 1, 1, 1])])
def test_repeat_longer_than_int64_is_refused(mode, r, rv):
    # 4 * 2**62 wraps to 0 in int64; 4 * 2**60 elements fit in int64, but not their 2**65 bytes.
    x, rs, rvec = T.dvector("x"), T.lscalar("r"), T.lvector("rv")
    f = exprc.function([x, rs, rvec], [T.repeat(x, rs), T.repeat(x, rvec)], mode=mode)
    with pytest.raises(ValueError, match="too large"):
        f(np.ones(4), r, np.array(rv))


@pytest.mark.parametrize("mode", MODES, ids=["reference", "c"])
def test_repeat_sum_counts_that_wrap_around_are_refused(mode):
    # Four counts of 2**62 add up to 0 in int64, the size of this g.
    g, r = T.dvector("g"), T.lvector("r")
    f = exprc.function([g, r], RepeatSum(0)(g, r, T.constant(np.array([4]))), mode=mode)
    np.testing.assert_array_equal(f(np.arange(3.0), np.array([1, 0, 2, 0])), [0.0, 0.0, 3.0, 0.0])
    with pytest.raises(ValueError, match="too large"):
        f(np.zeros(0), np.array([2**62] * 4))


def test_repeat_gradient_sums_copies():
    x, r = T.dvector("x"), T.lvector("r")
    w = T.dvector("w")
    g = exprc.gradient.grad(T.sum(T.repeat(x, r) * w), x)
    f = exprc.function([x, r, w], g)
    np.testing.assert_array_equal(f([5.0, 6.0, 7.0], [2, 0, 1], [1.0, 10.0, 100.0]),
                                  [11.0, 0.0, 100.0])


def test_repeat_sum_checks_its_inputs():
    g = T.dmatrix("g")
    with pytest.raises(ExprcTypeError, match="int64 vector of length 2"):
        RepeatSum(0)(g, 2, T.lvector("s"))
    f = exprc.function([g], RepeatSum(0)(g, 2, T.constant(np.array([2, 3]))))
    with pytest.raises(ExprcShapeError, match="add up to 4, but g has size 3"):
        f(np.ones((3, 3)))


def test_diff_errors():
    with pytest.raises(ExprcTypeError, match="n must be a non-negative int"):
        T.diff(T.dvector(), n=-1)
    with pytest.raises(ExprcTypeError, match="n must be a non-negative int"):
        T.diff(T.dvector(), n=1.0)
    with pytest.raises(ExprcShapeError, match="at least 1-d"):
        T.diff(T.dscalar("s"))
    with pytest.raises(ExprcShapeError, match="axis 1 is out of range"):
        T.diff(T.dvector("v"), axis=1)


def test_diff_static_shape():
    x = T.tensor("int16", shape=(4, 5))
    assert T.diff(x, n=2, axis=0).type == T.TensorType("int16", shape=(2, 5))
    assert T.diff(T.tensor("bool", shape=(3,))).dtype == "bool"


def test_to_one_hot_types():
    y = T.ivector("y")
    assert T.to_one_hot(y, 5).type == T.TensorType(exprc.config.floatX, shape=(None, 5))
    assert T.to_one_hot(T.tensor("int8", shape=(3,)), 2, dtype="int32").type == \
        T.TensorType("int32", shape=(3, 2))


def test_to_one_hot_errors():
    with pytest.raises(ExprcTypeError, match="integer vector of labels"):
        T.to_one_hot(T.dvector("y"), 3)
    with pytest.raises(ExprcTypeError, match="integer vector of labels"):
        T.to_one_hot(T.lmatrix("y"), 3)
    with pytest.raises(ExprcTypeError, match="nb_class must be a non-negative int"):
        T.to_one_hot(T.lvector("y"), 2.0)
    y = T.lvector("y")
    f = exprc.function([y], T.to_one_hot(y, 3))
    with pytest.raises(IndexError, match="label 3 .at position 1. is out of range for 3"):
        f([0, 3])
    with pytest.raises(IndexError, match="label -1"):
        f([-1])
