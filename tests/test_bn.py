"""Batch normalization (``T.nnet.bn``): values against NumPy for Theano's axes conventions,
running averages, gradients by finite differences, errors, and a training step in C."""

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcShapeError, ExprcTypeError
from exprc.gradient import verify_grad
from exprc.tensor.nnet import bn

MODES = ["REFERENCE", "FAST_RUN"]

#: (axes argument, input shape, normalized axes, shape of parameters), per convention; the
#: parameters either leave the normalized axes out or keep them with size 1.
LAYOUTS = {
    "per-activation": ("per-activation", (6, 4), (0,), (4,)),
    "per-activation-4d": ("per-activation", (5, 3, 2, 2), (0,), (3, 2, 2)),
    "spatial": ("spatial", (4, 3, 2, 5), (0, 2, 3), (3,)),
    "spatial-full-rank": ("spatial", (4, 3, 2, 5), (0, 2, 3), (1, 3, 1, 1)),
    "custom": ((2, 0), (4, 3, 5), (0, 2), (3,)),
    "custom-keep-first": ((1,), (3, 6), (1,), (3,)),
}


def np_train(x, gamma, beta, axes, eps, factor, rmean, rvar):
    """Theano's documented formulas, in NumPy, with parameters in their own layout."""
    kept = [d for d in range(x.ndim) if d not in axes]
    full = gamma.ndim == x.ndim
    shape = [1 if d in axes else x.shape[d] for d in range(x.ndim)]

    def expand(p):
        return p.reshape(shape)

    def contract(s):
        return s if full else s.reshape([x.shape[d] for d in kept])

    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    out = (x - mean) / np.sqrt(var + eps) * expand(gamma) + expand(beta)
    new_mean = rmean * (1 - factor) + contract(mean) * factor
    new_var = rvar * (1 - factor) + contract(x.var(axis=axes, ddof=1, keepdims=True)) * factor
    return out, contract(mean), contract(1 / np.sqrt(var + eps)), new_mean, new_var


def _draw(layout, seed=0):
    _, shape, _, pshape = LAYOUTS[layout]
    rng = np.random.default_rng(seed)
    x = rng.normal(3.0, 2.0, shape)
    gamma, beta = rng.uniform(0.5, 2.0, pshape), rng.normal(size=pshape)
    rmean, rvar = rng.normal(size=pshape), rng.uniform(0.5, 2.0, pshape)
    return x, gamma, beta, rmean, rvar


def _symbols(*values):
    return [T.tensor("float64", shape=(None,) * np.ndim(v)) for v in values]


# ---------------------------------------------------------------- forward
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_train_matches_numpy_with_running_averages(layout, mode):
    axes_arg, _, axes, _ = LAYOUTS[layout]
    values = _draw(layout)
    syms = _symbols(*values)
    outs = bn.batch_normalization_train(*syms[:3], axes=axes_arg, epsilon=1e-3,
                                        running_average_factor=0.3, running_mean=syms[3],
                                        running_var=syms[4])
    assert len(outs) == 5
    got = exprc.function(syms, list(outs), mode=mode)(*values)
    want = np_train(*values[:3], axes, 1e-3, 0.3, *values[3:])
    for name, g, w in zip(["out", "mean", "invstd", "running mean", "running var"], got, want):
        assert g.shape == w.shape, name
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-13, err_msg=name)


@pytest.mark.parametrize("mode", MODES)
def test_train_without_running_averages_returns_three_float32_values(mode):
    x, g, b = T.ftensor4("x"), T.fvector("g"), T.fvector("b")
    outs = bn.batch_normalization_train(x, g, b, axes="spatial")
    assert len(outs) == 3 and [o.dtype for o in outs] == ["float32"] * 3
    values = _draw("spatial")
    got = exprc.function([x, g, b], list(outs), mode=mode)(
        *[v.astype("float32") for v in values[:3]])
    want = np_train(*values[:3], (0, 2, 3), 1e-4, 0.1, *values[3:])[:3]
    for mine, theirs in zip(got, want):
        np.testing.assert_allclose(mine, theirs, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layout", ["per-activation", "spatial", "spatial-full-rank", "custom"])
def test_inference_matches_numpy(layout, mode):
    axes_arg, shape, axes, _ = LAYOUTS[layout]
    x, gamma, beta, mean, var = _draw(layout, seed=1)
    syms = _symbols(x, gamma, beta, mean, var)
    out = bn.batch_normalization_test(*syms, axes=axes_arg, epsilon=1e-2)
    got = exprc.function(syms, out, mode=mode)(x, gamma, beta, mean, var)
    shaped = [1 if d in axes else shape[d] for d in range(len(shape))]
    g, b, m, v = (p.reshape(shaped) for p in (gamma, beta, mean, var))
    np.testing.assert_allclose(got, (x - m) / np.sqrt(v + 1e-2) * g + b, rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bn_mode", ["low_mem", "high_mem"])
def test_older_batch_normalization_matches_numpy(bn_mode, mode):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5, 3))
    mean, std = x.mean(0, keepdims=True), x.std(0, keepdims=True)
    gamma, beta = rng.uniform(0.5, 2, 3), rng.normal(size=3)
    syms = _symbols(x, gamma, beta, mean, std)
    out = bn.batch_normalization(*syms, mode=bn_mode)
    got = exprc.function(syms, out, mode=mode)(x, gamma, beta, mean, std)
    np.testing.assert_allclose(got, (x - mean) * gamma / std + beta, rtol=1e-12)


def test_running_averages_follow_theano_update_over_steps():
    """Shared running averages updated by a compiled function, step after step."""
    rng = np.random.default_rng(3)
    rmean, rvar = exprc.shared(np.zeros(4)), exprc.shared(np.ones(4))
    x = T.dmatrix("x")
    _, _, _, new_mean, new_var = bn.batch_normalization_train(
        x, np.ones(4), np.zeros(4), running_average_factor=0.25, running_mean=rmean,
        running_var=rvar)
    step = exprc.function([x], [], updates=[(rmean, new_mean), (rvar, new_var)])
    want_mean, want_var = np.zeros(4), np.ones(4)
    for _ in range(3):
        batch = rng.normal(1.0, 3.0, (7, 4))
        step(batch)
        want_mean = 0.75 * want_mean + 0.25 * batch.mean(0)
        want_var = 0.75 * want_var + 0.25 * batch.var(0, ddof=1)
    np.testing.assert_allclose(rmean.get_value(), want_mean, rtol=1e-12)
    np.testing.assert_allclose(rvar.get_value(), want_var, rtol=1e-12)


# ---------------------------------------------------------------- gradients
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layout", ["per-activation", "spatial", "spatial-full-rank", "custom"])
def test_train_gradients(layout, mode):
    axes_arg = LAYOUTS[layout][0]
    x, gamma, beta, rmean, rvar = _draw(layout, seed=4)

    def normalized(x, gamma, beta):
        return bn.batch_normalization_train(x, gamma, beta, axes=axes_arg)[0]

    def running_var(x, rvar):
        return bn.batch_normalization_train(x, gamma, beta, axes=axes_arg, running_mean=rmean,
                                            running_var=rvar)[4]

    verify_grad(normalized, [x, gamma, beta], n_tests=1, rng=0, mode=mode)
    verify_grad(running_var, [x, rvar], n_tests=1, rng=0, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_inference_and_older_gradients(mode):
    x, gamma, beta, mean, var = _draw("spatial", seed=5)
    verify_grad(lambda *a: bn.batch_normalization_test(*a, axes="spatial"),
                [x, gamma, beta, mean, var], n_tests=1, rng=0, mode=mode)
    x, gamma, beta, mean, std = _draw("per-activation", seed=6)
    verify_grad(bn.batch_normalization, [x, gamma, beta, mean, std], n_tests=1, rng=0,
                mode=mode)


# ---------------------------------------------------------------- errors
def test_errors_name_the_function_and_the_argument():
    x, v = T.dmatrix("x"), T.dvector("v")
    with pytest.raises(ExprcShapeError, match="batch_normalization_train: beta .* rank 2"):
        bn.batch_normalization_train(x, v, T.dmatrix())
    with pytest.raises(ExprcTypeError, match="both be given or both be None"):
        bn.batch_normalization_train(x, v, v, running_mean=v)
    with pytest.raises(ExprcTypeError, match="'per-activation', 'spatial' or a tuple"):
        bn.batch_normalization_train(x, v, v, axes="channel")
    with pytest.raises(ExprcShapeError, match=r"axes \(0, 2\) must lie in \[0, 2\)"):
        bn.batch_normalization_test(x, v, v, v, v, axes=(0, 2))
    with pytest.raises(ExprcShapeError, match="at least one normalized axis"):
        bn.batch_normalization_train(x, v, v, axes=())
    with pytest.raises(ExprcTypeError, match="float32 or float64"):
        bn.batch_normalization_train(T.lmatrix(), v, v)
    with pytest.raises(ExprcTypeError, match="epsilon must be a non-negative number"):
        bn.batch_normalization_test(x, v, v, v, v, epsilon=-1.0)
    with pytest.raises(ExprcShapeError, match="var .* rank 2"):
        bn.batch_normalization_test(x, v, v, v, x)
    with pytest.raises(ExprcTypeError, match="mode must be 'low_mem' or 'high_mem'"):
        bn.batch_normalization(x, v, v, v, v, mode="fast")


def test_full_rank_parameters_must_have_size_one_on_normalized_axes():
    x, g = T.dmatrix("x"), T.dmatrix("g")
    out = bn.batch_normalization_train(x, g, g)[0]
    f = exprc.function([x, g], out)
    assert f(np.ones((3, 2)), np.ones((1, 2))).shape == (3, 2)
    with pytest.raises(ValueError, match="SpecifyShape"):
        f(np.ones((3, 2)), np.ones((3, 2)))


# ---------------------------------------------------------------- compiled network
def _bn_mlp(mode):
    """A float32 MLP with batch normalization: a training step that also updates the running
    averages, and an inference function that uses them."""
    rng = np.random.default_rng(7)
    f32 = "float32"
    w1 = exprc.shared(rng.normal(0, 0.3, (20, 32)).astype(f32), name="w1")
    w2 = exprc.shared(rng.normal(0, 0.3, (32, 10)).astype(f32), name="w2")
    gamma = exprc.shared(np.ones(32, f32), name="gamma")
    beta = exprc.shared(np.zeros(32, f32), name="beta")
    rmean = exprc.shared(np.zeros(32, f32), name="rmean")
    rvar = exprc.shared(np.ones(32, f32), name="rvar")
    x, y = T.fmatrix("x"), T.ivector("y")
    h, _, _, new_mean, new_var = bn.batch_normalization_train(
        T.dot(x, w1), gamma, beta, running_mean=rmean, running_var=rvar)
    p = T.nnet.softmax(T.dot(T.nnet.relu(h), w2))
    cost = T.nnet.categorical_crossentropy(p, y).mean()
    params = [w1, w2, gamma, beta]
    updates = [(v, v - 0.1 * g) for v, g in zip(params, exprc.grad(cost, params))]
    train = exprc.function([x, y], cost, updates=updates + [(rmean, new_mean), (rvar, new_var)],
                           mode=mode)
    h_test = bn.batch_normalization_test(T.dot(x, w1), gamma, beta, rmean, rvar)
    predict = exprc.function([x], T.dot(T.nnet.relu(h_test), w2), mode=mode)
    return train, predict, params + [rmean, rvar]


def test_bn_mlp_runs_every_node_in_c_and_matches_the_reference():
    train, predict, shared = _bn_mlp("FAST_RUN")
    for f in (train, predict):
        placement = f.placement()
        assert len(placement) > 5
        assert [node for node, backend in placement if backend != "c"] == []
    ref_train, ref_predict, ref_shared = _bn_mlp("REFERENCE")
    rng = np.random.default_rng(8)
    for _ in range(2):
        xb = rng.normal(size=(16, 20)).astype("float32")
        yb = rng.integers(0, 10, 16).astype("int32")
        np.testing.assert_allclose(train(xb, yb), ref_train(xb, yb), rtol=1e-4)
    for mine, theirs in zip(shared, ref_shared):
        np.testing.assert_allclose(mine.get_value(), theirs.get_value(), rtol=1e-4, atol=1e-5,
                                   err_msg=mine.name)
    assert not np.allclose(shared[-1].get_value(), 1.0)  # the running variance moved
    np.testing.assert_allclose(predict(xb), ref_predict(xb), rtol=1e-4, atol=1e-5)
