"""The workloads written idiomatically for each peer: PyTensor, PyTorch, JAX, Theano.

Each peer is a class whose constructor imports the library (raising ``ImportError`` when it is
absent); its builders take the same data as the exprc builders in ``workloads.py`` and return
a :class:`Runner` whose ``fn`` runs the workload once and blocks until the result is ready.
A peer has a builder only for the workloads it runs (Theano: W3, W4, W8 and W10).
``build_peers`` returns the peers that import, and one line per peer that does not.

Theano 1.0.5 needs an older NumPy than the other peers, so it lives in an environment of its
own (``tools/setup_peers.sh``): :class:`TheanoPeer` runs ``theano_child.py`` there, which
compiles and times the workload and reports back.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from timing import Stats
from workloads import (
    LEARNING_RATE,
    ElementwiseData,
    LeNetData,
    LSTMData,
    MLPData,
    TutorialData,
    lstm_check,
    tutorial_run,
)

HERE = Path(__file__).resolve().parent


@dataclass
class Runner:
    """One workload ready to run: ``fn()`` computes it once; ``note`` says how it was built.

    ``check``, when set, turns the first call's result into what is compared with NumPy's
    reference (W8: the cost and the gradients read back from the updated parameters).
    ``stats`` (per background load: ``{busy processes: Stats}``) and ``build_s`` are set by a
    peer that compiled and timed the workload in a child process (Theano); ``fn`` then returns
    the child's first result. ``steps``: how many steps one call runs (W10); the report gives
    the time per step. ``threads``: the thread count the call is timed with (exprc's
    single-threaded row), None for the system's default.
    """

    fn: Callable[[], object]
    note: str = ""
    check: Callable[[object], object] | None = None
    stats: dict[int, Stats] | None = None
    build_s: float | None = None
    steps: int = 1
    threads: int | None = None


class Skipped(Exception):
    """Raised by a builder that cannot run here; its message is the one-line reason."""


class PyTensorPeer:
    """PyTensor, with ``pytensor.function`` in its default mode."""

    name = "PyTensor"

    def __init__(self):
        with warnings.catch_warnings():
            # Its C backend warns that it found no BLAS; the default linker does not use it.
            warnings.simplefilter("ignore")
            import pytensor
            import pytensor.tensor as pt
            from pytensor.compile.mode import get_default_mode
        self._quiet_numba()
        self.pytensor, self.pt = pytensor, pt
        self.version = pytensor.__version__
        linker = type(get_default_mode().linker).__name__
        self.note = f"pytensor.function, mode {pytensor.config.mode} ({linker})"

    @staticmethod
    def _quiet_numba() -> None:
        """Silence Numba's hints about non-contiguous ``np.dot`` operands (the transposed
        views of the backward pass), which it prints at the first call of a function."""
        try:
            from numba.core.errors import NumbaPerformanceWarning
        except ImportError:
            return
        warnings.filterwarnings("ignore", category=NumbaPerformanceWarning)

    def _function(self, *args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.pytensor.function(*args, **kwargs)

    def w1(self, d: ElementwiseData) -> Runner:
        pt = self.pt
        a, b, c = (pt.scalar(n, dtype="float32") for n in "abc")
        x, y = pt.vector("x", dtype="float32"), pt.vector("y", dtype="float32")
        f = self._function([a, x, b, y, c], a * x + b * y + c)
        return Runner(lambda: f(d.a, d.x, d.b, d.y, d.c), self.note)

    def w2(self, d: ElementwiseData) -> Runner:
        pt = self.pt
        x, y = pt.vector("x", dtype="float32"), pt.vector("y", dtype="float32")
        f = self._function([x, y], pt.exp(-x * x) * pt.sin(y) + pt.log1p(abs(x)) * pt.tanh(y))
        return Runner(lambda: f(d.x, d.y), self.note)

    def w3(self, data: MLPData) -> Runner:
        pt = self.pt
        from pytensor.tensor.special import softmax
        x, labels = pt.matrix("x", dtype="float32"), pt.ivector("labels")
        params = []
        for W, b in data.copy_params():
            params += [self.pytensor.shared(W, borrow=True), self.pytensor.shared(b, borrow=True)]
        h = x
        for i in range(0, len(params), 2):
            h = pt.dot(h, params[i]) + params[i + 1]
            if i + 2 < len(params):
                h = pt.maximum(h, 0)
        p = softmax(h, axis=-1)
        cost = -pt.log(p)[pt.arange(labels.shape[0]), labels].mean()
        grads = self.pytensor.grad(cost, params)
        f = self._function([x, labels], cost, updates=[
            (q, q - LEARNING_RATE * g) for q, g in zip(params, grads)])
        return Runner(lambda: f(data.X, data.labels), self.note)

    def w4(self, data: LeNetData) -> Runner:
        """PyTensor 3 has no convolution over channels (``pytensor.tensor.signal`` convolves
        single signals), so each one is written as its k*k shifted slices of the input
        contracted with the flipped filters by ``tensordot``; max-pooling as a reshape and
        ``max``."""
        pt = self.pt
        from pytensor.tensor.special import softmax
        shape, k = data.shape, data.shape.kernel
        x, labels = pt.tensor4("x", dtype="float32"), pt.ivector("labels")
        params = [self.pytensor.shared(p, borrow=True) for p in data.copy_params()]
        h = x
        for i, (c, o, side) in enumerate(shape.conv_layers()):
            out = side - k + 1
            patches = pt.stack([h[:, :, a:a + out, b:b + out]
                                for a in range(k) for b in range(k)], axis=2)
            filters = params[2 * i][:, :, ::-1, ::-1].reshape((o, c, k * k))
            h = pt.tensordot(patches, filters, axes=[[1, 2], [1, 2]]).dimshuffle(0, 3, 1, 2)
            h = pt.maximum(h + params[2 * i + 1].dimshuffle("x", 0, "x", "x"), 0)
            h = h.reshape((shape.batch, o, out // 2, 2, out // 2, 2)).max(axis=(3, 5))
        h = pt.maximum(pt.dot(h.reshape((shape.batch, shape.flat)), params[4]) + params[5], 0)
        p = softmax(pt.dot(h, params[6]) + params[7], axis=-1)
        cost = -pt.log(p)[pt.arange(labels.shape[0]), labels].mean()
        grads = self.pytensor.grad(cost, params)
        f = self._function([x, labels], cost, updates=[
            (q, q - LEARNING_RATE * g) for q, g in zip(params, grads)])
        return Runner(lambda: f(data.X, data.labels),
                      self.note + "; conv as shifted slices + tensordot")

    def w5(self, x: np.ndarray) -> Runner:
        v = self.pt.vector("x", dtype="float64")
        f = self._function([v], v + 1)
        return Runner(lambda: f(x), self.note)

    def w8(self, data: LSTMData) -> Runner:
        pt, h = self.pt, data.shape.hidden
        X = pt.tensor3("X", dtype="float32")
        params = [self.pytensor.shared(p, borrow=True) for p in data.copy_params()]

        def step(x_t, h_prev, c_prev, W_x, W_h, b):
            z = pt.dot(x_t, W_x) + pt.dot(h_prev, W_h) + b
            i, f = pt.sigmoid(z[:, :h]), pt.sigmoid(z[:, h:2 * h])
            g, o = pt.tanh(z[:, 2 * h:3 * h]), pt.sigmoid(z[:, 3 * h:])
            c = f * c_prev + i * g
            return o * pt.tanh(c), c

        start = pt.zeros((X.shape[1], h), dtype="float32")
        (hs, _), _ = self.pytensor.scan(step, sequences=X, outputs_info=[start, start],
                                        non_sequences=params)
        cost = (hs[-1] ** 2).sum(axis=1).mean() + hs.sum(axis=2).mean()
        grads = self.pytensor.grad(cost, params)
        f = self._function([X], cost, updates=[
            (q, q - LEARNING_RATE * g) for q, g in zip(params, grads)])
        return Runner(lambda: f(data.X), self.note + "; pytensor.scan",
                      check=lambda cost: lstm_check(cost, data.params,
                                                    [q.get_value() for q in params]))


class TorchPeer:
    """PyTorch on the CPU: ``torch.compile`` where it works on the workload, else eager."""

    name = "PyTorch"

    def __init__(self):
        import torch
        self.torch = torch
        self.version = torch.__version__

    def _best(self, fn: Callable, args: tuple) -> Runner:
        """``torch.compile(fn)`` if its first call succeeds (it compiles lazily), else ``fn``.

        The compiling call's result is what the runner's first call gives, so that a training
        step is checked on its first step, from the initial weights."""
        try:
            compiled = self.torch.compile(fn)
            results = [compiled(*args)]
            return Runner(lambda: results.pop() if results else compiled(*args),
                          "torch.compile")
        except Exception as error:
            reason = str(error).splitlines()[0][:60] if str(error) else type(error).__name__
            return Runner(lambda: fn(*args), f"eager (torch.compile failed: {reason})")

    def w1(self, d: ElementwiseData) -> Runner:
        t = self.torch
        args = (t.tensor(d.a), t.from_numpy(d.x), t.tensor(d.b), t.from_numpy(d.y), t.tensor(d.c))
        return self._best(lambda a, x, b, y, c: a * x + b * y + c, args)

    def w2(self, d: ElementwiseData) -> Runner:
        t = self.torch

        def w2(x, y):
            return t.exp(-x * x) * t.sin(y) + t.log1p(t.abs(x)) * t.tanh(y)

        return self._best(w2, (t.from_numpy(d.x), t.from_numpy(d.y)))

    def w3(self, data: MLPData) -> Runner:
        t = self.torch
        layers = []
        for W, b in data.copy_params():
            layer = t.nn.Linear(*W.shape)
            with t.no_grad():
                layer.weight.copy_(t.from_numpy(W.T.copy()))
                layer.bias.copy_(t.from_numpy(b))
            layers += [layer, t.nn.ReLU()]
        model = t.nn.Sequential(*layers[:-1])
        optimizer = t.optim.SGD(model.parameters(), lr=float(LEARNING_RATE))
        X, labels = t.from_numpy(data.X), t.from_numpy(data.labels.astype(np.int64))

        def step(X, labels):
            optimizer.zero_grad(set_to_none=True)
            cost = t.nn.functional.cross_entropy(model(X), labels)
            cost.backward()
            optimizer.step()
            return cost.detach()

        return self._best(step, (X, labels))

    def w4(self, data: LeNetData) -> Runner:
        t = self.torch
        params, step = torch_lenet_step(t, data, t.from_numpy)
        X, labels = t.from_numpy(data.X), t.from_numpy(data.labels.astype(np.int64))
        return self._best(step, (X, labels))

    def w5(self, x: np.ndarray) -> Runner:
        return self._best(lambda v: v + 1, (self.torch.from_numpy(x),))

    def w10(self, data: TutorialData) -> Runner:
        """Eager, as a tutorial would write it: float64 parameters, ``optim.SGD``, the
        minibatch sliced from the stored set at each step."""
        t, s = self.torch, data.shape
        params = [t.nn.Parameter(t.from_numpy(p)) for p in data.copy_params()]
        W_h, b_h, W_o, b_o = params
        optimizer = t.optim.SGD(params, lr=s.rate)
        X, labels = t.from_numpy(data.X), t.from_numpy(data.labels.astype(np.int64))

        def step(i: int):
            x, y = X[i * s.batch:(i + 1) * s.batch], labels[i * s.batch:(i + 1) * s.batch]
            optimizer.zero_grad(set_to_none=True)
            logits = t.tanh(x @ W_h + b_h) @ W_o + b_o
            cost = (t.nn.functional.cross_entropy(logits, y)
                    + s.l1 * (W_h.abs().sum() + W_o.abs().sum())
                    + s.l2 * ((W_h ** 2).sum() + (W_o ** 2).sum()))
            cost.backward()
            optimizer.step()
            return cost.item()

        return Runner(tutorial_run(step, s), "eager, optim.SGD", steps=s.steps)

    def _lstm_step(self, data: LSTMData):
        """The W8 step on an ``nn.LSTM`` holding ``data.params``, and a function reading its
        parameters back in W8's layout.

        PyTorch's gates are in the same order (i, f, g, o) and its weights are stored
        transposed; it has two biases, added together: the input one takes ``b``, the
        recurrent one is zero and frozen, so that the step trains exactly the three parameters
        the other systems train.
        """
        t = self.torch
        shape = data.shape
        lstm = t.nn.LSTM(shape.n_in, shape.hidden)
        W_x, W_h, b = data.copy_params()
        with t.no_grad():
            lstm.weight_ih_l0.copy_(t.from_numpy(W_x.T.copy()))
            lstm.weight_hh_l0.copy_(t.from_numpy(W_h.T.copy()))
            lstm.bias_ih_l0.copy_(t.from_numpy(b))
            lstm.bias_hh_l0.zero_()
        lstm.bias_hh_l0.requires_grad_(False)
        params = [lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0]
        optimizer = t.optim.SGD(params, lr=float(LEARNING_RATE))

        def step(X):
            optimizer.zero_grad(set_to_none=True)
            hs, (h_last, _) = lstm(X)  # h0 = c0 = 0
            cost = (h_last[0] ** 2).sum(dim=1).mean() + hs.sum(dim=2).mean()
            cost.backward()
            optimizer.step()
            return cost.detach()

        def current():
            W_x, W_h, b = (p.detach().numpy() for p in params)
            return [W_x.T, W_h.T, b]

        return step, current

    def w8(self, data: LSTMData) -> Runner:
        """Eager ``nn.LSTM``; :meth:`w8_compiled` is the same step under ``torch.compile``."""
        step, current = self._lstm_step(data)
        X = self.torch.from_numpy(data.X)
        return Runner(lambda: step(X), "eager, nn.LSTM + optim.SGD",
                      check=lambda cost: lstm_check(cost, data.params, current()))

    def w8_compiled(self, data: LSTMData) -> Runner:
        """``torch.compile`` of the whole step (forward, backward, SGD); raises
        :class:`Skipped` when its first call fails."""
        step, current = self._lstm_step(data)
        X = self.torch.from_numpy(data.X)
        compiled = self.torch.compile(step)
        try:
            first = compiled(X)
        except Exception as error:
            reason = str(error).splitlines()[0][:100] if str(error) else type(error).__name__
            raise Skipped(f"torch.compile failed: {reason}") from error
        results = [first]  # the first call (which compiles) is the step that is checked

        def run():
            return results.pop() if results else compiled(X)

        return Runner(run, "torch.compile of the step, nn.LSTM + optim.SGD",
                      check=lambda cost: lstm_check(cost, data.params, current()))


class JaxPeer:
    """JAX on the CPU: ``jax.jit`` functions of device arrays, with ``block_until_ready``.

    64-bit types are enabled (W5 is float64); every other input is created float32, so no
    workload changes precision because of it.
    """

    name = "JAX"

    def __init__(self):
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        self.jax, self.jnp = jax, jnp
        self.version = jax.__version__
        self.note = f"jax.jit on {jax.devices()[0].platform}"

    def _put(self, *values):
        return [self.jax.device_put(v) for v in values]

    def w1(self, d: ElementwiseData) -> Runner:
        f = self.jax.jit(lambda a, x, b, y, c: a * x + b * y + c)
        args = self._put(d.a, d.x, d.b, d.y, d.c)
        return Runner(lambda: f(*args).block_until_ready(), self.note)

    def w2(self, d: ElementwiseData) -> Runner:
        jnp = self.jnp
        f = self.jax.jit(lambda x, y: jnp.exp(-x * x) * jnp.sin(y)
                         + jnp.log1p(jnp.abs(x)) * jnp.tanh(y))
        args = self._put(d.x, d.y)
        return Runner(lambda: f(*args).block_until_ready(), self.note)

    def w3(self, data: MLPData) -> Runner:
        jax, jnp = self.jax, self.jnp

        def loss(params, X, labels):
            h = X
            for i, (W, b) in enumerate(params):
                h = h @ W + b
                if i + 1 < len(params):
                    h = jax.nn.relu(h)
            logp = jax.nn.log_softmax(h)
            return -jnp.mean(logp[jnp.arange(X.shape[0]), labels])

        def step(params, X, labels):
            cost, grads = jax.value_and_grad(loss)(params, X, labels)
            return jax.tree.map(lambda p, g: p - LEARNING_RATE * g, params, grads), cost

        # Donating the parameters lets XLA update them in place, as a training loop would.
        jitted = jax.jit(step, donate_argnums=0)
        state = {"params": [tuple(self._put(W, b)) for W, b in data.copy_params()]}
        X, labels = self._put(data.X, data.labels)

        def run():
            state["params"], cost = jitted(state["params"], X, labels)
            return cost.block_until_ready()

        return Runner(run, self.note + " (parameters donated)")

    def w4(self, data: LeNetData) -> Runner:
        jax, jnp, lax = self.jax, self.jnp, self.jax.lax

        def conv(h, W):
            # Theano's conv2d (exprc's too) flips its filters; XLA's convolution does not.
            return lax.conv_general_dilated(h, W[:, :, ::-1, ::-1], (1, 1), "VALID",
                                            dimension_numbers=("NCHW", "OIHW", "NCHW"))

        def pool(h):
            return lax.reduce_window(h, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

        def loss(params, X, labels):
            W1, b1, W2, b2, W3, b3, W4, b4 = params
            h = X
            for W, b in ((W1, b1), (W2, b2)):
                h = pool(jax.nn.relu(conv(h, W) + b[None, :, None, None]))
            h = jax.nn.relu(h.reshape(h.shape[0], -1) @ W3 + b3)
            logp = jax.nn.log_softmax(h @ W4 + b4)
            return -jnp.mean(logp[jnp.arange(X.shape[0]), labels])

        def step(params, X, labels):
            cost, grads = jax.value_and_grad(loss)(params, X, labels)
            return [p - LEARNING_RATE * g for p, g in zip(params, grads)], cost

        jitted = jax.jit(step, donate_argnums=0)
        state = {"params": self._put(*data.copy_params())}
        X, labels = self._put(data.X, data.labels)

        def run():
            state["params"], cost = jitted(state["params"], X, labels)
            return cost.block_until_ready()

        return Runner(run, self.note + " (parameters donated)")

    def w5(self, x: np.ndarray) -> Runner:
        f = self.jax.jit(lambda v: v + 1)
        (v,) = self._put(x)
        return Runner(lambda: f(v).block_until_ready(), self.note)

    def w8(self, data: LSTMData) -> Runner:
        jax, jnp, h = self.jax, self.jnp, data.shape.hidden

        def loss(params, X):
            W_x, W_h, b = params

            def cell(carry, x_t):
                h_prev, c_prev = carry
                z = x_t @ W_x + h_prev @ W_h + b
                i, f = jax.nn.sigmoid(z[:, :h]), jax.nn.sigmoid(z[:, h:2 * h])
                g, o = jnp.tanh(z[:, 2 * h:3 * h]), jax.nn.sigmoid(z[:, 3 * h:])
                c = f * c_prev + i * g
                h_t = o * jnp.tanh(c)
                return (h_t, c), h_t

            start = jnp.zeros((X.shape[1], h), X.dtype)
            (h_last, _), hs = jax.lax.scan(cell, (start, start), X)
            return (h_last ** 2).sum(axis=1).mean() + hs.sum(axis=2).mean()

        def step(params, X):
            cost, grads = jax.value_and_grad(loss)(params, X)
            return [p - LEARNING_RATE * g for p, g in zip(params, grads)], cost

        jitted = jax.jit(step, donate_argnums=0)
        state = {"params": self._put(*data.copy_params())}
        (X,) = self._put(data.X)

        def run():
            state["params"], cost = jitted(state["params"], X)
            return cost.block_until_ready()

        return Runner(run, self.note + ", lax.scan + grad (parameters donated)",
                      check=lambda cost: lstm_check(cost, data.params,
                                                    [np.asarray(p) for p in state["params"]]))


class TheanoPeer:
    """Theano 1.0.5, run by ``theano_child.py`` in the interpreter that
    ``EXPRC_BENCH_THEANO_PYTHON`` names, with ``floatX=float32`` and OpenBLAS: W3, W4, W8 (its
    scan calls the inner function once per step through its C virtual machine) and W10.

    The child builds, compiles and times the workload itself (also under the background loads
    asked for, which it starts itself), so the timing has no process-to-process traffic in it;
    it writes the parameters after its first call to a file for the check.
    """

    name = "Theano"
    ENVIRONMENT_VARIABLE = "EXPRC_BENCH_THEANO_PYTHON"
    times_itself = True

    def __init__(self):
        self.python = os.environ.get(self.ENVIRONMENT_VARIABLE)
        if not self.python:
            raise RuntimeError(f"{self.ENVIRONMENT_VARIABLE} is not set (the interpreter of "
                               "the Theano environment that tools/setup_peers.sh makes)")
        # Flags given by the user come last, so they win.
        user_flags = os.environ.get("THEANO_FLAGS", "")
        self.env = {**os.environ, "THEANO_FLAGS": ",".join(
            f for f in ("floatX=float32,blas.ldflags=-lopenblas", user_flags) if f)}
        done = subprocess.run([self.python, "-c", "import theano; print(theano.__version__)"],
                              capture_output=True, text=True, env=self.env, timeout=600,
                              check=False)
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise ImportError(f"theano does not import in {self.python}: {tail[:150]}")
        self.version = done.stdout.strip().splitlines()[-1]

    def _child(self, workload: str, arrays: dict, repeat: int, loads, timeout: float):
        """Run ``theano_child.py`` on ``arrays``; its report and the parameters it saved."""
        with tempfile.TemporaryDirectory(prefix="bench-theano-") as folder:
            inputs, outputs = Path(folder) / "inputs.npz", Path(folder) / "params.npz"
            np.savez(inputs, **arrays)
            command = [self.python, str(HERE / "theano_child.py"), workload, str(inputs),
                       str(outputs), "--repeat", str(repeat),
                       "--loads", ",".join(str(n) for n in loads)]
            try:
                done = subprocess.run(command, capture_output=True, text=True, env=self.env,
                                      cwd=HERE, timeout=timeout, check=False)
            except subprocess.TimeoutExpired as error:
                raise RuntimeError(f"no result within {timeout:.0f} s") from error
            lines = done.stdout.strip().splitlines()
            if done.returncode != 0 or not lines:
                tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
                raise RuntimeError(f"theano_child.py exit {done.returncode}: {tail[:200]}")
            report = json.loads(lines[-1])
            with np.load(outputs) as saved:
                after = {name: saved[name] for name in saved.files}
        stats = {int(load): Stats(**values) for load, values in report["stats"].items()}
        return report, after, stats

    def _runner(self, report, stats, note: str, check=None, steps: int = 1) -> Runner:
        first = report["cost"]
        return Runner(lambda: first, f"{note}, {report['how']} (child process)", check=check,
                      stats=stats, build_s=report["build_s"], steps=steps)

    def w3(self, data: MLPData, repeat: int = 15, loads=(0,), timeout: float = 900) -> Runner:
        """Compile and time W3 in the child; its first cost is checked."""
        arrays = {"X": data.X, "labels": data.labels, "learning_rate": LEARNING_RATE}
        for i, (W, b) in enumerate(data.params):
            arrays.update({f"W{i}": W, f"b{i}": b})
        report, _, stats = self._child("w3", arrays, repeat, loads, timeout)
        return self._runner(report, stats, "theano.function")

    def w4(self, data: LeNetData, repeat: int = 15, loads=(0,), timeout: float = 900) -> Runner:
        """Compile and time W4 in the child (``conv2d``, ``pool_2d``); its first cost is
        checked."""
        arrays = {"X": data.X, "labels": data.labels, "learning_rate": LEARNING_RATE,
                  **{f"p{i}": p for i, p in enumerate(data.params)}}
        report, _, stats = self._child("w4", arrays, repeat, loads, timeout)
        return self._runner(report, stats, "theano.function, nnet.conv2d + pool_2d")

    def w8(self, data: LSTMData, repeat: int = 15, loads=(0,), timeout: float = 1800) -> Runner:
        """Compile and time W8 in the child; checked by the cost and the gradients read back
        from the parameters after its first step."""
        W_x, W_h, b = data.params
        arrays = {"X": data.X, "W_x": W_x, "W_h": W_h, "b": b,
                  "learning_rate": LEARNING_RATE}
        report, after, stats = self._child("w8", arrays, repeat, loads, timeout)
        params = [after[name] for name in ("W_x", "W_h", "b")]
        return self._runner(report, stats, "theano.scan",
                            check=lambda first: lstm_check(first, data.params, params))

    def w10(self, data: TutorialData, repeat: int = 15, loads=(0,),
            timeout: float = 1800) -> Runner:
        """Compile and time W10 in the child, the tutorial's own way (shared training set,
        ``givens``); checked by the mean cost of its first call's steps."""
        s = data.shape
        arrays = {"X": data.X, "labels": data.labels,
                  **dict(zip(("W_h", "b_h", "W_o", "b_o"), data.params)),
                  **{name: np.float64(getattr(s, name)) for name in ("l1", "l2", "rate")},
                  **{name: np.int64(getattr(s, name)) for name in ("batch", "batches", "steps")}}
        report, _, stats = self._child("w10", arrays, repeat, loads, timeout)
        return self._runner(report, stats, "theano.function with givens", steps=s.steps)


PEER_CLASSES = (PyTensorPeer, TorchPeer, JaxPeer, TheanoPeer)


def build_peers(names: set[str] | None = None) -> tuple[list, list[str]]:
    """The peers that import (all, or those whose lower-case name is in ``names``), and one
    line for each that does not."""
    peers, skipped = [], []
    for cls in PEER_CLASSES:
        if names is not None and cls.name.lower() not in names:
            continue
        try:
            peers.append(cls())
        except Exception as error:
            skipped.append(f"{cls.name}: skipped ({type(error).__name__}: {error})")
    return peers, skipped


def torch_lenet_step(t, data: LeNetData, put):
    """W4's LeNet SGD step in PyTorch: ``(params, step(X, labels) -> cost)``, the parameters
    made from ``data``'s with ``put`` (``torch.from_numpy``, or a copy to a device); the GPU
    benchmark (``gpu.py``) runs the same step."""
    F = t.nn.functional
    params = []
    for i, value in enumerate(data.copy_params()):
        if i in (0, 2):  # Theano's conv2d (exprc's) flips its filters; PyTorch's does not
            value = np.ascontiguousarray(value[:, :, ::-1, ::-1])
        params.append(t.nn.Parameter(put(value)))
    optimizer = t.optim.SGD(params, lr=float(LEARNING_RATE))

    def step(X, labels):
        W1, b1, W2, b2, W3, b3, W4, b4 = params
        optimizer.zero_grad(set_to_none=True)
        h = X
        for W, b in ((W1, b1), (W2, b2)):
            h = F.max_pool2d(F.relu(F.conv2d(h, W, b)), 2)
        h = F.relu(h.flatten(1) @ W3 + b3)
        cost = F.cross_entropy(h @ W4 + b4, labels)
        cost.backward()
        optimizer.step()
        return cost.detach()

    return params, step
