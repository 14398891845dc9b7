"""C rule of the gradient filters: forward, each is its input (a view, never a copy).
"""

from __future__ import annotations

from exprc.link.c.program import C_CODE, NodeContext
from exprc.tensor.gradient_filters import GradientFilter


@C_CODE.register(GradientFilter)
def gradient_filter(node, ctx: NodeContext) -> str:
    # Identity forward: the output is the input itself.
    return ctx.view(0, 0)
