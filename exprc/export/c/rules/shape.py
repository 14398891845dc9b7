"""Standalone C of the shape family: shapes are known at export time."""

from __future__ import annotations

from exprc.export.c.layout import Layout
from exprc.export.c.program import EXPORT_C, NodeContext, copy_lines
from exprc.tensor.shape import Reshape, Shape, SpecifyShape


@EXPORT_C.register(Reshape)
def reshape(ctx: NodeContext) -> None:
    """A view of contiguous data, else a copy in row-major order."""
    view = ctx.inputs[0].reshaped(ctx.out_shapes[0])
    if view is not None:
        ctx.view(0, view)
        return
    out = ctx.output(0)
    source = ctx.inputs[0]
    flat_out = Layout(out.buffer, out.offset, source.shape,
                      Layout.whole(out.buffer, source.shape).strides)
    ctx.emit(*copy_lines(source, flat_out))


@EXPORT_C.register(SpecifyShape)
def specify_shape(ctx: NodeContext) -> None:
    """The input itself: its sizes were checked against the specified ones at export."""
    ctx.view(0, ctx.inputs[0])


@EXPORT_C.register(Shape)
def shape(ctx: NodeContext) -> None:
    """The input's sizes, known at export, written as numbers."""
    out = ctx.output(0)
    ctx.emit(*(f"    {out.element(str(axis))} = {size};"
               for axis, size in enumerate(ctx.inputs[0].shape)))
