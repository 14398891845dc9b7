"""Standalone C of the sort family: ``Sort``, ``ArgSort`` and ``Permute``.

A lane to sort is copied into scratch keys; its positions are ordered by the stable merge sort
of ``csrc/exprc_portable_sort.h``. NaNs (float keys) never reach the sort: their positions are
put after the others, in their order, which is where NumPy's stable sort leaves them.
"""

from __future__ import annotations

import numpy as np

from exprc.export.c.program import EXPORT_C, NodeContext
from exprc.export.c.rules.extra_ops import as_int64, at, lanes
from exprc.tensor.sort import ArgSort, Permute, Sort


@EXPORT_C.register(Sort, ArgSort)
def sort(ctx: NodeContext) -> None:
    """Each lane: keys copied, NaNs set aside, the rest ordered stably; Sort writes the keys
    in that order, ArgSort the positions."""
    x = ctx.inputs[0]
    out = ctx.output(0)
    if not x.shape:  # a 0-d input: sorted already, at position 0
        ctx.emit(f"    {out.element('0')} = "
                 f"{'0' if isinstance(ctx.op, ArgSort) else x.element('0')};")
        return
    axis = ctx.op.axis % len(x.shape)
    n = x.shape[axis]
    if n == 0 or x.size == 0:
        return
    dtype = x.dtype
    suffix = ctx.need("sort", dtype)
    keys = ctx.scratch(dtype, n)
    idx = ctx.scratch("int64", n)  # ptrdiff_t entries: int64 bytes hold them on any target
    tmp = ctx.scratch("int64", n)
    sx, so = x.strides[axis], out.strides[axis]
    ctx.emit("    {",
             f"        ptrdiff_t *const idx = (ptrdiff_t *){idx.pointer()};",
             f"        ptrdiff_t *const tmp = (ptrdiff_t *){tmp.pointer()};")
    nan = np.dtype(dtype).kind == "f"
    store = ("(int64_t)idx[j]" if isinstance(ctx.op, ArgSort) else "keys[idx[j]]")

    def body(ix: list[str]) -> list[str]:
        lines = [f"{x.ctype} *const keys = {keys.pointer()};",
                 f"for (ptrdiff_t j = 0; j < {n}; ++j) keys[j] = {at(x, ix[0], f'j * {sx}')};"]
        if nan:
            lines += [
                "ptrdiff_t m = 0, last = 0;",
                # Numbers first, in order; NaN positions fill tmp, then follow the numbers.
                f"for (ptrdiff_t j = 0; j < {n}; ++j) {{",
                "    if (isnan(keys[j])) tmp[last++] = j; else idx[m++] = j;",
                "}",
                "for (ptrdiff_t j = 0; j < last; ++j) idx[m + j] = tmp[j];",
                f"exprc_portable_argsort{suffix}(keys, m, idx, tmp);",
            ]
        else:
            lines += [f"for (ptrdiff_t j = 0; j < {n}; ++j) idx[j] = j;",
                      f"exprc_portable_argsort{suffix}(keys, {n}, idx, tmp);"]
        lines.append(f"for (ptrdiff_t j = 0; j < {n}; ++j) {at(out, ix[1], f'j * {so}')} = "
                     f"{store};")
        return lines

    ctx.emit(*(f"    {line}" for line in lanes(x.shape, axis, [x, out], body)))
    ctx.emit("    }")


@EXPORT_C.register(Permute)
def permute(ctx: NodeContext) -> None:
    """``take_along_axis`` by permutations: each lane of ``perm`` must name every position
    once (else ``EXPRC_ERROR_VALUE``, as the reference's ValueError)."""
    x, perm = ctx.inputs
    out = ctx.output(0)
    if not x.shape:
        ctx.emit(f"    {out.element('0')} = {x.element('0')};")
        return
    axis = ctx.op.axis % len(x.shape)
    n = x.shape[axis]
    if n == 0 or x.size == 0:
        return
    seen = ctx.scratch("uint8", n)
    fail = ctx.fail("EXPRC_ERROR_VALUE", f"{ctx.op}: perm is not a permutation of "
                    f"0..{n - 1} along axis {ctx.op.axis}")
    sx, sp, so = x.strides[axis], perm.strides[axis], out.strides[axis]
    ctx.emit(*lanes(x.shape, axis, [x, perm, out], lambda ix: [
        f"memset({seen.pointer()}, 0, {n});",
        f"for (ptrdiff_t j = 0; j < {n}; ++j) {{",
        f"    const int64_t k = {as_int64(at(perm, ix[1], f'j * {sp}'), perm.dtype)};",
        f"    if (k < 0 || k >= {n} || {seen.element('(ptrdiff_t)k')}) {fail}",
        f"    {seen.element('(ptrdiff_t)k')} = 1;",
        f"    {at(out, ix[2], f'j * {so}')} = {at(x, ix[0], f'(ptrdiff_t)k * {sx}')};",
        "}",
    ]))
