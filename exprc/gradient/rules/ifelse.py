"""Gradient of the lazy conditional: a conditional too.

The gradient of an outer input is the taken branch's vector-Jacobian product
(:func:`~exprc.gradient.inner.inner_lop`), or zeros when the other branch was taken, chosen by
the same condition with the same builder (:func:`~exprc.tensor.ifelse.ifelse`), so each
branch's gradient work is also done only when that branch runs. The condition gets none.
"""

from __future__ import annotations

from exprc.gradient.inner import inner_lop
from exprc.gradient.table import DISCONNECTED, GRAD, NullGrad
from exprc.tensor.basic import zeros_like
from exprc.tensor.ifelse import IfElse, ifelse
from exprc.tensor.math import cast
from exprc.tensor.type import DISCRETE_DTYPES


@GRAD.register(IfElse)
def ifelse_grad(node, output_grads):
    op = node.op
    condition, outer = node.inputs[0], node.inputs[1:]
    then_lop = inner_lop(op.then_graph, outer, output_grads)
    else_lop = inner_lop(op.else_graph, outer, output_grads)
    result = [DISCONNECTED] * len(node.inputs)
    chosen, thens, elses = [], [], []
    for j, (v, a, b) in enumerate(zip(outer, then_lop, else_lop)):
        if v.dtype in DISCRETE_DTYPES or (a is DISCONNECTED and b is DISCONNECTED):
            continue
        null = [g for g in (a, b) if isinstance(g, NullGrad)]
        if null:
            result[j + 1] = null[0]
            continue
        chosen.append(j)
        thens.append(zeros_like(v) if a is DISCONNECTED else cast(a, v.dtype))
        elses.append(zeros_like(v) if b is DISCONNECTED else cast(b, v.dtype))
    if chosen:
        name = f"grad of {op.name}" if op.name else None
        for j, g in zip(chosen, ifelse(condition, thens, elses, name=name)):
            result[j + 1] = g
    return result
