"""Standalone C of the linalg family: ``Dot`` (vectors and matrices) and ``BatchedDot``.

Float products go to the portable GEMM (see :mod:`exprc.export.c.rules.blas`), operands of
another dtype first converted to the result's; a vector is a one-row (left) or one-column
(right) matrix. Products of integers and booleans are plain loops, as in exprc's C backend:
integers multiply and add modulo 2**64 and keep the low bits (NumPy's wrap-around in the
result's dtype, without C's undefined signed overflow); booleans take the "or" of "and"s.
"""

from __future__ import annotations

from exprc.export.c.layout import Layout
from exprc.export.c.program import EXPORT_C, NodeContext, copy_lines
from exprc.export.c.rules.blas import GEMM_DTYPES, blas_strides, emit_gemm, matrix
from exprc.tensor.linalg import BatchedDot, Dot


def _as_matrix(layout: Layout, left: bool) -> Layout:
    """A vector as a one-row matrix (the left operand) or a one-column matrix (the right)."""
    if layout.ndim == 2:
        return layout
    size, stride = layout.shape[0], layout.strides[0]
    if left:
        return Layout(layout.buffer, layout.offset, (1, size), (size, stride))
    return Layout(layout.buffer, layout.offset, (size, 1), (stride, 1))


def _converted(ctx: NodeContext, layout: Layout, dtype: str) -> Layout:
    """``layout`` in ``dtype``: itself, or a converted copy in scratch memory."""
    if layout.dtype == dtype:
        return layout
    return _copy(ctx, layout, dtype)


def _plain_product(ctx: NodeContext, a: Layout, b: Layout, out: Layout,
                   indent: str = "    ", shifts: tuple[str, str, str] = ("", "", "")) -> None:
    """Loops computing the ``m x n`` matrix ``out`` = ``a`` @ ``b`` (views, of the result's
    dtype) for the dtypes the GEMM does not take. ``shifts`` are C expressions (a batch
    loop's offsets) prefixed to the element offsets of the three views."""
    (m, k), n = a.shape, b.shape[1]
    dtype = out.dtype
    if dtype == "bool":
        acc_type, start, update = "bool", "false", "acc = acc || ({x} && {y});"
        result = "acc"
    elif dtype.startswith(("int", "uint")):
        acc_type, start = "uint64_t", "0"
        update = "acc += (uint64_t){x} * (uint64_t){y};"
        result = f"({out.ctype})acc"
    else:
        acc_type, start, update = out.ctype, "0", "acc += {x} * {y};"
        result = "acc"
    sa, sb, so = (f"{s} + " if s else "" for s in shifts)
    x = a.element(f"{sa}i * {a.strides[0]} + p * {a.strides[1]}")
    y = b.element(f"{sb}p * {b.strides[0]} + j * {b.strides[1]}")
    ctx.emit(
        f"{indent}for (ptrdiff_t i = 0; i < {m}; ++i) {{",
        f"{indent}    for (ptrdiff_t j = 0; j < {n}; ++j) {{",
        f"{indent}        {acc_type} acc = {start};",
        f"{indent}        for (ptrdiff_t p = 0; p < {k}; ++p) {update.format(x=x, y=y)}",
        f"{indent}        {out.element(f'{so}i * {max(n, 1)} + j')} = {result};",
        f"{indent}    }}",
        f"{indent}}}")


@EXPORT_C.register(Dot)
def dot(ctx: NodeContext) -> None:
    """``np.dot`` of vectors and matrices: one GEMM (floats) or plain loops."""
    dtype = ctx.out_dtypes[0]
    left, right = ctx.inputs
    a = _as_matrix(left, left=True)
    b = _as_matrix(right, left=False)
    if dtype in GEMM_DTYPES:
        ma, mb = matrix(ctx, a, dtype), matrix(ctx, b, dtype)
        out = ctx.output(0)
        emit_gemm(ctx, dtype, ma, mb, out.pointer(), max(b.shape[1], 1))
        return
    a, b = _converted(ctx, a, dtype), _converted(ctx, b, dtype)
    out = ctx.output(0)
    _plain_product(ctx, a, b, Layout.whole(out.buffer, (a.shape[0], b.shape[1])))


@EXPORT_C.register(BatchedDot)
def batched_dot(ctx: NodeContext) -> None:
    """``out[q] = a[q] @ b[q]``: a loop over the batch, one GEMM (or plain loops) apiece."""
    dtype = ctx.out_dtypes[0]
    batch, m, n = ctx.out_shapes[0]
    a, b = (_converted(ctx, layout, dtype) for layout in ctx.inputs)
    if dtype in GEMM_DTYPES:
        # The entries share their strides, so one check says whether BLAS reads them all;
        # where it cannot, the whole operand is copied (row-major), not entry by entry.
        a, b = (x if blas_strides(_entry(x)) is not None else _copy(ctx, x) for x in (a, b))
    out = ctx.output(0)
    if batch == 0 or m * n == 0:
        return
    shifts = (f"q * {a.strides[0]}", f"q * {b.strides[0]}", f"q * {m * n}")
    ctx.emit(f"    for (ptrdiff_t q = 0; q < {batch}; ++q) {{")
    if dtype in GEMM_DTYPES:
        emit_gemm(ctx, dtype, matrix(ctx, _entry(a)), matrix(ctx, _entry(b)), out.pointer(),
                  max(n, 1), indent="        ", offsets=shifts)
    else:
        _plain_product(ctx, _entry(a), _entry(b), Layout.whole(out.buffer, (m, n)),
                       "        ", shifts)
    ctx.emit("    }")


def _entry(layout: Layout) -> Layout:
    """The first entry of a batch of matrices."""
    return Layout(layout.buffer, layout.offset, layout.shape[1:], layout.strides[1:])


def _copy(ctx: NodeContext, layout: Layout, dtype: str | None = None) -> Layout:
    """``layout`` copied row-major into scratch memory (converted to ``dtype``)."""
    dtype = dtype or layout.dtype
    copy = Layout.whole(ctx.scratch(dtype, layout.size).buffer, layout.shape)
    ctx.emit(*copy_lines(layout, copy))
    return copy
