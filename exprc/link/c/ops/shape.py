"""C rules of the shape ops: ``SpecifyShape``, ``Shape`` and ``Reshape``.

SpecifyShape and Reshape of contiguous data are views: they rewrite the shape, strides and data
pointer and take a reference to their input's buffer, never copying.
"""

from __future__ import annotations

from exprc.link.c.program import C_CODE, NodeContext, format_text, index_code, itemsize
from exprc.tensor.shape import Reshape, Shape, SpecifyShape, format_shape


@C_CODE.register(SpecifyShape)
def specify_shape(node, ctx: NodeContext) -> str:
    x = ctx.inputs[0]
    wanted = [(d, s) for d, s in enumerate(node.op.shape) if s is not None]
    if not wanted:
        return ctx.view(0, 0)
    test = " || ".join(f"{x}.shape[{d}] != {s}" for d, s in wanted)
    return "\n".join([
        f"if ({test}) " + ctx.fail(
            "ValueError", f"{format_text(node.op)}: the value has shape %s, but the graph "
            f"specified shape {format_text(format_shape(node.op.shape))}",
            f"exprc_shape_str(&{x})"),
        ctx.view(0, 0)])


@C_CODE.register(Shape)
def shape(node, ctx: NodeContext) -> str:
    x, out = ctx.inputs[0], ctx.outputs[0]
    ndim = node.inputs[0].ndim
    return "\n".join([
        ctx.alloc_output(0, [str(ndim)]),
        f"for (int d = 0; d < {ndim}; ++d) ((int64_t *){out}.data)[d] = {x}.shape[d];"])


def read_shape(ctx: NodeContext, j: int, ndim: int, target: str) -> list[str]:
    """Lines reading the integer vector input ``j`` (of ``ndim`` entries) into ``target``."""
    return [
        f"int64_t {target}[{max(ndim, 1)}] = {{0}};",
        (f"if (exprc_read_ints(&{ctx.inputs[j]}, {index_code(ctx.node.inputs[j].dtype)}, "
         f"{ndim}, {target}, {ctx.label}, error, {ctx.index})) goto fail;"),
    ]


@C_CODE.register(Reshape)
def reshape(node, ctx: NodeContext) -> str:
    x, out = ctx.inputs[0], ctx.outputs[0]
    ndim, size = node.op.ndim, itemsize(node.inputs[0].dtype)
    xdim = node.inputs[0].ndim
    lines = read_shape(ctx, 1, ndim, "t")
    lines += [
        "int64_t n = 1, known = 1, unknown = -1, bad = 0;",
        f"for (int d = 0; d < {xdim}; ++d) n *= {x}.shape[d];",
        f"for (int k = 0; k < {ndim}; ++k) {{",
        "    if (t[k] == -1) { bad |= unknown >= 0; unknown = k; }",
        "    else if (t[k] < 0 || __builtin_mul_overflow(known, t[k], &known)) bad = 1;",
        "}",
        ("if (unknown >= 0) { bad |= known == 0 || n % known != 0; "
        "if (!bad) t[unknown] = n / known; }"),
        "else bad |= known != n;",
        "if (bad) " + ctx.fail(
            "ValueError", f"{format_text(node.op)}: cannot reshape an array of shape %s (%lld "
            "elements) into shape %s", f"exprc_shape_str(&{x})", "(long long)n",
            f"exprc_ints_str({ndim}, t, 0)"),
        f"if (exprc_is_contiguous(&{x}, {size})) {{",
        f"    {ctx.view(0, 0)}",
        "} else if (exprc_copy_contiguous(&pool, &" + out + f", &{x}, {size}, error, "
        f"{ctx.index})) goto fail;",
        f"{out}.ndim = {ndim};",
        f"for (int k = 0; k < {ndim}; ++k) {out}.shape[k] = t[k];",
        f"exprc_contiguous_strides(&{out}, {size});",
    ]
    return "\n".join(lines)


__all__ = ["read_shape", "reshape", "shape", "specify_shape"]
