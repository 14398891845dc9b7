"""exprc.nn.updates: every rule against a NumPy implementation of Lasagne's formula, over
three steps on a quadratic, and the norm constraints."""

from collections import OrderedDict

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.nn import updates

SCALE = np.array([[1.0, 2.0, 0.5], [3.0, 0.25, 1.5]])
CENTRE = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]])
START = np.array([[1.0, 1.0, 1.0], [-1.0, 2.0, 0.5]])
BIAS_START = np.array([0.3, -0.7])


def _grads(w, b):
    """Gradients of sum(SCALE (w - CENTRE)**2) + sum(b**4)."""
    return [2 * SCALE * (w - CENTRE), 4 * b ** 3]


def _loss(w, b):
    return T.sum(SCALE * (w - CENTRE) ** 2) + T.sum(b ** 4)


# NumPy versions of the rules: step(params, grads, state, t) -> new params, written from the
# formulas in Lasagne's documentation (t counts steps from 1).

def np_sgd(p, g, s, t, lr=0.1):
    return p - lr * g


def np_momentum(p, g, s, t, lr=0.1, mu=0.9):
    s["v"] = mu * s.get("v", 0) - lr * g
    return p + s["v"]


def np_nesterov(p, g, s, t, lr=0.1, mu=0.9):
    s["v"] = mu * s.get("v", 0) - lr * g
    return p + mu * s["v"] - lr * g


def np_adagrad(p, g, s, t, lr=1.0, eps=1e-6):
    s["acc"] = s.get("acc", 0) + g ** 2
    return p - lr * g / np.sqrt(s["acc"] + eps)


def np_rmsprop(p, g, s, t, lr=1.0, rho=0.9, eps=1e-6):
    s["acc"] = rho * s.get("acc", 0) + (1 - rho) * g ** 2
    return p - lr * g / np.sqrt(s["acc"] + eps)


def np_adadelta(p, g, s, t, lr=1.0, rho=0.95, eps=1e-6):
    s["acc"] = rho * s.get("acc", 0) + (1 - rho) * g ** 2
    step = g * np.sqrt(s.get("delta", 0) + eps) / np.sqrt(s["acc"] + eps)
    s["delta"] = rho * s.get("delta", 0) + (1 - rho) * step ** 2
    return p - lr * step


def np_adam(p, g, s, t, lr=0.001, b1=0.9, b2=0.999, eps=1e-8):
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * g ** 2
    return p - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * s["m"] / (np.sqrt(s["v"]) + eps)


def np_adamax(p, g, s, t, lr=0.002, b1=0.9, b2=0.999, eps=1e-8):
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["u"] = np.maximum(b2 * s.get("u", 0), np.abs(g))
    return p - lr / (1 - b1 ** t) * s["m"] / (s["u"] + eps)


# (rule, its keyword arguments, the NumPy step with the same hyperparameters)
CASES = {
    "sgd": (updates.sgd, {"learning_rate": 0.1}, np_sgd),
    "momentum": (updates.momentum, {"learning_rate": 0.1}, np_momentum),
    "momentum_0.5": (updates.momentum, {"learning_rate": 0.05, "momentum": 0.5},
                     lambda *a: np_momentum(*a, lr=0.05, mu=0.5)),
    "nesterov_momentum": (updates.nesterov_momentum, {"learning_rate": 0.1}, np_nesterov),
    "adagrad": (updates.adagrad, {}, np_adagrad),
    "adagrad_lr": (updates.adagrad, {"learning_rate": 0.1, "epsilon": 1e-3},
                   lambda *a: np_adagrad(*a, lr=0.1, eps=1e-3)),
    "rmsprop": (updates.rmsprop, {}, np_rmsprop),
    "rmsprop_rho": (updates.rmsprop, {"learning_rate": 0.01, "rho": 0.5},
                    lambda *a: np_rmsprop(*a, lr=0.01, rho=0.5)),
    "adadelta": (updates.adadelta, {}, np_adadelta),
    "adam": (updates.adam, {}, np_adam),
    "adam_custom": (updates.adam, {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.9},
                    lambda *a: np_adam(*a, lr=0.1, b1=0.5, b2=0.9)),
    "adamax": (updates.adamax, {}, np_adamax),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_rule_matches_numpy_over_three_steps(name):
    rule, kwargs, np_step = CASES[name]
    w, b = exprc.shared(START.copy(), name="w"), exprc.shared(BIAS_START.copy(), name="b")
    result = rule(_loss(w, b), [w, b], **kwargs)
    assert isinstance(result, OrderedDict)
    assert w in result and b in result
    step = exprc.function([], [], updates=result)
    values, states = [START.copy(), BIAS_START.copy()], [{}, {}]
    for t in (1, 2, 3):
        step()
        grads = _grads(*values)
        values = [np_step(p, g, s, t) for p, g, s in zip(values, grads, states)]
        np.testing.assert_allclose(w.get_value(), values[0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b.get_value(), values[1], rtol=1e-10, atol=1e-12)


def test_rules_accept_gradients_and_symbolic_hyperparameters():
    w = exprc.shared(START.copy())
    lr = exprc.shared(np.float64(0.1))
    grad = exprc.grad(T.sum(SCALE * (w - CENTRE) ** 2), w)
    step = exprc.function([], [], updates=updates.sgd([grad], [w], lr))
    step()
    lr.set_value(np.float64(0.01))
    step()
    first = START - 0.1 * 2 * SCALE * (START - CENTRE)
    np.testing.assert_allclose(w.get_value(), first - 0.01 * 2 * SCALE * (first - CENTRE))
    with pytest.raises(ValueError, match="2 gradient expressions for 1"):
        updates.sgd([grad, grad], [w], 0.1)
    with pytest.raises(ValueError, match="shared variables"):
        updates.sgd(T.sum(w * 2), [w * 2], 0.1)


def test_apply_momentum_to_other_updates_and_state_shapes():
    w = exprc.shared(START.copy())
    base = updates.sgd(_loss(w, T.constant(np.zeros(1))), [w], 0.1)
    with_momentum = updates.apply_momentum(base, momentum=0.5)
    assert len(base) == 1 and len(with_momentum) == 2      # the input is not modified
    velocity = next(v for v in with_momentum if v is not w)
    assert velocity.get_value().shape == START.shape and not velocity.get_value().any()
    nesterov = updates.apply_nesterov_momentum(base, [w], momentum=0.5)
    assert len(nesterov) == 2


def test_float32_parameters_stay_float32():
    w = exprc.shared(START.astype("float32"))
    for rule in (updates.sgd, updates.momentum, updates.adam, updates.adadelta):
        kwargs = {"learning_rate": 0.1} if rule in (updates.sgd, updates.momentum) else {}
        result = rule(T.sum(w ** 2), [w], **kwargs)
        assert all(expr.dtype == var.dtype for var, expr in result.items()), rule.__name__


def test_norm_constraint():
    x = np.array([[3.0, 0.1], [4.0, 0.2]])    # column norms 5 and ~0.22
    got = updates.norm_constraint(T.constant(x), max_norm=1.0).eval()
    norms = np.sqrt((x ** 2).sum(axis=0))
    expected = x * (np.minimum(norms, 1.0) / (1e-7 + norms))
    np.testing.assert_allclose(got, expected)
    conv = np.arange(24.0).reshape(2, 3, 2, 2)
    got = updates.norm_constraint(T.constant(conv), 2.0).eval()
    np.testing.assert_allclose(np.sqrt((got ** 2).sum(axis=(1, 2, 3))), [2.0, 2.0], rtol=1e-6)
    got = updates.norm_constraint(T.constant(x), 1.0, norm_axes=(1,)).eval()
    row_norms = np.sqrt((x ** 2).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(got, x * np.minimum(row_norms, 1) / (1e-7 + row_norms))
    with pytest.raises(ValueError, match="norm_axes"):
        updates.norm_constraint(T.vector(), 1.0)


def test_total_norm_constraint():
    a, b = np.array([3.0, 0.0]), np.array([[4.0]])
    scaled, norm = updates.total_norm_constraint([T.constant(a), T.constant(b)], 2.5,
                                                 return_norm=True)
    assert np.isclose(norm.eval(), 5.0)
    factor = 2.5 / (5.0 + 1e-7)
    np.testing.assert_allclose(scaled[0].eval(), a * factor)
    np.testing.assert_allclose(scaled[1].eval(), b * factor)
    unchanged = updates.total_norm_constraint([T.constant(a)], 10.0)
    np.testing.assert_allclose(unchanged[0].eval(), a * 3.0 / (3.0 + 1e-7))
