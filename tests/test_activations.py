"""Activations and binary losses of ``T.nnet``: values against NumPy formulas written here
(including saturated inputs), gradients by finite differences, and a training step that runs
every node in C."""

import itertools
import math

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.gradient import verify_grad
from exprc.tensor.nnet import activations

MODES = ["REFERENCE", "FAST_RUN"]
EXTREME = np.array([-1e4, -1000.0, -40.0, -6.5, -3.0, -0.5, 0.0, 0.5, 3.0, 6.5, 40.0, 1000.0,
                    1e4])
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805


# ---------------------------------------------------------------- NumPy references
def np_ultra_fast_sigmoid(x):
    """Theano's definition, element by element."""
    def one(v):
        h = 0.5 * v
        a = abs(h)
        if a < 1.7:
            t = 1.5 * a / (1 + a)
        elif a < 3:
            t = 0.935409070603099 + 0.0458812946797165 * (a - 1.7)
        else:
            t = 0.99505475368673
        return 0.5 * ((t if h >= 0 else -t) + 1.0)
    return np.array([one(float(v)) for v in np.ravel(x)]).reshape(np.shape(x))


def np_elu(x, alpha=1.0):
    return np.array([v if v > 0 else alpha * math.expm1(v) for v in np.ravel(x)]).reshape(
        np.shape(x))


def np_sigmoid_bce(z, t):
    """-(t log s + (1 - t) log(1 - s)) with log s = -log(1 + e^-z), log(1 - s) = -log(1 + e^z)."""
    return t * np.logaddexp(0.0, -z) + (1 - t) * np.logaddexp(0.0, z)


UNARY = {
    "hard_sigmoid": (T.nnet.hard_sigmoid, lambda x: np.clip(0.2 * x + 0.5, 0.0, 1.0)),
    "ultra_fast_sigmoid": (T.nnet.ultra_fast_sigmoid, np_ultra_fast_sigmoid),
    "softsign": (T.nnet.softsign, lambda x: x / (1 + np.abs(x))),
    "relu": (T.nnet.relu, lambda x: np.where(x > 0, x, 0.0)),
    "leaky_relu": (lambda x: T.nnet.relu(x, alpha=0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    "elu": (T.nnet.elu, np_elu),
    "elu_alpha": (lambda x: T.nnet.elu(x, 0.5), lambda x: np_elu(x, 0.5)),
    "selu": (T.nnet.selu, lambda x: SELU_SCALE * np_elu(x, SELU_ALPHA)),
}
#: Points where the functions are not differentiable (kinks or jumps), kept out of
#: finite-difference checks.
KINKS = [-6.0, -3.4, -2.5, 0.0, 2.5, 3.4, 6.0]


def smooth_points(rng, shape, low=-8.0, high=8.0):
    x = rng.uniform(low, high, shape)
    for k in KINKS:
        x = np.where(np.abs(x - k) < 0.05, x + 0.1, x)
    return x


# ---------------------------------------------------------------- forward
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_activations_match_numpy_including_saturated_inputs(name, mode):
    fn, ref = UNARY[name]
    x = T.dvector("x")
    values = np.concatenate([EXTREME, np.random.default_rng(0).uniform(-8, 8, 50)])
    got = exprc.function([x], fn(x), mode=mode)(values)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, ref(values), rtol=1e-12, atol=1e-15)


def test_float32_stays_float32_with_python_number_arguments():
    x = T.fvector("x")
    outs = [fn(x) for fn, _ in UNARY.values()]
    outs += [T.nnet.binary_crossentropy(T.nnet.sigmoid(x), 1),
             T.nnet.sigmoid_binary_crossentropy(x, 0.5)]
    assert [o.dtype for o in outs] == ["float32"] * len(outs)


def test_sigmoid_family_is_bounded():
    x = T.fvector("x")
    outs = [T.nnet.sigmoid(x), T.nnet.hard_sigmoid(x), T.nnet.ultra_fast_sigmoid(x)]
    values = EXTREME.astype("float32")
    for got in exprc.function([x], outs)(values):
        assert got.dtype == np.float32 and ((got >= 0) & (got <= 1)).all()
    # Theano's approximation stays within 0.03 of the sigmoid everywhere.
    grid = np.linspace(-20, 20, 2001)
    approx = T.nnet.ultra_fast_sigmoid(grid).eval()
    assert 0.02 < np.abs(approx - 1 / (1 + np.exp(-grid))).max() < 0.03


@pytest.mark.parametrize("mode", MODES)
def test_relu_with_a_tensor_slope_per_column(mode):
    x, a = T.dmatrix("x"), T.dvector("a")
    values = np.array([[-2.0, -1.0, 3.0], [4.0, -0.5, -8.0]])
    slopes = np.array([0.1, 0.2, 0.3])
    got = exprc.function([x, a], T.nnet.relu(x, a), mode=mode)(values, slopes)
    np.testing.assert_allclose(got, np.where(values > 0, values, slopes * values))


def test_relu_propagates_nan():
    got = T.nnet.relu(np.array([np.nan, -1.0]), 0.1).eval()
    assert np.isnan(got[0]) and got[1] == -0.1
    assert np.isnan(T.nnet.relu(np.array([np.nan])).eval()[0])


@pytest.mark.parametrize("mode", MODES)
def test_sigmoid_binary_crossentropy_is_finite_and_accurate_at_huge_logits(mode):
    z, t = T.dvector("z"), T.dvector("t")
    loss = T.nnet.sigmoid_binary_crossentropy(z, t)
    f = exprc.function([z, t], [loss] + exprc.grad(loss.sum(), [z, t]), mode=mode)
    zs = np.repeat(EXTREME, 3)
    ts = np.tile([0.0, 0.3, 1.0], EXTREME.size)
    value, g_z, g_t = f(zs, ts)
    assert np.isfinite(value).all() and np.isfinite(g_z).all() and np.isfinite(g_t).all()
    np.testing.assert_allclose(value, np_sigmoid_bce(zs, ts), rtol=1e-13)
    np.testing.assert_allclose(g_z, 0.5 + 0.5 * np.tanh(zs / 2) - ts, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g_t, -zs, rtol=1e-12)
    # Where the loss is tiny it keeps its relative accuracy (no cancellation): e^-40.
    np.testing.assert_allclose(f([40.0], [1.0])[0], [math.exp(-40.0)], rtol=1e-13)


def test_sigmoid_binary_crossentropy_gradient_at_zero_logits():
    """Zero-initialised weights give logits of exactly 0, where the gradient must be
    sigmoid(0) - t = 0.5 - t (a formula through |z| or max(z, 0) gets this wrong)."""
    z, t = T.dvector("z"), T.dvector("t")
    g = exprc.grad(T.nnet.sigmoid_binary_crossentropy(z, t).sum(), z)
    np.testing.assert_array_equal(exprc.function([z, t], g)(np.zeros(3), [0.0, 0.25, 1.0]),
                                  [0.5, 0.25, -0.5])


@pytest.mark.parametrize("mode", MODES)
def test_binary_crossentropy_matches_theano_formula(mode):
    p, t = T.dmatrix("p"), T.dmatrix("t")
    rng = np.random.default_rng(1)
    ps, ts = rng.uniform(0.01, 0.99, (4, 3)), rng.uniform(0, 1, (4, 3))
    got = exprc.function([p, t], T.nnet.binary_crossentropy(p, t), mode=mode)(ps, ts)
    np.testing.assert_allclose(got, -(ts * np.log(ps) + (1 - ts) * np.log1p(-ps)), rtol=1e-12)


def test_binary_crossentropy_of_a_sigmoid_is_finite_at_huge_logits_when_optimized():
    """The stability pass turns log(sigmoid(z)) and log(1 - sigmoid(z)) into softplus terms
    (the reference mode runs no rewrites and gives inf there, as the formula does)."""
    z, t = T.dvector("z"), T.dvector("t")
    f = exprc.function([z, t], T.nnet.binary_crossentropy(T.nnet.sigmoid(z), t))
    zs, ts = np.repeat(EXTREME, 2), np.tile([0.0, 1.0], EXTREME.size)
    np.testing.assert_allclose(f(zs, ts), np_sigmoid_bce(zs, ts), rtol=1e-12, atol=1e-300)


def test_binary_crossentropy_of_a_sigmoid_has_a_finite_gradient_at_huge_logits():
    """The stability pass cancels the gradient's division by the sigmoid (0 at z = -1e4)."""
    z, t = T.dvector("z"), T.dvector("t")
    g = exprc.grad(T.nnet.binary_crossentropy(T.nnet.sigmoid(z), t).sum(), z)
    got = exprc.function([z, t], g)(np.array([-1e4, 1e4]), np.array([1.0, 0.0]))
    np.testing.assert_allclose(got, [-1.0, 1.0])


def test_losses_are_exported_with_theano_names():
    assert T.nnet.categorical_crossentropy is activations.categorical_crossentropy
    assert set(activations.__all__) <= set(dir(T.nnet))
    assert {"binary_crossentropy", "sigmoid_binary_crossentropy", "categorical_crossentropy",
            "hard_sigmoid", "ultra_fast_sigmoid", "softsign", "relu", "elu",
            "selu"} <= set(activations.__all__)


# ---------------------------------------------------------------- gradients
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_activation_gradients(name, mode):
    fn, _ = UNARY[name]
    rng = np.random.default_rng(2)
    verify_grad(fn, [smooth_points(rng, (3, 4))], n_tests=1, rng=rng, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_slope_gradients_of_relu_and_elu(mode):
    rng = np.random.default_rng(3)
    x, a = smooth_points(rng, (3, 4)), rng.uniform(0.1, 2.0, 4)
    verify_grad(T.nnet.relu, [x, a], n_tests=1, rng=rng, mode=mode)
    verify_grad(T.nnet.elu, [x, a], n_tests=1, rng=rng, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_crossentropy_gradients(mode):
    rng = np.random.default_rng(4)
    p, t = rng.uniform(0.05, 0.95, (3, 4)), rng.uniform(0, 1, (3, 4))
    verify_grad(T.nnet.binary_crossentropy, [p, t], n_tests=1, rng=rng, mode=mode)
    verify_grad(T.nnet.sigmoid_binary_crossentropy, [rng.uniform(-6, 6, (3, 4)), t],
                n_tests=1, rng=rng, mode=mode)


# ---------------------------------------------------------------- compiled training step
def _mlp_step(mode):
    """A small float32 MLP using every activation, trained with both binary losses."""
    rng = np.random.default_rng(5)
    sizes = [12, 16, 16, 16, 16, 16, 1]
    params = [exprc.shared(rng.normal(0, 0.5, (m, n)).astype("float32"), name=f"W{k}")
              for k, (m, n) in enumerate(itertools.pairwise(sizes))]
    slope = exprc.shared(np.full(16, 0.1, "float32"), name="slope")
    x, y = T.fmatrix("x"), T.fmatrix("y")
    h = T.nnet.relu(T.dot(x, params[0]), slope)
    h = T.nnet.elu(T.dot(h, params[1]))
    h = T.nnet.selu(T.dot(h, params[2])) + T.nnet.softsign(h)
    h = T.nnet.hard_sigmoid(T.dot(h, params[3])) + T.nnet.relu(h)
    h = T.nnet.ultra_fast_sigmoid(T.dot(h, params[4]))
    z = T.dot(h, params[5])
    cost = T.nnet.sigmoid_binary_crossentropy(z, y).mean() \
        + T.nnet.binary_crossentropy(T.nnet.sigmoid(z), y).mean()
    everything = params + [slope]
    updates = [(v, v - 0.1 * g) for v, g in zip(everything, exprc.grad(cost, everything))]
    return exprc.function([x, y], cost, updates=updates, mode=mode), everything


def test_mlp_training_step_runs_every_node_in_c_and_matches_the_reference():
    f, params = _mlp_step("FAST_RUN")
    placement = f.placement()
    assert len(placement) > 20
    assert [node for node, backend in placement if backend != "c"] == []
    g, ref_params = _mlp_step("REFERENCE")
    rng = np.random.default_rng(6)
    for _ in range(2):
        xb = rng.normal(size=(8, 12)).astype("float32")
        yb = (rng.random((8, 1)) < 0.5).astype("float32")
        np.testing.assert_allclose(f(xb, yb), g(xb, yb), rtol=1e-4)
    for mine, theirs in zip(params, ref_params):
        assert mine.get_value().dtype == np.float32
        np.testing.assert_allclose(mine.get_value(), theirs.get_value(), rtol=1e-4, atol=1e-6,
                                   err_msg=mine.name)
