"""Acceptance: the optimized MLP training graph is small, fused and uses Gemm, and computes
the same numbers as the unoptimized graph."""

import itertools
from collections import Counter

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.tensor.blas import Gemm
from exprc.tensor.composite import Composite
from exprc.tensor.elemwise import Elemwise

SIZES = (784, 256, 256, 10)


def mlp_training_step(sizes=SIZES, lr=0.1, seed=0):
    """Inputs, cost and SGD updates of an MLP (ReLU, softmax, mean NLL)."""
    rng = np.random.default_rng(seed)
    x, y = T.matrix("x"), T.ivector("y")
    params, h = [], x
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        W = exprc.shared(rng.normal(0, 0.05, (n_in, n_out)).astype(exprc.config.floatX),
                         name=f"W{i}")
        b = exprc.shared(np.zeros(n_out, exprc.config.floatX), name=f"b{i}")
        params += [W, b]
        h = T.dot(h, W) + b
        if i < len(sizes) - 2:
            h = T.maximum(h, 0)
    e = T.exp(h - h.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    grads = exprc.grad(cost, params)
    return [x, y], cost, params, [(w, w - lr * g) for w, g in zip(params, grads)]


def op_counts(f):
    return Counter(type(n.op) for n in f.fgraph.apply_nodes)


@pytest.fixture(scope="module")
def compiled():
    inputs, cost, params, updates = mlp_training_step()
    return exprc.function(inputs, cost, updates=updates, mode="FAST_RUN"), params


def test_elementwise_work_is_fused(compiled):
    f, _ = compiled
    counts = op_counts(f)
    # What stays Elemwise on matrices is a lone op between non-elementwise ops: the forward
    # ReLUs (they read a Gemm that the backward pass also reads, and feed the next Gemm) and
    # one division whose divisor comes from a reduction the fusion cannot prove independent.
    matrix_elemwise = [n for n in f.fgraph.apply_nodes
                       if isinstance(n.op, Elemwise) and n.outputs[0].ndim == 2]
    assert len(matrix_elemwise) <= 3, matrix_elemwise
    assert 6 <= counts[Composite] <= 16, counts
    assert len(f.fgraph.apply_nodes) <= 110


def test_weights_updates_and_layers_use_gemm(compiled):
    f, _ = compiled
    # One Gemm per weight update and one per layer (the bias is Gemm's z).
    assert op_counts(f)[Gemm] == 6


def test_same_numbers_as_reference():
    rng = np.random.default_rng(1)
    xb = rng.uniform(0, 1, (16, SIZES[0])).astype(exprc.config.floatX)
    yb = rng.integers(0, SIZES[-1], 16).astype("int32")
    results = {}
    for mode in ("FAST_RUN", "REFERENCE"):
        inputs, cost, params, updates = mlp_training_step(seed=3)
        f = exprc.function(inputs, cost, updates=updates, mode=mode)
        losses = [float(f(xb, yb)) for _ in range(3)]
        results[mode] = losses, [p.get_value() for p in params]
    (fast_losses, fast_params), (ref_losses, ref_params) = results["FAST_RUN"], results["REFERENCE"]
    np.testing.assert_allclose(fast_losses, ref_losses, rtol=1e-10)
    for a, b in zip(fast_params, ref_params):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_loss_is_computed_once_and_not_for_its_shape(compiled):
    from exprc.tensor.nnet.softmax import CrossentropySoftmaxIntLabels, LogSoftmax

    counts = op_counts(compiled[0])
    assert counts[CrossentropySoftmaxIntLabels] == 1 and counts[LogSoftmax] == 0, counts


def test_fill_of_a_computed_value_reads_only_its_shape():
    x = T.dmatrix("x")
    f = exprc.function([x], T.fill(T.exp(x) * 2, 0.0))
    assert not any(isinstance(n.op, (Elemwise, Composite)) for n in f.fgraph.apply_nodes)
    np.testing.assert_array_equal(f(np.ones((2, 3))), np.zeros((2, 3)))
