"""The ``inplace`` pass: let ops overwrite an input that nothing reads afterwards.

It runs last, so no later rewrite can add a reader of an overwritten value. Every choice goes
through :func:`exprc.rewriting.destroy.can_destroy`, which refuses anything that could corrupt
a value still needed (a graph input, a shared value, a constant, a value or view read
elsewhere, an input the result would not fit).

Each rule tries the inputs in order and takes the first one the checker accepts.
"""

from __future__ import annotations

from exprc.rewriting.destroy import can_destroy
from exprc.rewriting.engine import node_rule
from exprc.tensor.blas import Gemm, Gemv, Ger
from exprc.tensor.elemwise import Elemwise, InplaceElemwise


@node_rule("inplace", "inplace_elemwise", tracks=[Elemwise])
def inplace_elemwise(fgraph, node):
    """``Elemwise`` writing its result into the first input that may be overwritten."""
    if type(node.op) is not Elemwise:
        return None
    for i in range(len(node.inputs)):
        if can_destroy(fgraph, node, i):
            return [InplaceElemwise(node.op.scalar_op, i)(*node.inputs)]
    return None


@node_rule("inplace", "inplace_blas", tracks=[Gemm, Gemv, Ger])
def inplace_blas(fgraph, node):
    """``Gemm``, ``Gemv`` and ``Ger`` accumulating into ``z`` (input 0) in place."""
    if node.op.inplace or not can_destroy(fgraph, node, 0):
        return None
    return [type(node.op)(inplace=True)(*node.inputs)]
