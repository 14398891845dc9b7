"""Standalone C of the conv family: ``Conv2d``, ``Conv2dGradInputs`` (also the transposed
convolution of inference graphs) and ``Conv2dGradWeights``.

Each node is one call into ``csrc/exprc_portable_conv.h``: per image and group, im2col into
scratch memory and one product of the portable GEMM (or CBLAS). All sizes are known, so the
geometry is written as a constant struct, and the scratch memory (the im2col matrix and the
product's packing) is planned here. The inputs are read through their strides; only the
filters (a matrix whose rows must be contiguous) and the output gradient (whose rows and
columns must merge into one axis) are copied when they are not so.
"""

from __future__ import annotations

from exprc.export.c.layout import Layout
from exprc.export.c.program import EXPORT_C, NodeContext, copy_lines
from exprc.export.c.rules.blas import gemm_work
from exprc.tensor.nnet.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights


def _geometry(ctx: NodeContext, image: tuple, kernel: tuple, out: tuple, batch: int,
              channels: int, filters: int) -> tuple[str, dict]:
    """The C declaration of the node's ``exprc_portable_conv_geometry`` and its values."""
    op = ctx.op
    pads = op.pads(kernel)
    groups = op.num_groups
    values = {
        "batch": batch, "groups": groups, "group_channels": channels // groups,
        "group_filters": filters // groups, "height": image[0], "width": image[1],
        "kernel_h": kernel[0], "kernel_w": kernel[1], "pad_h": int(pads[0]),
        "pad_w": int(pads[1]), "stride_h": op.subsample[0], "stride_w": op.subsample[1],
        "dilation_h": op.filter_dilation[0], "dilation_w": op.filter_dilation[1],
        "out_h": out[0], "out_w": out[1], "flip": int(op.filter_flip),
    }
    fields = ", ".join(f".{name} = {value}" for name, value in values.items())
    return f"const exprc_portable_conv_geometry geometry = {{{fields}}};", values


def _pointwise(g: dict, row_stride: int, col_stride: int) -> bool:
    """``exprc_portable_conv_pointwise``: 1x1 filters at stride 1 without padding over rows
    that follow each other, where the image is the product's matrix."""
    return (g["kernel_h"] == g["kernel_w"] == g["stride_h"] == g["stride_w"] == 1
            and g["pad_h"] == g["pad_w"] == 0
            and (g["height"] <= 1 or row_stride == g["width"] * col_stride))


def _filter_matrix(ctx: NodeContext, i: int) -> Layout:
    """Input ``i`` (filters O x C/g x kh x kw) with each filter contiguous, so that the
    filters are the rows of a matrix; copied when they are not."""
    w = ctx.inputs[i]
    inner = Layout(w.buffer, w.offset, w.shape[1:], w.strides[1:])
    if inner.is_contiguous() and (w.shape[0] <= 1 or w.strides[0] >= inner.size):
        return w
    return _contiguous_copy(ctx, w)


def _merged_rows(ctx: NodeContext, i: int) -> Layout:
    """Input ``i`` (4-d) with its last two axes merging into one (rows one row of columns
    apart), copied when they do not."""
    x = ctx.inputs[i]
    if x.shape[2] <= 1 or x.strides[2] == x.shape[3] * x.strides[3]:
        return x
    return _contiguous_copy(ctx, x)


def _contiguous_copy(ctx: NodeContext, layout: Layout) -> Layout:
    copy = Layout.whole(ctx.scratch(layout.dtype, layout.size).buffer, layout.shape)
    ctx.emit(*copy_lines(layout, copy))
    return copy


def _row_stride(w: Layout) -> int:
    """The stride between filters, as a matrix's row stride BLAS accepts for one filter."""
    inner = 1
    for size in w.shape[1:]:
        inner *= size
    return w.strides[0] if w.shape[0] > 1 else max(inner, 1)


def _call(ctx: NodeContext, declaration: str, call: str) -> None:
    ctx.emit("    {", f"        {declaration}", f"        if ({call})",
             "            " + ctx.fail("EXPRC_ERROR_VALUE", "internal error: the work memory "
                                       "planned for a convolution is too small"),
             "    }")


@EXPORT_C.register(Conv2d)
def conv2d(ctx: NodeContext) -> None:
    """im2col of each image and group, times the filters."""
    dtype = ctx.out_dtypes[0]
    x = ctx.inputs[0]
    w = _filter_matrix(ctx, 1)
    batch, filters, oh, ow = ctx.out_shapes[0]
    declaration, g = _geometry(ctx, x.shape[2:], w.shape[2:], (oh, ow), batch, x.shape[1],
                               filters)
    out = ctx.output(0)
    if out.size == 0:
        return
    suffix = ctx.need("conv", dtype)
    depth = g["group_channels"] * g["kernel_h"] * g["kernel_w"]
    pixels = oh * ow
    w_rs = _row_stride(w)
    if _pointwise(g, x.strides[2], x.strides[3]):
        col_size, b_strides = 0, (x.strides[1], x.strides[3])
    else:
        col_size, b_strides = depth * pixels, (pixels, 1)
    size = gemm_work(g["group_filters"], pixels, depth, (w_rs, 1), b_strides, dtype)
    col, work = ctx.scratch(dtype, col_size), ctx.scratch(dtype, size)
    xn, xc, xh, xw = x.strides
    _call(ctx, declaration,
          f"exprc_portable_conv2d{suffix}(&geometry, {x.pointer()}, {xn}, {xc}, {xh}, {xw}, "
          f"{w.pointer()}, {w_rs}, {out.pointer()}, {col.pointer()}, {work.pointer()}, "
          f"{size})")


@EXPORT_C.register(Conv2dGradInputs)
def conv2d_grad_inputs(ctx: NodeContext) -> None:
    """The transposed convolution: the filters (transposed) times each output gradient,
    added back into the image (col2im)."""
    dtype = ctx.out_dtypes[0]
    w = _filter_matrix(ctx, 0)
    gy = _merged_rows(ctx, 1)
    batch, channels, height, width = ctx.out_shapes[0]
    oh, ow = gy.shape[2:]
    declaration, g = _geometry(ctx, (height, width), w.shape[2:], (oh, ow), batch, channels,
                               w.shape[0])
    out = ctx.output(0)
    if out.size == 0:
        return
    suffix = ctx.need("conv", dtype)
    depth = g["group_channels"] * g["kernel_h"] * g["kernel_w"]
    pixels = oh * ow
    w_rs = _row_stride(w)
    gn, gc, _, gw = gy.strides
    pointwise = _pointwise(g, 0, 0) and pixels == height * width
    col_size = 0 if pointwise else depth * pixels
    size = gemm_work(depth, pixels, g["group_filters"], (1, w_rs), (gc, gw), dtype)
    col, work = ctx.scratch(dtype, col_size), ctx.scratch(dtype, size)
    _call(ctx, declaration,
          f"exprc_portable_conv2d_grad_inputs{suffix}(&geometry, {w.pointer()}, {w_rs}, "
          f"{gy.pointer()}, {gn}, {gc}, {gw}, {out.pointer()}, {col.pointer()}, "
          f"{work.pointer()}, {size})")


@EXPORT_C.register(Conv2dGradWeights)
def conv2d_grad_weights(ctx: NodeContext) -> None:
    """The filters' gradient: each output gradient times its image's im2col (transposed),
    summed over the batch."""
    dtype = ctx.out_dtypes[0]
    x = ctx.inputs[0]
    gy = _merged_rows(ctx, 1)
    filters, group_channels, kh, kw = ctx.out_shapes[0]
    batch, _, oh, ow = gy.shape
    declaration, g = _geometry(ctx, x.shape[2:], (kh, kw), (oh, ow), batch, x.shape[1],
                               filters)
    out = ctx.output(0)
    if out.size == 0:
        return
    suffix = ctx.need("conv", dtype)
    depth = group_channels * kh * kw
    pixels = oh * ow
    gn, gc, _, gw = gy.strides
    if _pointwise(g, x.strides[2], x.strides[3]):
        col_size, b_strides = 0, (x.strides[3], x.strides[1])
    else:
        col_size, b_strides = depth * pixels, (1, pixels)
    size = gemm_work(g["group_filters"], depth, pixels, (gc, gw), b_strides, dtype)
    col, work = ctx.scratch(dtype, col_size), ctx.scratch(dtype, size)
    xn, xc, xh, xw = x.strides
    _call(ctx, declaration,
          f"exprc_portable_conv2d_grad_weights{suffix}(&geometry, {x.pointer()}, {xn}, {xc}, "
          f"{xh}, {xw}, {gy.pointer()}, {gn}, {gc}, {gw}, {out.pointer()}, {col.pointer()}, "
          f"{work.pointer()}, {size})")
