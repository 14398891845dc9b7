"""C rules of the matrix products ``Dot`` and ``Gemm``.

float32 and float64 products call CBLAS ``gemm`` (through ``csrc/exprc_gemm.h``, which passes
strided operands as they are when BLAS can read them); other dtypes use a plain loop that
accumulates in the result dtype, as ``np.dot`` does.
"""

from __future__ import annotations

from exprc.link.c.program import C_CODE, NodeContext, ctype, itemsize
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
    if all(v.dtype == dtype for v in node.inputs) and dtype in _SUFFIX:
        return (f"if (exprc_dot_node_{_SUFFIX[dtype]}(&pool, &{out}, &{a}, &{b}, {ctx.label}, "
                f"error, {ctx.index})) goto fail;")
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
    return (f"if (exprc_gemm_node_{_SUFFIX[node.outputs[0].dtype]}(&pool, &{ctx.outputs[0]}, "
            f"&{z}, &{x}, &{y}, {ctx.scalar(1)}, {ctx.scalar(4)}, {int(node.op.inplace)}, "
            f"{ctx.label}, error, {ctx.index})) goto fail;")


__all__ = ["BLAS_DTYPES", "blas_product", "dot", "gemm", "plain_product"]
