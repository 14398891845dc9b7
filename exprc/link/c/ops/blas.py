"""C rules of the BLAS ops ``Gemm``, ``Gemv`` and ``Ger``, and the product helpers the
matrix products share.

float32 and float64 products call CBLAS ``gemm`` (through ``csrc/exprc_gemm.h``, which passes
strided operands as they are when BLAS can read them); other dtypes use a plain loop that
accumulates in the result dtype, as ``np.dot`` does. ``Gemv`` and ``Ger`` let ``z`` and the
product broadcast against each other as NumPy does: a ``Gemv`` whose ``z`` has the product's
length is one BLAS call; otherwise, and for ``Ger``, ``beta * z + alpha * product`` is formed
element by element in the reference's order of operations.
"""

from __future__ import annotations

from exprc.link.c.program import C_CODE, NodeContext, ctype, format_text, itemsize, typed_name
from exprc.tensor.blas import Gemm, Gemv, Ger

#: The dtypes whose products go to BLAS.
BLAS_DTYPES = ("float32", "float64")


def blas_product(ctx: NodeContext, dtype: str, a: str, b: str, c: str, ldc: str, alpha: str = "1",
             beta: str = "0", exact_zeros: bool = False) -> str:
    """A statement computing ``c = alpha * a @ b + beta * c`` through BLAS (see
    ``exprc_gemm_float32`` in ``csrc/exprc_gemm.h``); ``c`` is a pointer, rows ``ldc`` apart."""
    ctx.include("exprc_gemm.h")
    return (f"if ({typed_name('exprc_gemm', dtype)}(&pool, &{a}, &{b}, {c}, {ldc}, {alpha}, "
            f"{beta}, {int(exact_zeros)}, error, {ctx.index})) goto fail;")


def plain_product(oc: str, ac: str, bc: str, a_row: str, b_col: str, a_step: str,
                  b_step: str, out_element: str) -> list[str]:
    """C lines of the plain ``m x n x k`` product loop, for dtypes BLAS does not take.

    ``a_row`` and ``b_col`` point at row ``i`` of A and column ``j`` of B, ``a_step`` and
    ``b_step`` are the byte strides along the summed axis, and ``out_element`` is the output
    element ``(i, j)``; every product is accumulated in the output type ``oc``.
    """
    return [
        "    for (int64_t i = 0; i < m; ++i) for (int64_t j = 0; j < n; ++j) {",
        f"        const char *pa = {a_row}, *pb = {b_col};",
        f"        {oc} acc = 0;",
        "        for (int64_t r = 0; r < k; ++r)",
        f"            acc += ({oc})*(const {ac} *)(pa + r * {a_step})",
        f"                 * ({oc})*(const {bc} *)(pb + r * {b_step});",
        f"        {out_element} = acc;",
        "    }",
    ]


@C_CODE.register(Gemm)
def gemm(node, ctx: NodeContext) -> str:
    z, _, x, y, _ = ctx.inputs
    ctx.include("exprc_gemm.h")
    gemm_node = typed_name("exprc_gemm_node", node.outputs[0].dtype)
    return (f"if ({gemm_node}(&pool, &{ctx.outputs[0]}, &{z}, &{x}, &{y}, {ctx.scalar(1)}, "
            f"{ctx.scalar(4)}, {int(node.op.inplace)}, {ctx.label}, error, {ctx.index})) "
            "goto fail;")


__all__ = ["BLAS_DTYPES", "blas_product", "gemm", "gemv", "ger", "plain_product"]


def _broadcast_check(ctx: NodeContext, label: str, z: str, axis: int, size: str) -> str:
    """A statement failing when axis ``axis`` of ``z`` does not broadcast against ``size``."""
    return (f"if ({z}.shape[{axis}] != 1 && {size} != 1 && {z}.shape[{axis}] != {size}) "
            + ctx.fail("ValueError", f"{label}: z of shape %s does not broadcast to the "
                       "product's size %lld on axis " + str(axis), f"exprc_shape_str(&{z})",
                       f"(long long){size}"))


@C_CODE.register(Gemv)
def gemv(node, ctx: NodeContext) -> str:
    z, _, a, x, _ = ctx.inputs
    label = format_text(node.op)
    ctx.include("exprc_gemm.h")
    lines = [
        f"if ({a}.shape[1] != {x}.shape[0]) " + ctx.fail(
            "ValueError", f"{label}: shapes %s and %s are not aligned: %lld (dim 1) != %lld "
            "(dim 0)", f"exprc_shape_str(&{a})", f"exprc_shape_str(&{x})",
            f"(long long){a}.shape[1]", f"(long long){x}.shape[0]"),
        f"if ({a}.shape[0] > INT32_MAX || {a}.shape[1] > INT32_MAX) " + ctx.fail(
            "ValueError", f"{label}: sizes beyond 2**31 - 1 are not supported by BLAS"),
        f"const int64_t m = {a}.shape[0], k = {a}.shape[1];",
        _broadcast_check(ctx, label, z, 0, "m"),
        f"exprc_array X = exprc_as_matrix(&{x}, 0);",
        f"if ({z}.shape[0] == m && m > 0 && k > 0) {{",
        *["    " + line for line in _gemv_direct(node, ctx)],
        "} else {",
        *["    " + line for line in _gemv_broadcast(node, ctx)],
        "}",
    ]
    return "\n".join(lines)


def _gemv_direct(node, ctx: NodeContext) -> list[str]:
    """Lines for a z of the product's length: one BLAS call with beta scaling z (or a copy of
    it) in place."""
    dtype = node.outputs[0].dtype
    z, _, a, _, _ = ctx.inputs
    out, size = ctx.outputs[0], itemsize(dtype)
    fresh = [f"{out}.ndim = 1; {out}.shape[0] = m;", ctx.alloc_shaped(0),
             f"exprc_assign(&{out}, &{z}, {size});"]
    lines = fresh
    if node.op.inplace:
        # BLAS steps through the result with a positive whole-element stride.
        lines = [
            (f"if (exprc_refs({z}.owner) == 1 && (m <= 1 || ({z}.strides[0] > 0 "
             f"&& {z}.strides[0] % {size} == 0))) {{"),
            f"    {ctx.view(0, 0)}",
            "} else {", *["    " + f for f in fresh], "}",
        ]
    ldc = f"(m > 1 ? {out}.strides[0] / {size} : 1)"
    return lines + [
        f"exprc_array Y = exprc_as_matrix(&{out}, 0);",
        blas_product(ctx, dtype, a, "X", "Y.data", ldc, ctx.scalar(1), ctx.scalar(4),
                     exact_zeros=True),
    ]


def _gemv_broadcast(node, ctx: NodeContext) -> list[str]:
    """Lines for a z that broadcasts against the product (or an empty product): the product
    goes to a temporary, and ``beta * z + alpha * product`` is formed element by element."""
    dtype = node.outputs[0].dtype
    z, _, a, _, _ = ctx.inputs
    out = ctx.outputs[0]
    size, oc = itemsize(dtype), ctype(dtype)
    alpha, beta = ctx.scalar(1), ctx.scalar(4)
    return [
        "exprc_array P; memset(&P, 0, sizeof P);",
        "P.ndim = 2; P.shape[0] = m; P.shape[1] = 1;",
        f"if (exprc_alloc_array(&pool, &P, {size}, error, {ctx.index})) goto fail;",
        f"if (m > 0 && k == 0) memset(P.data, 0, (size_t)(m * {size}));",
        "else if (m > 0) {",
        "    " + blas_product(ctx, dtype, a, "X", "P.data", "1"),
        "}",
        f"{out}.ndim = 1;",
        f"{out}.shape[0] = {z}.shape[0] == 1 ? m : {z}.shape[0];",
        (f"if (exprc_alloc_array(&pool, &{out}, {size}, error, {ctx.index})) "
         "{ exprc_release(&pool, P.owner); goto fail; }"),
        f"for (int64_t i = 0; i < {out}.shape[0]; ++i) {{",
        (f"    const {oc} zv = *(const {oc} *)({z}.data + ({z}.shape[0] > 1 ? i : 0) * "
         f"{z}.strides[0]);"),
        f"    const {oc} pv = (({oc} *)P.data)[m > 1 ? i : 0];",
        f"    (({oc} *){out}.data)[i] = {beta} * zv + {alpha} * pv;",
        "}",
        "exprc_release(&pool, P.owner);",
    ]


@C_CODE.register(Ger)
def ger(node, ctx: NodeContext) -> str:
    dtype = node.outputs[0].dtype
    z, _, x, y, _ = ctx.inputs
    out = ctx.outputs[0]
    oc = ctype(dtype)
    label = format_text(node.op)
    alpha, beta = ctx.scalar(1), ctx.scalar(4)
    # One pass forming beta * z + alpha * (x[i] * y[j]) gives the reference's bits without
    # a temporary for the outer product.
    return "\n".join([
        f"const int64_t m = {x}.shape[0], n = {y}.shape[0];",
        _broadcast_check(ctx, label, z, 0, "m"),
        _broadcast_check(ctx, label, z, 1, "n"),
        ctx.alloc_output(0, [f"{z}.shape[0] == 1 ? m : {z}.shape[0]",
                             f"{z}.shape[1] == 1 ? n : {z}.shape[1]"]),
        f"const int64_t zs0 = {z}.shape[0] > 1 ? {z}.strides[0] : 0;",
        f"const int64_t zs1 = {z}.shape[1] > 1 ? {z}.strides[1] : 0;",
        f"const int64_t xs = m > 1 ? {x}.strides[0] : 0, ys = n > 1 ? {y}.strides[0] : 0;",
        f"for (int64_t i = 0; i < {out}.shape[0]; ++i) {{",
        f"    const {oc} xv = *(const {oc} *)({x}.data + i * xs);",
        f"    {oc} *row = ({oc} *)({out}.data + i * {out}.strides[0]);",
        f"    for (int64_t j = 0; j < {out}.shape[1]; ++j) {{",
        f"        const {oc} zv = *(const {oc} *)({z}.data + i * zs0 + j * zs1);",
        f"        const {oc} pv = xv * *(const {oc} *)({y}.data + j * ys);",
        f"        row[j] = {beta} * zv + {alpha} * pv;",
        "    }",
        "}",
    ])
