"""C rule of the lazy conditional: ``if (condition) { then block } else { else block }``, each
block the code of its branch's inner graph in the same function (see
:mod:`exprc.link.c.ops.inner`); the branch not taken runs no code at all."""

from __future__ import annotations

from exprc.link.c.ops.inner import indent, run_block
from exprc.link.c.program import C_CODE, NodeContext
from exprc.tensor.ifelse import IfElse


@C_CODE.register(IfElse)
def ifelse(node, ctx: NodeContext) -> str:
    op = node.op
    then_block = ctx.inner_block(op.then_graph, "a")
    else_block = ctx.inner_block(op.else_graph, "b")
    done = f"{then_block.schedule.prefix}done"
    sources = ctx.inputs[1:]
    return "\n".join([
        f"if ({ctx.scalar(0)} != 0) {{",
        indent(run_block(ctx, then_block, sources, ctx.outputs, done)),
        "} else {",
        indent(run_block(ctx, else_block, sources, ctx.outputs, done)),
        "}",
        f"{done}: ;"])
