"""W8 in Theano 1.0.5: the child process that ``peers.TheanoPeer`` runs in the Theano environment.

It loads the inputs and initial parameters that the parent saved, builds the LSTM training
step with ``theano.scan`` (the same graph as ``workloads.lstm_train_graph``), compiles it, runs
one step and saves the parameters after it (for the parent's check), then times the step as
``timing.measure`` times every other system, and prints one JSON line: the first cost, the
compile time, the timing and how Theano ran.

It imports only NumPy, Theano and ``timing.py`` (not ``workloads.py``, which needs exprc and a
newer NumPy).

Usage: ``python theano_child.py INPUTS.npz PARAMS_OUT.npz [--repeat N]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from timing import measure


def lstm_step(X_value, params, learning_rate):
    """The compiled Theano step (cost, with SGD updates of shared ``[W_x, W_h, b]``)."""
    import theano
    import theano.tensor as tt

    h = params[1].shape[0]
    X = tt.tensor3("X", dtype="float32")
    shared = [theano.shared(p, name=name, borrow=True)
              for name, p in zip(("W_x", "W_h", "b"), params)]

    def step(x_t, h_prev, c_prev, W_x, W_h, b):
        z = tt.dot(x_t, W_x) + tt.dot(h_prev, W_h) + b
        i, f = tt.nnet.sigmoid(z[:, :h]), tt.nnet.sigmoid(z[:, h:2 * h])
        g, o = tt.tanh(z[:, 2 * h:3 * h]), tt.nnet.sigmoid(z[:, 3 * h:])
        c = f * c_prev + i * g
        return o * tt.tanh(c), c

    start = tt.zeros((X.shape[1], h), dtype="float32")
    (hs, _), _ = theano.scan(step, sequences=X, outputs_info=[start, start],
                             non_sequences=shared)
    cost = (hs[-1] ** 2).sum(axis=1).mean() + hs.sum(axis=2).mean()
    grads = theano.grad(cost, shared)
    f = theano.function([X], cost, updates=[(p, p - learning_rate * g)
                                             for p, g in zip(shared, grads)])
    return (lambda: f(X_value)), shared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs")
    parser.add_argument("params_out")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with np.load(args.inputs) as saved:
        X = saved["X"]
        params = [saved[name].copy() for name in ("W_x", "W_h", "b")]
        learning_rate = saved["learning_rate"]

    import theano

    start = time.perf_counter()
    run, shared = lstm_step(X, params, learning_rate)
    build_s = time.perf_counter() - start
    cost = float(run())
    np.savez(args.params_out, **{p.name: p.get_value() for p in shared})
    stats = measure(run, args.repeat)
    # Theano loads scan's Cython loop (theano/scan_module/c_code/scan_perform.c, compiled at
    # its first scan) when it can, and runs the loop in Python when it cannot import it.
    compiled = "theano.scan_module.scan_perform" in sys.modules
    loop = "C scan loop" if compiled else "Python scan loop"
    how = (f"{theano.config.linker} linker, {loop}, blas.ldflags="
           f"{theano.config.blas.ldflags or '(none: NumPy dot)'}")
    print(json.dumps({"cost": cost, "build_s": build_s, "stats": stats.as_dict(), "how": how,
                      "version": theano.__version__}))


if __name__ == "__main__":
    main()
