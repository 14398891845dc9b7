"""Test values (``exprc.config.compute_test_value``): results computed while the graph is built,
so that a mistake fails on the line that makes it."""

import warnings

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.graph.testvalues import TestValueError
from exprc.ifelse import ifelse


@pytest.fixture
def flag():
    def set_flag(value):
        exprc.config.compute_test_value = value

    before = exprc.config.compute_test_value
    yield set_flag
    exprc.config.compute_test_value = before


def _matrix(name, rows, cols, seed=0):
    x = T.dmatrix(name)
    x.tag.test_value = np.random.default_rng(seed).standard_normal((rows, cols))
    return x


def test_values_follow_the_graph(flag):
    flag("raise")
    x = _matrix("x", 3, 4)
    W = exprc.shared(np.arange(8.0).reshape(4, 2), name="W")
    h = T.tanh(T.dot(x, W) + 1.0)
    expected = np.tanh(x.tag.test_value @ np.arange(8.0).reshape(4, 2) + 1.0)
    np.testing.assert_allclose(h.tag.test_value, expected)
    np.testing.assert_allclose(h.get_test_value(), expected)
    assert h.sum(axis=0).tag.test_value.shape == (2,)


def test_a_shape_mistake_fails_where_the_graph_is_built(flag):
    flag("raise")
    x = _matrix("x", 3, 4)
    W = exprc.shared(np.zeros((5, 2)), name="W")
    with pytest.raises(ValueError, match=r"(?s)not aligned.*test value of Dot.*\[3, 4\]"):
        T.dot(x, W)


def test_missing_test_value_raise_warn_ignore(flag):
    x = _matrix("x", 2, 2)
    y = T.dmatrix("y_without_value")
    flag("raise")
    with pytest.raises(TestValueError, match="y_without_value"):
        x + y
    flag("warn")
    with pytest.warns(UserWarning, match="y_without_value"):
        z = x + y
    assert not hasattr(z.tag, "test_value")
    flag("ignore")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = x + y
    assert not hasattr(z.tag, "test_value")
    flag("off")
    assert not hasattr((x * 2).tag, "test_value")


def test_get_test_value_without_one(flag):
    with pytest.raises(TestValueError, match="no test value"):
        T.dvector("v").get_test_value()
    assert T.constant(3.0).get_test_value() == 3.0


def test_loops_branches_and_gradients_get_values(flag):
    flag("raise")
    x = _matrix("x", 5, 3, seed=1)
    steps, _ = exprc.scan(lambda row, acc: acc + row ** 2, sequences=[x],
                          outputs_info=[T.zeros((3,))])
    np.testing.assert_allclose(steps.tag.test_value, np.cumsum(x.tag.test_value ** 2, axis=0))
    g = exprc.grad(steps[-1].sum(), x)
    np.testing.assert_allclose(g.tag.test_value, 2 * x.tag.test_value)
    branch = ifelse(T.gt(x.sum(), 1e9), x, -x)
    np.testing.assert_allclose(branch.tag.test_value, -x.tag.test_value)
    left, right = T.split(x, [1, 2], 2, axis=1)
    assert right.tag.test_value.shape == (5, 2)


def test_compiling_ignores_test_values(flag):
    flag("raise")
    x = _matrix("x", 2, 3)
    y = x * 2
    # The function's argument is y itself (an intermediate input), which has no test value
    # of its own there; rewrites build nodes too. Neither may trip the flag.
    f = exprc.function([y], T.exp(y) + y)
    np.testing.assert_allclose(f(np.ones((2, 3))), np.exp(1.0) + 1.0)
    g = exprc.function([x], T.log(T.exp(x)).sum())
    np.testing.assert_allclose(g(x.tag.test_value), x.tag.test_value.sum())


def test_a_test_value_of_the_wrong_type_is_named(flag):
    flag("raise")
    x = T.dmatrix("x")
    x.tag.test_value = np.zeros(3)
    with pytest.raises(TypeError, match="test value of x"):
        x + 1


def test_an_in_place_op_leaves_shared_values_and_test_values_alone(flag):
    # The test value of an op that overwrites its input is computed on a copy: building the
    # node must not change the shared variable (and so what the compiled function returns).
    from exprc.tensor.blas import gemm_inplace

    flag("raise")
    z = exprc.shared(np.zeros((2, 2)), name="z")
    a = _matrix("a", 2, 2)
    before = a.tag.test_value.copy()
    out = gemm_inplace(z, 1.0, a, a, 1.0)
    np.testing.assert_array_equal(z.get_value(), np.zeros((2, 2)))
    np.testing.assert_array_equal(a.tag.test_value, before)
    np.testing.assert_allclose(out.tag.test_value, before @ before)
    flag("off")
    f = exprc.function([a], out)
    np.testing.assert_allclose(f(before), before @ before)
