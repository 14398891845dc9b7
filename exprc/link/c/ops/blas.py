"""C rules of the matrix products ``Dot`` and ``Gemm``.

float32 and float64 products call CBLAS ``gemm`` (through ``csrc/exprc_gemm.h``, which passes
strided operands as they are when BLAS can read them); other dtypes use a plain loop that
accumulates in the result dtype, as ``np.dot`` does.
"""

from __future__ import annotations

from exprc.link.c.ops.shape import _text
from exprc.link.c.program import C_CODE, CUnsupportedError, NodeContext, ctype, itemsize
from exprc.tensor.blas import Gemm
from exprc.tensor.linalg import Dot

_GEMM = {"float32": "exprc_cblas_sgemm", "float64": "exprc_cblas_dgemm"}


def _gemm_call(ctx: NodeContext, dtype: str, a: str, b: str, c: str, ldc: str, alpha: str,
               beta: str) -> list[str]:
    """Lines computing ``c = alpha * a @ b + beta * c`` for 2-d views ``a``, ``b`` and
    ``c`` (rows of ``c`` ``ldc`` elements apart), with temporaries released after."""
    ctx.include("exprc_gemm.h")
    size = itemsize(dtype)
    return [
        "int ta, tb; int64_t lda, ldb; const char *pa, *pb; exprc_array ca, cb;",
        (f"if (exprc_gemm_operand(&pool, &{a}, &ca, {size}, &ta, &lda, &pa, error, "
        f"{ctx.index})) goto fail;"),
        (f"if (exprc_gemm_operand(&pool, &{b}, &cb, {size}, &tb, &ldb, &pb, error, "
        f"{ctx.index})) {{ exprc_release(&pool, ca.owner); goto fail; }}"),
        (f"{_GEMM[dtype]}(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, "
        "tb ? CblasTrans : CblasNoTrans,"),
        f"    (blasint){a}.shape[0], (blasint){b}.shape[1], (blasint){a}.shape[1], {alpha},",
        (f"    (const {ctype(dtype)} *)pa, (blasint)lda, (const {ctype(dtype)} *)pb, "
        f"(blasint)ldb, {beta},"),
        f"    ({ctype(dtype)} *){c}.data, (blasint){ldc});",
        "exprc_release(&pool, ca.owner);",
        "exprc_release(&pool, cb.owner);",
    ]


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
    if dtype == "bool":
        raise CUnsupportedError("a product of booleans")
    a, b = ctx.inputs
    out = ctx.outputs[0]
    shape = [f"{a}.shape[0]"] * (node.inputs[0].ndim == 2) + \
        [f"{b}.shape[1]"] * (node.inputs[1].ndim == 2)
    lines = [f"exprc_array A = exprc_as_matrix(&{a}, 1), B = exprc_as_matrix(&{b}, 0);"]
    ctx.include("exprc_gemm.h")
    lines += _check_sizes(ctx, "A", "B", _text(node.op))
    lines.append(ctx.alloc_output(0, shape))
    oc = ctype(dtype)
    fast = all(v.dtype == dtype for v in node.inputs) and dtype in _GEMM
    lines += [
        "const int64_t m = A.shape[0], n = B.shape[1], k = A.shape[1];",
        (f"if (m > 0 && n > 0 && k == 0) memset({out}.data, 0, "
        f"(size_t)(m * n * {itemsize(dtype)}));"),
        "else if (m > 0 && n > 0) {",
    ]
    if fast:
        lines += ["    " + line for line in _gemm_call(
            ctx, dtype, "A", "B", out, "n > 1 ? n : 1", "1", "0")]
    else:
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
    size, oc = itemsize(dtype), ctype(dtype)
    label = _text(node.op)
    done = ctx.temp("gemm_done")
    lines = _check_sizes(ctx, x, y, label)
    lines += [
        f"const int64_t m = {x}.shape[0], n = {y}.shape[1];",
        f"if (({z}.shape[0] != 1 && m != 1 && {z}.shape[0] != m) || ({z}.shape[1] != 1 && "
        f"n != 1 && {z}.shape[1] != n)) " + ctx.fail(
            "ValueError", f"{label}: z of shape %s does not broadcast to the product's "
            "shape (%lld, %lld)", f"exprc_shape_str(&{z})", "(long long)m", "(long long)n"),
        f"if (({z}.shape[0] != m && m == 1) || ({z}.shape[1] != n && n == 1)) {{",
        *["    " + line for line in _enlarging(ctx, dtype, done)],
        "}",
    ]
    fresh = [f"{out}.ndim = 2; {out}.shape[0] = m; {out}.shape[1] = n;",
             ctx.alloc_shaped(0), f"exprc_assign(&{out}, &{z}, {size});"]
    if node.op.inplace:
        lines += [
            f"if (exprc_refs({z}.owner) == 1 && {z}.shape[0] == m && {z}.shape[1] == n",
            f"        && (n <= 1 || {z}.strides[1] == {size})",
            (f"        && (m <= 1 || ({z}.strides[0] % {size} == 0 "
            f"&& {z}.strides[0] >= (n > 1 ? n : 1) * {size}))) {{"),
            f"    {ctx.view(0, 0)}",
            "} else {", *["    " + f for f in fresh], "}",
        ]
    else:
        lines += fresh
    alpha, beta = ctx.scalar(1), ctx.scalar(4)
    ldc = f"(m > 1 ? {out}.strides[0] / {size} : (n > 1 ? n : 1))"
    lines += [
        f"if (m > 0 && n > 0 && {x}.shape[1] == 0) {{",
        "    for (int64_t i = 0; i < m; ++i) for (int64_t j = 0; j < n; ++j) {",
        (f"        {oc} *c = ({oc} *)({out}.data + i * {out}.strides[0] + j * "
        f"{out}.strides[1]);"),
        f"        *c = {beta} * *c + {alpha} * ({oc})0;",
        "    }",
        "} else if (m > 0 && n > 0) {",
        *["    " + line for line in _gemm_call(ctx, dtype, x, y, out, ldc, alpha, beta)],
        "}",
        f"{done}:;",
    ]
    return "\n".join(lines)


def _enlarging(ctx: NodeContext, dtype: str, done: str) -> list[str]:
    """Lines for a z larger than the product (which then broadcasts): the product goes to a
    temporary, and ``beta * z + alpha * product`` is formed element by element."""
    z, _, x, y, _ = ctx.inputs
    out = ctx.outputs[0]
    size, oc = itemsize(dtype), ctype(dtype)
    alpha, beta = ctx.scalar(1), ctx.scalar(4)
    return [
        "exprc_array P; memset(&P, 0, sizeof P);",
        "P.ndim = 2; P.shape[0] = m; P.shape[1] = n;",
        f"if (exprc_alloc_array(&pool, &P, {size}, error, {ctx.index})) goto fail;",
        f"if ({x}.shape[1] == 0) memset(P.data, 0, (size_t)(m * n * {size}));",
        "else {",
        *["    " + line for line in _gemm_call(ctx, dtype, x, y, "P", "n > 1 ? n : 1", "1",
                                              "0")],
        "}",
        f"{out}.ndim = 2;",
        f"{out}.shape[0] = m > {z}.shape[0] ? m : {z}.shape[0];",
        f"{out}.shape[1] = n > {z}.shape[1] ? n : {z}.shape[1];",
        (f"if (exprc_alloc_array(&pool, &{out}, {size}, error, {ctx.index})) "
        "{ exprc_release(&pool, P.owner); goto fail; }"),
        f"for (int64_t i = 0; i < {out}.shape[0]; ++i)",
        f"    for (int64_t j = 0; j < {out}.shape[1]; ++j) {{",
        (f"        {oc} zv = *({oc} *)({z}.data + ({z}.shape[0] > 1 ? i : 0) * {z}.strides[0]"
        f" + ({z}.shape[1] > 1 ? j : 0) * {z}.strides[1]);"),
        f"        {oc} pv = (({oc} *)P.data)[(m > 1 ? i : 0) * n + (n > 1 ? j : 0)];",
        f"        (({oc} *){out}.data)[i * {out}.shape[1] + j] = {beta} * zv + {alpha} * pv;",
        "    }",
        "exprc_release(&pool, P.owner);",
        f"goto {done};",
    ]


__all__ = ["dot", "gemm"]
