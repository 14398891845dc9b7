"""C rule of an op made from a graph: its inner graph's code, compiled inline in the node's
code (see :mod:`exprc.link.c.ops.inner`)."""

from __future__ import annotations

from exprc.link.c.ops.inner import indent, run_block
from exprc.link.c.program import C_CODE, NodeContext
from exprc.tensor.opfromgraph import OpFromGraph


@C_CODE.register(OpFromGraph)
def opfromgraph(node, ctx: NodeContext) -> str:
    block = ctx.inner_block(node.op.inner, "")
    done = f"{block.schedule.prefix}done"
    return "\n".join(["{", indent(run_block(ctx, block, ctx.inputs, ctx.outputs, done)), "}",
                      f"{done}: ;"])
