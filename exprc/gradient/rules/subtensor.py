"""Gradient rules of the indexing ops.

Reading ``x[index]`` sends the output gradient back into a zero tensor shaped like ``x``, at
the same entries; for index arrays the additions accumulate, so an entry read twice receives
both gradients. Writing ``y`` into ``x[index]`` sends the gradient of the written entries to
``y`` (summed down to ``y``'s shape where ``y`` was broadcast) and, when setting, none to the
overwritten entries of ``x``. Index inputs are disconnected.

With repeated indices, ``set_subtensor`` keeps only the last write, but the gradient of ``y``
counts every occurrence (as Theano's does); it is exact for distinct indices.
"""

from __future__ import annotations

import exprc.tensor as T
from exprc.gradient.table import DISCONNECTED, GRAD
from exprc.tensor.elemwise import sum_to
from exprc.tensor.subtensor import (
    AdvancedIncSubtensor,
    AdvancedSubtensor,
    IncSubtensor,
    Subtensor,
)
from exprc.tensor.variable import constant


def _read_op(op):
    return (AdvancedSubtensor if op.advanced else Subtensor)(op.idx_list)


def _write_op(op, set_instead_of_inc):
    if op.advanced:
        return AdvancedIncSubtensor(op.idx_list, set_instead_of_inc, ignore_duplicates=False)
    return IncSubtensor(op.idx_list, set_instead_of_inc)


@GRAD.register(Subtensor, AdvancedSubtensor)
def subtensor_grad(node, output_grads):
    x, *index = node.inputs
    (gz,) = output_grads
    gx = _write_op(node.op, set_instead_of_inc=False)(T.zeros_like(x), gz, *index)
    return [gx] + [DISCONNECTED] * len(index)


def _sum_down(g, y):
    """``g``, the gradient of the indexed region, summed down to the shape of ``y``."""
    extra = g.ndim - y.ndim
    if extra:
        g = T.sum(g, axis=tuple(range(extra)))
    return sum_to(g, y)


@GRAD.register(IncSubtensor, AdvancedIncSubtensor)
def inc_subtensor_grad(node, output_grads):
    x, y, *index = node.inputs
    (gz,) = output_grads
    if node.op.set_instead_of_inc:
        zero = constant(0, dtype=gz.dtype)
        gx = _write_op(node.op, set_instead_of_inc=True)(gz, zero, *index)
    else:
        gx = gz
    gy = _sum_down(_read_op(node.op)(gz, *index), y)
    return [gx, gy] + [DISCONNECTED] * len(index)
