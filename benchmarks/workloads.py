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


# --------------------------------------------------------------------------- W4


@dataclass(frozen=True)
class LeNetShape:
    """Sizes of the LeNet step: ``batch`` images of ``channels`` x ``image`` x ``image``, two
    valid ``kernel`` x ``kernel`` convolutions of ``filters`` each followed by ReLU and 2x2
    max-pooling, a dense ReLU layer of ``hidden`` units and a dense softmax of ``classes``.

    ``LeNetShape()`` is W4 (MNIST-sized); the smoke test uses small ones.
    """

    batch: int = 128
    channels: int = 1
    image: int = 28
    filters: tuple[int, int] = (20, 50)
    kernel: int = 5
    hidden: int = 500
    classes: int = 10

    def conv_layers(self) -> list[tuple[int, int, int]]:
        """``(in channels, out channels, input side)`` of each convolution."""
        layers, c, side = [], self.channels, self.image
        for o in self.filters:
            layers.append((c, o, side))
            c, side = o, (side - self.kernel + 1) // 2
        return layers

    @property
    def flat(self) -> int:
        """Inputs of the first dense layer: the last pooled maps, flattened."""
        _, o, side = self.conv_layers()[-1]
        return o * ((side - self.kernel + 1) // 2) ** 2


@dataclass
class LeNetData:
    """Initial float32 parameters ``[W1, b1, W2, b2, W3, b3, W4, b4]`` (filters (o, c, k, k),
    dense weights (in, out)) and one random batch ``(X (n, c, h, w), labels)``."""

    shape: LeNetShape
    params: list[np.ndarray]
    X: np.ndarray
    labels: np.ndarray

    @classmethod
    def random(cls, shape: LeNetShape = LeNetShape(), seed: int = 0) -> LeNetData:
        """Glorot-uniform weights, zero biases, standard-normal images, uniform labels."""
        rng = np.random.default_rng(seed)
        k, params = shape.kernel, []

        def glorot(fan_in, fan_out, size):
            bound = np.sqrt(6.0 / (fan_in + fan_out))
            return rng.uniform(-bound, bound, size).astype(np.float32)

        for c, o, _ in shape.conv_layers():
            params += [glorot(c * k * k, o * k * k, (o, c, k, k)), np.zeros(o, np.float32)]
        for n_a, n_b in ((shape.flat, shape.hidden), (shape.hidden, shape.classes)):
            params += [glorot(n_a, n_b, (n_a, n_b)), np.zeros(n_b, np.float32)]
        X = rng.standard_normal((shape.batch, shape.channels, shape.image, shape.image),
                                dtype=np.float32)
        labels = rng.integers(0, shape.classes, shape.batch).astype(np.int32)
        return cls(shape, params, X, labels)

    def copy_params(self) -> list[np.ndarray]:
        """Fresh copies, so that every system starts its training from the same weights."""
        return [p.copy() for p in self.params]


def lenet_train_graph(data: LeNetData):
    """The symbolic LeNet SGD step: inputs ``[x, labels]``, the cost, and the updates.

    The layers are written with the ops themselves (``T.nnet.conv2d``, which flips its filters
    as Theano's does, and ``T.signal.pool.pool_2d``), not with ``exprc.nn``, so that the
    benchmark measures what the compiler makes of them.
    """
    from exprc.tensor.signal.pool import pool_2d

    x, labels = T.tensor4("x", dtype="float32"), T.ivector("labels")
    params = [exprc.shared(p, name=f"p{i}", borrow=True)
              for i, p in enumerate(data.copy_params())]
    h = x
    for i in (0, 2):
        h = T.nnet.conv2d(h, params[i], filter_shape=data.params[i].shape)
        h = T.maximum(h + params[i + 1].dimshuffle("x", 0, "x", "x"), 0)
        h = pool_2d(h, ws=(2, 2), ignore_border=True)
    h = T.maximum(T.dot(h.flatten(2), params[4]) + params[5], 0)
    h = T.dot(h, params[6]) + params[7]
    cost = T.nnet.categorical_crossentropy(T.nnet.softmax(h), labels).mean()
    grads = exprc.grad(cost, params)
    return [x, labels], cost, [(p, p - LEARNING_RATE * g) for p, g in zip(params, grads)]


def lenet_train_exprc(data: LeNetData, mode: exprc.Mode | None = None, **kwargs):
    """The LeNet step compiled by exprc; returns a callable giving the step's cost (and the
    compiled function as its ``function`` attribute, for profiling)."""
    inputs, cost, updates = lenet_train_graph(data)
    f = exprc.function(inputs, cost, updates=updates, mode=mode or c_mode(), **kwargs)

    def step():
        return f(data.X, data.labels)

    step.function = f
    return step


def _windows(x: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """The (n, c, oh, ow, kh, kw) view of every kh x kw window of x."""
    return np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))


def conv2d_numpy(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Valid convolution of x (n, c, h, w) with the flipped filters w (o, c, kh, kw)."""
    out = np.tensordot(_windows(x, *w.shape[2:]), w[:, :, ::-1, ::-1],
                       axes=([1, 4, 5], [1, 2, 3]))
    return out.transpose(0, 3, 1, 2)


def conv2d_grads_numpy(x: np.ndarray, w: np.ndarray, gy: np.ndarray, need_input: bool):
    """Gradients of ``conv2d_numpy`` w.r.t. the filters and (when asked) the input."""
    kh, kw = w.shape[2:]
    gw = np.tensordot(gy, _windows(x, kh, kw), axes=([0, 2, 3], [0, 2, 3]))[:, :, ::-1, ::-1]
    if not need_input:
        return gw, None
    gx, (oh, ow), wf = np.zeros_like(x), gy.shape[2:], w[:, :, ::-1, ::-1]
    for a, b in itertools.product(range(kh), range(kw)):
        gx[:, :, a:a + oh, b:b + ow] += np.tensordot(gy, wf[:, :, a, b],
                                                     axes=([1], [0])).transpose(0, 3, 1, 2)
    return gw, gx


def max_pool_numpy(h: np.ndarray):
    """2x2 max-pooling of h (its sides even) and the one-hot mask of each window's first
    maximum (row-major), shaped (n, c, h/2, w/2, 4), for the gradient."""
    n, c, rows, cols = h.shape
    windows = h.reshape(n, c, rows // 2, 2, cols // 2, 2).transpose(0, 1, 2, 4, 3, 5)
    windows = windows.reshape(n, c, rows // 2, cols // 2, 4)
    mask = np.eye(4, dtype=h.dtype)[windows.argmax(axis=-1)]
    return windows.max(axis=-1), mask


def max_pool_grad_numpy(mask: np.ndarray, gz: np.ndarray) -> np.ndarray:
    """The gradient of ``max_pool_numpy`` given its mask and the pooled gradient."""
    n, c, r2, c2, _ = mask.shape
    g = (mask * gz[..., None]).reshape(n, c, r2, c2, 2, 2).transpose(0, 1, 2, 4, 3, 5)
    return g.reshape(n, c, 2 * r2, 2 * c2)


def lenet_cost_and_grads_numpy(params: list[np.ndarray], X: np.ndarray, labels: np.ndarray):
    """The LeNet cost and its gradient w.r.t. each parameter, by hand in NumPy (windows as
    strided views and ``np.tensordot``)."""
    W1, b1, W2, b2, W3, b3, W4, b4 = params
    rows = np.arange(len(labels))
    saved, h = [], X
    for W, b in ((W1, b1), (W2, b2)):
        pre = conv2d_numpy(h, W) + b[:, None, None]
        pooled, mask = max_pool_numpy(np.maximum(pre, 0))
        saved.append((h, pre, mask))
        h = pooled
    flat = h.reshape(len(h), -1)
    pre3 = flat @ W3 + b3
    h3 = np.maximum(pre3, 0)
    logits = h3 @ W4 + b4
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    cost = -np.log(p[rows, labels]).mean()
    delta = p
    delta[rows, labels] -= 1
    delta /= len(rows)
    grads = [None] * 8
    grads[6], grads[7] = h3.T @ delta, delta.sum(axis=0)
    delta = (delta @ W4.T) * (pre3 > 0)
    grads[4], grads[5] = flat.T @ delta, delta.sum(axis=0)
    g = (delta @ W3.T).reshape(h.shape)
    for layer in (1, 0):
        x_in, pre, mask = saved[layer]
        g = max_pool_grad_numpy(mask, g) * (pre > 0)
        gw, gx = conv2d_grads_numpy(x_in, params[2 * layer], g, need_input=layer > 0)
        grads[2 * layer], grads[2 * layer + 1] = gw, g.sum(axis=(0, 2, 3))
        g = gx
    return cost, grads


def lenet_train_numpy(data: LeNetData):
    """The same LeNet SGD step written by hand in NumPy (forward, backward, in-place update)."""
    params = data.copy_params()

    def step() -> np.float32:
        cost, grads = lenet_cost_and_grads_numpy(params, data.X, data.labels)
        for param, grad in zip(params, grads):
            param -= LEARNING_RATE * grad.astype(param.dtype)
        return cost

    return step


def lenet_gemms(shape: LeNetShape = LeNetShape()) -> list[Gemm]:
    """Every matrix product of one LeNet step, with the convolutions unfolded (im2col).

    A convolution of c -> o channels with k x k filters and p output positions per image
    unfolds the batch into a (c*k*k, batch*p) matrix: its forward product is
    (o, c*k*k) @ (c*k*k, batch*p), its filter gradient (o, batch*p) @ (batch*p, c*k*k) (the
    unfolded matrix transposed) and, except for the first layer, its input gradient
    (c*k*k, o) @ (o, batch*p) (the filters transposed). The dense layers are as in
    :func:`step_gemms`, each with its input gradient (the first one feeds the convolutions).
    """
    products, n, k2 = [], shape.batch, shape.kernel ** 2
    for i, (c, o, side) in enumerate(shape.conv_layers()):
        cols = n * (side - shape.kernel + 1) ** 2
        products += [Gemm(o, c * k2, cols), Gemm(o, cols, c * k2, trans_b=True)]
        if i > 0:
            products.append(Gemm(c * k2, o, cols, trans_a=True))
    sizes = [shape.flat, shape.hidden, shape.classes]
    for n_a, n_b in itertools.pairwise(sizes):
        products += [Gemm(n, n_a, n_b), Gemm(n_a, n, n_b, trans_a=True),
                     Gemm(n, n_b, n_a, trans_b=True)]
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


# --------------------------------------------------------------------------- W8, W9


@dataclass(frozen=True)
class LSTMShape:
    """Sizes of the LSTM step: ``batch`` sequences of ``steps`` vectors of ``n_in``, one LSTM
    layer of ``hidden`` units. ``LSTMShape()`` is W8; the smoke test uses small ones."""

    steps: int = 100
    batch: int = 32
    n_in: int = 64
    hidden: int = 128


@dataclass
class LSTMData:
    """Initial float32 parameters ``[W_x (n_in, 4h), W_h (h, 4h), b (4h)]``, the gates' columns
    in the order i, f, c (the candidate cell, PyTorch's g), o, and one random batch ``X``
    (steps, batch, n_in), time first."""

    shape: LSTMShape
    params: list[np.ndarray]
    X: np.ndarray

    @classmethod
    def random(cls, shape: LSTMShape = LSTMShape(), seed: int = 0) -> LSTMData:
        """Every parameter uniform in +-1/sqrt(hidden) (PyTorch's initialisation of its LSTM),
        standard-normal inputs."""
        rng = np.random.default_rng(seed)
        bound, h4 = 1.0 / np.sqrt(shape.hidden), 4 * shape.hidden
        params = [rng.uniform(-bound, bound, size).astype(np.float32)
                  for size in ((shape.n_in, h4), (shape.hidden, h4), (h4,))]
        X = rng.standard_normal((shape.steps, shape.batch, shape.n_in), dtype=np.float32)
        return cls(shape, params, X)

    def copy_params(self) -> list[np.ndarray]:
        """Fresh copies, so that every system starts its training from the same weights."""
        return [p.copy() for p in self.params]


LSTM_LOSS = "mean over the batch of |h_T|^2 + mean over steps and batch of sum(h_t)"
"""W8's loss, in words: the squared norm of the last hidden state, plus the hidden state's
units summed at every step, both averaged over the sequences (the second also over the steps).
It touches every step's output, so the backward pass runs through every step, and it is bounded
(|h| < 1), so repeated SGD steps on the same batch cannot diverge."""


def lstm_train_graph(data: LSTMData):
    """The symbolic LSTM SGD step, with ``exprc.scan`` over time: inputs ``[X]``, the cost and
    the updates of shared float32 ``[W_x, W_h, b]`` that start from ``data.params``."""
    h = data.shape.hidden
    X = T.tensor3("X", dtype="float32")
    params = [exprc.shared(p, name=name, borrow=True)
              for name, p in zip(("W_x", "W_h", "b"), data.copy_params())]

    def step(x_t, h_prev, c_prev, W_x, W_h, b):
        z = T.dot(x_t, W_x) + T.dot(h_prev, W_h) + b
        i, f = T.sigmoid(z[:, :h]), T.sigmoid(z[:, h:2 * h])
        g, o = T.tanh(z[:, 2 * h:3 * h]), T.sigmoid(z[:, 3 * h:])
        c = f * c_prev + i * g
        return o * T.tanh(c), c

    start = T.zeros((X.shape[1], h), dtype="float32")
    (hs, _), _ = exprc.scan(step, sequences=X, outputs_info=[start, start],
                            non_sequences=params)
    cost = (hs[-1] ** 2).sum(axis=1).mean() + hs.sum(axis=2).mean()
    grads = exprc.grad(cost, params)
    return [X], cost, [(p, p - LEARNING_RATE * g) for p, g in zip(params, grads)]


def lstm_train_exprc(data: LSTMData, mode: exprc.Mode | None = None):
    """The LSTM step compiled by exprc; returns a callable giving the step's cost, whose
    ``params()`` gives the shared parameters' current values. Raises ``NotImplementedError``
    while exprc has no ``scan``."""
    if not hasattr(exprc, "scan"):
        raise NotImplementedError("exprc has no scan yet")
    inputs, cost, updates = lstm_train_graph(data)
    f = exprc.function(inputs, cost, updates=updates, mode=mode or c_mode())

    def step():
        return f(data.X)

    step.params = lambda: [p.get_value() for p, _ in updates]
    return step


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * z) + 1)


def lstm_cost_and_grads_numpy(params: list[np.ndarray], X: np.ndarray):
    """The LSTM cost and its gradient w.r.t. ``[W_x, W_h, b]``, by hand in NumPy: a forward
    loop over the steps that keeps the gates, and backpropagation through time.

    The input projections of all steps are one product before the loop, and the input weights'
    gradient one product after it; the recurrent products are one per step each way.
    """
    W_x, W_h, b = params
    steps, batch, n_in = X.shape
    h = W_h.shape[0]
    Z_x = (X.reshape(-1, n_in) @ W_x + b).reshape(steps, batch, 4 * h)
    hs = np.zeros((steps + 1, batch, h), X.dtype)  # hs[t + 1] is h_t; hs[0] the zero start
    cs = np.zeros_like(hs)
    gates = np.empty((steps, batch, 4 * h), X.dtype)  # i, f, c~, o after their nonlinearity
    for t in range(steps):
        z = Z_x[t] + hs[t] @ W_h
        a = gates[t]
        a[:, :2 * h] = _sigmoid(z[:, :2 * h])
        a[:, 2 * h:3 * h] = np.tanh(z[:, 2 * h:3 * h])
        a[:, 3 * h:] = _sigmoid(z[:, 3 * h:])
        cs[t + 1] = a[:, h:2 * h] * cs[t] + a[:, :h] * a[:, 2 * h:3 * h]
        hs[t + 1] = a[:, 3 * h:] * np.tanh(cs[t + 1])
    cost = (hs[-1] ** 2).sum(axis=1).mean() + hs[1:].sum(axis=2).mean()

    dZ = np.empty_like(gates)
    dh_next, dc_next = 2 * hs[-1] / batch, np.zeros_like(cs[0])
    g_W_h = np.zeros_like(W_h)
    for t in reversed(range(steps)):
        a = gates[t]
        i, f, g, o = a[:, :h], a[:, h:2 * h], a[:, 2 * h:3 * h], a[:, 3 * h:]
        tanh_c = np.tanh(cs[t + 1])
        dh = dh_next + X.dtype.type(1.0 / (steps * batch))
        dc = dc_next + dh * o * (1 - tanh_c ** 2)
        dz = dZ[t]
        dz[:, :h] = dc * g * i * (1 - i)
        dz[:, h:2 * h] = dc * cs[t] * f * (1 - f)
        dz[:, 2 * h:3 * h] = dc * i * (1 - g ** 2)
        dz[:, 3 * h:] = dh * tanh_c * o * (1 - o)
        g_W_h += hs[t].T @ dz
        dh_next, dc_next = dz @ W_h.T, dc * f
    dZ_flat = dZ.reshape(-1, 4 * h)
    return cost, [X.reshape(-1, n_in).T @ dZ_flat, g_W_h, dZ_flat.sum(axis=0)]


def lstm_train_numpy(data: LSTMData):
    """The same LSTM SGD step written by hand in NumPy (forward, BPTT, in-place update);
    returns a callable giving the step's cost, whose ``params()`` gives the parameters."""
    params = data.copy_params()

    def step() -> np.float32:
        cost, grads = lstm_cost_and_grads_numpy(params, data.X)
        for param, grad in zip(params, grads):
            param -= LEARNING_RATE * grad
        return cost

    step.params = lambda: params
    return step


def lstm_reference(data: LSTMData) -> np.ndarray:
    """What every system's first W8 step is checked against: ``lstm_check`` of the cost and
    gradients that the NumPy step computes, in float64 so that the reference carries no
    float32 rounding of its own."""
    cost, grads = lstm_cost_and_grads_numpy([p.astype(np.float64) for p in data.params],
                                            data.X.astype(np.float64))
    return np.concatenate([[cost]] + [g.ravel() for g in grads])


def lstm_check(cost, initial: list[np.ndarray], current: list[np.ndarray]) -> np.ndarray:
    """The cost of a system's first step and the gradients that its SGD update applied,
    recovered from the parameters before and after it (``(before - after) / learning rate``,
    in float64), as one vector to compare with :func:`lstm_reference`.

    The gradients rather than the updated parameters: an update is about a hundredth of the
    parameter, so comparing parameters would hide all but gross errors in the gradient.
    """
    grads = [(np.asarray(p0, np.float64) - np.asarray(p, np.float64)) / float(LEARNING_RATE)
             for p0, p in zip(initial, current)]
    return np.concatenate([[float(cost)]] + [g.ravel() for g in grads])


def lstm_gemms(shape: LSTMShape = LSTMShape()) -> list[Gemm]:
    """The matrix products of one LSTM step as the step-by-step systems run them: per time
    step, forward ``x_t @ W_x`` and ``h @ W_h``, backward ``x_t.T @ dz`` and ``h.T @ dz`` (the
    weight gradients) and ``dz @ W_h.T`` (the gradient sent to the previous step)."""
    b, n, h4, h = shape.batch, shape.n_in, 4 * shape.hidden, shape.hidden
    per_step = [Gemm(b, n, h4), Gemm(b, h, h4), Gemm(n, b, h4, trans_a=True),
                Gemm(h, b, h4, trans_a=True), Gemm(b, h4, h, trans_b=True)]
    return per_step * shape.steps


# --------------------------------------------------------------------------- W10


@dataclass(frozen=True)
class TutorialShape:
    """Sizes of W10, the deep-learning tutorial's MLP (Theano's ``mlp.py``): ``n_in`` inputs, one
    tanh layer of ``hidden`` units, a softmax of ``classes``; SGD with learning rate ``rate``
    on minibatches of ``batch``, the cost the mean negative log-likelihood plus ``l1`` times the
    weights' absolute sum and ``l2`` times their squared sum; float64. A timed call runs
    ``steps`` steps, on minibatches taken in turn from ``batches`` stored ones (the tutorial
    runs 2,500 per epoch over 50,000 images). ``TutorialShape()`` is W10."""

    n_in: int = 784
    hidden: int = 500
    classes: int = 10
    batch: int = 20
    batches: int = 100
    steps: int = 500
    l1: float = 0.00
    l2: float = 0.0001
    rate: float = 0.01


@dataclass
class TutorialData:
    """Initial float64 parameters ``[W_h (n_in, hidden), b_h, W_o (hidden, classes), b_o]`` as
    the tutorial makes them (tanh layer Glorot-uniform, everything else zero) and the stored
    training set: ``X`` (batches * batch, n_in) in [0, 1) like MNIST's pixels, int32 labels."""

    shape: TutorialShape
    params: list[np.ndarray]
    X: np.ndarray
    labels: np.ndarray

    @classmethod
    def random(cls, shape: TutorialShape = TutorialShape(), seed: int = 0) -> TutorialData:
        """The tutorial's initialisation, uniform inputs and uniform labels."""
        rng = np.random.default_rng(seed)
        bound = np.sqrt(6.0 / (shape.n_in + shape.hidden))
        params = [rng.uniform(-bound, bound, (shape.n_in, shape.hidden)),
                  np.zeros(shape.hidden), np.zeros((shape.hidden, shape.classes)),
                  np.zeros(shape.classes)]
        rows = shape.batches * shape.batch
        X = rng.uniform(0.0, 1.0, (rows, shape.n_in))
        labels = rng.integers(0, shape.classes, rows).astype(np.int32)
        return cls(shape, params, X, labels)

    def copy_params(self) -> list[np.ndarray]:
        """Fresh copies, so that every system starts its training from the same weights."""
        return [p.copy() for p in self.params]


def tutorial_run(step, shape: TutorialShape):
    """A call running ``shape.steps`` steps ``step(minibatch index)`` in turn over the stored
    minibatches (carrying on from where the last call stopped), giving their mean cost."""
    state = {"next": 0}

    def run() -> float:
        total, start = 0.0, state["next"]
        for i in range(start, start + shape.steps):
            total += float(step(i % shape.batches))
        state["next"] = (start + shape.steps) % shape.batches
        return total / shape.steps

    return run


def tutorial_train_exprc(data: TutorialData, mode: exprc.Mode | None = None):
    """W10 as the tutorial writes it: the training set in shared variables, the step a function
    of the minibatch index whose ``givens`` slice the set. Returns the callable of
    :func:`tutorial_run`."""
    s = data.shape
    index = T.lscalar("index")
    x, y = T.matrix("x", dtype="float64"), T.ivector("y")
    set_x = exprc.shared(data.X, name="train_set_x", borrow=True)
    set_y = exprc.shared(data.labels, name="train_set_y", borrow=True)
    params = [exprc.shared(p, name=name, borrow=True)
              for name, p in zip(("W_h", "b_h", "W_o", "b_o"), data.copy_params())]
    W_h, b_h, W_o, b_o = params
    p_y = T.nnet.softmax(T.dot(T.tanh(T.dot(x, W_h) + b_h), W_o) + b_o)
    nll = -T.mean(T.log(p_y)[T.arange(y.shape[0]), y])
    L1 = abs(W_h).sum() + abs(W_o).sum()
    L2 = (W_h ** 2).sum() + (W_o ** 2).sum()
    cost = nll + s.l1 * L1 + s.l2 * L2
    grads = exprc.grad(cost, params)
    window = slice(index * s.batch, (index + 1) * s.batch)
    f = exprc.function([index], cost, mode=mode or c_mode(),
                       updates=[(p, p - s.rate * g) for p, g in zip(params, grads)],
                       givens={x: set_x[window], y: set_y[window]})
    run = tutorial_run(f, s)
    run.params = lambda: [p.get_value() for p in params]
    return run


def tutorial_cost_and_grads_numpy(params: list[np.ndarray], x: np.ndarray, y: np.ndarray,
                                  shape: TutorialShape):
    """W10's cost on one minibatch and its gradient w.r.t. ``[W_h, b_h, W_o, b_o]``, by hand."""
    W_h, b_h, W_o, b_o = params
    h = np.tanh(x @ W_h + b_h)
    logits = h @ W_o + b_o
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    cost = (-np.log(p[rows, y]).mean() + shape.l1 * (np.abs(W_h).sum() + np.abs(W_o).sum())
            + shape.l2 * ((W_h ** 2).sum() + (W_o ** 2).sum()))
    delta = p
    delta[rows, y] -= 1
    delta /= len(y)
    d_h = (delta @ W_o.T) * (1 - h * h)
    grads = [x.T @ d_h, d_h.sum(axis=0), h.T @ delta, delta.sum(axis=0)]
    for i in (0, 2):
        grads[i] += 2 * shape.l2 * params[i] + shape.l1 * np.sign(params[i])
    return cost, grads


def tutorial_train_numpy(data: TutorialData):
    """W10 written by hand in NumPy (the reference); the callable of :func:`tutorial_run`."""
    s, params = data.shape, data.copy_params()

    def step(i: int) -> float:
        window = slice(i * s.batch, (i + 1) * s.batch)
        cost, grads = tutorial_cost_and_grads_numpy(params, data.X[window],
                                                    data.labels[window], s)
        for param, grad in zip(params, grads):
            param -= s.rate * grad
        return cost

    run = tutorial_run(step, s)
    run.params = lambda: params
    return run


def tutorial_gemms(shape: TutorialShape = TutorialShape()) -> list[Gemm]:
    """The matrix products of one W10 step: both forward products, both weight gradients, and
    the hidden layer's input gradient (none for the first layer: its input is the data)."""
    b, n, h, c = shape.batch, shape.n_in, shape.hidden, shape.classes
    return [Gemm(b, n, h), Gemm(b, h, c), Gemm(h, b, c, trans_a=True),
            Gemm(b, c, h, trans_b=True), Gemm(n, b, h, trans_a=True)]
