"""How the rewrite pipeline's time grows with graph size.

Builds the MLP training graph (ReLU hidden layers of 256 units, softmax + mean NLL, gradients
and SGD updates of every parameter) with 2, 8, 32 and 128 hidden layers, runs
``exprc.rewriting.optimize`` on a fresh FunctionGraph of it, and prints the node counts before
and after, the total time, the time per node and each pass's time per node. The pipeline is
near-linear when the time per node does not grow with depth.

Run: ``python benchmarks/optimizer_speed.py [depth ...]``
"""

from __future__ import annotations

import itertools
import sys
import time

import numpy as np

import exprc
import exprc.tensor as T
from exprc.graph.fgraph import FunctionGraph
from exprc.rewriting import optimize


def training_graph(depth: int, width: int = 256, n_in: int = 784, n_out: int = 10):
    """Inputs and outputs (cost, then the new parameter values) of one SGD step."""
    rng = np.random.default_rng(0)
    x, y = T.matrix("x"), T.ivector("y")
    sizes = [n_in] + [width] * depth + [n_out]
    params, h = [], x
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        W = exprc.shared(rng.normal(0, 0.05, (a, b)), name=f"W{i}")
        bias = exprc.shared(np.zeros(b), name=f"b{i}")
        params += [W, bias]
        h = T.dot(h, W) + bias
        if i < depth:
            h = T.maximum(h, 0)
    e = T.exp(h - h.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    grads = exprc.grad(cost, params)
    return [x, y] + params, [cost] + [w - 0.1 * g for w, g in zip(params, grads)]


def measure(depth: int, repeats: int = 3) -> dict:
    """The best of ``repeats`` runs of the pipeline on fresh copies of the graph."""
    inputs, outputs = training_graph(depth)
    best = None
    for _ in range(repeats):
        fgraph = FunctionGraph(inputs, outputs)
        before = len(fgraph.apply_nodes)
        start = time.perf_counter()
        log = optimize(fgraph)
        seconds = time.perf_counter() - start
        if best is None or seconds < best["seconds"]:
            best = {"depth": depth, "before": before, "after": len(fgraph.apply_nodes),
                    "seconds": seconds, "passes": {n: s for n, s, _ in log.passes}}
    return best


def main(depths: list[int]) -> None:
    optimize(FunctionGraph(*training_graph(1)))  # import every rule module before timing
    rows = [measure(d) for d in depths]
    passes = list(rows[0]["passes"])
    print(f"{'depth':>5} {'before':>7} {'after':>6} {'total ms':>9} {'us/node':>8}  "
          + " ".join(f"{p[:8]:>8}" for p in passes))
    for r in rows:
        per_pass = " ".join(f"{r['passes'][p] / r['before'] * 1e6:8.1f}" for p in passes)
        print(f"{r['depth']:>5} {r['before']:>7} {r['after']:>6} {r['seconds'] * 1e3:9.1f} "
              f"{r['seconds'] / r['before'] * 1e6:8.1f}  {per_pass}")
    print("(per-pass columns: microseconds per node of the input graph)")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [2, 8, 32, 128])
