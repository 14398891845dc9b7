"""C rules of the matrix products ``Dot`` and ``BatchedDot`` (BLAS for float32 and float64,
plain loops otherwise; see :mod:`exprc.link.c.ops.blas`).
"""

from __future__ import annotations

from exprc.link.c.ops.blas import BLAS_DTYPES, blas_product, plain_product
from exprc.link.c.program import (
    C_CODE,
    CUnsupportedError,
    NodeContext,
    ctype,
    format_text,
    itemsize,
    typed_name,
)
from exprc.tensor.linalg import BatchedDot, Dot


@C_CODE.register(BatchedDot)
def batched_dot(node, ctx: NodeContext) -> str:
    dtype = node.outputs[0].dtype
    if dtype == "bool":
        raise CUnsupportedError("a product of booleans")
    a, b = ctx.inputs
    out = ctx.outputs[0]
    size, oc = itemsize(dtype), ctype(dtype)
    lines = [
        f"if ({a}.shape[0] != {b}.shape[0]) " + ctx.fail(
            "ValueError", "batched_dot: batch sizes differ: a has shape %s, b has shape %s",
            f"exprc_shape_str(&{a})", f"exprc_shape_str(&{b})"),
        f"if ({a}.shape[2] != {b}.shape[1]) " + ctx.fail(
            "ValueError", "batched_dot: inner dimensions differ: a has shape %s, b has "
            "shape %s", f"exprc_shape_str(&{a})", f"exprc_shape_str(&{b})"),
        (f"const int64_t nb = {a}.shape[0], m = {a}.shape[1], k = {a}.shape[2], "
         f"n = {b}.shape[2];"),
        ctx.alloc_output(0, ["nb", "m", "n"]),
        (f"if (nb > 0 && m > 0 && n > 0 && k == 0) memset({out}.data, 0, "
         f"(size_t)(nb * m * n * {size}));"),
        "else if (nb > 0 && m > 0 && n > 0) {",
    ]
    if all(v.dtype == dtype for v in node.inputs) and dtype in BLAS_DTYPES:
        lines += [
            "    if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) " + ctx.fail(
                "ValueError", f"{format_text(node.op)}: sizes beyond 2**31 - 1 are not supported "
                "by BLAS"),
            "    exprc_array A, B, C;",
            # Each batch entry is a 2-d view of the operands, one BLAS call apiece.
            "    for (int64_t q = 0; q < nb; ++q) {",
            f"        A = {a}; A.ndim = 2; A.data += q * {a}.strides[0];",
            f"        B = {b}; B.ndim = 2; B.data += q * {b}.strides[0];",
            "        for (int d = 0; d < 2; ++d) {",
            f"            A.shape[d] = {a}.shape[d + 1]; A.strides[d] = {a}.strides[d + 1];",
            f"            B.shape[d] = {b}.shape[d + 1]; B.strides[d] = {b}.strides[d + 1];",
            "        }",
            f"        C = {out}; C.ndim = 2; C.data += q * {out}.strides[0];",
            "        C.shape[0] = m; C.shape[1] = n;",
            "        {",
            "            " + blas_product(ctx, dtype, "A", "B", "C.data", "n > 1 ? n : 1"),
            "        }",
            "    }",
        ]
    else:
        lines.append("    for (int64_t q = 0; q < nb; ++q)")
        lines += plain_product(
            oc, ctype(node.inputs[0].dtype), ctype(node.inputs[1].dtype),
            a_row=f"{a}.data + q * {a}.strides[0] + i * {a}.strides[1]",
            b_col=f"{b}.data + q * {b}.strides[0] + j * {b}.strides[2]",
            a_step=f"{a}.strides[2]", b_step=f"{b}.strides[1]",
            out_element=f"(({oc} *){out}.data)[(q * m + i) * n + j]")
    lines.append("}")
    return "\n".join(lines)


__all__ = ["batched_dot", "dot"]


@C_CODE.register(Dot)
def dot(node, ctx: NodeContext) -> str:
    dtype = node.outputs[0].dtype
    # Booleans take the plain loop: a C bool accumulator turns the sum of products into the
    # "or" of "and"s, which is NumPy's boolean product.
    a, b = ctx.inputs
    out = ctx.outputs[0]
    shape = [f"{a}.shape[0]"] * (node.inputs[0].ndim == 2) + \
        [f"{b}.shape[1]"] * (node.inputs[1].ndim == 2)
    ctx.include("exprc_gemm.h")
    if all(v.dtype == dtype for v in node.inputs) and dtype in BLAS_DTYPES:
        return (f"if ({typed_name('exprc_dot_node', dtype)}(&pool, &{out}, &{a}, &{b}, "
                f"{ctx.label}, error, {ctx.index})) goto fail;")
    lines = [f"exprc_array A = exprc_as_matrix(&{a}, 1), B = exprc_as_matrix(&{b}, 0);",
             (f"if (!exprc_product_sizes_ok(&A, &B, {ctx.label}, error, {ctx.index})) "
              "goto fail;"),
             ctx.alloc_output(0, shape)]
    oc = ctype(dtype)
    lines += [
        "const int64_t m = A.shape[0], n = B.shape[1], k = A.shape[1];",
        (f"if (m > 0 && n > 0 && k == 0) memset({out}.data, 0, "
        f"(size_t)(m * n * {itemsize(dtype)}));"),
        "else if (m > 0 && n > 0) {",
    ]
    lines += plain_product(
        oc, ctype(node.inputs[0].dtype), ctype(node.inputs[1].dtype),
        a_row="A.data + i * A.strides[0]", b_col="B.data + j * B.strides[1]",
        a_step="A.strides[1]", b_step="B.strides[0]",
        out_element=f"(({oc} *){out}.data)[i * n + j]")
    lines.append("}")
    return "\n".join(lines)
