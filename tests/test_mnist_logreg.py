"""Acceptance test: multinomial logistic regression on MNIST, the program users start with.

The real-data tests read ``../shared/data/mnist.npz`` relative to the repository root and are
skipped when it is absent. Every number is checked against the same computation in NumPy.
"""

import importlib
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.datasets import MNIST_ENV, DatasetError, load_mnist

ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"
needs_mnist = pytest.mark.skipif(not MNIST.is_file(),
                                 reason=f"MNIST not found at {MNIST} (see exprc.datasets)")

BATCH = 100
# The NumPy oracle computes in float64; with floatX=float32 exprc's rounding dominates.
RTOL = 1e-9 if exprc.config.floatX == "float64" else 1e-3


@pytest.fixture(scope="module")
def train_set():
    (x_train, y_train), _, _ = load_mnist(MNIST)
    # 50 minibatches are all the tests use; a copy lets the full arrays be freed.
    return x_train[:50 * BATCH].copy(), y_train[:50 * BATCH].copy()


def batches(x, y, n):
    for i in range(n):
        yield x[i * BATCH:(i + 1) * BATCH], y[i * BATCH:(i + 1) * BATCH]


def issue_program(update):
    """The user program of the issue; ``update(W, cost)`` gives W's new value."""
    x = T.matrix("x")
    y = T.ivector("y")
    W = exprc.shared(np.zeros((784, 10), exprc.config.floatX), name="W")
    p = T.exp(T.dot(x, W))
    p = p / p.sum(axis=1, keepdims=True)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    f = exprc.function([x, y], cost, updates=[(W, update(W, cost))])
    return f, W


def numpy_softmax_nll(x, y, W):
    """Mean negative log-likelihood of softmax(x W), and its gradient w.r.t. W, in NumPy."""
    e = np.exp(x @ W)
    p = e / e.sum(axis=1, keepdims=True)
    cost = -np.mean(np.log(p[np.arange(len(y)), y]))
    dscores = p.copy()
    dscores[np.arange(len(y)), y] -= 1
    return cost, x.T @ dscores / len(y)


# ---------------------------------------------------------------------- real data
@pytest.mark.slow
@needs_mnist
def test_loss_at_zero_weights_is_log_10(train_set):
    # With W = 0 every class has probability 1/10, whatever the image.
    f, _ = issue_program(lambda W, cost: W * 0.99)
    for xb, yb in batches(*train_set, 3):
        loss = f(xb, yb)
        assert loss.shape == () and loss.dtype == exprc.config.floatX
        assert abs(float(loss) - math.log(10)) <= 4 * np.finfo(loss.dtype).eps * math.log(10)


@pytest.mark.slow
@needs_mnist
def test_issue_program_matches_numpy(train_set):
    f, W = issue_program(lambda W, cost: W * 0.99)
    W.set_value(np.random.default_rng(0).normal(0, 0.01, (784, 10)).astype(W.dtype))
    for xb, yb in batches(*train_set, 5):
        W_before = W.get_value()
        expected, _ = numpy_softmax_nll(xb, yb, W_before)
        np.testing.assert_allclose(f(xb, yb), expected, rtol=RTOL)
        np.testing.assert_allclose(W.get_value(), W_before * 0.99, rtol=RTOL)


@pytest.mark.slow
@needs_mnist
def test_sgd_training_reduces_the_loss(train_set):
    lr = 0.5
    f, W = issue_program(lambda W, cost: W - lr * exprc.grad(cost, W))
    losses = [float(f(xb, yb)) for xb, yb in batches(*train_set, 50)]

    W_np, expected = np.zeros((784, 10)), []
    for xb, yb in batches(*train_set, 50):
        cost, grad = numpy_softmax_nll(xb, yb, W_np)
        expected.append(cost)
        W_np -= lr * grad
    np.testing.assert_allclose(losses, expected, rtol=RTOL)
    np.testing.assert_allclose(W.get_value(), W_np, rtol=RTOL, atol=RTOL * 1e-3)

    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    assert losses[-1] < 0.5 * math.log(10)


# ---------------------------------------------------------------------- the loader
def write_fake_mnist(path, n_train=300, n_valid=100, n_test=100, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (("train", n_train), ("valid", n_valid), ("test", n_test)):
        arrays[f"x_{split}"] = rng.integers(0, 256, (n, 784)).astype("uint8")
        arrays[f"y_{split}"] = rng.integers(0, 10, n).astype("uint8")
    np.savez_compressed(path, **arrays)
    return arrays


def test_load_mnist_converts_values_and_dtypes(tmp_path):
    raw = write_fake_mnist(tmp_path / "m.npz")
    (x, y), (xv, yv), (xt, yt) = load_mnist(tmp_path / "m.npz")
    assert x.dtype == exprc.config.floatX and y.dtype == np.int32
    assert x.shape == (300, 784) and xv.shape == xt.shape == (100, 784)
    assert y.shape == (300,) and yt.shape == (100,)
    np.testing.assert_array_equal(x * 256, raw["x_train"])
    np.testing.assert_array_equal(yv, raw["y_valid"])
    (x32, _), _, _ = load_mnist(str(tmp_path / "m.npz"), dtype="float32")
    assert x32.dtype == np.float32
    with pytest.raises(ValueError, match="float dtype"):
        load_mnist(tmp_path / "m.npz", dtype="int32")


def test_load_mnist_reads_the_environment_variable(tmp_path, monkeypatch):
    write_fake_mnist(tmp_path / "env.npz")
    monkeypatch.setenv(MNIST_ENV, str(tmp_path / "env.npz"))
    (x, _), _, _ = load_mnist()
    assert x.shape == (300, 784)


def test_load_mnist_missing_file_says_where_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv(MNIST_ENV, raising=False)
    with pytest.raises(DatasetError, match=f"(?s)pass a path or set {MNIST_ENV}.*mnist.pkl.gz"):
        load_mnist()
    with pytest.raises(DatasetError, match="(?s)nowhere.npz' does not exist.*mnist.pkl.gz"):
        load_mnist(tmp_path / "nowhere.npz")
    np.savez(tmp_path / "partial.npz", x_train=np.zeros((1, 784), "uint8"))
    with pytest.raises(DatasetError, match="lacks the arrays .*'y_train'"):
        load_mnist(tmp_path / "partial.npz")


# ---------------------------------------------------------------------- the demo
def load_example():
    # The examples import their shared module by bare name, as when run as scripts.
    if str(ROOT / "examples") not in sys.path:
        sys.path.insert(0, str(ROOT / "examples"))
    return importlib.import_module("logistic_regression")


def test_demo_runs_end_to_end(tmp_path, capsys):
    write_fake_mnist(tmp_path / "m.npz")
    load_example().main(["--data", str(tmp_path / "m.npz"), "--epochs", "2",
                         "--batch-size", "50", "--lr", "0.1"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch 1", "epoch 2"]
    assert all("loss" in line and "validation error" in line for line in lines)


def test_demo_without_data_explains_where_to_get_it(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(MNIST_ENV, raising=False)
    with pytest.raises(SystemExit) as exit_info:
        load_example().main([])
    assert exit_info.value.code == 2
    assert "mnist.pkl.gz" in capsys.readouterr().err
