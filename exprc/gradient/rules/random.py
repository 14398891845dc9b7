"""Gradient rules of random number generation (RandomStreams' counter-based generator).

A sample never depends differentiably on the state or the size. Uniform and normal samples
are reparameterised, ``low + (high - low) * u`` and ``avg + std * z``, so their gradients
w.r.t. the parameters exist: they need the standard sample ``u`` (or ``z``) of the same draw,
which a second node reading the *same* state with ``low = 0, high = 1`` (``avg = 0, std = 1``)
recomputes exactly, since a counter-based generator's numbers depend only on its state.
The parameters are padded to the sample's rank when the node is built, and both ops declare
``gradient_in_output_shape``: the rules return gradients in the sample's shape, which the
reverse walk sums back to each parameter's shape. Discrete samples (binomial, choice,
permutation, integers) have no pathwise gradient.
"""

from __future__ import annotations

import exprc.tensor.math as M
from exprc.gradient.table import DISCONNECTED, GRAD, NullGrad
from exprc.tensor.random import (
    RandomBinomial,
    RandomChoice,
    RandomIntegers,
    RandomNormal,
    RandomPermutation,
    RandomUniform,
)
from exprc.tensor.variable import constant


def _standard(node, zero: float, one: float):
    """The sample of ``node``'s draw with the parameters ``(zero, one)``."""
    state, size = node.inputs[:2]
    dtype = node.op.dtype
    return type(node.op)(dtype)(state, size, constant(zero, dtype=dtype),
                                constant(one, dtype=dtype))[1]


@GRAD.register(RandomUniform)
def uniform_grad(node, output_grads):
    g = output_grads[1]
    u = _standard(node, 0.0, 1.0)
    return [DISCONNECTED, DISCONNECTED, M.mul(g, M.sub(constant(1.0, dtype=u.dtype), u)),
            M.mul(g, u)]


@GRAD.register(RandomNormal)
def normal_grad(node, output_grads):
    g = output_grads[1]
    return [DISCONNECTED, DISCONNECTED, g, M.mul(g, _standard(node, 0.0, 1.0))]


@GRAD.register(RandomBinomial, RandomChoice, RandomIntegers, RandomPermutation)
def discrete_grad(node, output_grads):
    reason = ("its sample is discrete and has no pathwise gradient w.r.t. its probabilities")
    return [DISCONNECTED, DISCONNECTED] + [
        NullGrad(node.op, reason) if v.dtype.startswith("float") else DISCONNECTED
        for v in node.inputs[2:]]
