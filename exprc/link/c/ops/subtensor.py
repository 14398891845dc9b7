"""C rules of the indexing ops: ``Subtensor``, ``AdvancedSubtensor``, ``IncSubtensor`` and
``AdvancedIncSubtensor``.

A basic index makes a view, with NumPy's bounds checks: integers (literal or symbolic) pick
one position and drop the axis, slices follow Python's ``slice.indices``, ``None`` inserts an
axis of size 1 and ``Ellipsis`` stands for the axes the other entries leave.

The basic entries of the index (slices, None, and integers of a basic index) become a view
``v`` of the indexed array, as in ``Subtensor``; the advanced entries (integer arrays, masks,
and integers of an advanced index) keep their axes of ``v``. ``exprc_adv_plan_build``
(``csrc/exprc_advanced.h``) then lists the byte offset of every element of the indexed region
in C order, so reading, setting and incrementing are one flat loop. That loop visits repeated
positions in order: setting keeps the last write and incrementing accumulates, as NumPy's
``x[index] = y`` and ``np.add.at`` do.
"""

from __future__ import annotations

import numbers

from exprc.link.c.program import (
    C_CODE,
    CUnsupportedError,
    NodeContext,
    ctype,
    format_text,
    index_code,
    itemsize,
)
from exprc.tensor.subtensor import (
    ARRAY,
    MASK,
    SCALAR,
    AdvancedIncSubtensor,
    AdvancedSubtensor,
    IncSubtensor,
    SliceSpec,
    Subtensor,
)


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



def _indexed_view(node, ctx: NodeContext, source: str, first_index: int,
                  advanced: bool) -> tuple[list[str], list[str], int]:
    """Lines making ``v`` the basic part of ``source[index]``, the C initialisers of the
    advanced entries, and how many whole axes of ``v`` come before the index block."""
    x_var = node.inputs[0]
    entries = list(node.op.idx_list)
    index_vars = node.inputs[first_index:]
    # Pair each entry with its index inputs (a slice takes one per symbolic component).
    paired, j = [], first_index
    for entry in entries:
        if isinstance(entry, SliceSpec):
            parts = []
            for part in entry:
                if part == SCALAR:
                    parts.append(f"(int64_t){ctx.scalar(j)}")
                    j += 1
                else:
                    parts.append(None if part is None else f"(int64_t){int(part)}LL")
            paired.append((entry, parts))
        elif isinstance(entry, str):
            paired.append((entry, j))
            j += 1
        else:
            paired.append((entry, None))
    if j != first_index + len(index_vars):
        raise CUnsupportedError("index inputs do not match the index")

    def consumed(entry, detail) -> int:
        if entry is None or entry is Ellipsis:
            return 0
        return node.inputs[detail].ndim if entry == MASK else 1

    fill = x_var.ndim - sum(consumed(e, d) for e, d in paired)
    label = format_text(node.op)
    lines = ["exprc_array v = " + source + ";", "v.ndim = 0;"]
    adv, block_at, whole_axes = [], None, 0
    adv_positions = []
    axis = 0
    v_axes = [0]  # axes of v made so far (known statically)

    def keep(x_axis: int) -> None:
        lines.append(f"v.shape[v.ndim] = {source}.shape[{x_axis}]; "
                     f"v.strides[v.ndim] = {source}.strides[{x_axis}]; ++v.ndim;")
        v_axes[0] += 1

    for position, (entry, detail) in enumerate(paired):
        if entry is Ellipsis:
            for _ in range(fill):
                keep(axis)
                axis, whole_axes = axis + 1, whole_axes + 1
        elif entry is None:
            lines.append("v.shape[v.ndim] = 1; v.strides[v.ndim] = 0; ++v.ndim;")
            v_axes[0] += 1
            whole_axes += 1
        elif isinstance(entry, SliceSpec):
            start, stop, step = detail
            lines += slice_axis(ctx, label, source, axis, "v", "v.ndim", start, stop, step)
            lines.append("++v.ndim;")
            v_axes[0] += 1
            axis, whole_axes = axis + 1, whole_axes + 1
        elif not advanced and (entry == SCALAR or isinstance(entry, numbers.Integral)):
            value = f"(int64_t){ctx.scalar(detail)}" if entry == SCALAR else f"{int(entry)}LL"
            lines += [
                "{",
                f"    int64_t i = {value}, size = {source}.shape[{axis}];",
                "    if (i < -size || i >= size) " + ctx.fail(
                    "IndexError", f"{label}: index %lld is out of bounds for axis {axis} "
                    "with size %lld", "(long long)i", "(long long)size"),
                f"    v.data += (i < 0 ? i + size : i) * {source}.strides[{axis}];",
                "}",
            ]
            axis += 1
        elif entry == SCALAR or isinstance(entry, numbers.Integral) or entry in (ARRAY, MASK):
            adv_positions.append(position)
            if block_at is None:
                block_at = whole_axes
            naxes = consumed(entry, detail)
            if entry in (ARRAY, MASK):
                kind = "EXPRC_ADV_ARRAY" if entry == ARRAY else "EXPRC_ADV_MASK"
                array, code = f"&{ctx.inputs[detail]}", index_code(node.inputs[detail].dtype)
                value = "0"
            else:
                kind, array, code = "EXPRC_ADV_INT", "NULL", 8
                value = f"(int64_t){ctx.scalar(detail)}" if entry == SCALAR else f"{int(entry)}LL"
            adv.append(f"{{{kind}, {v_axes[0]}, {axis}, {naxes}, {array}, {code}, {value}}}")
            for k in range(naxes):
                keep(axis + k)
            axis += naxes
        else:
            raise CUnsupportedError(f"index entry {entry!r}")
    for rest in range(axis, x_var.ndim):
        keep(rest)
    if adv_positions and adv_positions != list(range(adv_positions[0],
                                                     adv_positions[-1] + 1)):
        block_at = 0  # NumPy puts the block of separated advanced entries first
    return lines, adv, block_at or 0


def _plan(ctx: NodeContext, lines: list[str], adv: list[str], block_at: int,
          values: str) -> list[str]:
    """Lines building ``plan`` from ``v`` and the advanced entries."""
    count = len(adv)
    table = ", ".join(adv) if adv else "{0}"
    return [
        *lines,
        f"const exprc_adv_entry entries[{max(count, 1)}] = {{{table}}};",
        "exprc_adv_plan plan;",
        (f"if (exprc_adv_plan_build(&plan, &v, {count}, entries, {block_at}, {values}, error, "
         f"{ctx.index}, {ctx.label})) goto fail;"),
    ]


@C_CODE.register(AdvancedSubtensor)
def advanced_subtensor(node, ctx: NodeContext) -> str:
    ctx.include("exprc_advanced.h")
    x, out = ctx.inputs[0], ctx.outputs[0]
    dtype = node.outputs[0].dtype
    t, size = ctype(dtype), itemsize(dtype)
    lines, adv, block_at = _indexed_view(node, ctx, x, 1, True)
    return "\n".join([
        *_plan(ctx, lines, adv, block_at, "NULL"),
        f"{out}.ndim = plan.ndim;",
        f"for (int64_t d = 0; d < plan.ndim; ++d) {out}.shape[d] = plan.shape[d];",
        (f"if (exprc_alloc_array(&pool, &{out}, {size}, error, {ctx.index})) "
         "{ exprc_adv_plan_free(&plan); goto fail; }"),
        f"{t} *dst = ({t} *){out}.data;",
        f"for (int64_t k = 0; k < plan.n; ++k) dst[k] = *(const {t} *)(v.data + plan.xoff[k]);",
        "exprc_adv_plan_free(&plan);",
    ])


def _write(node, ctx: NodeContext, advanced: bool) -> str:
    ctx.include("exprc_advanced.h")
    x, y, out = ctx.inputs[0], ctx.inputs[1], ctx.outputs[0]
    dtype, y_dtype = node.outputs[0].dtype, node.inputs[1].dtype
    t, ty, size = ctype(dtype), ctype(y_dtype), itemsize(dtype)
    lines, adv, block_at = _indexed_view(node, ctx, out, 2, advanced)
    if not advanced and dtype != "bool":
        return _write_basic(node, ctx, lines)
    value = f"*(const {ty} *)({y}.data + plan.yoff[k])"
    target = f"*({t} *)(v.data + plan.xoff[k])"
    if node.op.set_instead_of_inc:
        update = f"{target} = ({t}){value};"
    elif dtype == "bool":
        update = f"{target} = {target} || {value};"  # NumPy's bool addition is `or`
    else:
        update = f"{target} += ({t}){value};"
    if advanced and node.op.ignore_duplicates and not node.op.set_instead_of_inc:
        # x[index] += y reads every position before writing any, so a repeated position
        # ends up as its original value plus its last update, not the sum of all of them.
        loop = [
            f"{t} *before = malloc((size_t)(plan.n + 1) * sizeof *before);",
            "if (before == NULL) { exprc_adv_plan_free(&plan); " + ctx.fail(
                "MemoryError", f"{format_text(node.op)}: out of memory") + " }",
            f"for (int64_t k = 0; k < plan.n; ++k) before[k] = {target};",
            f"for (int64_t k = 0; k < plan.n; ++k) {target} = ({t})(before[k] + {value});"
            if dtype != "bool" else
            f"for (int64_t k = 0; k < plan.n; ++k) {target} = before[k] || {value};",
            "free(before);",
        ]
    else:
        loop = [f"for (int64_t k = 0; k < plan.n; ++k) {update}"]
    return "\n".join([
        # The result starts as a copy of x; the indexed region of the copy is then updated.
        f"if (exprc_copy_contiguous(&pool, &{out}, &{x}, {size}, error, {ctx.index})) goto fail;",
        *_plan(ctx, lines, adv, block_at, f"&{y}"),
        *loop,
        "exprc_adv_plan_free(&plan);",
    ])


def _write_basic(node, ctx: NodeContext, lines: list[str]) -> str:
    """A basic index's region is a strided view ``v`` of the result: ``y`` is broadcast
    into it row by row (no list of offsets). The result is ``x``'s own buffer when this is
    ``x``'s last reader and nothing else holds it (the gradients of slices of one value,
    written one after the other into one array), else a copy of ``x``."""
    y = ctx.inputs[1]
    dtype, y_dtype = node.outputs[0].dtype, node.inputs[1].dtype
    label = format_text(node.op)
    if node.op.set_instead_of_inc and dtype == y_dtype:
        update = f"exprc_assign(&v, &{y}, {itemsize(dtype)});"
    else:
        t, ty = ctype(dtype), ctype(y_dtype)
        step = "=" if node.op.set_instead_of_inc else "+="
        body = "\n".join([
            "int64_t strides[2 * EXPRC_MAXDIM];",
            "char *data[2] = {v->data, y->data};",
            "for (int64_t d = 0; d < v->ndim; ++d) strides[d] = v->strides[d];",
            "exprc_loop_strides(y, v->ndim, v->shape, strides + v->ndim);",
            "exprc_iter it;",
            "exprc_iter_init(&it, v->ndim, v->shape, 2, data, strides);",
            "if (it.done) return;",
            "do {",
            f"    {t} *o = ({t} *)it.ptr[0];",
            f"    const {ty} *i = (const {ty} *)it.ptr[1];",
            f"    const int64_t n = it.inner, so = it.step[0] / (int64_t)sizeof({t}), "
            f"si = it.step[1] / (int64_t)sizeof({ty});",
            f"    if (so == 1 && si == 1) for (int64_t k = 0; k < n; ++k) o[k] {step} ({t})i[k];",
            f"    else for (int64_t k = 0; k < n; ++k) o[k * so] {step} ({t})i[k * si];",
            "} while (exprc_iter_next(&it));"])
        function = ctx.hot_function("const exprc_array *v, const exprc_array *y", body,
                                    includes=("exprc_runtime.h",))
        update = f"{function}(&v, &{y});"
    fits = ctx.fail("ValueError", f"{label}: shape mismatch: value array of shape %s could "
                    "not be broadcast to indexing result of shape %s",
                    f"exprc_shape_str(&{y})", "exprc_shape_str(&v)")
    return "\n".join([
        ctx.take_over(0, 0, itemsize(dtype)),
        *lines,
        "{",
        f"    int fits = {y}.ndim <= v.ndim;",
        f"    for (int64_t d = 0; fits && d < {y}.ndim; ++d)",
        f"        fits = {y}.shape[d] == 1 || {y}.shape[d] == v.shape[v.ndim - {y}.ndim + d];",
        "    if (!fits) " + fits,
        "}",
        update,
    ])


@C_CODE.register(AdvancedIncSubtensor)
def advanced_inc_subtensor(node, ctx: NodeContext) -> str:
    return _write(node, ctx, True)


@C_CODE.register(IncSubtensor)
def inc_subtensor(node, ctx: NodeContext) -> str:
    return _write(node, ctx, False)


__all__ = ["advanced_inc_subtensor", "advanced_subtensor", "inc_subtensor"]
