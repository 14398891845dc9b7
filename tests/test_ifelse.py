"""The lazy conditional ``exprc.ifelse.ifelse``: results against NumPy in both modes, gradients
by finite differences, laziness (the branch not taken is not computed, in both modes), work
shared by the branches computed once, and errors naming the culprit."""

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcTypeError, ExprcValueError
from exprc.gradient import GRAD, verify_grad
from exprc.gradient.table import DISCONNECTED
from exprc.ifelse import IfElse, ifelse
from exprc.link.reference import REFERENCE
from exprc.tensor.sort import Sort
from exprc.tensor.subtensor import Subtensor

MODES = ["REFERENCE", "FAST_RUN"]
X = np.array([0.5, -1.25, 2.0])


def _outer_nodes(f):
    return f.fgraph.toposort()


def _inner_nodes(f):
    """Every node inside the inner graphs of the compiled graph's nodes (at any depth)."""
    found = []
    stack = [g for n in _outer_nodes(f) for g in getattr(n.op, "inner_graphs", list)()]
    while stack:
        graph = stack.pop()
        for node in graph.nodes():
            found.append(node)
            stack += getattr(node.op, "inner_graphs", list)()
    return found


def _count(nodes, cls):
    return sum(isinstance(n.op, cls) for n in nodes)


@pytest.fixture
def sort_calls(monkeypatch):
    """How many times the reference executor runs a Sort node (a counter of evaluations)."""
    calls = []
    rule = REFERENCE[Sort]

    def counted(node, *args):
        calls.append(node)
        return rule(node, *args)

    monkeypatch.setitem(REFERENCE._rules, Sort, counted)
    return calls


# ---------------------------------------------------------------------- forward
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("c", [0, 1])
def test_forward_matches_numpy(mode, c):
    cond, x, y = T.bscalar("c"), T.dvector("x"), T.dmatrix("y")
    out = ifelse(cond, T.exp(x) * y, T.tanh(y) - x)
    f = exprc.function([cond, x, y], out, mode=mode)
    yv = np.arange(6.0).reshape(2, 3) / 7
    expected = np.exp(X) * yv if c else np.tanh(yv) - X
    np.testing.assert_allclose(f(c, X, yv), expected, rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_several_outputs_of_other_shapes_and_dtypes(mode):
    cond, x, i = T.bscalar("c"), T.dvector("x"), T.lvector("i")
    outs = ifelse(cond, [x[1:], i * 2, x.sum()], [x * 3.0, i[:1], T.constant(-1.0)])
    assert isinstance(outs, list) and len(outs) == 3
    f = exprc.function([cond, x, i], outs, mode=mode)
    iv = np.array([3, 4, 5])
    for got, want in zip(f(1, X, iv), [X[1:], iv * 2, X.sum()]):
        np.testing.assert_allclose(got, want)
        assert got.dtype == np.asarray(want).dtype
    for got, want in zip(f(0, X, iv), [X * 3.0, iv[:1], -1.0]):
        np.testing.assert_allclose(got, want)


@pytest.mark.parametrize("mode", MODES)
def test_integer_and_bool_conditions(mode):
    x = T.dvector("x")
    for cond, values in [(T.iscalar("c"), [5, 0, -2]), (T.scalar("c", dtype="bool"),
                                                         [True, False])]:
        f = exprc.function([cond, x], ifelse(cond, x + 1.0, x - 1.0), mode=mode)
        for v in values:
            np.testing.assert_allclose(f(v, X), X + 1.0 if v else X - 1.0)


@pytest.mark.parametrize("mode", MODES)
def test_nested_and_inside_a_loop(mode):
    c, d, x = T.bscalar("c"), T.bscalar("d"), T.dvector("x")
    out = ifelse(c, ifelse(d, x.sum(), x.max()), x.min())
    f = exprc.function([c, d, x], out, mode=mode)
    assert [float(f(1, 1, X)), float(f(1, 0, X)), float(f(0, 1, X))] == [X.sum(), X.max(),
                                                                          X.min()]

    def step(xt, acc):
        return ifelse(T.gt(xt, 0), acc + T.sqrt(xt), acc - 1.0)

    res, _ = exprc.scan(step, sequences=x, outputs_info=T.constant(0.0))
    g = exprc.function([x], res[-1], mode=mode)
    assert float(g(np.array([4.0, -1.0, 9.0]))) == 2.0 - 1.0 + 3.0


def test_static_shapes_are_those_the_branches_agree_on():
    c = T.bscalar("c")
    a = T.tensor("float64", shape=(3, 4))
    b = T.tensor("float64", shape=(3, None))
    out = ifelse(c, a, b)
    assert out.type.shape == (3, None) and out.dtype == "float64"
    assert ifelse(c, a, a * 2).type.shape == (3, 4)


def test_a_python_number_takes_the_other_branchs_dtype():
    c, x = T.bscalar("c"), T.fscalar("x")
    out = ifelse(c, x, 0.5)
    assert out.dtype == "float32"
    f = exprc.function([c, x], out)
    assert f(0, np.float32(2.0)) == np.float32(0.5)


def test_names_and_printing():
    c, x = T.bscalar("c"), T.dvector("x")
    out = ifelse(c, x, x * 2, name="pick")
    assert str(out.owner.op) == "IfElse{pick}"
    assert str(ifelse(c, x, x).owner.op) == "IfElse{}"
    assert isinstance(out.owner.op, IfElse)


# ---------------------------------------------------------------------- laziness
@pytest.mark.parametrize("mode", MODES)
def test_the_branch_not_taken_is_not_computed(mode):
    """A branch that would fail (an index out of range, a reshape to the wrong size) runs
    only when taken."""
    c, x = T.bscalar("c"), T.dvector("x")
    f = exprc.function([c, x], ifelse(c, x[10] * 2.0, x.sum()), mode=mode)
    assert float(f(0, X)) == X.sum()
    with pytest.raises(IndexError, match="10"):
        f(1, X)
    g = exprc.function([c, x], ifelse(c, x.sum(), T.reshape(x, (5,)).sum()), mode=mode)
    assert float(g(1, X)) == X.sum()
    with pytest.raises(ValueError):
        g(0, X)


@pytest.mark.parametrize("mode", MODES)
def test_an_unread_output_is_not_computed(mode):
    c, x = T.bscalar("c"), T.dvector("x")
    _, used = ifelse(c, [x[10], x * 2.0], [x[0], x * 3.0])
    f = exprc.function([c, x], used, mode=mode)
    np.testing.assert_allclose(f(1, X), X * 2.0)


def test_evaluations_are_counted_per_branch(sort_calls):
    c, x = T.bscalar("c"), T.dvector("x")
    f = exprc.function([c, x], ifelse(c, T.sort(x)[0], x[1]), mode="REFERENCE")
    assert float(f(0, X)) == X[1] and len(sort_calls) == 0
    assert float(f(1, X)) == X.min() and len(sort_calls) == 1


def test_shared_work_is_computed_once(sort_calls):
    c, x = T.bscalar("c"), T.dvector("x")
    s = T.sort(x)
    f = exprc.function([c, x], ifelse(c, s[0], s[-1]), mode="REFERENCE")
    assert float(f(1, X)) == X.min() and float(f(0, X)) == X.max()
    assert len(sort_calls) == 2  # once per call, whichever branch


@pytest.mark.parametrize("mode", MODES)
def test_work_is_placed_where_it_is_needed(mode):
    """Work used by one branch only moves into it; work both branches (or anything else)
    need stays outside, once."""
    c, x = T.bscalar("c"), T.dvector("x")
    both = T.sort(x)
    then_only = T.sort(x * 2.0)
    else_only = T.sort(x - 1.0)
    out = ifelse(c, both[0] + then_only[1], both[-1] * else_only[0])
    f = exprc.function([c, x], out, mode=mode)
    outer, inner = _outer_nodes(f), _inner_nodes(f)
    assert _count(outer, Sort) == 1 and _count(inner, Sort) == 2
    assert _count(outer, Subtensor) == 0  # the branches index the shared sort themselves
    s, s2, s3 = np.sort(X), np.sort(X * 2), np.sort(X - 1)
    assert np.isclose(float(f(1, X)), s[0] + s2[1])
    assert np.isclose(float(f(0, X)), s[-1] * s3[0])

    used_outside = T.sort(x * 5.0)
    g = exprc.function([c, x], [ifelse(c, used_outside[0], x[0]), used_outside],
                       mode=mode)
    assert _count(_outer_nodes(g), Sort) == 1 and _count(_inner_nodes(g), Sort) == 0


@pytest.mark.parametrize("mode", MODES)
def test_a_constant_condition_leaves_only_its_branch(mode):
    x = T.dvector("x")
    for c, want in [(1, X.min()), (0, X[1])]:
        f = exprc.function([x], ifelse(T.constant(np.int8(c)), T.sort(x)[0], x[1]), mode=mode)
        assert _count(_outer_nodes(f), IfElse) == 0
        assert _count(_outer_nodes(f), Sort) == c
        assert float(f(X)) == want


def test_equal_conditionals_merge():
    c, x = T.bscalar("c"), T.dvector("x")
    a = ifelse(c, x * 2.0, x)
    b = ifelse(c, x * 2.0, x)
    assert a.owner.op == b.owner.op and hash(a.owner.op) == hash(b.owner.op)
    f = exprc.function([c, x], a + b)
    assert _count(_outer_nodes(f), IfElse) == 1
    np.testing.assert_allclose(f(1, X), 4 * X)


# ---------------------------------------------------------------------- gradients
def _condition(c, x):
    """A condition computed from ``x`` (so that it is not a constant, which the compiler
    would resolve), true when ``c`` is 1; a finite difference step does not change it."""
    return T.gt(x.sum(), -1e6) if c else T.lt(x.sum(), -1e6)


@pytest.mark.parametrize("c", [0, 1])
def test_gradient_by_finite_differences(c):
    rng = np.random.default_rng(0)
    xv, yv = rng.uniform(0.5, 2, 4), rng.uniform(0.5, 2, (3, 4))

    def fun(x, y):
        a, b = ifelse(_condition(c, x), [T.exp(x) * y, (x * x).sum()],
                      [y / x, T.log(x).sum()])
        return a.sum() * b + a[0, 1]

    verify_grad(fun, [xv, yv], rng=rng)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_is_zero_for_the_branch_not_taken(mode):
    c, x, y = T.bscalar("c"), T.dvector("x"), T.dvector("y")
    cost = ifelse(c, (x * x).sum(), (3.0 * y).sum())
    gx, gy = exprc.grad(cost, [x, y])
    f = exprc.function([c, x, y], [gx, gy], mode=mode)
    got = f(1, X, X)
    np.testing.assert_allclose(got[0], 2 * X)
    np.testing.assert_allclose(got[1], 0.0)
    got = f(0, X, X)
    np.testing.assert_allclose(got[0], 0.0)
    np.testing.assert_allclose(got[1], 3.0)
    node = cost.owner
    assert GRAD[node.op](node, [T.constant(1.0)])[0] is DISCONNECTED  # the condition


def test_second_derivative():
    rng = np.random.default_rng(1)
    for c in (0, 1):
        verify_grad(lambda x, c=c: exprc.grad(ifelse(_condition(c, x), (T.sin(x) * x).sum(),
                                                     (x ** 3).sum()), x),
                    [rng.uniform(-1, 1, 3)], rng=rng)


# ---------------------------------------------------------------------- errors
def test_errors_name_the_culprit():
    c, x, i = T.bscalar("c"), T.dvector("x"), T.lvector("i")
    m = T.dmatrix("m")
    with pytest.raises(ExprcTypeError, match="dtypes.*float64.*int64"):
        ifelse(c, x, i)
    with pytest.raises(ExprcTypeError, match=r"branch value 1 has different ranks"):
        ifelse(c, [x, x], [x, m])
    with pytest.raises(ExprcValueError, match="2 values and the else branch 1"):
        ifelse(c, [x, x], [x])
    with pytest.raises(ExprcTypeError, match="one branch is a list"):
        ifelse(c, [x], x)
    with pytest.raises(ExprcTypeError, match="condition must be a 0-d"):
        ifelse(x, x, x)
    with pytest.raises(ExprcTypeError, match="bool or integer.*T.neq"):
        ifelse(T.dscalar("f"), x, x)
    with pytest.raises(ExprcTypeError, match="does not fit"):
        ifelse(c, i, 0.5)
    with pytest.raises(ExprcValueError, match="no values"):
        ifelse(c, [], [])
