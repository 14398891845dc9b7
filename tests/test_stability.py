"""The "stabilize" rules: each one's graph, its values against REFERENCE mode, and the
acceptance tests: softmax-crossentropy at logits of magnitude 1000 (written with T.nnet ops and
by hand) with its gradient, log(sigmoid(-800)) and log(1 + 1e-20)."""

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.compile.mode import Mode

# Fusion and in-place passes would hide the ops the rules produce.
UNFUSED = Mode().excluding("fusion", "inplace")


def compile_both(inputs, outputs, mode=UNFUSED):
    return (exprc.function(inputs, outputs, mode=mode),
            exprc.function(inputs, outputs, mode="REFERENCE"))


def ops(f):
    return [str(n.op) for n in f.fgraph.toposort()]


# ---------------------------------------------------------------------- elementwise rules
@pytest.mark.parametrize("build, rule, op", [
    (lambda x: T.log(1 + x), "log1p", "Elemwise{log1p}"),
    (lambda x: T.log(x + 1), "log1p", "Elemwise{log1p}"),
    (lambda x: T.exp(x) - 1, "expm1", "Elemwise{expm1}"),
    (lambda x: T.log(T.nnet.sigmoid(x)), "log_sigmoid", "Elemwise{softplus}"),
    (lambda x: T.log(1 - T.nnet.sigmoid(x)), "log_one_minus_sigmoid", "Elemwise{softplus}"),
])
def test_elementwise_rule_graph_and_values(build, rule, op):
    x = T.dvector("x")
    f, ref = compile_both([x], build(x))
    assert f.rewrite_log.fired[rule] == 1
    assert op in ops(f) and "Elemwise{log}" not in ops(f)
    values = np.random.default_rng(0).uniform(-0.5, 0.5, 7)
    np.testing.assert_allclose(f(values), ref(values), rtol=1e-12)


def test_log1p_and_log_sigmoid_exact_graphs():
    x = T.dvector("x")
    f = exprc.function([x], T.log(1 + x), mode=UNFUSED)
    assert ops(f) == ["Elemwise{log1p}"]
    f = exprc.function([x], T.log(T.nnet.sigmoid(x)), mode=UNFUSED)
    assert ops(f) == ["Elemwise{neg}", "Elemwise{softplus}", "Elemwise{neg}"]


def test_a_constant_that_broadcasts_is_not_dropped():
    x = T.dvector("x")
    f, ref = compile_both([x], T.log(np.ones((2, 3)) + x))
    assert f.rewrite_log.fired["log1p"] == 0
    assert f(np.zeros(3)).shape == ref(np.zeros(3)).shape == (2, 3)


def test_accuracy_acceptance():
    x = T.dscalar("x")
    assert exprc.function([x], T.log(1 + x))(1e-20) == 1e-20
    assert exprc.function([x], T.exp(x) - 1)(1e-20) == 1e-20
    assert exprc.function([x], T.log(T.nnet.sigmoid(x)))(-800.0) == -800.0
    assert exprc.function([x], T.log(1 - T.nnet.sigmoid(x)))(800.0) == -800.0


@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_is_shifted_by_the_maximum(keepdims):
    x = T.dmatrix("x")
    f, ref = compile_both([x], T.log(T.sum(T.exp(x), axis=1, keepdims=keepdims)))
    assert f.rewrite_log.fired["logsumexp"] == 1
    values = np.array([[1000.0, 999.0], [-np.inf, -np.inf], [0.5, -0.5], [np.inf, 0.0]])
    expected = np.logaddexp.reduce(values, axis=1, keepdims=keepdims)
    np.testing.assert_allclose(f(values), expected)
    small = values[2:3]
    np.testing.assert_allclose(f(small), ref(small))


# ---------------------------------------------------------------------- softmax rules
def hand_softmax(z, shifted=False):
    if shifted:
        z = z - T.max(z, axis=1, keepdims=True)
    e = T.exp(z)
    return e / T.sum(e, axis=1, keepdims=True)


@pytest.mark.parametrize("shifted", [False, True])
def test_hand_written_softmax_becomes_the_op(shifted):
    z = T.dmatrix("z")
    f, ref = compile_both([z], hand_softmax(z, shifted))
    assert f.rewrite_log.fired["softmax_by_hand"] == 1
    # The shift stays: at a maximum of +inf it makes the whole row NaN, as written.
    assert ops(f)[-1] == "Softmax{axis=1}" and len(ops(f)) == (4 if shifted else 1)
    values = np.random.default_rng(1).normal(size=(3, 4))
    np.testing.assert_allclose(f(values), ref(values))


@pytest.mark.parametrize("build", [lambda z: T.log(T.nnet.softmax(z)),
                                   lambda z: T.log(hand_softmax(z)),
                                   lambda z: T.log(hand_softmax(z, shifted=True))])
def test_log_of_softmax_becomes_logsoftmax(build):
    z = T.dmatrix("z")
    f, ref = compile_both([z], build(z))
    assert f.rewrite_log.fired["log_softmax"] == 1
    assert [type(n.op).__name__ for n in f.fgraph.toposort()][-1] == "LogSoftmax"
    assert "Elemwise{exp}" not in ops(f) and "Elemwise{log}" not in ops(f)
    values = np.random.default_rng(2).normal(size=(3, 4))
    np.testing.assert_allclose(f(values), ref(values))
    big = values * 1000
    assert np.isfinite(f(big)).all() and not np.isfinite(ref(big)).all()


# ---------------------------------------------------------------------- crossentropy
N, K = 6, 4


def nnet_loss(z, y):
    return T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(z), y))


def mnist_loss(z, y):
    p = T.exp(z)
    p = p / p.sum(axis=1, keepdims=True)
    return -T.mean(T.log(p)[T.arange(y.shape[0]), y])


def numpy_loss_and_grad(z, y):
    shifted = z - z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    d = np.exp(logp)
    d[np.arange(len(y)), y] -= 1
    return -logp[np.arange(len(y)), y].mean(), d / len(y)


@pytest.mark.parametrize("loss", [nnet_loss, mnist_loss], ids=["nnet", "by_hand"])
def test_softmax_crossentropy_fuses_and_is_stable_with_its_gradient(loss):
    z, y = T.dmatrix("z"), T.ivector("y")
    cost = loss(z, y)
    f = exprc.function([z, y], [cost, exprc.grad(cost, z)])
    fired = f.rewrite_log.fired
    assert fired["crossentropy_softmax_int_labels"] == 1 and fired["softmax_grad_of_log"] == 1
    if loss is mnist_loss:
        assert fired["softmax_by_hand"] == 1 and fired["softmax_grad_by_hand"] == 1
    names = ops(f)
    assert "CrossentropySoftmaxIntLabels" in names
    assert "Elemwise{exp}" not in names and "Elemwise{log}" not in names
    rng = np.random.default_rng(3)
    zv, yv = rng.normal(size=(N, K)) * 1000, rng.integers(0, K, N).astype("int32")
    value, gradient = f(zv, yv)
    want_value, want_grad = numpy_loss_and_grad(zv, yv)
    assert np.isfinite(value) and np.isfinite(gradient).all()
    np.testing.assert_allclose(value, want_value, rtol=1e-12)
    np.testing.assert_allclose(gradient, want_grad, atol=1e-12)
    # On moderate logits the optimized graph equals the unoptimized one.
    ref = exprc.function([z, y], [cost, exprc.grad(cost, z)], mode="REFERENCE")
    small = zv / 1000
    for got, want in zip(f(small, yv), ref(small, yv)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)


def test_unfused_softmax_crossentropy_overflows():
    # What the rules fix: without them the same program gives NaN.
    z, y = T.dmatrix("z"), T.ivector("y")
    cost = mnist_loss(z, y)
    f = exprc.function([z, y], [cost, exprc.grad(cost, z)], mode=Mode().excluding("stabilize"))
    zv = np.random.default_rng(3).normal(size=(N, K)) * 1000
    with np.errstate(all="ignore"):
        value, gradient = f(zv, np.zeros(N, "int32"))
    assert not (np.isfinite(value) and np.isfinite(gradient).all())


def test_fused_crossentropy_exact_graph():
    # One label per row, provably: the fused op alone.
    z, y = T.tensor("float64", shape=(6, 4), name="z"), T.tensor("int64", shape=(6,), name="y")
    f = exprc.function([z, y], -T.nnet.logsoftmax(z)[T.arange(z.shape[0]), y], mode=UNFUSED)
    assert ops(f) == ["CrossentropySoftmaxIntLabels"]
    assert f.rewrite_log.fired["cancel_double_neg"] == 1


def test_one_hot_crossentropy_of_softmax_is_stable():
    z, t = T.dmatrix("z"), T.dmatrix("t")
    cost = T.sum(T.nnet.categorical_crossentropy(T.nnet.softmax(z), t))
    f = exprc.function([z, t], [cost, exprc.grad(cost, z)])
    zv = np.random.default_rng(4).normal(size=(N, K)) * 1000
    tv = np.eye(K)[np.arange(N) % K]
    value, gradient = f(zv, tv)
    want_value, want_grad = numpy_loss_and_grad(zv, np.arange(N) % K)
    np.testing.assert_allclose(value, want_value * N, rtol=1e-12)
    np.testing.assert_allclose(gradient, want_grad * N, atol=1e-12)
