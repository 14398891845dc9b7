"""Movement-op algebra: DimShuffle, Reshape, Subtensor, SpecifyShape and Alloc chains collapse
or vanish, only where that is provable, and results equal REFERENCE mode."""

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.compile.mode import get_mode
from exprc.graph.traversal import equal_computations
from exprc.rewriting.pipeline import PASS_NAMES
from exprc.tensor.elemwise import DimShuffle
from exprc.tensor.shape import Reshape, SpecifyShape

CANON = get_mode("FAST_RUN").excluding(
    *(p for p in PASS_NAMES if p not in ("merge", "canonicalize", "merge_again")))
SPECIALIZE = get_mode("FAST_RUN").excluding("blas", "fusion", "inplace")
rng = np.random.default_rng(0)


def same_as_reference(inputs, output, *values, mode=CANON):
    f = exprc.function(inputs, output, mode=mode)
    ref = exprc.function(inputs, output, mode="REFERENCE")
    got, want = f(*values), ref(*values)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, equal_nan=True)
    return f


def ops(f):
    return [type(n.op).__name__ if not hasattr(n.op, "scalar_op") else str(n.op)
            for n in f.fgraph.toposort()]


# --------------------------------------------------------------------------- DimShuffle
def test_transpose_of_transpose_is_the_input():
    x = T.tensor3("x")
    f = same_as_reference([x], x.transpose(1, 2, 0).transpose(2, 0, 1), rng.normal(size=(2, 3, 4)))
    assert f.fgraph.outputs[0] is x


def test_dimshuffles_compose_into_one():
    x = T.dcol("x")
    expr = T.dimshuffle(T.dimshuffle(x, (1, "x", 0)), (2, 1))  # drops the size-1 axis
    f = same_as_reference([x], expr, rng.normal(size=(3, 1)))
    assert equal_computations(f.fgraph.outputs, [DimShuffle((0, "x"))(x)])


def test_a_dropped_axis_is_still_checked_at_run_time():
    x = T.dmatrix("x")
    f = exprc.function([x], T.squeeze(T.dimshuffle(x, (1, 0)), 1), mode=CANON)
    assert ops(f) == ["DimShuffle"]
    np.testing.assert_array_equal(f(np.ones((1, 4))), np.ones(4))
    with pytest.raises(ValueError, match="size"):
        f(np.ones((2, 4)))


# --------------------------------------------------------------------------- Reshape
def test_reshape_of_reshape_is_one_reshape():
    x = T.dmatrix("x")
    expr = T.reshape(T.reshape(x, (-1,)), (3, 4))
    f = same_as_reference([x], expr, rng.normal(size=(2, 6)))
    assert equal_computations(f.fgraph.outputs, [Reshape(2)(x, T.constant([3, 4]))])


def test_reshape_to_the_same_shape_vanishes_only_when_provable():
    x = T.tensor("float64", shape=(2, 3), name="x")
    assert same_as_reference([x], T.reshape(x, (2, -1)), np.ones((2, 3))).fgraph.outputs[0] is x
    m = T.dmatrix("m")
    assert same_as_reference([m], T.reshape(m, m.shape), np.ones((2, 3))).fgraph.outputs[0] is m
    f = same_as_reference([m], T.reshape(m, (2, 3)), np.ones((2, 3)))
    assert ops(f) == ["Reshape"]


# --------------------------------------------------------------------------- Subtensor
def test_useless_slices_vanish():
    x = T.tensor("float64", shape=(None, 4), name="x")
    value = rng.normal(size=(3, 4))
    for expr in (x[:], x[:, 0:4], x[0:], x[..., :10], x[...]):
        assert same_as_reference([x], expr, value).fgraph.outputs[0] is x
    f = same_as_reference([x], x[:, 0:3], value)
    assert ops(f) == ["Subtensor"]


@pytest.mark.parametrize("first, second", [
    ((slice(1, None),), (slice(2, 5),)),
    ((slice(None, 8),), (slice(1, None),)),
    ((slice(2, 9), slice(None, None, -1)), (slice(1, 4), slice(1, None, 2))),
    ((slice(None, None, -2),), (slice(-3, None),)),
    # Both slices stop: with the size unknown, the tighter stop must win.
    ((slice(1, 5),), (slice(None, 2),)),
    ((slice(1, 3),), (slice(None, 5),)),
])
def test_slices_of_slices_compose(first, second):
    x = T.tensor("float64", shape=(10, 6), name="x")
    value = rng.normal(size=(10, 6))
    f = same_as_reference([x], x[first][second], value)
    assert ops(f) == ["Subtensor"]
    # Forward unit-step slices compose without static sizes too.
    if all(s.step is None and (s.start or 0) >= 0 and (s.stop or 0) >= 0
           for s in first + second):
        m = T.dmatrix("m")
        assert ops(same_as_reference([m], m[first][second], value)) == ["Subtensor"]


# --------------------------------------------------------------------------- others
def test_specify_shape_of_specify_shape_merges():
    x = T.dmatrix("x")
    expr = T.specify_shape(T.specify_shape(x, (2, None)), (None, 3))
    f = same_as_reference([x], expr, np.ones((2, 3)))
    assert equal_computations(f.fgraph.outputs, [SpecifyShape((2, 3))(x)])
    with pytest.raises(ValueError):
        f(np.ones((3, 3)))  # the inner size is still checked


def test_alloc_to_the_own_shape_vanishes():
    x = T.tensor("float64", shape=(2, 3), name="x")
    assert same_as_reference([x], T.alloc(x, 2, 3), np.ones((2, 3))).fgraph.outputs[0] is x
    m = T.dmatrix("m")
    f = same_as_reference([m], T.alloc(m, 2, 3), np.ones((1, 3)))  # may broadcast: kept
    assert ops(f) == ["Alloc"]


# --------------------------------------------------------------------------- lifting
def test_dimshuffle_lifts_above_an_elementwise_op_read_once():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f = same_as_reference([x, y], T.exp(x + y).T, rng.normal(size=(2, 3)),
                          rng.normal(size=(2, 3)), mode=SPECIALIZE)
    expected = T.exp(DimShuffle((1, 0))(x) + DimShuffle((1, 0))(y))
    assert equal_computations(f.fgraph.outputs, [expected])


def test_dimshuffle_does_not_lift_above_a_shared_result():
    x = T.dmatrix("x")
    e = T.exp(x)
    f = same_as_reference([x], e.T + T.sum(e), rng.normal(size=(2, 3)), mode=SPECIALIZE)
    assert ops(f).count("Elemwise{exp}") == 1
