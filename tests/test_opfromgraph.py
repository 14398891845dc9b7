"""Ops made from graphs (``exprc.OpFromGraph``): results against NumPy in both modes, the
derived gradient by finite differences, ``grad_overrides`` in Theano's forms, ``inline``,
nesting, shared variables read inside, and errors naming the culprit."""

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc import OpFromGraph
from exprc.errors import ExprcTypeError
from exprc.gradient import verify_grad
from exprc.ifelse import ifelse

MODES = ["REFERENCE", "FAST_RUN"]
RNG = np.random.default_rng(0)
A = RNG.uniform(-1, 1, (2, 3))
B = RNG.uniform(-1, 1, (2, 3))


def _ops(f):
    return [n.op for n in f.fgraph.toposort()]


def _graph():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    return x, y, OpFromGraph([x, y], [T.exp(x) * y, (x - y).sum(axis=1)], name="pair")


# ---------------------------------------------------------------------- forward
@pytest.mark.parametrize("mode", MODES)
def test_forward_matches_numpy(mode):
    _, _, op = _graph()
    a, b = T.dmatrix("a"), T.dmatrix("b")
    u, v = op(a, b)
    f = exprc.function([a, b], [u, v, op(u, b)[0]], mode=mode)
    got = f(A, B)
    eu = np.exp(A) * B
    np.testing.assert_allclose(got[0], eu)
    np.testing.assert_allclose(got[1], (A - B).sum(axis=1))
    np.testing.assert_allclose(got[2], np.exp(eu) * B)


def test_compiled_natively():
    _, _, op = _graph()
    a, b = T.dmatrix("a"), T.dmatrix("b")
    f = exprc.function([a, b], op(a, b)[0])
    assert any(isinstance(o, OpFromGraph) for o in _ops(f))
    assert {backend for _, backend in f.placement()} == {"c"}


@pytest.mark.parametrize("mode", MODES)
def test_nested(mode):
    x = T.dvector("x")
    square = OpFromGraph([x], [x * x], name="square")
    z = T.dvector("z")
    quartic = OpFromGraph([z], [square(square(z)) + 1.0], name="quartic")
    v = T.dvector("v")
    f = exprc.function([v], quartic(v), mode=mode)
    xv = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(f(xv), xv ** 4 + 1.0)


@pytest.mark.parametrize("mode", MODES)
def test_shared_variables_inside_are_implicit_inputs(mode):
    w = exprc.shared(np.array([1.0, 2.0, 3.0]), name="w")
    x = T.dvector("x")
    op = OpFromGraph([x], [x * w + w.sum()])
    assert op.implicit  # read at each call, not frozen into the graph
    v = T.dvector("v")
    f = exprc.function([v], op(v), mode=mode)
    xv = np.array([0.5, 1.0, -1.0])
    np.testing.assert_allclose(f(xv), xv * [1, 2, 3] + 6)
    w.set_value(np.array([2.0, 0.0, 1.0]))
    np.testing.assert_allclose(f(xv), xv * [2, 0, 1] + 3)


@pytest.mark.parametrize("mode", MODES)
def test_inline_is_expanded_before_rewriting(mode):
    x, y = T.dmatrix("x"), T.dmatrix("y")
    op = OpFromGraph([x, y], [T.exp(x) * y], inline=True)
    a, b = T.dmatrix("a"), T.dmatrix("b")
    f = exprc.function([a, b], op(a, op(a, b)), mode=mode)
    assert not any(isinstance(o, OpFromGraph) for o in _ops(f))
    np.testing.assert_allclose(f(A, B), np.exp(A) * np.exp(A) * B)


@pytest.mark.parametrize("mode", MODES)
def test_outputs_passed_through_and_python_numbers(mode):
    x, s = T.dvector("x"), T.dscalar("s")
    op = OpFromGraph([x, s], [x, x * s])
    v = T.dvector("v")
    f = exprc.function([v], op(v, 2), mode=mode)
    xv = np.array([1.0, 2.0])
    got = f(xv)
    np.testing.assert_allclose(got[0], xv)
    np.testing.assert_allclose(got[1], 2 * xv)
    got[0][0] = 99.0  # a fresh array, not the argument
    assert xv[0] == 1.0


@pytest.mark.parametrize("mode", MODES)
def test_a_lazy_conditional_inside_stays_lazy(mode):
    c, x = T.bscalar("c"), T.dvector("x")
    op = OpFromGraph([c, x], [ifelse(c, x[10], x.sum())])
    d, v = T.bscalar("d"), T.dvector("v")
    f = exprc.function([d, v], op(d, v) * 2.0, mode=mode)
    assert float(f(0, np.array([1.0, 2.0]))) == 6.0
    with pytest.raises(IndexError):
        f(1, np.array([1.0, 2.0]))


def test_equality_and_printing():
    _, _, op = _graph()
    assert str(op) == "OpFromGraph{pair}"
    a, b = T.dmatrix("a"), T.dmatrix("b")
    f = exprc.function([a, b], op(a, b)[0] + op(a, b)[0])
    assert sum(isinstance(o, OpFromGraph) for o in _ops(f)) == 1
    _, _, again = _graph()
    assert again == op and hash(again) == hash(op)


# ---------------------------------------------------------------------- gradients
def test_derived_gradient_by_finite_differences():
    _, _, op = _graph()

    def fun(a, b):
        u, v = op(a, b)
        return (op(u, b)[0] * 2.0).sum() + (v * v).sum()

    verify_grad(fun, [A, B], rng=np.random.default_rng(1))


def test_gradient_of_a_shared_variable_read_inside():
    w = exprc.shared(np.array([1.0, 2.0, 3.0]), name="w")
    x = T.dvector("x")
    op = OpFromGraph([x], [(x * w).sum()])
    v = T.dvector("v")
    gw, gv = exprc.grad(op(v) ** 2, [w, v])
    f = exprc.function([v], [gw, gv])
    xv = np.array([0.5, 1.0, -1.0])
    total = (xv * w.get_value()).sum()
    np.testing.assert_allclose(f(xv)[0], 2 * total * xv)
    np.testing.assert_allclose(f(xv)[1], 2 * total * w.get_value())


def test_second_derivative():
    x = T.dvector("x")
    op = OpFromGraph([x], [T.sin(x) * x])
    verify_grad(lambda v: exprc.grad(op(v).sum(), v), [np.array([0.3, -1.2, 2.0])],
                rng=np.random.default_rng(2))


def _scalars():
    return T.dscalar("x"), T.dscalar("y"), T.dscalar("z")


def test_grad_overrides_as_a_list_per_input():
    """Theano's documented example: the gradient with respect to y doubled."""
    x, y, z = _scalars()
    e = x + y * z

    def rescale_dy(inputs, grads):
        _, _, zz = inputs
        (g,) = grads
        return zz * 2 * g

    op = OpFromGraph([x, y, z], [e], grad_overrides=["default", rescale_dy, "default"])
    a, b, c = _scalars()
    f = exprc.function([a, b, c], exprc.grad(op(a, b, c), [a, b, c]))
    np.testing.assert_allclose(f(2.0, 3.0, 4.0), [1.0, 8.0, 3.0])


@pytest.mark.parametrize("mode", MODES)
def test_grad_overrides_as_a_callable_and_as_an_op(mode):
    x, y, _ = _scalars()
    e = x * y
    op = OpFromGraph([x, y], [e], grad_overrides=lambda inps, gs: [gs[0] * 10.0, None])
    a, b = T.dscalar("a"), T.dscalar("b")
    ga = exprc.grad(op(a, b), a)
    assert float(exprc.function([a, b], ga, mode=mode)(2.0, 3.0)) == 10.0
    with pytest.raises(Exception, match="does not depend"):
        exprc.grad(op(a, b), b)

    g = T.dscalar("g")
    as_op = OpFromGraph([x, y, g], [g * y * 3.0, g * x * 3.0])
    tripled = OpFromGraph([x, y], [e], grad_overrides=as_op)
    grads = exprc.grad(tripled(a, b), [a, b])
    np.testing.assert_allclose(exprc.function([a, b], grads, mode=mode)(2.0, 5.0),
                               [15.0, 6.0])


# ---------------------------------------------------------------------- errors
def test_errors_name_the_culprit():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    op = OpFromGraph([x, y], [x + y], name="add")
    with pytest.raises(ExprcTypeError, match="takes 2 inputs, got 1"):
        op(x)
    with pytest.raises(ExprcTypeError, match=r"argument 1 .*float32.*input 1 \(y\)"):
        op(x, T.fmatrix("f"))
    with pytest.raises(ExprcTypeError, match="argument 0"):
        op(T.dvector("v"), y)
    fixed = T.tensor("float64", shape=(2, 3))
    op_fixed = OpFromGraph([fixed], [fixed * 2])
    with pytest.raises(ExprcTypeError, match="size 4 on axis 1"):
        op_fixed(T.tensor("float64", shape=(2, 4)))
    with pytest.raises(ExprcTypeError, match="not known statically"):
        op_fixed(T.dmatrix("m"))
    # A rewrite may rebuild the node on a variable knowing fewer sizes.
    node = op_fixed(T.tensor("float64", shape=(2, 3))).owner
    assert node.clone_with_new_inputs([T.dmatrix("m")]).op == op_fixed
    w = exprc.shared(np.zeros(3), name="w")
    with pytest.raises(ExprcTypeError, match="shared variable"):
        OpFromGraph([w], [w * 2])
    with pytest.raises(ExprcTypeError, match="constant"):
        OpFromGraph([T.constant(1.0)], [x])
    with pytest.raises(ExprcTypeError, match="listed twice"):
        OpFromGraph([x, x], [x * 2])
    with pytest.raises(ExprcTypeError, match=r"depend on y .*add it to the inputs"):
        OpFromGraph([x], [x + y])
    with pytest.raises(ExprcTypeError, match="grad_overrides"):
        OpFromGraph([x], [x * 2], grad_overrides=42)
    with pytest.raises(ExprcTypeError, match="grad_overrides lists 1 entries for 2"):
        OpFromGraph([x, y], [x * y], grad_overrides=["default"])
    bad = OpFromGraph([x, y], [(x * y).sum()], grad_overrides=lambda i, g: [g[0]])
    with pytest.raises(ExprcTypeError, match="list of 2 gradients"):
        exprc.grad(bad(x, y), x)
