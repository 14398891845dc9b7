"""Standalone C of the pool family: ``Pool`` and its three gradient ops.

Each node is one call into ``csrc/exprc_portable_pool.h``, which loops over the windows
directly. The leading axes (batch, channels, ...) are walked as one axis of planes when
their strides allow it (any contiguous input, and most views); otherwise the input is copied
first. The window geometry is written as a constant struct.
"""

from __future__ import annotations

import math

from exprc.export.c.layout import Layout, merged_axes
from exprc.export.c.program import EXPORT_C, NodeContext, copy_lines
from exprc.tensor.signal.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool

_MODES = {"max": "EXPRC_POOL_MAX", "sum": "EXPRC_POOL_SUM",
          "average_inc_pad": "EXPRC_POOL_AVERAGE_INC_PAD",
          "average_exc_pad": "EXPRC_POOL_AVERAGE_EXC_PAD"}


def _planes(ctx: NodeContext, i: int) -> tuple[Layout, int, int, int]:
    """Input ``i`` and its (plane, row, column) strides, its leading axes seen as one axis of
    planes; copied row-major when they do not merge."""
    x = ctx.inputs[i]
    sizes, (strides,) = merged_axes(x.shape[:-2], [x.strides[:-2]])
    if len(sizes) > 1:
        copy = Layout.whole(ctx.scratch(x.dtype, x.size).buffer, x.shape)
        ctx.emit(*copy_lines(x, copy))
        x = copy
        sizes, (strides,) = merged_axes(x.shape[:-2], [x.strides[:-2]])
    plane = strides[0] if strides else 0
    return x, plane, x.strides[-2], x.strides[-1]


def _geometry(ctx: NodeContext, shape: tuple, pooled: tuple) -> str:
    """The C declaration of the node's ``exprc_portable_pool_geometry``."""
    op = ctx.op
    values = {
        "planes": math.prod(shape[:-2]), "rows": shape[-2], "cols": shape[-1],
        "out_rows": pooled[-2], "out_cols": pooled[-1], "ws_r": op.ws[0], "ws_c": op.ws[1],
        "stride_r": op.stride[0], "stride_c": op.stride[1], "pad_r": op.pad[0],
        "pad_c": op.pad[1], "mode": _MODES[getattr(op, "mode", "max")],
    }
    fields = ", ".join(f".{name} = {value}" for name, value in values.items())
    return f"const exprc_portable_pool_geometry geometry = {{{fields}}};"


def _emit(ctx: NodeContext, declaration: str, call: str) -> None:
    ctx.emit("    {", f"        {declaration}", f"        {call};", "    }")


@EXPORT_C.register(Pool)
def pool(ctx: NodeContext) -> None:
    """Each window reduced to its maximum, sum or average."""
    x, xp, xr, xc = _planes(ctx, 0)
    out = ctx.output(0)
    if out.size == 0:
        return
    suffix = ctx.need("pool", ctx.out_dtypes[0])
    _emit(ctx, _geometry(ctx, x.shape, ctx.out_shapes[0]),
          f"exprc_portable_pool2d{suffix}(&geometry, {x.pointer()}, {xp}, {xr}, {xc}, "
          f"{out.pointer()})")


@EXPORT_C.register(MaxPoolGrad)
def max_pool_grad(ctx: NodeContext) -> None:
    """Each window's output gradient added at the window's first maximum."""
    x, xp, xr, xc = _planes(ctx, 0)
    gz, gp, gr, gc = _planes(ctx, 1)
    out = ctx.output(0)
    if out.size == 0:
        return
    suffix = ctx.need("pool", ctx.out_dtypes[0])
    _emit(ctx, _geometry(ctx, x.shape, gz.shape),
          f"exprc_portable_max_pool_grad{suffix}(&geometry, {x.pointer()}, {xp}, {xr}, {xc}, "
          f"{gz.pointer()}, {gp}, {gr}, {gc}, {out.pointer()})")


@EXPORT_C.register(MaxPoolGradGrad)
def max_pool_grad_grad(ctx: NodeContext) -> None:
    """For each window, the value at its first maximum."""
    x, xp, xr, xc = _planes(ctx, 0)
    g, gp, gr, gc = _planes(ctx, 1)
    out = ctx.output(0)
    if out.size == 0:
        return
    suffix = ctx.need("pool", ctx.out_dtypes[0])
    _emit(ctx, _geometry(ctx, x.shape, ctx.out_shapes[0]),
          f"exprc_portable_max_pool_grad_grad{suffix}(&geometry, {x.pointer()}, {xp}, {xr}, "
          f"{xc}, {g.pointer()}, {gp}, {gr}, {gc}, {out.pointer()})")


@EXPORT_C.register(AveragePoolGrad)
def average_pool_grad(ctx: NodeContext) -> None:
    """Each window's output gradient, divided as the forward divided, spread over it."""
    gz, gp, gr, gc = _planes(ctx, 1)
    out = ctx.output(0)
    if out.size == 0:
        return
    suffix = ctx.need("pool", ctx.out_dtypes[0])
    _emit(ctx, _geometry(ctx, ctx.out_shapes[0], gz.shape),
          f"exprc_portable_average_pool_grad{suffix}(&geometry, {gz.pointer()}, {gp}, {gr}, "
          f"{gc}, {out.pointer()})")
