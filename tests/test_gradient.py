"""grad, Lop/Rop, jacobian, hessian, the gradient filters and verify_grad."""

import warnings

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.gradient import (
    DisconnectedInputError,
    DisconnectedType,
    GradientError,
    Lop,
    NullGrad,
    NullGradError,
    Rop,
    disconnected_grad,
    grad_clip,
    grad_scale,
    hessian,
    jacobian,
    undefined_grad,
    verify_grad,
    zero_grad,
)
from exprc.graph.traversal import ancestors, toposort

RNG = np.random.default_rng(42)


def ev(outputs, givens):
    f = exprc.function(list(givens), outputs, mode="REFERENCE", on_unused_input="ignore")
    return f(*givens.values())


def numeric_grad(f, x, eps=1e-6):
    """Central differences of a scalar NumPy function, element by element."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        g[i] = (f(x + d) - f(x - d)) / (2 * eps)
    return g


def test_gradient_is_a_graph_matching_the_closed_form():
    x = T.dvector("x")
    g = exprc.grad(T.sum(T.exp(x) * T.sin(x)), x)
    assert isinstance(g, T.TensorVariable) and g.owner is not None
    xv = RNG.normal(size=5)
    np.testing.assert_allclose(ev(g, {x: xv}), np.exp(xv) * (np.sin(xv) + np.cos(xv)))


def test_multiple_uses_accumulate():
    x = T.dvector("x")
    g = exprc.grad(T.sum(x * x + 3 * x + x), x)
    xv = RNG.normal(size=4)
    np.testing.assert_allclose(ev(g, {x: xv}), 2 * xv + 4)


def test_broadcasting_is_summed_back_at_run_time():
    # Both inputs have unknown static sizes; x turns out to be (1, 4) at run time.
    x, y = T.dmatrix("x"), T.dmatrix("y")
    gx, gy = exprc.grad(T.sum(x * y), [x, y])
    xv, yv = RNG.normal(size=(1, 4)), RNG.normal(size=(3, 4))
    got_x, got_y = ev([gx, gy], {x: xv, y: yv})
    np.testing.assert_allclose(got_x, yv.sum(axis=0, keepdims=True))
    np.testing.assert_allclose(got_y, np.broadcast_to(xv, (3, 4)))


def test_rank_broadcasting_through_dimshuffle():
    b, m = T.dvector("b"), T.dmatrix("m")
    g = exprc.grad(T.sum(T.tanh(m + b)), b)
    bv, mv = RNG.normal(size=3), RNG.normal(size=(4, 3))
    np.testing.assert_allclose(ev(g, {b: bv, m: mv}), (1 - np.tanh(mv + bv) ** 2).sum(0))


def test_non_scalar_cost_is_a_clear_error():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="scalar"):
        exprc.grad(x * 2, x)


def test_integer_cost_is_an_error():
    x = T.lvector("x")
    with pytest.raises(TypeError, match="float cost"):
        exprc.grad(T.sum(x), x)


def test_disconnected_inputs_policies():
    x, y = T.dvector("x"), T.dvector("y")
    cost = T.sum(x)
    with pytest.raises(DisconnectedInputError, match="does not depend on y"):
        exprc.grad(cost, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gy = exprc.grad(cost, y, disconnected_inputs="warn")
    assert caught and "does not depend" in str(caught[0].message)
    np.testing.assert_array_equal(ev(gy, {y: np.ones(3)}), np.zeros(3))
    assert exprc.grad(cost, y, disconnected_inputs="ignore", return_disconnected="None") is None
    assert isinstance(exprc.grad(cost, y, disconnected_inputs="ignore",
                                 return_disconnected="Disconnected"), DisconnectedType)


def test_piecewise_constant_paths_give_zeros_not_errors():
    x = T.dvector("x")
    g = exprc.grad(T.sum(T.cast(T.floor(x) > 0, "float64") * 2.0), x)
    np.testing.assert_array_equal(ev(g, {x: np.array([0.5, -1.5])}), [0.0, 0.0])
    g_int = exprc.grad(T.sum(T.cast(x, "int32") * 2.0), x)
    np.testing.assert_array_equal(ev(g_int, {x: np.array([0.5, 3.2])}), [0.0, 0.0])


def test_relu_via_switch():
    x = T.dvector("x")
    g = exprc.grad(T.sum(T.switch(x > 0, x, 0.0) ** 2), x)
    xv = np.array([-1.0, 0.5, 2.0])
    np.testing.assert_allclose(ev(g, {x: xv}), np.where(xv > 0, 2 * xv, 0.0))


def test_consider_constant_blocks_the_gradient():
    x = T.dvector("x")
    y = x * 2
    g = exprc.grad(T.sum(x * y), x, consider_constant=[y])
    xv = RNG.normal(size=3)
    np.testing.assert_allclose(ev(g, {x: xv}), 2 * xv)


def test_known_grads_start_the_walk():
    x = T.dvector("x")
    h = T.exp(x)
    seed = T.dvector("seed")
    g = exprc.grad(None, x, known_grads={h: seed})
    xv, sv = RNG.normal(size=3), RNG.normal(size=3)
    np.testing.assert_allclose(ev(g, {x: xv, seed: sv}), sv * np.exp(xv))


def test_gradient_filters():
    x = T.dvector("x")
    xv = np.array([0.2, -3.0, 1.5])
    base = 5 * x ** 2
    np.testing.assert_array_equal(ev(exprc.grad(T.sum(zero_grad(base)), x,
                                                 disconnected_inputs="ignore"), {x: xv}),
                                  np.zeros(3))
    with pytest.raises(DisconnectedInputError):
        exprc.grad(T.sum(disconnected_grad(base)), x)
    np.testing.assert_allclose(ev(exprc.grad(T.sum(grad_clip(base, -1.0, 1.0)), x), {x: xv}),
                               np.clip(np.ones(3), -1, 1) * 10 * xv)
    np.testing.assert_allclose(ev(exprc.grad(T.sum(grad_scale(base, 0.5)), x), {x: xv}),
                               5 * xv)
    clipped_inner = exprc.grad(T.sum(5 * grad_clip(x, -1.0, 1.0) ** 2), x)
    np.testing.assert_allclose(ev(clipped_inner, {x: xv}), np.clip(10 * xv, -1, 1))
    with pytest.raises(NullGradError, match="undefined"):
        exprc.grad(T.sum(undefined_grad(base)), x)
    assert isinstance(exprc.grad(T.sum(undefined_grad(base)), x, null_gradients="return"),
                      NullGrad)
    # Forward, every filter is the identity.
    np.testing.assert_array_equal(ev(grad_clip(base, -1.0, 1.0), {x: xv}), 5 * xv ** 2)


def test_second_derivative_by_differentiating_twice():
    x = T.dscalar("x")
    d1 = exprc.grad(x ** 3 + T.sin(x), x)
    d2 = exprc.grad(d1, x)
    np.testing.assert_allclose(ev(d2, {x: 0.7}), 6 * 0.7 - np.sin(0.7))


def _hessian_matches_fd(cost_fn, n, seed=0):
    x = T.dvector("x", shape=(n,))
    H = hessian(cost_fn(x), x)
    g = exprc.grad(cost_fn(x), x)
    g_fn = exprc.function([x], g, mode="REFERENCE")
    xv = np.random.default_rng(seed).normal(size=n)
    eps = 1e-6
    H_fd = np.stack([(g_fn(xv + eps * e) - g_fn(xv - eps * e)) / (2 * eps) for e in np.eye(n)])
    np.testing.assert_allclose(ev(H, {x: xv}), H_fd, rtol=1e-5, atol=1e-7)


def test_hessian_quadratic_form():
    A = RNG.normal(size=(4, 4))
    _hessian_matches_fd(lambda x: T.dot(x, T.dot(T.constant(A), x)), 4)


def test_hessian_logistic_loss():
    X, y = RNG.normal(size=(6, 3)), (RNG.random(6) > 0.5).astype(float)

    def loss(w):
        z = T.dot(T.constant(X), w)
        return T.sum(T.softplus(z) - T.constant(y) * z)

    _hessian_matches_fd(loss, 3)


def test_hessian_tanh_network():
    W1 = RNG.normal(size=(3, 5))

    def net(x):
        return T.sum(T.tanh(T.dot(T.tanh(T.dot(x, T.constant(W1))), T.constant(W1.T))) ** 2)

    _hessian_matches_fd(net, 3)


def test_rop_equals_jacobian_times_v():
    x = T.dvector("x", shape=(3,))
    v = T.dvector("v", shape=(3,))
    M = RNG.normal(size=(4, 3))
    f = T.tanh(T.dot(T.constant(M), x)) * T.sum(x ** 2)
    J = jacobian(f, x)
    xv, vv = RNG.normal(size=3), RNG.normal(size=3)
    jv_rop, J_val = ev([Rop(f, x, v), J], {x: xv, v: vv})
    np.testing.assert_allclose(jv_rop, J_val @ vv, rtol=1e-10)


def test_lop_equals_transposed_jacobian_times_u():
    x = T.dvector("x", shape=(3,))
    u = T.dvector("u")
    f = T.exp(x) * x[0]
    xv, uv = RNG.normal(size=3), RNG.normal(size=3)
    lop, J_val = ev([Lop(f, x, u), jacobian(f, x)], {x: xv, u: uv})
    np.testing.assert_allclose(lop, J_val.T @ uv, rtol=1e-10)


def test_jacobian_of_unknown_length_is_a_loop():
    # Without a static length the rows are computed by a loop over them, as in Theano.
    x = T.dvector("x")
    jac = jacobian(x ** 2, x)
    assert any(type(v.owner.op).__name__ == "Scan" for v in ancestors([jac]) if v.owner)
    np.testing.assert_allclose(jac.eval({x: np.array([1.0, 2.0, 3.0])}),
                               np.diag([2.0, 4.0, 6.0]))


def test_softmax_crossentropy_gradient_closed_form():
    n, d, k = 7, 5, 3
    x, y = T.dmatrix("x"), T.lvector("y")
    W, b = T.dmatrix("W"), T.dvector("b")
    z = T.dot(x, W) + b
    e = T.exp(z - T.max(z, axis=1, keepdims=True))
    p = e / T.sum(e, axis=1, keepdims=True)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    gW, gb = exprc.grad(cost, [W, b])
    xv, Wv, bv = RNG.normal(size=(n, d)), RNG.normal(size=(d, k)), RNG.normal(size=k)
    yv = RNG.integers(0, k, n)
    zv = xv @ Wv + bv
    pv = np.exp(zv - zv.max(1, keepdims=True))
    pv /= pv.sum(1, keepdims=True)
    delta = (pv - np.eye(k)[yv]) / n
    got_W, got_b = ev([gW, gb], {x: xv, y: yv, W: Wv, b: bv})
    np.testing.assert_allclose(got_W, xv.T @ delta, rtol=1e-10)
    np.testing.assert_allclose(got_b, delta.sum(0), rtol=1e-10, atol=1e-15)


def _mlp_grad_size(layers):
    x, y = T.dmatrix("x"), T.dmatrix("y")
    params, h = [], x
    for i in range(layers):
        W, b = T.dmatrix(f"W{i}"), T.dvector(f"b{i}")
        params += [W, b]
        h = T.tanh(T.dot(h, W) + b)
    cost = T.mean((h - y) ** 2)
    return len(toposort(exprc.grad(cost, params)))


def test_gradient_graph_grows_linearly_with_depth():
    n4, n16, n64 = _mlp_grad_size(4), _mlp_grad_size(16), _mlp_grad_size(64)
    # Linear growth: 4x the layers gives at most ~4x the nodes (plus a constant).
    assert n16 / n4 < 4.2 and n64 / n16 < 4.2, (n4, n16, n64)
    assert n64 / n16 > 3.5, (n4, n16, n64)


def test_verify_grad_accepts_correct_and_rejects_wrong_gradients():
    pt = [RNG.normal(size=(3, 2))]
    verify_grad(lambda a: T.tanh(a) * a, pt, rng=np.random.default_rng(0))
    with pytest.raises(GradientError, match="symbolic gradient gives"):
        verify_grad(lambda a: grad_scale(a, 2.0) ** 2, pt, rng=np.random.default_rng(0))


def test_verify_grad_rejects_integer_points():
    with pytest.raises(TypeError, match="float32 or float64"):
        verify_grad(lambda a: a * 2, [np.arange(3)])


def test_rop_of_every_registry_op_matches_finite_differences():
    from tests.registry import load_all

    checked = 0
    for case in load_all():
        if case.grad is not True:
            continue
        values = case.sample(3)
        k = next(i for i, a in enumerate(case.args) if a.is_float and a.differentiable)
        syms = case.symbols()
        out = case.build(*syms)
        if isinstance(out, (list, tuple)) or out.dtype not in ("float64",):
            continue
        v = T.TensorType("float64", shape=(None,) * syms[k].ndim)("v")
        jvp = Rop(out, syms[k], v)
        f_jvp = exprc.function(syms + [v], jvp, mode="REFERENCE", on_unused_input="ignore")
        f = exprc.function(syms, out, mode="REFERENCE", on_unused_input="ignore")
        direction = np.random.default_rng(4).normal(size=values[k].shape)
        eps = 1e-6
        plus, minus = list(values), list(values)
        plus[k] = values[k] + eps * direction
        minus[k] = values[k] - eps * direction
        fd = (f(*plus) - f(*minus)) / (2 * eps)
        np.testing.assert_allclose(f_jvp(*values, direction), fd, rtol=1e-4, atol=1e-6,
                                   err_msg=case.name)
        checked += 1
    assert checked > 100


def test_integer_side_paths_into_ops_without_rules_give_zero():
    a = T.dmatrix("a")
    g = exprc.grad((T.extra_ops.to_one_hot(T.argmax(a, 1), 4) * a).sum(), a)
    av = RNG.normal(size=(2, 4))
    np.testing.assert_allclose(ev(g, {a: av}), np.eye(4)[av.argmax(1)])


def test_gradient_of_a_variable_with_respect_to_itself():
    c = T.dscalar("c")
    np.testing.assert_allclose(ev(exprc.grad(c, c), {c: 3.0}), 1.0)
