"""C rules of ``Sort``, ``ArgSort`` and ``Permute``.

Sorting copies a lane's keys into a contiguous buffer and sorts positions with the stable merge
sort of ``csrc/exprc_sort.h``; lanes are walked as in :func:`exprc.link.c.ops.extra_ops.lanes`.
"""

from __future__ import annotations

from exprc.link.c.ops.extra_ops import lanes, same_shape
from exprc.link.c.program import C_CODE, NodeContext, ctype, format_text, typed_name
from exprc.tensor.sort import ArgSort, Permute, Sort


@C_CODE.register(Sort, ArgSort)
def sort(node, ctx: NodeContext) -> str:
    ctx.include("exprc_sort.h")
    x, out = ctx.inputs[0], ctx.outputs[0]
    ndim, dtype = node.inputs[0].ndim, node.inputs[0].dtype
    axis = node.op.axis % ndim
    t = ctype(dtype)
    store = ("*(int64_t *)(p1 + j * so) = idx[j];" if isinstance(node.op, ArgSort)
             else f"*({t} *)(p1 + j * so) = keys[idx[j]];")
    return "\n".join([
        ctx.alloc_output(0, [f"{x}.shape[{d}]" for d in range(ndim)]),
        (f"const int64_t n = {x}.shape[{axis}], sx = {x}.strides[{axis}], "
         f"so = {out}.strides[{axis}];"),
        # One scratch block for every lane: the keys, the positions and the merge buffer.
        f"char *scratch = malloc((size_t)n * (sizeof({t}) + 2 * sizeof(int64_t)) + 1);",
        "if (scratch == NULL) " + ctx.fail(
            "MemoryError", f"{format_text(node.op)}: cannot allocate scratch for lanes of %lld "
            "elements", "(long long)n"),
        "int64_t *idx = (int64_t *)scratch, *tmp = idx + n;",
        f"{t} *keys = ({t} *)(tmp + n);",
        *lanes([x, out], ndim, axis, [
            f"for (int64_t j = 0; j < n; ++j) keys[j] = *(const {t} *)(p0 + j * sx);",
            f"{typed_name('exprc_argsort', dtype)}(keys, n, idx, tmp);",
            f"for (int64_t j = 0; j < n; ++j) {store}",
        ]),
        "free(scratch);",
    ])


@C_CODE.register(Permute)
def permute(node, ctx: NodeContext) -> str:
    x, perm = ctx.inputs
    out = ctx.outputs[0]
    ndim = node.inputs[0].ndim
    axis = node.op.axis % ndim
    t, pt = ctype(node.inputs[0].dtype), ctype(node.inputs[1].dtype)
    label = format_text(node.op)
    return "\n".join([
        same_shape(ctx, perm, x, ndim, f"{label}: perm of shape %s must have the shape of x "
                    "%s"),
        ctx.alloc_output(0, [f"{x}.shape[{d}]" for d in range(ndim)]),
        (f"const int64_t n = {x}.shape[{axis}], sx = {x}.strides[{axis}], "
         f"sp = {perm}.strides[{axis}], so = {out}.strides[{axis}];"),
        # Marks the positions a lane of perm has named, to catch repeats.
        "char *seen = malloc((size_t)n + 1);",
        "if (seen == NULL) " + ctx.fail(
            "MemoryError", f"{label}: cannot allocate scratch for lanes of %lld elements",
            "(long long)n"),
        *lanes([x, perm, out], ndim, axis, [
            "memset(seen, 0, (size_t)n);",
            "for (int64_t j = 0; j < n; ++j) {",
            f"    const int64_t k = (int64_t)*(const {pt} *)(p1 + j * sp);",
            "    if (k < 0 || k >= n || seen[k]) {",
            "        free(seen);",
            "        " + ctx.fail("ValueError", f"{label}: perm is not a permutation of "
                                  f"0..%lld along axis {node.op.axis}", "(long long)(n - 1)"),
            "    }",
            "    seen[k] = 1;",
            f"    *({t} *)(p2 + j * so) = *(const {t} *)(p0 + k * sx);",
            "}",
        ]),
        "free(seen);",
    ])
