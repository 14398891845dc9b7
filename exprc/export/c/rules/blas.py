"""Standalone C of the blas family (``Gemm``, ``Gemv``, ``Ger``), and the matrix-product
helpers the linalg and conv rules share.

Products go to ``exprc_portable_gemm_<dtype>`` (``csrc/exprc_portable_gemm.h``): a packed,
blocked GEMM, or CBLAS when the program is compiled with ``-DEXPRC_USE_CBLAS``. Operands are
passed with their strides (a transposed weight matrix is read as it is stored); a view BLAS
could not read (a broadcast, a negative or a scattered stride) is copied first, so the same
call serves both paths. The packing memory comes from the arena, sized here by
:func:`gemm_work`, which follows the C code's blocking step for step.

``beta * z + alpha * product`` keeps the reference's order of operations and its treatment of
zero coefficients: ``z`` is read even when ``beta`` is 0, so a NaN in it stays NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exprc.export.c.layout import Layout, loop_nest
from exprc.export.c.program import EXPORT_C, NodeContext, copy_lines
from exprc.tensor.blas import Gemm, Gemv, Ger

__all__ = ["GEMM_DTYPES", "Matrix", "blas_strides", "emit_gemm", "gemm_work", "matrix",
           "scalar"]

#: The dtypes of the portable GEMM (and of CBLAS).
GEMM_DTYPES = ("float32", "float64")

# The blocking of csrc/exprc_portable_gemm.h (EXPRC_PGEMM_*): keep the two in step.
_MR = 4
_VECTOR_BYTES = (16, 32)  # the C picks 32 when compiled for AVX: the work fits either
_KC = 256
_MC = 128
_NC = 1024


def _round_up(n: int, step: int) -> int:
    return -(-n // step) * step


def gemm_work(m: int, n: int, k: int, a_strides: tuple[int, int], b_strides: tuple[int, int],
              dtype: str) -> int:
    """Elements of work memory ``exprc_portable_gemm`` needs for the product of the ``m x k``
    matrix of strides ``a_strides`` and the ``k x n`` matrix of strides ``b_strides``.

    It mirrors the C: a product with fewer columns than a tile and more rows is computed
    transposed; the packed block of A holds up to MC rows (rounded up to tiles) by the depth
    of one block of the sum; B is packed by blocks of NC columns, or read in place (only an
    edge panel packed) when its rows are contiguous and A has at most MC rows; a product with
    one row of A, its row or B's columns contiguous, needs none. The tile's width depends on
    the vectors the C is compiled for, so the larger need counts.
    """
    if m <= 0 or n <= 0 or k <= 0:
        return 0
    return max(_work(m, n, k, a_strides, b_strides, 2 * (vector // np.dtype(dtype).itemsize))
               for vector in _VECTOR_BYTES)


def _work(m: int, n: int, k: int, a_strides: tuple[int, int], b_strides: tuple[int, int],
          nr: int) -> int:
    """:func:`gemm_work` for tiles of ``nr`` columns."""
    if n < nr and m > n:  # C^T = B^T @ A^T: A^T plays A and B^T plays B
        m, n = n, m
        a_strides, b_strides = (b_strides[1], b_strides[0]), (a_strides[1], a_strides[0])
    if m == 1 and (b_strides[1] == 1 or (a_strides[1] == 1 and b_strides[0] == 1)):
        return 0  # one row of A: B is read in place, without packing
    blocks = -(-k // _KC)
    depth = -(-k // blocks)
    rows = min(m, _MC)
    in_place = b_strides[1] == 1 and m <= _MC
    cols = nr if in_place else min(n, _NC)
    return (_round_up(rows, _MR) + _round_up(cols, nr)) * depth


def blas_strides(layout: Layout) -> tuple[int, int] | None:
    """The (row, column) strides of a 2-d view as BLAS can read them (one stride 1 and the
    other at least the extent it steps over; a size-1 axis may take any stride, so it is given
    one that fits), or None when BLAS cannot read the view without a copy."""
    rows, cols = layout.shape
    rs, cs = layout.strides
    if (cols <= 1 or cs == 1) and (rows <= 1 or rs >= max(cols, 1)):
        return (rs if rows > 1 else max(cols, 1), 1)
    if (rows <= 1 or rs == 1) and (cols <= 1 or cs >= max(rows, 1)):
        return (1, cs if cols > 1 else max(rows, 1))
    return None


@dataclass(frozen=True)
class Matrix:
    """A 2-d operand of a product: its view and the strides passed to the GEMM."""

    layout: Layout
    rs: int
    cs: int

    def pointer(self) -> str:
        return self.layout.pointer()


def matrix(ctx: NodeContext, layout: Layout, dtype: str | None = None) -> Matrix:
    """``layout`` (2-d) as a product operand of ``dtype`` (default its own): as it is when
    BLAS can read it, else copied (and converted) into scratch memory, row-major."""
    dtype = dtype or layout.dtype
    strides = blas_strides(layout) if layout.dtype == dtype else None
    if strides is None:
        copy = ctx.scratch(dtype, layout.size)
        copy = Layout.whole(copy.buffer, layout.shape)
        ctx.emit(*copy_lines(layout, copy))
        layout = copy
        strides = blas_strides(layout)
    return Matrix(layout, *strides)


def scalar(ctx: NodeContext, i: int) -> str:
    """A C expression of the 0-d input ``i``: a literal when known at export time."""
    value = ctx.values[i]
    if value is not None:
        return ctx.renderer.literal(np.asarray(value).reshape(()))
    return ctx.inputs[i].element("0")


def emit_gemm(ctx: NodeContext, dtype: str, a: Matrix, b: Matrix, c: str, ldc: int,
              alpha: str = "1", beta: str = "0", accumulate: bool = False,
              indent: str = "    ", offsets: tuple[str, str, str] = ("", "", "")) -> None:
    """Emit ``c = beta * c + alpha * a @ b`` (``c = alpha * a @ b`` without ``accumulate``)
    for the C pointer ``c`` to a row-major result with rows ``ldc`` apart. ``offsets`` are
    C expressions added to the three pointers (a batch loop's steps)."""
    (m, k), n = a.layout.shape, b.layout.shape[1]
    suffix = ctx.need("gemm", dtype)
    size = gemm_work(m, n, k, (a.rs, a.cs), (b.rs, b.cs), dtype)
    work = ctx.scratch(dtype, size)
    pa, pb, pc = (f"{p}{' + ' + o if o else ''}" for p, o in zip((a.pointer(), b.pointer(), c),
                                                                offsets))
    call = (f"exprc_portable_gemm{suffix}({m}, {n}, {k}, {alpha}, {pa}, {a.rs}, {a.cs}, {pb}, "
            f"{b.rs}, {b.cs}, {beta}, {pc}, {ldc}, {int(accumulate)}, {work.pointer()}, "
            f"{size})")
    ctx.emit(f"{indent}if ({call})", f"{indent}    " + _work_failure(ctx))


def _work_failure(ctx: NodeContext) -> str:
    # Only a disagreement between gemm_work and the C blocking leads here.
    return ctx.fail("EXPRC_ERROR_VALUE", "internal error: the work memory planned for a "
                    "matrix product is too small")


def _column(layout: Layout) -> Layout:
    """A vector as a one-column matrix."""
    return Layout(layout.buffer, layout.offset, (layout.shape[0], 1), (layout.strides[0], 1))


def _product_then_combine(ctx: NodeContext, a: Matrix, b: Matrix, product_shape: tuple,
                          z: Layout, alpha: str, beta: str) -> None:
    """``beta * z + alpha * P`` where ``z`` is larger than the product ``P`` (which then
    broadcasts): ``P`` goes to scratch memory, and the sum is formed element by element."""
    dtype = ctx.out_dtypes[0]
    m, n = a.layout.shape[0], b.layout.shape[1]
    product = ctx.scratch(dtype, m * n)
    emit_gemm(ctx, dtype, a, b, product.pointer(), max(n, 1))
    shape = ctx.out_shapes[0]
    out = ctx.output(0)
    p = Layout.whole(product.buffer, product_shape).broadcast_to(shape)
    zb = z.broadcast_to(shape)
    ctx.emit(*loop_nest(shape, [zb, p, out], lambda ix: [
        f"{out.element(ix[2])} = {beta} * {zb.element(ix[0])} + {alpha} * {p.element(ix[1])};"
    ]))


def _scaled_into_output(ctx: NodeContext, a: Matrix, b: Matrix, alpha: str, beta: str) -> None:
    """Output = ``beta * z + alpha * a @ b`` where the output has the product's shape: ``z``
    is copied (broadcast) into the output, unless the output is ``z`` itself (an in-place op
    whose ``z`` nothing reads later), and the GEMM scales and adds in place."""
    z = ctx.inputs[0]
    shape = ctx.out_shapes[0]
    out = ctx.output(0, reuse=0)
    if out is not z:
        ctx.emit(*copy_lines(z.broadcast_to(shape), out))
    emit_gemm(ctx, ctx.out_dtypes[0], a, b, out.pointer(), max(b.layout.shape[1], 1),
              alpha, beta, accumulate=True)


@EXPORT_C.register(Gemm)
def gemm(ctx: NodeContext) -> None:
    """``beta * z + alpha * x @ y``: one GEMM accumulating into a copy of ``z``."""
    z, _, x, y, _ = ctx.inputs
    dtype = ctx.out_dtypes[0]
    a, b = matrix(ctx, x, dtype), matrix(ctx, y, dtype)
    alpha, beta = scalar(ctx, 1), scalar(ctx, 4)
    product_shape = (x.shape[0], y.shape[1])
    if ctx.out_shapes[0] == product_shape:
        _scaled_into_output(ctx, a, b, alpha, beta)
    else:
        _product_then_combine(ctx, a, b, product_shape, z, alpha, beta)


@EXPORT_C.register(Gemv)
def gemv(ctx: NodeContext) -> None:
    """``beta * y + alpha * A @ x``: the GEMM of ``A`` and ``x`` as one column (which the
    kernel computes transposed, the rows of ``A`` filling its tiles)."""
    z, _, a_in, x, _ = ctx.inputs
    dtype = ctx.out_dtypes[0]
    a, b = matrix(ctx, a_in, dtype), matrix(ctx, _column(x), dtype)
    alpha, beta = scalar(ctx, 1), scalar(ctx, 4)
    if ctx.out_shapes[0] == (a_in.shape[0],):
        _scaled_into_output(ctx, a, b, alpha, beta)
    else:
        _product_then_combine(ctx, a, b, (a_in.shape[0],), z, alpha, beta)


@EXPORT_C.register(Ger)
def ger(ctx: NodeContext) -> None:
    """``beta * A + alpha * outer(x, y)``, element by element in the reference's order."""
    z, _, x, y, _ = ctx.inputs
    shape = ctx.out_shapes[0]
    alpha, beta = scalar(ctx, 1), scalar(ctx, 4)
    zb = z.broadcast_to(shape)
    xb = _column(x).broadcast_to(shape)
    yb = y.broadcast_to(shape)
    out = ctx.output(0, reuse=0)
    ctx.emit(*loop_nest(shape, [zb, xb, yb, out], lambda ix: [
        f"{out.element(ix[3])} = {beta} * {zb.element(ix[0])} + {alpha} * "
        f"({xb.element(ix[1])} * {yb.element(ix[2])});"]))
