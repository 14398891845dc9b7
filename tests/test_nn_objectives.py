"""exprc.nn.objectives and exprc.nn.regularization against NumPy."""

import warnings

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.nn import layers as L
from exprc.nn import objectives as O
from exprc.nn import regularization as R


@pytest.fixture
def rng():
    return np.random.default_rng(99)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _run(expr, inputs, *values):
    return exprc.function(inputs, expr)(*values)


def test_binary_crossentropy(rng):
    p, t = T.matrix("p"), T.matrix("t")
    pv = rng.uniform(0.05, 0.95, (4, 3))
    tv = (rng.uniform(size=(4, 3)) > 0.5).astype(float)
    got = _run(O.binary_crossentropy(p, t), [p, t], pv, tv)
    np.testing.assert_allclose(got, -(tv * np.log(pv) + (1 - tv) * np.log(1 - pv)))


def test_column_predictions_align_with_vector_targets(rng):
    # One sigmoid unit (n, 1) against labels (n,) gives (n, 1), not (n, n).
    p = T.tensor(shape=(None, 1), name="p")
    t = T.vector("t")
    pv, tv = rng.uniform(0.1, 0.9, (5, 1)), np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    got = _run(O.binary_crossentropy(p, t), [p, t], pv, tv)
    assert got.shape == (5, 1)
    tc = tv[:, None]
    np.testing.assert_allclose(got, -(tc * np.log(pv) + (1 - tc) * np.log(1 - pv)))
    got = _run(O.squared_error(p, t), [p, t], pv, tv)
    np.testing.assert_allclose(got, (pv - tc) ** 2)


def test_categorical_crossentropy_labels_and_distributions(rng):
    p = T.matrix("p")
    pv = _softmax(rng.standard_normal((5, 4)))
    labels = np.array([0, 3, 1, 1, 2], dtype="int32")
    y = T.ivector("y")
    got = _run(O.categorical_crossentropy(p, y), [p, y], pv, labels)
    np.testing.assert_allclose(got, -np.log(pv[np.arange(5), labels]))
    q = T.matrix("q")
    qv = _softmax(rng.standard_normal((5, 4)))
    got = _run(O.categorical_crossentropy(p, q), [p, q], pv, qv)
    np.testing.assert_allclose(got, -(qv * np.log(pv)).sum(axis=1))


def test_squared_error(rng):
    a, b = T.matrix("a"), T.matrix("b")
    av, bv = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(_run(O.squared_error(a, b), [a, b], av, bv), (av - bv) ** 2)


def test_binary_hinge_loss(rng):
    p, t = T.vector("p"), T.vector("t")
    logits = rng.standard_normal(6) * 2
    tv = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    signs = 2 * tv - 1
    got = _run(O.binary_hinge_loss(p, t, log_odds=True), [p, t], logits, tv)
    np.testing.assert_allclose(got, np.maximum(0, 1 - logits * signs))
    got = _run(O.binary_hinge_loss(p, t, delta=0.5, log_odds=True, binary=False),
               [p, t], logits, signs)
    np.testing.assert_allclose(got, np.maximum(0, 0.5 - logits * signs))
    probs = 1 / (1 + np.exp(-logits))
    got = _run(O.binary_hinge_loss(p, t, log_odds=False), [p, t], probs, tv)
    np.testing.assert_allclose(got, np.maximum(0, 1 - logits * signs), rtol=1e-10)
    with pytest.warns(FutureWarning, match="log_odds"):
        O.binary_hinge_loss(p, t)


def _multiclass_hinge_reference(pv, labels, delta):
    rows = np.arange(len(labels))
    correct = pv[rows, labels]
    others = pv.copy()
    others[rows, labels] = -np.inf
    return np.maximum(0, others.max(axis=1) - correct + delta)


def test_multiclass_hinge_loss(rng):
    p = T.matrix("p")
    pv = rng.standard_normal((6, 4))
    labels = np.array([0, 3, 1, 1, 2, 0], dtype="int32")
    y = T.ivector("y")
    got = _run(O.multiclass_hinge_loss(p, y, delta=0.5), [p, y], pv, labels)
    np.testing.assert_allclose(got, _multiclass_hinge_reference(pv, labels, 0.5))
    onehot = T.matrix("onehot")
    got = _run(O.multiclass_hinge_loss(p, onehot), [p, onehot], pv, np.eye(4)[labels])
    np.testing.assert_allclose(got, _multiclass_hinge_reference(pv, labels, 1.0))
    with pytest.raises(TypeError, match="rank mismatch"):
        O.multiclass_hinge_loss(p, T.tensor3())


def test_binary_accuracy(rng):
    p, t = T.vector("p"), T.vector("t")
    pv, tv = np.array([0.2, 0.5, 0.7, 0.9, 0.1]), np.array([0.0, 0.0, 1.0, 0.0, 1.0])
    got = _run(O.binary_accuracy(p, t), [p, t], pv, tv)
    np.testing.assert_array_equal(got, [1, 0, 1, 0, 0])
    got = _run(O.binary_accuracy(p, t, threshold=0.8), [p, t], pv, tv)
    np.testing.assert_array_equal(got, [1, 1, 0, 0, 0])


def test_categorical_accuracy_top_k(rng):
    p = T.matrix("p")
    pv = rng.standard_normal((8, 5))
    labels = rng.integers(0, 5, size=8).astype("int32")
    y = T.ivector("y")
    got = _run(O.categorical_accuracy(p, y), [p, y], pv, labels)
    np.testing.assert_array_equal(got, pv.argmax(axis=1) == labels)
    ranks = (pv > pv[np.arange(8), labels][:, None]).sum(axis=1)   # 0 for the best class
    got = _run(O.categorical_accuracy(p, y, top_k=3), [p, y], pv, labels)
    np.testing.assert_array_equal(got, ranks < 3)
    onehot = T.matrix("onehot")
    got = _run(O.categorical_accuracy(p, onehot, top_k=2), [p, onehot], pv, np.eye(5)[labels])
    np.testing.assert_array_equal(got, ranks < 2)


def test_aggregate(rng):
    loss, w = T.matrix("loss"), T.matrix("w")
    lv, wv = rng.uniform(size=(3, 4)), rng.uniform(size=(3, 4))
    assert np.isclose(_run(O.aggregate(loss), [loss], lv), lv.mean())
    assert np.isclose(_run(O.aggregate(loss, mode="sum"), [loss], lv), lv.sum())
    assert np.isclose(_run(O.aggregate(loss, w), [loss, w], lv, wv), (lv * wv).mean())
    assert np.isclose(_run(O.aggregate(loss, w, mode="normalized_sum"), [loss, w], lv, wv),
                      (lv * wv).sum() / wv.sum())
    with pytest.raises(ValueError, match="require weights"):
        O.aggregate(loss, mode="normalized_sum")
    with pytest.raises(ValueError, match="mode must be"):
        O.aggregate(loss, mode="max")


def _network():
    l_in = L.InputLayer((None, 3))
    l1 = L.DenseLayer(l_in, 4)
    l2 = L.DenseLayer(l1, 2)
    return l1, l2


def test_penalties(rng):
    x = T.matrix("x")
    xv = rng.standard_normal((3, 2))
    assert np.isclose(_run(R.l1(x), [x], xv), np.abs(xv).sum())
    assert np.isclose(_run(R.l2(x), [x], xv), (xv ** 2).sum())
    y = T.vector("y")
    yv = rng.standard_normal(4)
    got = _run(R.apply_penalty([x, y], R.l2), [x, y], xv, yv)
    assert np.isclose(got, (xv ** 2).sum() + (yv ** 2).sum())


def test_regularize_layer_and_network_params():
    l1, l2 = _network()
    w1, w2 = l1.W.get_value(), l2.W.get_value()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = R.regularize_network_params(l2, R.l2).eval()
    assert np.isclose(net, (w1 ** 2).sum() + (w2 ** 2).sum())      # biases excluded
    assert np.isclose(R.regularize_layer_params(l2, R.l1).eval(), np.abs(w2).sum())
    assert np.isclose(R.regularize_layer_params([l1, l2], R.l1).eval(),
                      np.abs(w1).sum() + np.abs(w2).sum())
    weighted = R.regularize_layer_params_weighted({l1: 0.1, l2: 0.5}, R.l2).eval()
    assert np.isclose(weighted, 0.1 * (w1 ** 2).sum() + 0.5 * (w2 ** 2).sum())
    everything = R.regularize_network_params(l2, R.l2, tags={}).eval()
    biases = (l1.b.get_value() ** 2).sum() + (l2.b.get_value() ** 2).sum()
    assert np.isclose(everything, net + biases)
