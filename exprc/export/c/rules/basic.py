"""Standalone C of the basic family: ranges, identity matrices, filled arrays, joins and splits.

Every size is known at export, so a split's pieces and a filled array are views (no code), a
join is one copy per input into its part of the result, and ``ARange``/``Eye`` read only the
values their size does not fix (a start, a step, a diagonal) at run time.
"""

from __future__ import annotations

import numpy as np

from exprc.export.c.program import EXPORT_C, NodeContext, copy_lines
from exprc.export.c.rules.extra_ops import as_int64, operand
from exprc.tensor.basic import Alloc, ARange, Eye, Join, Split


@EXPORT_C.register(Alloc)
def alloc(ctx: NodeContext) -> None:
    """A view of the value broadcast to the shape (stride 0 on the repeated axes). Nothing
    writes through it: a node computing in place only reuses whole, unshared buffers, and an
    output of the function is copied out."""
    ctx.view(0, operand(ctx, 0).broadcast_to(ctx.out_shapes[0]))


def _scalar(ctx: NodeContext, i: int, kind: str) -> str:
    """Input ``i`` (a 0-d number) as a C expression of ``kind`` (``int64_t`` or ``double``),
    a literal when its value is known at export."""
    value = ctx.values[i]
    if value is not None:
        number = value.item()
        if kind == "int64_t":
            return f"INT64_C({int(number)})"
        return repr(float(number)) if np.isfinite(number) else \
            ("NAN" if np.isnan(number) else ("INFINITY" if number > 0 else "-INFINITY"))
    layout = ctx.inputs[i]
    if kind == "int64_t":
        return as_int64(layout.element("0"), layout.dtype)
    return f"(double){layout.element('0')}"


@EXPORT_C.register(ARange)
def arange(ctx: NodeContext) -> None:
    """``numpy.arange`` of the planned length: integer bounds give ``start + i * step``
    exactly (formed in uint64, wrapping as the reference's values do); other bounds follow
    NumPy's fill: the first two values ``start`` and ``start + step`` in the output dtype, then
    ``first + i * (second - first)`` computed in that dtype."""
    out = ctx.output(0)
    n = out.shape[0]
    if n == 0:
        return
    dtype, ctype = out.dtype, out.ctype
    integral = all(np.dtype(x.dtype).kind in "iub" for x in ctx.inputs)
    if integral:
        start, step = _scalar(ctx, 0, "int64_t"), _scalar(ctx, 2, "int64_t")
        value = f"(uint64_t){start} + (uint64_t)i * (uint64_t){step}"
        convert = "(v != 0)" if dtype == "bool" else f"({ctype})v"
        ctx.emit("    {",
                 f"        for (ptrdiff_t i = 0; i < {n}; ++i) {{",
                 f"            const uint64_t v = {value};",
                 f"            {out.element('i')} = {convert};",
                 "        }",
                 "    }")
        return
    start, step = _scalar(ctx, 0, "double"), _scalar(ctx, 2, "double")
    if dtype == "bool":
        ctx.emit(f"    for (ptrdiff_t i = 0; i < {n}; ++i) "
                 f"{out.element('i')} = ({start} + (double)i * {step}) != 0;")
        return
    kind = np.dtype(dtype).kind
    if kind == "f":
        delta = f"({ctype})(second - first)"
        fill = f"({ctype})(first + ({ctype})i * delta)"
    else:  # NumPy's integer fill wraps around
        delta = f"({ctype})((uint64_t)second - (uint64_t)first)"
        fill = f"({ctype})((uint64_t)first + (uint64_t)i * (uint64_t)delta)"
    ctx.emit("    {",
             f"        const {ctype} first = ({ctype})({start});",
             f"        const {ctype} second = ({ctype})({start} + {step});",
             f"        const {ctype} delta = {delta};",
             f"        {out.element('0')} = first;",
             *([f"        {out.element('1')} = second;"] if n > 1 else ["        (void)second;"]),
             f"        for (ptrdiff_t i = 2; i < {n}; ++i) {out.element('i')} = {fill};",
             "        (void)delta;",
             "    }")


@EXPORT_C.register(Eye)
def eye(ctx: NodeContext) -> None:
    """Zeros, then ones on diagonal ``k`` (read at run time when not known at export)."""
    out = ctx.output(0)
    rows, cols = out.shape
    if out.size == 0:
        return
    ctx.emit(f"    memset({out.pointer()}, 0, {out.size} * sizeof({out.ctype}));")
    k = ctx.values[2]
    if k is not None:
        k = int(k)
        first, last = max(0, -k), min(rows, cols - k)
        if first < last:
            ctx.emit(f"    for (ptrdiff_t i = {first}; i < {last}; ++i) "
                     f"{out.element(f'i * {cols + 1} + {k}' if k else f'i * {cols + 1}')} = 1;")
        return
    ctx.emit("    {",
             f"        const int64_t k = {_scalar(ctx, 2, 'int64_t')};",
             # The bounds keep i + k from overflowing and inside the row.
             f"        if (k < {cols} && k > -{rows}) {{",
             "            const ptrdiff_t d = (ptrdiff_t)k;",
             f"            for (ptrdiff_t i = d < 0 ? -d : 0; i < {rows} && i + d < {cols}; ++i)",
             f"                {out.element(f'i * {cols} + i + d')} = 1;",
             "        }",
             "    }")


@EXPORT_C.register(Join)
def join(ctx: NodeContext) -> None:
    """Each input copied (and converted to the result's dtype) into its part of the result."""
    out = ctx.output(0)
    axis = ctx.op.axis
    start = 0
    for layout in (operand(ctx, i) for i in range(len(ctx.inputs))):
        size = layout.shape[axis]
        if size and layout.size:
            ctx.emit(*copy_lines(layout, out.sliced(axis, start, start + size, 1)))
        start += size


@EXPORT_C.register(Split)
def split(ctx: NodeContext) -> None:
    """Each piece is a view of the input (its sizes are known at export)."""
    x = ctx.inputs[0]
    axis = ctx.op.axis
    start = 0
    for k, shape in enumerate(ctx.out_shapes):
        size = shape[axis]
        ctx.view(k, x.sliced(axis, start, start + size, 1))
        start += size

