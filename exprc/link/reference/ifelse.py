"""Reference implementation of the lazy conditional: the condition decides which inner graph
runs; the other is not evaluated at all."""

from __future__ import annotations

from exprc.link.reference.inner import run_inner
from exprc.link.reference.table import REFERENCE
from exprc.tensor.ifelse import IfElse


@REFERENCE.register(IfElse)
def ifelse(node, condition, *outer):
    op = node.op
    graph = op.then_graph if bool(condition) else op.else_graph
    return run_inner(graph, outer)
