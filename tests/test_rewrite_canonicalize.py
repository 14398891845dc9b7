"""The canonicalize rules: exact graphs they produce, equality with REFERENCE mode (inf and NaN
inputs included), and the cases they must leave alone (broadcasting, dtypes, non-finite
values)."""

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.compile.mode import get_mode
from exprc.graph.traversal import equal_computations
from exprc.rewriting.pipeline import PASS_NAMES
from exprc.tensor.elemwise import Elemwise
from exprc.tensor.scalar import cast_op

#: Only merging and canonicalization, so that the graphs are exactly what these rules make.
CANON = get_mode("FAST_RUN").excluding(
    *(p for p in PASS_NAMES if p not in ("merge", "canonicalize", "merge_again")))
SPECIALS = np.array([[0.0, -0.0, 1.5, -2.0], [np.inf, -np.inf, np.nan, 1e300]])


def compile_canon(inputs, output):
    return exprc.function(inputs, output, mode=CANON)


def same_as_reference(inputs, output, *values, mode=CANON):
    """Compile ``output`` both ways, check the values and dtypes agree; return the function."""
    f = exprc.function(inputs, output, mode=mode)
    ref = exprc.function(inputs, output, mode="REFERENCE")
    got, want = f(*values), ref(*values)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)
    return f


def graph_is(f, expected):
    assert equal_computations(f.fgraph.outputs, [expected]), \
        f"got {[str(n.op) for n in f.fgraph.toposort()]}"


@pytest.fixture
def fast_math():
    exprc.config.fast_math = True
    yield
    exprc.config.fast_math = False


# --------------------------------------------------------------------------- identities
@pytest.mark.parametrize("build", [
    lambda x: x * 1, lambda x: 1 * x, lambda x: x + 0, lambda x: 0 + x, lambda x: x - 0,
    lambda x: x / 1, lambda x: x ** 1, lambda x: T.neg(T.neg(x)),
])
def test_identities_give_the_input(build):
    x = T.dmatrix("x")
    f = same_as_reference([x], build(x), SPECIALS)
    assert f.fgraph.outputs[0] is x
    assert len(f.fgraph.apply_nodes) == 0


def test_float32_is_kept():
    x = T.fmatrix("x")
    f = same_as_reference([x], (x * 1 + 0) / 1, SPECIALS.clip(-1e30, 1e30).astype("float32"))
    assert f.fgraph.outputs[0] is x


def test_zero_minus_x_and_times_minus_one_are_negations():
    x = T.dmatrix("x")
    for expr in (0 - x, x * -1):
        f = same_as_reference([x], expr, SPECIALS)
        graph_is(f, -x)


def test_a_constant_that_broadcasts_is_kept():
    x = T.dcol("x")
    ones = T.constant(np.ones((1, 3)))
    f = same_as_reference([x], x * ones, np.array([[1.0], [2.0]]))
    assert f.fgraph.outputs[0] is not x
    assert f.fgraph.outputs[0].type.shape == (None, 3)


def test_mixed_dtypes_are_cast():
    x = T.ivector("x")
    f = same_as_reference([x], x * T.constant(1.0), np.array([1, -7], dtype="int32"))
    graph_is(f, T.cast(x, "float64"))
    g = same_as_reference([x], x / 1, np.array([3, -7], dtype="int32"))
    graph_is(g, T.cast(x, "float64"))


def test_floor_division_by_one_only_for_integers():
    i, d = T.lvector("i"), T.dvector("d")
    assert same_as_reference([i], i // 1, np.array([5, -3])).fgraph.outputs[0] is i
    f = same_as_reference([d], d // 1, np.array([1.5, -0.5]))
    assert [str(n.op) for n in f.fgraph.toposort()] == ["Elemwise{int_div}"]


def test_double_invert():
    b, i = T.tensor("bool", shape=(None,), name="b"), T.lvector("i")
    assert same_as_reference([b], ~~b, np.array([True, False])).fgraph.outputs[0] is b
    assert same_as_reference([i], ~~i, np.array([5, -3])).fgraph.outputs[0] is i


# --------------------------------------------------------------------------- zeros and ones
def test_times_zero_only_for_integers():
    i, d = T.lvector("i"), T.dvector("d")
    f = same_as_reference([i], i * 0, np.array([5, -3]))
    assert "Elemwise{mul}" not in [str(n.op) for n in f.fgraph.toposort()]
    g = same_as_reference([d], d * 0, np.array([np.inf, np.nan, 1.0]))
    assert [str(n.op) for n in g.fgraph.toposort()] == ["Elemwise{mul}"]


def test_x_minus_x_and_x_over_x(fast_math):
    d = T.dvector("d")
    f = compile_canon([d], [d - d, d / d])
    assert equal_computations(f.fgraph.outputs, [T.fill(d, T.constant([0.0])),
                                                 T.fill(d, T.constant([1.0]))])
    np.testing.assert_array_equal(f(np.array([2.0, -1.0]))[1], [1.0, 1.0])


def test_x_minus_x_for_floats_needs_fast_math():
    i, d = T.lvector("i"), T.dvector("d")
    f = same_as_reference([i], i - i, np.array([5, -3]))
    graph_is(f, T.fill(i, T.constant([0])))
    for expr in (d - d, d / d):
        g = same_as_reference([d], expr, np.array([np.inf, np.nan, 0.0, 2.0]))
        assert len(g.fgraph.apply_nodes) == 1
    h = same_as_reference([i], i / i, np.array([0, 3]))  # 0 / 0 is NaN even for integers
    assert len(h.fgraph.apply_nodes) == 1


def test_fast_math_flag_is_validated():
    with pytest.raises(ValueError, match="fast_math"):
        exprc.config.fast_math = "yes"


# --------------------------------------------------------------------------- log / exp
def test_log_of_exp_is_x():
    x = T.dvector("x")
    f = same_as_reference([x], T.log(T.exp(x)), np.array([0.5, -3.0, np.inf, -np.inf, np.nan]))
    assert f.fgraph.outputs[0] is x
    # Where exp overflows the original is inf; the rewrite gives the exact value.
    np.testing.assert_array_equal(f(np.array([1000.0])), [1000.0])


def test_exp_of_log_stays():
    x = T.fvector("x")
    f = same_as_reference([x], T.exp(T.log(x)), np.array([-1.0, 2.0], dtype="float32"))
    assert [str(n.op) for n in f.fgraph.toposort()] == ["Elemwise{log}", "Elemwise{exp}"]


# --------------------------------------------------------------------------- casts
def test_cast_chains():
    i8, f64 = T.tensor("int8", shape=(None,), name="i8"), T.dvector("f64")
    f = same_as_reference([i8], T.cast(T.cast(i8, "int32"), "float32"),
                          np.array([-128, 127], dtype="int8"))
    graph_is(f, T.cast(i8, "float32"))
    g = same_as_reference([i8], T.cast(T.cast(i8, "float64"), "int8"),
                          np.array([-128, 127], dtype="int8"))
    assert g.fgraph.outputs[0] is i8
    # float64 -> float32 -> float64 rounds: kept.
    h = same_as_reference([f64], T.cast(T.cast(f64, "float32"), "float64"), np.array([0.1]))
    assert len(h.fgraph.apply_nodes) == 2
    # int64 -> float64 rounds beyond 2**53: kept.
    big = T.lvector("big")
    k = same_as_reference([big], T.cast(T.cast(big, "float64"), "int64"),
                          np.array([2 ** 53 + 1]))
    assert len(k.fgraph.apply_nodes) == 2


def test_cast_to_own_dtype():
    x = T.dvector("x")
    f = compile_canon([x], Elemwise(cast_op("float64"))(x))
    assert f.fgraph.outputs[0] is x


# --------------------------------------------------------------------------- switch
def test_switch_with_constant_condition_or_equal_branches():
    a, b = T.tensor("float64", shape=(2,), name="a"), T.tensor("float64", shape=(2,), name="b")
    c = T.bvector("c")
    values = (np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert same_as_reference([a, b], T.switch(True, a, b), *values).fgraph.outputs[0] is a
    assert same_as_reference([a, b], T.switch(0, a, b), *values).fgraph.outputs[0] is b
    c2 = T.tensor("int8", shape=(2,), name="c2")
    f = same_as_reference([a, c2], T.switch(c2, a, a), values[0], np.array([0, 1], dtype="int8"))
    assert f.fgraph.outputs[0] is a
    # A condition of unknown length may not broadcast against a: its shape is kept.
    f = same_as_reference([a, c], T.switch(c, a, a), values[0], np.array([0, 1], dtype="int8"))
    assert [str(n.op) for n in f.fgraph.toposort()] == ["Elemwise{second}"]
    # A mixed constant condition is a real switch.
    mixed = T.switch(T.constant([True, False]), a, b)
    assert len(same_as_reference([a, b], mixed, *values).fgraph.apply_nodes) == 1


def test_switch_keeps_the_broadcast_shape_and_dtype():
    a, b = T.fvector("a"), T.dmatrix("b")
    f = same_as_reference([a, b], T.switch(True, a, b), np.array([1.0, 2.0], "float32"),
                          np.zeros((3, 2)))
    assert f(np.array([1.0, 2.0], "float32"), np.zeros((3, 2))).shape == (3, 2)


# --------------------------------------------------------------------------- chains
def test_constants_in_chains_are_collected(fast_math):
    x = T.dvector("x")
    f = same_as_reference([x], (x + 2) + 3, SPECIALS[0])
    graph_is(f, x + T.constant([5.0]))
    g = same_as_reference([x], 3 * (2 * x), SPECIALS[0])
    graph_is(g, x * T.constant([6.0]))
    i = T.tensor("int8", shape=(None,), name="i")
    h = same_as_reference([i], (i * 100) * 3, np.array([1, -2, 7], dtype="int8"))
    assert [str(n.op) for n in h.fgraph.toposort()] == ["Elemwise{mul}"]  # wraps like before


def test_inexact_constant_sums_are_not_folded(fast_math):
    x = T.dvector("x")
    f = compile_canon([x], (x + 1e16) + 1.0)  # 1e16 + 1 is not a float64
    assert [str(n.op) for n in f.fgraph.toposort()] == ["Elemwise{add}", "Elemwise{add}"]
    np.testing.assert_array_equal(f(np.array([-1e16])), [1.0])


def test_chains_of_different_dtypes_are_not_folded():
    i = T.tensor("int8", shape=(None,), name="i")
    expr = (i + np.int8(100)) + T.constant(100, dtype="int32")
    f = same_as_reference([i], expr, np.array([100], dtype="int8"))
    assert len(f.fgraph.apply_nodes) >= 2


def test_commutative_operands_are_ordered_so_they_merge():
    x, y = T.dvector("x"), T.dvector("y")
    f = same_as_reference([x, y], T.exp(x * y) + T.exp(y * x), np.ones(2), np.ones(2))
    assert [str(n.op) for n in f.fgraph.toposort()].count("Elemwise{exp}") == 1


def test_fills_of_the_gradient_walk_go_where_shapes_are_known():
    x = T.tensor("float64", shape=(2,), name="x")
    f = compile_canon([x], exprc.grad(T.sum(x * x), x))
    assert "Elemwise{second}" not in [str(n.op) for n in f.fgraph.toposort()]
    np.testing.assert_allclose(f(np.array([1.0, -2.0])), [2.0, -4.0])
    # With unknown sizes the fill to x * x's shape is needed (x * x could be larger than 1).
    v = T.dvector("v")
    g = same_as_reference([v], exprc.grad(T.sum(v * v), v), np.array([1.0, -2.0]))
    assert "Elemwise{second}" in [str(n.op) for n in g.fgraph.toposort()]
