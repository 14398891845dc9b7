"""C rules of the matrix products ``Dot`` and ``Gemm``.

float32 and float64 products call CBLAS ``gemm`` (through ``csrc/exprc_gemm.h``, which passes
strided operands as they are when BLAS can read them); other dtypes use a plain loop that
accumulates in the result dtype, as ``np.dot`` does.
"""

from __future__ import annotations

from exprc.link.c.program import C_CODE, NodeContext, ctype, format_text, itemsize
from exprc.tensor.blas import Gemm
from exprc.tensor.linalg import Dot

_SUFFIX = {"float32": "s", "float64": "d"}

#: The dtypes whose products go to BLAS.
BLAS_DTYPES = tuple(_SUFFIX)


def blas_product(ctx: NodeContext, dtype: str, a: str, b: str, c: str, ldc: str, alpha: str = "1",
             beta: str = "0", exact_zeros: bool = False) -> str:
    """A statement computing ``c = alpha * a @ b + beta * c`` through BLAS (see
    ``exprc_gemm_s`` in ``csrc/exprc_gemm.h``); ``c`` is a pointer, rows ``ldc`` apart."""
    ctx.include("exprc_gemm.h")
    return (f"if (exprc_gemm_{_SUFFIX[dtype]}(&pool, &{a}, &{b}, {c}, {ldc}, {alpha}, {beta}, "
            f"{int(exact_zeros)}, error, {ctx.index})) goto fail;")


def _check_sizes(ctx: NodeContext, a: str, b: str, label: str) -> list[str]:
    return [
        f"if ({a}.shape[1] != {b}.shape[0]) " + ctx.fail(
            "ValueError", f"{label}: shapes %s and %s are not aligned: %lld (dim 1) != %lld "
            "(dim 0)", f"exprc_shape_str(&{a})", f"exprc_shape_str(&{b})",
            f"(long long){a}.shape[1]", f"(long long){b}.shape[0]"),
        f"if ({a}.shape[0] > INT32_MAX || {a}.shape[1] > INT32_MAX || "
        f"{b}.shape[1] > INT32_MAX) " + ctx.fail(
            "ValueError", f"{label}: sizes beyond 2**31 - 1 are not supported by BLAS"),
    ]


@C_CODE.register(Dot)
def dot(node, ctx: NodeContext) -> str:
    dtype = node.outputs[0].dtype
    # Booleans take the plain loop: a C bool accumulator turns the sum of products into the
    # "or" of "and"s, which is NumPy's boolean product.
    a, b = ctx.inputs
    out = ctx.outputs[0]
    shape = [f"{a}.shape[0]"] * (node.inputs[0].ndim == 2) + \
        [f"{b}.shape[1]"] * (node.inputs[1].ndim == 2)
    lines = [f"exprc_array A = exprc_as_matrix(&{a}, 1), B = exprc_as_matrix(&{b}, 0);"]
    ctx.include("exprc_gemm.h")
    lines += _check_sizes(ctx, "A", "B", format_text(node.op))
    lines.append(ctx.alloc_output(0, shape))
    oc = ctype(dtype)
    if all(v.dtype == dtype for v in node.inputs) and dtype in _SUFFIX:
        lines.append(blas_product(ctx, dtype, "A", "B", f"{out}.data",
                              "B.shape[1] > 1 ? B.shape[1] : 1"))
        return "\n".join(lines)
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
    dtype = node.outputs[0].dtype
    z, _, x, y, _ = ctx.inputs
    out = ctx.outputs[0]
    size = itemsize(dtype)
    label = format_text(node.op)
    alpha, beta = ctx.scalar(1), ctx.scalar(4)
    lines = _check_sizes(ctx, x, y, label)
    lines += [
        f"const int64_t m = {x}.shape[0], n = {y}.shape[1];",
        f"if (({z}.shape[0] != 1 && m != 1 && {z}.shape[0] != m) || ({z}.shape[1] != 1 && "
        f"n != 1 && {z}.shape[1] != n)) " + ctx.fail(
            "ValueError", f"{label}: z of shape %s does not broadcast to the product's "
            "shape (%lld, %lld)", f"exprc_shape_str(&{z})", "(long long)m", "(long long)n"),
        # z larger than the product, which then broadcasts: formed element by element.
        f"if (({z}.shape[0] != m && m == 1) || ({z}.shape[1] != n && n == 1)) {{",
        (f"    if (exprc_gemm_enlarged_{_SUFFIX[dtype]}(&pool, &{z}, &{x}, &{y}, &{out}, "
         f"{alpha}, {beta}, error, {ctx.index})) goto fail;"),
        "} else {",
    ]
    fresh = [f"{out}.ndim = 2; {out}.shape[0] = m; {out}.shape[1] = n;",
             ctx.alloc_shaped(0), f"exprc_assign(&{out}, &{z}, {size});"]
    if node.op.inplace:
        body = [
            f"if (exprc_refs({z}.owner) == 1 && {z}.shape[0] == m && {z}.shape[1] == n",
            f"        && (n <= 1 || {z}.strides[1] == {size})",
            (f"        && (m <= 1 || ({z}.strides[0] % {size} == 0 "
            f"&& {z}.strides[0] >= (n > 1 ? n : 1) * {size}))) {{"),
            f"    {ctx.view(0, 0)}",
            "} else {", *["    " + f for f in fresh], "}",
        ]
    else:
        body = fresh
    ldc = f"(m > 1 ? {out}.strides[0] / {size} : (n > 1 ? n : 1))"
    body.append(blas_product(ctx, dtype, x, y, f"{out}.data", ldc, alpha, beta, exact_zeros=True))
    lines += ["    " + line for line in "\n".join(body).splitlines()]
    lines.append("}")
    return "\n".join(lines)


__all__ = ["BLAS_DTYPES", "blas_product", "dot", "gemm", "plain_product"]
