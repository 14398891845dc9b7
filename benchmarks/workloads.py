"""The benchmark workloads (W1-W7 of the design notes) in exprc and in plain NumPy.

Each ``*_exprc`` builder compiles one workload with exprc and returns a zero-argument callable
that runs it once; the NumPy versions compute the same values and serve as the reference that
every system's first result is checked against. Sizes are parameters, so the smoke test runs
the same code at tiny sizes. The peers (PyTensor, PyTorch, JAX) live in ``peers.py``.

This module imports only NumPy and exprc, so that ``compile_time.py`` can build the W3 graph
in a fresh process without importing any peer.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

import exprc
import exprc.tensor as T

W1_EXPRESSION = "a*x + b*y + c"
W2_EXPRESSION = "exp(-x*x)*sin(y) + log1p(abs(x))*tanh(y)"
LEARNING_RATE = np.float32(0.01)
SCALARS = (np.float32(1.5), np.float32(-0.5), np.float32(0.25))  # a, b, c of W1


def c_mode() -> exprc.Mode:
    """The mode every exprc workload compiles with: the whole graph as one C function."""
    return exprc.Mode(linker="c")


# --------------------------------------------------------------------------- W1, W2


@dataclass
class ElementwiseData:
    """Inputs of W1 and W2: two float32 vectors and three float32 0-d scalars."""

    x: np.ndarray
    y: np.ndarray
    a: np.float32 = SCALARS[0]
    b: np.float32 = SCALARS[1]
    c: np.float32 = SCALARS[2]

    @classmethod
    def random(cls, n: int, seed: int = 0) -> ElementwiseData:
        """Standard-normal vectors of ``n`` float32 elements."""
        rng = np.random.default_rng(seed)
        return cls(rng.standard_normal(n, dtype=np.float32),
                   rng.standard_normal(n, dtype=np.float32))


def w1_numpy(d: ElementwiseData) -> np.ndarray:
    """W1 in NumPy: ``a*x + b*y + c``, one temporary per operation."""
    return d.a * d.x + d.b * d.y + d.c


def w1_exprc(d: ElementwiseData, mode: exprc.Mode | None = None):
    """W1 compiled by exprc; returns a callable running it on ``d``."""
    a, b, c = (T.scalar(name, dtype="float32") for name in "abc")
    x, y = T.vector("x", dtype="float32"), T.vector("y", dtype="float32")
    f = exprc.function([a, x, b, y, c], a * x + b * y + c, mode=mode or c_mode())
    return lambda: f(d.a, d.x, d.b, d.y, d.c)


def w2_numpy(d: ElementwiseData) -> np.ndarray:
    """W2 in NumPy."""
    x, y = d.x, d.y
    return np.exp(-x * x) * np.sin(y) + np.log1p(np.abs(x)) * np.tanh(y)


def w2_exprc(d: ElementwiseData, mode: exprc.Mode | None = None):
    """W2 compiled by exprc; returns a callable running it on ``d``."""
    x, y = T.vector("x", dtype="float32"), T.vector("y", dtype="float32")
    out = T.exp(-x * x) * T.sin(y) + T.log1p(abs(x)) * T.tanh(y)
    f = exprc.function([x, y], out, mode=mode or c_mode())
    return lambda: f(d.x, d.y)


# --------------------------------------------------------------------------- W3, W6, W7


def mlp_sizes(depth: int = 2, width: int = 256, n_in: int = 784, n_out: int = 10) -> list[int]:
    """Layer widths of an MLP with ``depth`` hidden layers: W3 is ``mlp_sizes(2)``."""
    return [n_in] + [width] * depth + [n_out]


@dataclass
class MLPData:
    """Initial float32 parameters ``[(W, b), ...]`` and one random batch ``(X, labels)``."""

    params: list[tuple[np.ndarray, np.ndarray]]
    X: np.ndarray
    labels: np.ndarray

    @classmethod
    def random(cls, sizes: list[int], batch: int = 128, seed: int = 0) -> MLPData:
        """Glorot-uniform weights, zero biases, standard-normal inputs, uniform labels."""
        rng = np.random.default_rng(seed)
        params = []
        for n_a, n_b in itertools.pairwise(sizes):
            bound = np.sqrt(6.0 / (n_a + n_b))
            params.append((rng.uniform(-bound, bound, (n_a, n_b)).astype(np.float32),
                           np.zeros(n_b, np.float32)))
        X = rng.standard_normal((batch, sizes[0]), dtype=np.float32)
        labels = rng.integers(0, sizes[-1], batch).astype(np.int32)
        return cls(params, X, labels)

    def copy_params(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Fresh copies, so that every system starts its training from the same weights."""
        return [(W.copy(), b.copy()) for W, b in self.params]


def mlp_train_graph(data: MLPData):
    """The symbolic SGD training step: inputs ``[x, labels]``, the cost, and the updates.

    ReLU hidden layers, softmax, mean negative log-likelihood of the labels (through
    ``T.nnet.categorical_crossentropy``), and SGD updates of shared float32 parameters that
    start from ``data.params``.
    """
    x, labels = T.matrix("x", dtype="float32"), T.ivector("labels")
    params = []
    for i, (W, b) in enumerate(data.copy_params()):
        params += [exprc.shared(W, name=f"W{i}", borrow=True),
                   exprc.shared(b, name=f"b{i}", borrow=True)]
    h = x
    for i in range(0, len(params), 2):
        h = T.dot(h, params[i]) + params[i + 1]
        if i + 2 < len(params):
            h = T.maximum(h, 0)
    cost = T.nnet.categorical_crossentropy(T.nnet.softmax(h), labels).mean()
    grads = exprc.grad(cost, params)
    return [x, labels], cost, [(p, p - LEARNING_RATE * g) for p, g in zip(params, grads)]


def mlp_train_exprc(data: MLPData, mode: exprc.Mode | None = None):
    """The SGD training step compiled by exprc; returns a callable giving the step's cost."""
    inputs, cost, updates = mlp_train_graph(data)
    f = exprc.function(inputs, cost, updates=updates, mode=mode or c_mode())
    return lambda: f(data.X, data.labels)


def mlp_train_numpy(data: MLPData):
    """The same SGD step written by hand in NumPy (forward, backward, in-place update)."""
    params = data.copy_params()
    rows = np.arange(len(data.labels))

    def step() -> np.float32:
        hs, h = [], data.X
        for i, (W, b) in enumerate(params):
            hs.append(h)
            h = h @ W + b
            if i + 1 < len(params):
                h = np.maximum(h, 0)
        e = np.exp(h - h.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        cost = -np.log(p[rows, data.labels]).mean()
        delta = p
        delta[rows, data.labels] -= 1
        delta /= len(rows)
        for i in reversed(range(len(params))):
            W, b = params[i]
            gW, gb = hs[i].T @ delta, delta.sum(axis=0)
            if i > 0:
                delta = (delta @ W.T) * (hs[i] > 0)
            W -= LEARNING_RATE * gW
            b -= LEARNING_RATE * gb
        return cost

    return step


@dataclass(frozen=True)
class Gemm:
    """One matrix product (m, k) @ (k, n) of a training step; a transposed operand is stored
    the other way round and passed as a transposed view, as the step itself does."""

    m: int
    k: int
    n: int
    trans_a: bool = False
    trans_b: bool = False

    @property
    def flops(self) -> int:
        """Floating-point operations: 2*m*k*n."""
        return 2 * self.m * self.k * self.n


def step_gemms(sizes: list[int], batch: int) -> list[Gemm]:
    """Every matrix product of one training step.

    Per layer (a inputs, b outputs): the forward product ``h @ W`` (batch, a) @ (a, b), the
    weight gradient ``h.T @ delta`` (a, batch) @ (batch, b), and, except for the first layer,
    the input gradient ``delta @ W.T`` (batch, b) @ (b, a).
    """
    products = []
    for i, (n_a, n_b) in enumerate(itertools.pairwise(sizes)):
        products += [Gemm(batch, n_a, n_b), Gemm(n_a, batch, n_b, trans_a=True)]
        if i > 0:
            products.append(Gemm(batch, n_b, n_a, trans_b=True))
    return products


# --------------------------------------------------------------------------- W5


def w5_numpy(x: np.ndarray) -> np.ndarray:
    """W5 in NumPy: ``x + 1``."""
    return x + 1


def w5_exprc(x: np.ndarray, mode: exprc.Mode | None = None, trust_input: bool = False):
    """``f(x) = x + 1`` on a float64 vector, compiled by exprc; returns a callable on ``x``."""
    v = T.vector("x", dtype="float64")
    f = exprc.function([v], v + 1, mode=mode or c_mode(), trust_input=trust_input)
    return lambda: f(x)
