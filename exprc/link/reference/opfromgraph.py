"""Reference implementation of an op made from a graph: its inner graph on the reference
executor."""

from __future__ import annotations

from exprc.link.reference.inner import run_inner
from exprc.link.reference.table import REFERENCE
from exprc.tensor.opfromgraph import OpFromGraph


@REFERENCE.register(OpFromGraph)
def opfromgraph(node, *inputs):
    return run_inner(node.op.inner, inputs)
