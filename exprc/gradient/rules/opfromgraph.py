"""Gradient of an op made from a graph: derived from its inner graph
(:func:`~exprc.gradient.inner.inner_lop`, inline expressions over the node's inputs), or given
by its ``grad_overrides`` (Theano's forms, see :class:`~exprc.tensor.opfromgraph.OpFromGraph`).
Implicit inputs (shared variables read inside) always get the derived gradient.
"""

from __future__ import annotations

from exprc.errors import ExprcTypeError
from exprc.gradient.inner import inner_lop
from exprc.gradient.table import DISCONNECTED, GRAD, NullGrad
from exprc.graph.ir import Variable
from exprc.tensor.basic import zeros_like
from exprc.tensor.opfromgraph import DEFAULT, OpFromGraph
from exprc.tensor.variable import as_tensor_variable


@GRAD.register(OpFromGraph)
def opfromgraph_grad(node, output_grads):
    op = node.op
    overrides = op.grad_overrides
    n = op.n_explicit
    if overrides is None:
        return inner_lop(op.inner, node.inputs, output_grads)
    explicit = list(node.inputs[:n])
    filled = [g if g is not None else zeros_like(o) for g, o in zip(output_grads, node.outputs)]
    if isinstance(overrides, tuple):
        given = [None if entry is DEFAULT else
                 (_one(op, k, entry(explicit, filled)) if entry is not None else DISCONNECTED)
                 for k, entry in enumerate(overrides)]
    else:
        if isinstance(overrides, OpFromGraph):
            answer = overrides(*explicit, *filled)
            answer = [answer] if isinstance(answer, Variable) else answer
        else:
            answer = overrides(explicit, filled)
        if not isinstance(answer, (list, tuple)) or len(answer) != n:
            got = (f"{len(answer)} entries" if isinstance(answer, (list, tuple))
                   else type(answer).__name__)
            raise ExprcTypeError(f"{op}: grad_overrides must give a list of {n} gradients (one "
                                 f"per input), got {got}")
        given = [_one(op, k, g) for k, g in enumerate(answer)]
    derive = [k for k, g in enumerate(given) if g is None] + list(range(n, len(node.inputs)))
    derived = dict(zip(derive, inner_lop(op.inner, node.inputs, output_grads, derive)))
    return [derived[k] if k in derived else given[k] for k in range(len(node.inputs))]


def _one(op: OpFromGraph, k: int, g):
    """One overriding gradient: a variable of input ``k``'s rank, or DISCONNECTED."""
    if g is None or g is DISCONNECTED:
        return DISCONNECTED
    if isinstance(g, NullGrad):
        return g
    g = as_tensor_variable(g)
    want = op.inner.inputs[k]
    if g.ndim != want.ndim:
        raise ExprcTypeError(f"{op}: grad_overrides gave a {g.ndim}-d gradient for input {k}, "
                             f"which is {want.type}")
    return g
