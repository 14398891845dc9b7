"""API behaviour and errors of the products (forward values are in the registry)."""

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcShapeError, ExprcTypeError
from exprc.tensor.linalg import BatchedDot, Dot


def run(outputs, inputs, *values):
    return exprc.function(inputs, outputs, mode="REFERENCE")(*values)


def test_static_inner_mismatch_names_both_shapes():
    a = T.tensor("float64", shape=(2, 3), name="a")
    b = T.tensor("float64", shape=(4, None), name="b")
    with pytest.raises(ExprcShapeError, match=r"Dot: inner dimensions differ: axis 1 of a "
                       r"\('a' float64 tensor of shape \(2, 3\)\) has size 3 but axis 0 of b "
                       r"\('b' float64 tensor of shape \(4, \?\)\) has size 4"):
        T.dot(a, b)


@pytest.mark.parametrize("build", [
    lambda: T.dot(T.dvector(shape=(3,)), T.dvector(shape=(2,))),
    lambda: T.dot(T.tensor3(shape=(2, 3, 4)), T.matrix(shape=(3, 5))),
    lambda: T.tensordot(T.matrix(shape=(2, 3)), T.matrix(shape=(2, 3)), 1),
    lambda: T.batched_dot(T.tensor3(shape=(2, 3, 4)), T.tensor3(shape=(2, 3, 4))),
    lambda: T.batched_dot(T.tensor4(shape=(2, 1, 3, 4)), T.tensor3(shape=(2, 5, 3))),
    lambda: T.matrix(shape=(2, 3)) @ T.vector(shape=(2,)),
])
def test_static_mismatch_is_a_build_error(build):
    with pytest.raises(ExprcShapeError, match="inner dimensions differ"):
        build()


@pytest.mark.parametrize("build, a, b", [
    (T.dot, np.ones((2, 3)), np.ones((4, 2))),
    (T.dot, np.ones(3), np.ones(2)),
    (T.batched_dot, np.ones((2, 3, 4)), np.ones((2, 3, 4))),
    (T.tensordot, np.ones((2, 3, 4)), np.ones((3, 5, 2))),
])
def test_runtime_mismatch_is_a_value_error(build, a, b):
    x = T.tensor("float64", shape=(None,) * a.ndim)
    y = T.tensor("float64", shape=(None,) * b.ndim)
    f = exprc.function([x, y], build(x, y), mode="REFERENCE")
    with pytest.raises(ValueError):
        f(a, b)


def test_batch_size_mismatch():
    with pytest.raises(ExprcShapeError, match="batch sizes"):
        T.batched_dot(T.tensor3(shape=(2, 3, 4)), T.tensor3(shape=(3, 4, 5)))
    x, y = T.tensor3("x"), T.tensor3("y")
    f = exprc.function([x, y], T.batched_dot(x, y), mode="REFERENCE")
    with pytest.raises(ValueError, match="batch sizes differ"):
        f(np.ones((2, 3, 4)), np.ones((1, 4, 5)))


def test_rank_errors():
    with pytest.raises(ExprcTypeError, match="is 0-d; it needs a leading batch axis"):
        T.batched_dot(T.scalar(), T.matrix())
    with pytest.raises(ExprcTypeError, match="matmul takes operands of rank 1, 2 or 3"):
        T.matmul(T.scalar(), T.matrix())
    with pytest.raises(ExprcTypeError, match="operand b .* is 4-d"):
        T.matrix() @ T.tensor4()
    with pytest.raises(ExprcTypeError, match="must be a vector or a matrix"):
        Dot()(T.tensor3(), T.matrix())
    with pytest.raises(ExprcTypeError, match="must be 3-d"):
        BatchedDot()(T.matrix(), T.tensor3())


@pytest.mark.parametrize("axes, error, message", [
    (3, ExprcShapeError, r"axes=3 must be in \[0, 2\]"),
    ([[0], [0, 1]], ExprcShapeError, "must be equally many"),
    ([[0, 0], [0, 1]], ExprcShapeError, "repeated axis"),
    ([[2], [0]], ExprcShapeError, "axis 2 is out of range for the 2-d input"),
    ("x", ExprcTypeError, "axes must be an int or a pair"),
])
def test_tensordot_bad_axes(axes, error, message):
    with pytest.raises(error, match=message):
        T.tensordot(T.matrix(), T.tensor3(), axes)


def test_static_shapes_and_dtypes():
    a = T.tensor("float32", shape=(2, None))
    product = T.dot(a, T.tensor("int32", shape=(None, 5)))
    assert product.type == T.TensorType("float64", shape=(2, 5))
    assert T.dot(a, T.fvector()).type.shape == (2,)
    assert T.dot(T.fvector(), T.fvector()).type.shape == ()
    assert T.dot(T.tensor("float32", shape=(4, 2, 3)), a.T).type.shape == (4, 2, 2)
    assert T.dot(T.tensor("int8", shape=(3,)), T.tensor("int8", shape=(3,))).dtype == "int8"
    t = T.tensordot(T.tensor("float64", shape=(2, 3, 4)), T.tensor("float64", shape=(4, 3, 5)),
                    [[1, 2], [1, 0]])
    assert t.type.shape == (2, 5)
    assert T.batched_dot(T.tensor("float64", shape=(7, 2, 3)), T.matrix()).type.shape == (7, 2)
    assert T.outer(T.vector(), T.matrix()).type.shape == (None, None)


def test_zero_d_dot_is_elementwise():
    x = T.matrix("x")
    np.testing.assert_array_equal(run(T.dot(2.0, x), [x], np.ones((2, 2))), np.full((2, 2), 2.0))


def test_matmul_operator_matches_numpy():
    x, y = T.tensor3("x"), T.matrix("y")
    a = np.random.default_rng(0).normal(size=(2, 3, 4))
    b = np.random.default_rng(1).normal(size=(3, 4))
    got = run([x @ y.T, y.T @ x], [x, y], a, b)
    np.testing.assert_allclose(got[0], a @ b.T)
    np.testing.assert_allclose(got[1], b.T @ a)


@pytest.mark.parametrize("shape_a, shape_b", [((2, 3, 4), (1, 4, 5)), ((1, 3, 4), (2, 4, 5)),
                                              ((1, 3, 4), (1, 4, 5)), ((0, 3, 4), (1, 4, 5))])
def test_matmul_broadcasts_batch_sizes(shape_a, shape_b):
    rng = np.random.default_rng(0)
    av, bv = rng.normal(size=shape_a), rng.normal(size=shape_b)
    expected = av @ bv
    # Batch sizes of 1 broadcast whether they are static or known only at run time.
    for static in (False, True):
        x = T.tensor("float64", shape=shape_a if static else (None,) * 3)
        y = T.tensor("float64", shape=shape_b if static else (None,) * 3)
        product = x @ y
        assert product.type.shape == (expected.shape if static else (None,) * 3)
        np.testing.assert_allclose(run(product, [x, y], av, bv), expected)


def test_matmul_batch_broadcast_gradient_sums_over_the_batch():
    x, y = T.tensor3("x"), T.tensor3("y")
    av = np.random.default_rng(0).normal(size=(2, 3, 4))
    bv = np.random.default_rng(1).normal(size=(1, 4, 5))
    gx, gy = run(exprc.grad(T.sum(x @ y), [x, y]), [x, y], av, bv)
    ones = np.ones((2, 3, 5))
    np.testing.assert_allclose(gx, ones @ bv.transpose(0, 2, 1))
    np.testing.assert_allclose(gy, (av.transpose(0, 2, 1) @ ones).sum(axis=0, keepdims=True))
    exprc.gradient.verify_grad(T.matmul, [av, bv], rng=0)


def test_matmul_batch_sizes_that_do_not_broadcast():
    with pytest.raises(ExprcShapeError, match=r"matmul: batch sizes \(axis 0\) do not "
                       r"broadcast: a is a float64 tensor of shape \(2, 3, 4\), b is a float64 "
                       r"tensor of shape \(3, 4, 5\)"):
        T.tensor3(shape=(2, 3, 4)) @ T.tensor3(shape=(3, 4, 5))
    x, y = T.tensor3("x"), T.tensor3("y")
    f = exprc.function([x, y], x @ y, mode="REFERENCE")
    with pytest.raises(ValueError, match="cannot broadcast"):
        f(np.ones((2, 3, 4)), np.ones((3, 4, 5)))


def test_dot_gradients_match_formulas():
    a, b = T.matrix("a"), T.matrix("b")
    ga, gb = exprc.grad(T.sum(T.dot(a, b)), [a, b])
    av = np.arange(6.0).reshape(2, 3)
    bv = np.arange(12.0).reshape(3, 4)
    got_a, got_b = run([ga, gb], [a, b], av, bv)
    np.testing.assert_allclose(got_a, np.ones((2, 4)) @ bv.T)
    np.testing.assert_allclose(got_b, av.T @ np.ones((2, 4)))


def test_gradient_keeps_float32():
    a, b = T.fmatrix("a"), T.dmatrix("b")
    ga, gb = exprc.grad(T.sum(T.dot(a, b)), [a, b])
    assert ga.dtype == "float32" and gb.dtype == "float64"


def test_second_derivative_of_quadratic_form():
    x = T.dvector("x", shape=(3,))
    m = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]])
    h = exprc.gradient.hessian(T.dot(x, T.dot(m, x)), x)
    np.testing.assert_allclose(run(h, [x], np.ones(3)), 2 * m)
