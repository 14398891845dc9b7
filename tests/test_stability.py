"""The "stabilize" rules: each one's graph, its values against REFERENCE mode, and the
acceptance tests: softmax-crossentropy at logits of magnitude 1000 (written with T.nnet ops and
by hand) with its gradient, log(sigmoid(-800)) and log(1 + 1e-20)."""

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.compile.mode import Mode
from exprc.nn import objectives

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


# ---------------------------------------------------------------------- sigmoid gradients
def np_softplus(x):
    return np.logaddexp(0.0, x)


def np_sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


#: cost(x, t) elementwise in exprc, the same cost and its derivative w.r.t. x in stable NumPy.
SIGMOID_COSTS = {
    "log_sigmoid": (lambda x, t: T.log(T.nnet.sigmoid(x)),
                    lambda x, t: -np_softplus(-x), lambda x, t: np_sigmoid(-x)),
    "log_one_minus_sigmoid": (lambda x, t: T.log(1 - T.nnet.sigmoid(x)),
                              lambda x, t: -np_softplus(x), lambda x, t: -np_sigmoid(x)),
    "binary_crossentropy": (lambda x, t: T.nnet.binary_crossentropy(T.nnet.sigmoid(x), t),
                            lambda x, t: t * np_softplus(-x) + (1 - t) * np_softplus(x),
                            lambda x, t: np_sigmoid(x) - t),
    "nn_binary_crossentropy": (
        lambda x, t: objectives.binary_crossentropy(T.nnet.sigmoid(x), t),
        lambda x, t: t * np_softplus(-x) + (1 - t) * np_softplus(x),
        lambda x, t: np_sigmoid(x) - t),
}
#: Every integer logit of [-1000, 1000] (the thresholds -745 and -104 where sigmoid
#: underflows in float64 and float32 among them) and points near 0.
LOGITS = np.concatenate([np.arange(-1000.0, 1001.0), [-0.5, 0.25, 1e-3, -1e-7]])
TOLERANCES = {"float32": dict(rtol=2e-5, atol=1e-6), "float64": dict(rtol=1e-12, atol=1e-15)}


@pytest.mark.parametrize("linker", ["reference", "c"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(SIGMOID_COSTS))
def test_sigmoid_costs_and_gradients_are_finite_and_accurate_at_every_logit(name, dtype, linker):
    """The gradient walk differentiates log(s) as g / s and sigmoid as s * (1 - s): where s
    underflows the quotient was inf or NaN although the derivative is about 1."""
    build, np_cost, np_grad = SIGMOID_COSTS[name]
    x, t = T.vector("x", dtype=dtype), T.vector("t", dtype=dtype)
    cost = build(x, t)
    f = exprc.function([x, t], [cost, exprc.grad(cost.sum(), x)],
                       mode=Mode(linker, "fast_run"), on_unused_input="ignore")
    assert f.rewrite_log.fired["sigmoid_grad_cancel"] >= 1
    assert "Elemwise{true_div}" not in ops(f)
    xs = LOGITS.astype(dtype)
    for target in (0.0, 1.0, 0.3):
        ts = np.full_like(xs, target)
        got_cost, got_grad = f(xs, ts)
        assert got_cost.dtype == got_grad.dtype == np.dtype(dtype)
        assert np.isfinite(got_cost).all() and np.isfinite(got_grad).all()
        exact = xs.astype(np.float64), ts.astype(np.float64)
        np.testing.assert_allclose(got_cost, np_cost(*exact), **TOLERANCES[dtype])
        np.testing.assert_allclose(got_grad, np_grad(*exact), **TOLERANCES[dtype])


@pytest.mark.parametrize("linker", ["reference", "c"])
def test_sigmoid_gradient_cancellation_keeps_other_terms_and_broadcasting(linker):
    """Terms of the gradient that do not divide by the sigmoid keep their factor s * (1 - s),
    and a weight of another shape broadcasts as before the rewrite."""
    x, w = T.dvector("x"), T.dmatrix("w")
    s = T.nnet.sigmoid(x)
    cost = (w * T.log(s)).sum() + (3.0 * s).sum() + (w * T.log(1 - s)).mean()
    grad = exprc.grad(cost, x)
    f = exprc.function([x, w], grad, mode=Mode(linker, "fast_run"))
    assert f.rewrite_log.fired["sigmoid_grad_cancel"] >= 1
    rng = np.random.default_rng(5)
    xs, ws = rng.uniform(-4, 4, 3), rng.uniform(0.5, 2, (2, 3))
    sig = np_sigmoid(xs)
    want = (ws.sum(0) * (1 - sig) + 3 * sig * (1 - sig) - ws.sum(0) / ws.size * sig)
    np.testing.assert_allclose(f(xs, ws), want, rtol=1e-12)
    xs = np.array([-900.0, 0.0, 900.0])
    sig = np_sigmoid(xs)
    want = (ws.sum(0) * np_sigmoid(-xs) + 3 * sig * (1 - sig) - ws.sum(0) / ws.size * sig)
    np.testing.assert_allclose(f(xs, ws), want, rtol=1e-12, atol=1e-300)


# ------------------------------------------------------------- logistic function written out
def _logistic_by_hand(x):
    return 1 / (1 + T.exp(-x))


@pytest.mark.parametrize("build, rule", [
    (_logistic_by_hand, "sigmoid_by_hand"),
    (lambda x: T.reciprocal(1 + T.exp(-x)), "sigmoid_by_hand"),
    (lambda x: 1 / (T.exp(x) + 1), "sigmoid_by_hand"),  # sigmoid(-x)
    (lambda x: T.exp(x) / (1 + T.exp(x)), "exp_over_one_plus_exp"),
    (lambda x: 3.0 * T.exp(x) / (1 + T.exp(x)), "exp_over_one_plus_exp"),
])
def test_a_logistic_written_out_becomes_sigmoid(build, rule):
    x = T.dvector("x")
    f, ref = compile_both([x], build(x))
    assert f.rewrite_log.fired[rule] >= 1
    assert "Elemwise{sigmoid}" in ops(f) and "Elemwise{exp}" not in ops(f)
    values = np.random.default_rng(1).uniform(-5, 5, 9)
    np.testing.assert_allclose(f(values), ref(values), rtol=1e-12)


def test_the_tutorial_logistic_cost_and_gradient_are_finite_at_large_logits():
    # Theano's tutorial writes p = 1 / (1 + exp(-z)) and the cross-entropy with log(p) and
    # log(1 - p). Written out, 1 - p is exactly 0 once z > ~37: log(1 - p) = -inf, and the
    # gradient divides inf by inf. Exact values from the softplus identities.
    z, y = T.dvector("z"), T.dvector("y")
    p = _logistic_by_hand(z)
    xent = (-y * T.log(p) - (1 - y) * T.log(1 - p)).sum()
    f = exprc.function([z, y], [xent, exprc.grad(xent, z)])
    logits = np.array([-800.0, -60.0, -1.0, 0.0, 2.0, 60.0, 800.0])
    labels = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    cost, grad = f(logits, labels)
    expected = (labels * np.logaddexp(0, -logits) + (1 - labels) * np.logaddexp(0, logits))
    np.testing.assert_allclose(cost, expected.sum(), rtol=1e-12)
    def sigmoid(t):
        return np.exp(-np.logaddexp(0, -t))

    # sigmoid(z) - y, written so that 1 - sigmoid(z) keeps its digits: -sigmoid(-z).
    expected_grad = np.where(labels == 1, -sigmoid(-logits), sigmoid(logits))
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-300)
