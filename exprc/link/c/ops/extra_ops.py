"""C rules of ``CumOp``, ``LinearRecurrence``, ``Repeat``, ``RepeatSum``, ``OneHot``,
``RuntimeCheck`` and ``SearchSorted``.

Each of the axis ops walks its operands one lane (a 1-d slice along the op's axis) at a time:
an ``exprc_iter`` over the other axes hands every lane's first element to a loop along the
axis (:func:`lanes`, shared with the sort family).
"""

from __future__ import annotations

import numpy as np

from exprc.link.c.program import C_CODE, NodeContext, ctype, format_text, itemsize
from exprc.tensor.extra_ops import (
    CHECKS,
    CumOp,
    LinearRecurrence,
    OneHot,
    Repeat,
    RepeatSum,
    RuntimeCheck,
    SearchSorted,
)


def lanes(arrays: list[str], ndim: int, axis: int, body: list[str]) -> list[str]:
    """Lines running ``body`` once per lane along ``axis``.

    ``arrays`` (at most four) share their sizes on every axis but ``axis``; the first gives
    the loop shape. In ``body``, ``p0``, ``p1``, ... point at the lane's first element of each.
    """
    rest = [d for d in range(ndim) if d != axis]
    nr = max(len(rest), 1)
    strides = [", ".join(f"{a}.strides[{d}]" for d in rest) or "0" for a in arrays]
    return [
        f"int64_t sh[{nr}] = {{{', '.join(f'{arrays[0]}.shape[{d}]' for d in rest) or '1'}}};",
        f"int64_t st[{nr * len(arrays)}] = {{{', '.join(strides)}}};",
        f"char *data[{len(arrays)}] = {{{', '.join(f'{a}.data' for a in arrays)}}};",
        "exprc_iter it;",
        f"exprc_iter_init(&it, {len(rest)}, sh, {len(arrays)}, data, st);",
        "if (!it.done) do {",
        "    for (int64_t i = 0; i < it.inner; ++i) {",
        *[f"        char *p{k} = it.ptr[{k}] + i * it.step[{k}];" for k in range(len(arrays))],
        *["        " + line for line in body],
        "    }",
        "} while (exprc_iter_next(&it));",
    ]


def same_shape(ctx: NodeContext, a: str, b: str, ndim: int, message: str) -> str:
    test = " || ".join(f"{a}.shape[{d}] != {b}.shape[{d}]" for d in range(ndim)) or "0"
    return f"if ({test}) " + ctx.fail("ValueError", message, f"exprc_shape_str(&{a})",
                                      f"exprc_shape_str(&{b})")


def _combine(dtype: str, operator: str) -> str:
    """C expression of ``acc <operator> v`` in ``dtype``; signed integers wrap around, as in
    NumPy, instead of overflowing (undefined in C)."""
    if dtype.startswith("int"):
        return f"({ctype(dtype)})((uint64_t)acc {operator} (uint64_t)v)"
    return f"acc {operator} v"


@C_CODE.register(CumOp)
def cumop(node, ctx: NodeContext) -> str:
    op = node.op
    x, out = ctx.inputs[0], ctx.outputs[0]
    ndim = node.inputs[0].ndim
    axis = op.axis % ndim
    in_dtype, dtype = node.inputs[0].dtype, node.outputs[0].dtype
    xc, oc = ctype(in_dtype), ctype(dtype)
    # -0.0 is the exact identity of a float sum: -0.0 + v is v for every v, -0.0 included.
    identity = "1" if op.mode == "mul" else ("-0.0" if dtype.startswith("float") else "0")
    combine = _combine(dtype, "*" if op.mode == "mul" else "+")
    order = ("for (int64_t j = n - 1; j >= 0; --j) {" if op.reverse
             else "for (int64_t j = 0; j < n; ++j) {")
    return "\n".join([
        ctx.alloc_output(0, [f"{x}.shape[{d}]" for d in range(ndim)]),
        (f"const int64_t n = {x}.shape[{axis}], sx = {x}.strides[{axis}], "
         f"so = {out}.strides[{axis}];"),
        *lanes([x, out], ndim, axis, [
            f"{oc} acc = {identity};",
            order,
            f"    const {oc} v = ({oc})*(const {xc} *)(p0 + j * sx);",
            f"    acc = {combine};",
            f"    *({oc} *)(p1 + j * so) = acc;",
            "}",
        ]),
    ])


@C_CODE.register(LinearRecurrence)
def linear_recurrence(node, ctx: NodeContext) -> str:
    a, b = ctx.inputs
    out = ctx.outputs[0]
    ndim = node.inputs[0].ndim
    axis = node.op.axis % ndim
    ac, bc, oc = (ctype(v.dtype) for v in (*node.inputs, node.outputs[0]))
    first, order = (("n - 1", "for (int64_t j = n - 2; j >= 0; --j) {") if node.op.reverse
                    else ("0", "for (int64_t j = 1; j < n; ++j) {"))
    return "\n".join([
        same_shape(ctx, a, b, ndim, f"{format_text(node.op)}: a and b must have one shape, got %s "
                    "and %s"),
        ctx.alloc_output(0, [f"{a}.shape[{d}]" for d in range(ndim)]),
        (f"const int64_t n = {a}.shape[{axis}], sa = {a}.strides[{axis}], "
         f"sb = {b}.strides[{axis}], so = {out}.strides[{axis}];"),
        *lanes([a, b, out], ndim, axis, [
            "if (n == 0) continue;",
            # The first step is b alone: a * 0 + b would turn an infinite a into NaN.
            f"{oc} s = ({oc})*(const {bc} *)(p1 + ({first}) * sb);",
            f"*({oc} *)(p2 + ({first}) * so) = s;",
            order,
            f"    s = ({oc})(({oc})*(const {ac} *)(p0 + j * sa) * s",
            f"               + ({oc})*(const {bc} *)(p1 + j * sb));",
            f"    *({oc} *)(p2 + j * so) = s;",
            "}",
        ]),
    ])


def _read_counts(ctx: NodeContext, j: int, size: str, total: str):
    """Lines checking the repeats input ``j`` against an axis of ``size`` elements and adding
    the counts up into ``total``, and a function giving the C expression of count ``k``."""
    label = format_text(ctx.node.op)
    vector = ctx.node.inputs[j].ndim == 1

    def count(k: str) -> str:
        if not vector:
            return "first_count"
        return f"(ncounts == 1 ? first_count : {ctx.element(j, k)})"

    first = ctx.element(j, "0") if vector else f"(int64_t){ctx.scalar(j)}"
    lines = [
        f"const int64_t ncounts = {f'{ctx.inputs[j]}.shape[0]' if vector else '1'};",
        f"if (ncounts != 1 && ncounts != {size}) " + ctx.fail(
            "ValueError", f"{label}: repeats has %lld entries but the repeated axis has size "
            "%lld; give one count per element, or a single count", "(long long)ncounts",
            f"(long long){size}"),
        f"const int64_t first_count = ncounts > 0 ? {first} : 0;",
        f"int64_t {total} = 0;",
        f"for (int64_t k = 0; k < {size}; ++k) {{",
        f"    const int64_t c = {count('k')};",
        "    if (c < 0) " + ctx.fail("ValueError", f"{label}: repeats must be non-negative, "
                                     "got %lld", "(long long)c"),
        f"    if (__builtin_add_overflow({total}, c, &{total})) " + ctx.fail(
            "ValueError", f"{label}: the repeated axis is too large"),
        "}",
    ]
    return lines, count


@C_CODE.register(Repeat)
def repeat(node, ctx: NodeContext) -> str:
    x, out = ctx.inputs[0], ctx.outputs[0]
    ndim = node.inputs[0].ndim
    axis = node.op.axis % ndim
    t = ctype(node.inputs[0].dtype)
    counts, count = _read_counts(ctx, 1, "size", "total")
    return "\n".join([
        f"const int64_t size = {x}.shape[{axis}];",
        *counts,
        ctx.alloc_output(0, [f"{x}.shape[{d}]" if d != axis else "total"
                             for d in range(ndim)]),
        f"const int64_t sx = {x}.strides[{axis}], so = {out}.strides[{axis}];",
        *lanes([x, out], ndim, axis, [
            "char *o = p1;",
            "for (int64_t k = 0; k < size; ++k) {",
            f"    const {t} v = *(const {t} *)(p0 + k * sx);",
            f"    for (int64_t c = {count('k')}; c > 0; --c, o += so) *({t} *)o = v;",
            "}",
        ]),
    ])


@C_CODE.register(RepeatSum)
def repeat_sum(node, ctx: NodeContext) -> str:
    g, _, shape = ctx.inputs
    out = ctx.outputs[0]
    ndim, dtype = node.inputs[0].ndim, node.inputs[0].dtype
    axis = node.op.axis % ndim
    t = ctype(dtype)
    label = format_text(node.op)
    if dtype == "bool":
        add = "acc = acc || v;"
    else:
        add = f"acc = {_combine(dtype, '+')};"
    counts, count = _read_counts(ctx, 1, "size", "total")
    return "\n".join([
        f"if ({shape}.shape[0] != {ndim}) " + ctx.fail(
            "ValueError", f"{label}: the shape vector has %lld entries, expected {ndim}",
            f"(long long){shape}.shape[0]"),
        f"const int64_t size = {ctx.element(2, str(axis))};",
        "if (size < 0) " + ctx.fail("ValueError", f"{label}: negative size %lld in the "
                                    "shape vector", "(long long)size"),
        *counts,
        f"if (total != {g}.shape[{axis}]) " + ctx.fail(
            "ValueError", f"{label}: the counts add up to %lld, but g has size %lld on axis "
            f"{node.op.axis}", "(long long)total", f"(long long){g}.shape[{axis}]"),
        ctx.alloc_output(0, [f"{g}.shape[{d}]" if d != axis else "size"
                             for d in range(ndim)]),
        f"const int64_t sg = {g}.strides[{axis}], so = {out}.strides[{axis}];",
        *lanes([g, out], ndim, axis, [
            "const char *q = p0;",
            "for (int64_t k = 0; k < size; ++k) {",
            # Each copy is added, in order, to the element it was copied from.
            f"    {t} acc = 0;",
            f"    for (int64_t c = {count('k')}; c > 0; --c, q += sg) {{",
            f"        const {t} v = *(const {t} *)q;",
            f"        {add}",
            "    }",
            f"    *({t} *)(p1 + k * so) = acc;",
            "}",
        ]),
    ])


@C_CODE.register(OneHot)
def one_hot(node, ctx: NodeContext) -> str:
    y, out = ctx.inputs[0], ctx.outputs[0]
    nb_class, dtype = node.op.nb_class, node.outputs[0].dtype
    return "\n".join([
        f"const int64_t n = {y}.shape[0];",
        ctx.alloc_output(0, ["n", str(nb_class)]),
        f"memset({out}.data, 0, (size_t)n * {nb_class * itemsize(dtype)});",
        "for (int64_t i = 0; i < n; ++i) {",
        f"    const int64_t label = {ctx.element(0, 'i')};",
        f"    if (label < 0 || label >= {nb_class}) " + ctx.fail(
            "IndexError", f"{format_text(node.op)}: label %lld (at position %lld) is out of range "
            f"for {nb_class} classes", "(long long)label", "(long long)i"),
        f"    (({ctype(dtype)} *){out}.data)[i * {nb_class} + label] = 1;",
        "}",
    ])


@C_CODE.register(RuntimeCheck)
def runtime_check(node, ctx: NodeContext) -> str:
    kind, message = CHECKS[node.op.check]
    return "\n".join([
        f"if (!{ctx.scalar(1)}) " + ctx.fail(kind, format_text(f"{node.op}: {message}")),
        ctx.view(0, 0)])


@C_CODE.register(SearchSorted)
def searchsorted(node, ctx: NodeContext) -> str:
    x, v = ctx.inputs[:2]
    out = ctx.outputs[0]
    ndim = node.inputs[1].ndim
    label = format_text(node.op)
    common = ctype(np.result_type(node.inputs[0].dtype, node.inputs[1].dtype).name)
    xt, vt = ctype(node.inputs[0].dtype), ctype(node.inputs[1].dtype)
    lines = [ctx.alloc_output(0, [f"{v}.shape[{d}]" for d in range(ndim)]),
             f"const int64_t n = {x}.shape[0], sx = {x}.strides[0];"]
    position = "m"
    if len(node.inputs) == 3:
        sorter = ctx.inputs[2]
        position = "sorted_at[m]"
        lines += [
            f"if ({sorter}.shape[0] != n) " + ctx.fail(
                "ValueError", f"{label}: sorter has %lld entries but x has %lld",
                f"(long long){sorter}.shape[0]", "(long long)n"),
            "int64_t *sorted_at = malloc((size_t)n * sizeof(int64_t) + 1);",
            "if (sorted_at == NULL) " + ctx.fail(
                "MemoryError", f"{label}: cannot allocate %lld positions", "(long long)n"),
            "for (int64_t k = 0; k < n; ++k) {",
            f"    sorted_at[k] = {ctx.element(2, 'k')};",
            "    if (sorted_at[k] < 0 || sorted_at[k] >= n) {",
            "        free(sorted_at);",
            "        " + ctx.fail("ValueError", f"{label}: sorter holds the position %lld, out "
                                  "of range for the %lld elements of x",
                                  "(long long)sorted_at[k]", "(long long)n"),
            "    }",
            "}",
        ]
    # NaN sorts after every number (as NumPy's sort and searchsorted): see exprc_sort.h.
    key = f"(({common})*(const {xt} *)({x}.data + ({position}) * sx))"
    before = ("EXPRC_SORT_LESS(key, value)" if node.op.side == "left"
              else "!EXPRC_SORT_LESS(value, key)")
    ctx.include("exprc_sort.h")
    shape = ", ".join(f"{v}.shape[{d}]" for d in range(ndim)) or "1"
    strides = ", ".join([f"{a}.strides[{d}]" for a in (v, out) for d in range(ndim)]) or "0"
    lines += [
        f"int64_t sh[{max(ndim, 1)}] = {{{shape}}};",
        f"int64_t st[{2 * max(ndim, 1)}] = {{{strides}}};",
        f"char *data[2] = {{{v}.data, {out}.data}};",
        "exprc_iter it;",
        f"exprc_iter_init(&it, {ndim}, sh, 2, data, st);",
        "if (!it.done) do {",
        "    for (int64_t i = 0; i < it.inner; ++i) {",
        f"        const {common} value = ({common})*(const {vt} *)(it.ptr[0] + i * it.step[0]);",
        "        int64_t lo = 0, hi = n;",
        "        while (lo < hi) {",
        "            const int64_t m = lo + (hi - lo) / 2;",
        f"            const {common} key = {key};",
        f"            if ({before}) lo = m + 1; else hi = m;",
        "        }",
        "        *(int64_t *)(it.ptr[1] + i * it.step[1]) = lo;",
        "    }",
        "} while (exprc_iter_next(&it));",
    ]
    if len(node.inputs) == 3:
        lines.append("free(sorted_at);")
    return "\n".join(lines)


__all__ = ["cumop", "lanes", "linear_recurrence", "one_hot", "repeat", "repeat_sum",
           "runtime_check", "same_shape", "searchsorted"]
