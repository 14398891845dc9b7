"""C rule of ``Subtensor`` for basic indices: a view, with NumPy's bounds checks.

Integers (literal or symbolic) pick one position and drop the axis, slices follow Python's
``slice.indices``, ``None`` inserts an axis of size 1 and ``Ellipsis`` stands for the axes the
other entries leave.
"""

from __future__ import annotations

import numbers

from exprc.link.c.program import C_CODE, CUnsupportedError, NodeContext, format_text
from exprc.tensor.subtensor import SCALAR, SliceSpec, Subtensor


def _consumes(entry) -> int:
    return 0 if entry is None or entry is Ellipsis else 1


def slice_axis(ctx: NodeContext, label: str, source: str, axis: int, view: str,
               view_axis: str, start: str | None, stop: str | None,
               step: str | None) -> list[str]:
    """Lines slicing axis ``axis`` of ``source`` into axis ``view_axis`` of ``view`` (a view
    of ``source`` being built), as Python's ``slice(start, stop, step)`` does; the bounds are C
    expressions or None."""
    return [
        "{",
        f"    const int64_t step = {step or 1};",
        "    int64_t first, count;",
        "    if (step == 0) " + ctx.fail("ValueError", f"{label}: slice step cannot be zero"),
        (f"    exprc_slice({source}.shape[{axis}], {int(start is not None)}, {start or 0}, "
         f"{int(stop is not None)}, {stop or 0}, step, &first, &count);"),
        f"    if (count > 0) {view}.data += first * {source}.strides[{axis}];",
        f"    {view}.shape[{view_axis}] = count;",
        # With one element or none the stride is never used, and step * stride could
        # overflow for a huge step: keep the input's.
        (f"    {view}.strides[{view_axis}] = count > 1 ? step * {source}.strides[{axis}] : "
         f"{source}.strides[{axis}];"),
        "}",
    ]


@C_CODE.register(Subtensor)
def subtensor(node, ctx: NodeContext) -> str:
    x, out = ctx.inputs[0], ctx.outputs[0]
    ndim = node.inputs[0].ndim
    entries = list(node.op.idx_list)
    if Ellipsis in entries:
        at = entries.index(Ellipsis)
        fill = ndim - sum(_consumes(e) for e in entries)
        entries[at:at + 1] = [SliceSpec(None, None, None)] * fill
    next_input = [1]

    def component(part) -> str | None:
        if part is None:
            return None
        if part == SCALAR:
            j = next_input[0]
            next_input[0] += 1
            return f"(int64_t){ctx.scalar(j)}"
        return f"(int64_t){int(part)}LL"

    label = format_text(node.op)
    lines = [ctx.view(0, 0)]
    axis, out_axis = 0, 0
    for entry in entries:
        if entry is None:
            lines.append(f"{out}.shape[{out_axis}] = 1; {out}.strides[{out_axis}] = 0;")
            out_axis += 1
        elif isinstance(entry, SliceSpec):
            start, stop, step = (component(p) for p in entry)
            lines += slice_axis(ctx, label, x, axis, out, str(out_axis), start, stop, step)
            axis, out_axis = axis + 1, out_axis + 1
        elif entry == SCALAR or isinstance(entry, numbers.Integral):
            lines.append(f"if (exprc_index_axis(&{out}, &{x}, {axis}, {component(entry)}, "
                         f"{ctx.label}, error, {ctx.index})) goto fail;")
            axis += 1
        else:
            raise CUnsupportedError(f"index entry {entry!r}")
    for rest in range(axis, ndim):
        lines.append(f"{out}.shape[{out_axis}] = {x}.shape[{rest}]; "
                     f"{out}.strides[{out_axis}] = {x}.strides[{rest}];")
        out_axis += 1
    lines.append(f"{out}.ndim = {out_axis};")
    return "\n".join(lines)


__all__ = ["subtensor"]
