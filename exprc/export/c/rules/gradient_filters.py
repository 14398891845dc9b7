"""Standalone C of the gradient filters: each is its input when run forward."""

from __future__ import annotations

from exprc.export.c.program import EXPORT_C, NodeContext
from exprc.tensor.gradient_filters import GradientFilter


@EXPORT_C.register(GradientFilter)
def gradient_filter(ctx: NodeContext) -> None:
    """The input itself (a filter changes only the gradient)."""
    ctx.view(0, ctx.inputs[0])
