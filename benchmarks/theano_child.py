"""Workloads in Theano 1.0.5: the child process that ``peers.TheanoPeer`` runs in the Theano
environment.

It loads the inputs and initial parameters that the parent saved, builds the workload's
training step (the same graph as its ``workloads.py`` builder: W3 ``mlp_train_graph``, W4
``lenet_train_graph``, W8 ``lstm_train_graph``, W10 ``tutorial_train_exprc``), compiles it,
runs it once and saves the parameters after that call (for the parent's check), then times it
as ``timing.measure`` times every other system, quiet and beside each background load asked
for, and prints one JSON line: the first result, the compile time, the timings and how Theano
ran.

It imports only NumPy, Theano and ``timing.py`` (not ``workloads.py``, which needs exprc and a
newer NumPy).

Usage: ``python theano_child.py {w3,w4,w8,w10} INPUTS.npz PARAMS_OUT.npz [--repeat N]
[--loads 0,2]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from timing import background_load, measure


def _sgd(theano, inputs, cost, shared, learning_rate, **kwargs):
    grads = theano.grad(cost, shared)
    return theano.function(inputs, cost, updates=[(p, p - learning_rate * g)
                                                  for p, g in zip(shared, grads)], **kwargs)


def _shared(theano, saved, names):
    return [theano.shared(saved[name].copy(), name=name, borrow=True) for name in names]


def mlp_step(saved):
    """W3: ReLU layers, softmax, mean cross-entropy, SGD."""
    import theano
    import theano.tensor as tt

    layers = sum(1 for name in saved.files if name.startswith("W"))
    shared = _shared(theano, saved, [f"{k}{i}" for i in range(layers) for k in "Wb"])
    x, labels = tt.matrix("x", dtype="float32"), tt.ivector("labels")
    h = x
    for i in range(0, len(shared), 2):
        h = tt.dot(h, shared[i]) + shared[i + 1]
        if i + 2 < len(shared):
            h = tt.maximum(h, 0)
    cost = tt.nnet.categorical_crossentropy(tt.nnet.softmax(h), labels).mean()
    f = _sgd(theano, [x, labels], cost, shared, saved["learning_rate"])
    X, y = saved["X"], saved["labels"]
    return (lambda: f(X, y)), shared


def lenet_step(saved):
    """W4: two flipped-filter convolutions with ReLU and 2x2 max-pooling, a dense ReLU layer,
    softmax, mean cross-entropy, SGD."""
    import theano
    import theano.tensor as tt
    from theano.tensor.signal.pool import pool_2d

    shared = _shared(theano, saved, [f"p{i}" for i in range(8)])
    x, labels = tt.tensor4("x", dtype="float32"), tt.ivector("labels")
    h = x
    for i in (0, 2):
        h = tt.nnet.conv2d(h, shared[i], filter_shape=saved[f"p{i}"].shape)
        h = tt.maximum(h + shared[i + 1].dimshuffle("x", 0, "x", "x"), 0)
        h = pool_2d(h, ws=(2, 2), ignore_border=True)
    h = tt.maximum(tt.dot(h.flatten(2), shared[4]) + shared[5], 0)
    h = tt.dot(h, shared[6]) + shared[7]
    cost = tt.nnet.categorical_crossentropy(tt.nnet.softmax(h), labels).mean()
    f = _sgd(theano, [x, labels], cost, shared, saved["learning_rate"])
    X, y = saved["X"], saved["labels"]
    return (lambda: f(X, y)), shared


def lstm_step(saved):
    """W8: the LSTM step with ``theano.scan`` (cost, SGD updates of ``[W_x, W_h, b]``)."""
    import theano
    import theano.tensor as tt

    shared = _shared(theano, saved, ("W_x", "W_h", "b"))
    h = saved["W_h"].shape[0]
    X = tt.tensor3("X", dtype="float32")

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
    f = _sgd(theano, [X], cost, shared, saved["learning_rate"])
    X_value = saved["X"]
    return (lambda: f(X_value)), shared


def tutorial_step(saved):
    """W10, as the tutorial's ``mlp.py`` writes it: the training set in shared variables, a
    function of the minibatch index whose ``givens`` slice it; one call runs ``steps`` steps
    and gives their mean cost."""
    import theano
    import theano.tensor as tt

    batch, batches, steps = (int(saved[name]) for name in ("batch", "batches", "steps"))
    l1, l2, rate = (float(saved[name]) for name in ("l1", "l2", "rate"))
    shared = _shared(theano, saved, ("W_h", "b_h", "W_o", "b_o"))
    W_h, b_h, W_o, b_o = shared
    set_x = theano.shared(saved["X"], borrow=True)
    set_y = theano.shared(saved["labels"], borrow=True)
    index = tt.lscalar("index")
    x, y = tt.matrix("x", dtype="float64"), tt.ivector("y")
    p_y = tt.nnet.softmax(tt.dot(tt.tanh(tt.dot(x, W_h) + b_h), W_o) + b_o)
    nll = -tt.mean(tt.log(p_y)[tt.arange(y.shape[0]), y])
    cost = (nll + l1 * (abs(W_h).sum() + abs(W_o).sum())
            + l2 * ((W_h ** 2).sum() + (W_o ** 2).sum()))
    f = _sgd(theano, [index], cost, shared, rate,
             givens={x: set_x[index * batch:(index + 1) * batch],
                     y: set_y[index * batch:(index + 1) * batch]})
    state = {"next": 0}

    def run():
        total, start = 0.0, state["next"]
        for i in range(start, start + steps):
            total += float(f(i % batches))
        state["next"] = (start + steps) % batches
        return total / steps

    return run, shared


STEPS = {"w3": mlp_step, "w4": lenet_step, "w8": lstm_step, "w10": tutorial_step}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(STEPS))
    parser.add_argument("inputs")
    parser.add_argument("params_out")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--loads", default="0",
                        help="busy background processes to time beside, e.g. 0,2")
    args = parser.parse_args()

    import theano

    with np.load(args.inputs) as saved:
        start = time.perf_counter()
        run, shared = STEPS[args.workload](saved)
        build_s = time.perf_counter() - start
    cost = float(run())
    np.savez(args.params_out, **{p.name: p.get_value() for p in shared})
    stats = {}
    for load in (int(n) for n in args.loads.split(",")):
        with background_load(load):
            stats[load] = measure(run, args.repeat).as_dict()
    how = f"{theano.config.linker} linker, blas.ldflags={theano.config.blas.ldflags or '(none)'}"
    if args.workload == "w8":
        # Theano loads scan's Cython loop (theano/scan_module/c_code/scan_perform.c, compiled
        # at its first scan) when it can, and runs the loop in Python when it cannot.
        compiled = "theano.scan_module.scan_perform" in sys.modules
        how += ", C scan loop" if compiled else ", Python scan loop"
    print(json.dumps({"cost": cost, "build_s": build_s, "stats": stats, "how": how,
                      "version": theano.__version__}))


if __name__ == "__main__":
    main()
