"""C rules of ``Gemv``, ``Ger``, ``BatchedDot``, ``Split``, ``Eye`` and ``GradientFilter``.

``Gemv`` and ``Ger`` let ``z`` and the product broadcast against each other as NumPy does.
A ``Gemv`` whose ``z`` has the product's length is one BLAS call; otherwise, and for ``Ger``,
``beta * z + alpha * product`` is formed element by element in the reference's order of
operations. ``Split`` and ``GradientFilter`` are views and never copy.
"""

from __future__ import annotations

from exprc.gradient.filters import GradientFilter
from exprc.link.c.ops.blas import BLAS_DTYPES, blas_product, plain_product
from exprc.link.c.program import (
    C_CODE,
    CUnsupportedError,
    NodeContext,
    ctype,
    format_text,
    itemsize,
)
from exprc.tensor.basic import Eye, Split
from exprc.tensor.blas import Gemv, Ger
from exprc.tensor.linalg import BatchedDot


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


@C_CODE.register(Split)
def split(node, ctx: NodeContext) -> str:
    x, sizes = ctx.inputs
    axis, count = node.op.axis, node.op.n_splits
    lines = [
        f"int64_t size[{count}], total = 0, bad = {sizes}.shape[0] != {count};",
        f"for (int64_t p = 0; !bad && p < {count}; ++p) {{",
        f"    size[p] = {ctx.element(1, 'p')};",
        "    bad = size[p] < 0 || __builtin_add_overflow(total, size[p], &total);",
        "}",
        f"if (bad || total != {x}.shape[{axis}]) {{",
        # Show the sizes as given (at most 16 of them), whatever was wrong with them.
        f"    int64_t given[16], shown = {sizes}.shape[0] < 16 ? {sizes}.shape[0] : 16;",
        f"    for (int64_t p = 0; p < shown; ++p) given[p] = {ctx.element(1, 'p')};",
        "    " + ctx.fail(
            "ValueError", f"{format_text(node.op)}: cannot split an array of shape %s on axis "
            f"{axis} into {count} pieces of sizes %s", f"exprc_shape_str(&{x})",
            "exprc_ints_str(shown, given, 1)"),
        "}",
        "int64_t offset = 0;",
    ]
    # Every piece is a view of x: the same strides, a shifted start, a shorter axis.
    for i, piece in enumerate(ctx.outputs):
        lines += [
            ctx.view(i, 0),
            f"{piece}.shape[{axis}] = size[{i}];",
            f"{piece}.data += offset * {x}.strides[{axis}];",
            f"offset += size[{i}];",
        ]
    return "\n".join(lines)


@C_CODE.register(Eye)
def eye(node, ctx: NodeContext) -> str:
    out = ctx.outputs[0]
    oc = ctype(node.op.dtype)
    n, m, k = (f"(int64_t){ctx.scalar(j)}" for j in range(3))
    return "\n".join([
        f"const int64_t n = {n}, m = {m}, k = {k};",
        "if (n < 0 || m < 0) " + ctx.fail(
            "ValueError", f"{format_text(node.op)}: negative size: n=%lld, m=%lld", "(long long)n",
            "(long long)m"),
        ctx.alloc_output(0, ["n", "m"]),
        f"memset({out}.data, 0, (size_t)(n * m * {itemsize(node.op.dtype)}));",
        # Row i holds its one at column i + k; the bounds keep i + k from overflowing.
        "if (k < m && k > -n)",
        "    for (int64_t i = k < 0 ? -k : 0; i < n && i + k < m; ++i)",
        f"        (({oc} *){out}.data)[i * m + i + k] = ({oc})1;",
    ])


@C_CODE.register(GradientFilter)
def gradient_filter(node, ctx: NodeContext) -> str:
    # Identity forward: the output is the input itself.
    return ctx.view(0, 0)


__all__ = ["batched_dot", "eye", "gemv", "ger", "gradient_filter", "split"]
