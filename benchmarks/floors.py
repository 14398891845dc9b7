"""The machine's limits, measured in the same run as the workloads.

- Memory bandwidth: ``np.add(x, y, out=z)`` over float32 vectors of the workload's length,
  whose traffic equals W1's and W2's (two reads and one write per element). The vectors are
  split into one slice per thread and added concurrently (NumPy releases the GIL in ufunc
  loops), so the figure is the whole machine's bandwidth and not one core's; the best of one
  thread and all threads is kept.
- Float32 GEMM rate: ``np.matmul`` on the exact shapes and transpositions of the W3 step's
  products (the floor of W3) and of the W4 step's, its convolutions unfolded into matrices
  (the floor of W4), and on one large square product (the peak rate).

NumPy's own OpenBLAS runs the products; exprc links OpenBLAS from the ``scipy-openblas32``
wheel, so both are the same library family on the same cores.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from timing import Stats, measure


@dataclass
class Bandwidth:
    """Measured memory bandwidth and the time of the measuring kernel."""

    bytes_per_second: float
    kernel: Stats
    threads: int
    traffic_bytes: int


def cpu_count() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _parallel_add(x: np.ndarray, y: np.ndarray, z: np.ndarray, pool, threads: int):
    bounds = np.linspace(0, len(x), threads + 1).astype(int)
    slices = [slice(lo, hi) for lo, hi in itertools.pairwise(bounds)]
    if threads == 1:
        return lambda: np.add(x, y, out=z)
    return lambda: list(pool.map(lambda s: np.add(x[s], y[s], out=z[s]), slices))


def bandwidth(n: int, repeat: int) -> Bandwidth:
    """Bandwidth of a float32 ``z = x + y`` over ``n`` elements: 3 * 4 * n bytes per call.

    The output is written into a preallocated array, so no page faults are counted.
    """
    x, y, z = (np.full(n, v, np.float32) for v in (1.0, 2.0, 0.0))
    traffic = 3 * x.itemsize * n
    best = None
    with ThreadPoolExecutor(max(cpu_count(), 1)) as pool:
        for threads in sorted({1, cpu_count()}):
            stats = measure(_parallel_add(x, y, z, pool, threads), repeat)
            if best is None or stats.min < best.kernel.min:
                best = Bandwidth(traffic / stats.min, stats, threads, traffic)
    return best


def gemm_operands(products, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Random float32 operands of the given products, transposed views where the step has
    them (``h.T`` in weight gradients, ``W.T`` in input gradients)."""
    rng = np.random.default_rng(seed)
    operands = []
    for g in products:
        a = (rng.standard_normal((g.k, g.m), dtype=np.float32).T if g.trans_a
             else rng.standard_normal((g.m, g.k), dtype=np.float32))
        b = (rng.standard_normal((g.n, g.k), dtype=np.float32).T if g.trans_b
             else rng.standard_normal((g.k, g.n), dtype=np.float32))
        operands.append((a, b))
    return operands


def step_gemm_time(products, repeat: int) -> Stats:
    """Time of all the products of a training step, one after another, with ``np.matmul``."""
    operands = gemm_operands(products)
    return measure(lambda: [np.matmul(a, b) for a, b in operands], repeat)


def peak_gemm_rate(n: int, repeat: int) -> float:
    """Float32 FLOP/s of one square ``n x n`` product (the best of ``repeat``)."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    out = np.empty((n, n), np.float32)
    stats = measure(lambda: np.matmul(a, b, out=out), repeat)
    return 2.0 * n ** 3 / stats.min


def lstm_gemm_time(shape, repeat: int, batched: bool = False) -> Stats:
    """Time of the W8 step's matrix products (``workloads.lstm_gemms``) with ``np.matmul``.

    Per time step: ``x_t @ W_x`` and ``h @ W_h`` forward, ``x_t.T @ dz``, ``h.T @ dz`` and
    ``dz @ W_h.T`` backward. As in the step itself, the weights are the same arrays at every
    step (so they stay in cache) while ``x_t``, ``h`` and ``dz`` are each step's slice of a
    whole-sequence array; the products write into preallocated outputs.

    ``batched``: only the two products on the recurrence (``h @ W_h``, ``dz @ W_h.T``) one step
    at a time, the other three as one product each over the whole sequence (what NumPy's
    hand-written step and XLA do): the same FLOPs in 203 calls instead of 500, and the lower
    figure, the one that is W8's floor. What a step adds to either is its elementwise work
    (the gates) and the bookkeeping of the loop.
    """
    rng = np.random.default_rng(0)
    steps, batch, h4 = shape.steps, shape.batch, 4 * shape.hidden

    def normal(*size):
        return rng.standard_normal(size, dtype=np.float32)

    X, H, dZ = (normal(steps, batch, n) for n in (shape.n_in, shape.hidden, h4))
    W_x, W_h = normal(shape.n_in, h4), normal(shape.hidden, h4)
    z, dh = np.empty((batch, h4), np.float32), np.empty((batch, shape.hidden), np.float32)
    g_W_x, g_W_h = np.empty_like(W_x), np.empty_like(W_h)

    def per_step():
        for t in range(steps):
            np.matmul(X[t], W_x, out=z)
            np.matmul(H[t], W_h, out=z)
            np.matmul(X[t].T, dZ[t], out=g_W_x)
            np.matmul(H[t].T, dZ[t], out=g_W_h)
            np.matmul(dZ[t], W_h.T, out=dh)

    X_all, H_all, dZ_all = (a.reshape(steps * batch, -1) for a in (X, H, dZ))
    Z_all = np.empty((steps * batch, h4), np.float32)

    def recurrent_per_step():
        np.matmul(X_all, W_x, out=Z_all)
        for t in range(steps):
            np.matmul(H[t], W_h, out=z)
        for t in range(steps):
            np.matmul(dZ[t], W_h.T, out=dh)
        np.matmul(X_all.T, dZ_all, out=g_W_x)
        np.matmul(H_all.T, dZ_all, out=g_W_h)

    return measure(recurrent_per_step if batched else per_step, repeat)
