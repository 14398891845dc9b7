"""API behaviour and errors of sort, argsort and the Permute op."""

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcShapeError, ExprcTypeError
from exprc.tensor.sort import ArgSort, Permute, Sort, permute


def test_types_follow_the_input():
    x = T.tensor("float32", shape=(3, None))
    assert T.sort(x).type == x.type
    assert T.argsort(x, axis=0).type == T.TensorType("int64", shape=(3, None))
    assert T.sort(x, axis=None).ndim == 1
    assert T.argsort(T.dscalar(), axis=None).ndim == 1


def test_methods_and_axis_none():
    x = T.dmatrix("x")
    value = np.array([[3.0, 1.0], [0.0, 2.0]])
    f = exprc.function([x], [x.sort(axis=0), x.argsort(), T.sort(x, axis=None)])
    by_col, order, flat = f(value)
    np.testing.assert_array_equal(by_col, np.sort(value, axis=0))
    np.testing.assert_array_equal(order, [[1, 0], [0, 1]])
    np.testing.assert_array_equal(flat, [0.0, 1.0, 2.0, 3.0])


def test_nan_last_and_stable_ties():
    x = T.dvector("x")
    f = exprc.function([x], [T.sort(x), T.argsort(x, kind="quicksort")])
    values, order = f([2.0, np.nan, 1.0, 2.0, -np.inf, 1.0])
    np.testing.assert_array_equal(values, [-np.inf, 1.0, 1.0, 2.0, 2.0, np.nan])
    np.testing.assert_array_equal(order, [4, 2, 5, 0, 3, 1])


@pytest.mark.parametrize("fn", [T.sort, T.argsort])
def test_axis_out_of_range_names_axis_and_rank(fn):
    with pytest.raises(ExprcShapeError, match=r"axis 2 is out of range for the 2-d input"):
        fn(T.dmatrix("x"), axis=2)
    with pytest.raises(ExprcShapeError, match=r"axis -3"):
        fn(T.dmatrix("x"), axis=-3)


@pytest.mark.parametrize("fn", [T.sort, T.argsort])
def test_0d_needs_axis_none(fn):
    with pytest.raises(ExprcShapeError, match="0-d input"):
        fn(T.dscalar("s"))


def test_bad_axis_and_kind():
    with pytest.raises(ExprcTypeError, match="axis must be an int"):
        T.sort(T.dvector(), axis=1.0)
    with pytest.raises(ExprcTypeError, match="axis must be an int"):
        T.argsort(T.dvector(), axis=True)
    with pytest.raises(ExprcTypeError, match="kind must be one of"):
        T.sort(T.dvector(), kind="bogo")


def test_ops_are_values():
    assert Sort(0) == Sort(0) and hash(Sort(0)) == hash(Sort(0))
    assert Sort(0) != Sort(1) and Sort(0) != ArgSort(0)


def test_permute_checks_its_inputs():
    x = T.dmatrix("x")
    with pytest.raises(ExprcTypeError, match="integer dtype"):
        permute(x, T.dmatrix("p"))
    with pytest.raises(ExprcTypeError, match="rank"):
        permute(x, T.lvector("p"))
    with pytest.raises(ExprcShapeError, match="differ in size on axis 1"):
        permute(T.tensor("float64", shape=(2, 3)), T.tensor("int64", shape=(2, 4)))
    p = T.lmatrix("p")
    out = Permute(1)(T.tensor("float64", shape=(2, None)), T.tensor("int64", shape=(None, 5)))
    assert out.type.shape == (2, 5)
    f = exprc.function([x, p], permute(x, p, axis=1))
    with pytest.raises(ValueError, match="not a permutation"):
        f(np.ones((2, 3)), [[0, 1, 1], [0, 1, 2]])
    with pytest.raises(ExprcShapeError, match="must have the shape of x"):
        f(np.ones((2, 3)), [[0, 1], [1, 0]])


def test_sort_gradient_routes_to_source_positions():
    x, w = T.dvector("x"), T.dvector("w")
    g = exprc.gradient.grad(T.sum(T.sort(x) * w), x)
    f = exprc.function([x, w], g)
    # sorted order is x[1], x[2], x[0], so x[1] gets w[0], x[2] gets w[1], x[0] gets w[2].
    np.testing.assert_array_equal(f([3.0, 1.0, 2.0], [10.0, 20.0, 30.0]), [30.0, 10.0, 20.0])


def test_sort_axis_none_gradient_keeps_input_shape():
    x = T.dmatrix("x")
    w = T.constant(np.arange(4.0))
    g = exprc.gradient.grad(T.sum(T.sort(x, axis=None) * w), x)
    value = np.array([[4.0, 1.0], [3.0, 2.0]])
    np.testing.assert_array_equal(g.eval({x: value}), [[3.0, 0.0], [2.0, 1.0]])
