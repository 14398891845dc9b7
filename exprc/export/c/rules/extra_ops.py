"""Standalone C of the extra_ops family: cumulative ops, linear recurrences, repeats, one-hot
codes, run-time checks and searchsorted.

The axis ops walk their operands one *lane* (a 1-d slice along the op's axis) at a time:
:func:`lanes` emits a loop nest over the other axes, whose body runs along the axis with the
static strides of each operand. :func:`as_int64` reads an integer of any dtype as an
``int64_t`` without a comparison the compiler could call always false. Both serve the sort,
reduction and softmax families too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from exprc.export.c.layout import Layout, contiguous_strides, loop_nest, merged_axes
from exprc.export.c.program import EXPORT_C, NodeContext
from exprc.export.graph import ExportError
from exprc.link.codegen.render import C_TYPES
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

__all__ = ["as_int64", "at", "error_code", "lanes", "nest", "operand", "wrapping"]


def lanes(shape: Sequence[int], axis: int, operands: Sequence[Layout],
          body: Callable[[list[str]], list[str]]) -> list[str]:
    """C lines running ``body`` once per lane along ``axis`` of ``shape``.

    ``operands`` are views of ``shape``; ``body(offsets)`` gets, for each operand, the C
    expression of its lane's first element as an offset from the operand's first element, and
    walks the lane itself with the operand's ``strides[axis]``.
    """
    rest = tuple(s for d, s in enumerate(shape) if d != axis)
    views = [Layout(o.buffer, o.offset, rest, o.strides[:axis] + o.strides[axis + 1:])
             for o in operands]
    if shape[axis] == 0:
        return []
    return loop_nest(rest, views, body)


def nest(shape: Sequence[int | str], strides: Sequence[Sequence[int | str]],
         body: Callable[[list[str]], list[str]], var: str) -> list[str]:
    """C lines running ``body`` once per element of ``shape`` in C order, with loop variables
    named ``<var>0``, ``<var>1``, ... (so that nests can sit inside each other).

    Sizes are ints or C expressions known only at run time; ``strides`` gives, per operand,
    its stride on each axis, an int or a C expression. ``body(offsets)`` gets each operand's
    offset expression. Neighbouring axes are merged where every operand steps through them as
    one (static sizes and strides only).
    """
    if any(isinstance(s, int) and s == 0 for s in shape):
        return []
    if all(isinstance(x, int) for x in shape) and \
            all(isinstance(st, int) for row in strides for st in row):
        sizes, merged = merged_axes(shape, strides)
    else:
        keep = [d for d, s in enumerate(shape) if s != 1]
        sizes = [shape[d] for d in keep]
        merged = [[row[d] for d in keep] for row in strides]
    names = [f"{var}{d}" for d in range(len(sizes))]
    offsets = []
    for row in merged:
        terms = [name if st == 1 else f"{name} * {st}" if isinstance(st, int) else
                 f"{name} * ({st})" for name, st in zip(names, row) if st != 0]
        offsets.append(" + ".join(terms) if terms else "0")
    lines = [f"{'    ' * depth}for (ptrdiff_t {name} = 0; {name} < {size}; ++{name}) {{"
             for depth, (name, size) in enumerate(zip(names, sizes))]
    lines += ["    " * len(sizes) + line for line in body(offsets)]
    lines += [f"{'    ' * depth}}}" for depth in reversed(range(len(sizes)))]
    if not sizes:
        lines = ["{"] + ["    " + line for line in lines] + ["}"]
    return lines


def operand(ctx: NodeContext, i: int) -> Layout:
    """Input ``i`` seen with its variable's shape: a 0-d constant is stored as a buffer of one
    element whose layout may carry one axis."""
    layout = ctx.inputs[i]
    shape = tuple(ctx.program.graph.shapes.get(ctx.node.inputs[i], layout.shape))
    if shape != layout.shape and layout.size == 1 and math.prod(shape) == 1:
        return Layout(layout.buffer, layout.offset, shape, contiguous_strides(shape))
    return layout


def at(layout: Layout, base: str, step: str) -> str:
    """The element ``step`` of a lane of ``layout`` starting at offset ``base``."""
    return layout.element(f"{base} + {step}" if base != "0" else step)


def as_int64(expression: str, dtype: str) -> str:
    """``expression`` (an integer of ``dtype``) as an ``int64_t``; a uint64 beyond the int64
    range becomes INT64_MAX, so that it stays out of range instead of wrapping negative."""
    if dtype == "uint64":
        return f"({expression} > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t){expression})"
    return f"(int64_t){expression}"


def wrapping(dtype: str, a: str, operator: str, b: str) -> str:
    """C expression of ``a <operator> b`` in ``dtype`` (both already of it). Integers are
    combined in uint64 and converted back, so they wrap around as NumPy's do instead of
    overflowing (undefined for signed types, and for unsigned types narrower than int)."""
    if dtype == "bool":
        return f"({a} || {b})" if operator == "+" else f"({a} && {b})"
    if np.dtype(dtype).kind in "iu":
        return f"({C_TYPES[dtype]})((uint64_t){a} {operator} (uint64_t){b})"
    return f"{a} {operator} {b}"


def error_code(kind: str) -> str:
    """The exported program's error code for a Python exception kind of the reference."""
    return "EXPRC_ERROR_INDEX" if kind == "IndexError" else "EXPRC_ERROR_VALUE"


def _axis(ctx: NodeContext, i: int = 0) -> int:
    return ctx.op.axis % max(len(ctx.inputs[i].shape), 1)


# --------------------------------------------------------------------------- CumOp
@EXPORT_C.register(CumOp)
def cumop(ctx: NodeContext) -> None:
    """Sums or products along the axis, in order (or from the end with ``reverse``), in the
    output dtype: integers widen as NumPy's do, and wrap around instead of overflowing."""
    x = ctx.inputs[0]
    out = ctx.output(0)
    dtype, ctype = out.dtype, out.ctype
    axis = _axis(ctx)
    n = x.shape[axis]
    mode = "*" if ctx.op.mode == "mul" else "+"
    # -0.0 is the exact identity of a float sum: -0.0 + v is v for every v, -0.0 included.
    identity = "1" if mode == "*" else ("-0.0" if dtype.startswith("float") else "0")
    order = (f"for (ptrdiff_t j = {n - 1}; j >= 0; --j) {{" if ctx.op.reverse
             else f"for (ptrdiff_t j = 0; j < {n}; ++j) {{")
    sx, so = x.strides[axis], out.strides[axis]
    ctx.emit(*lanes(x.shape, axis, [x, out], lambda ix: [
        f"{ctype} acc = ({ctype}){identity};",
        order,
        f"    const {ctype} v = ({ctype}){at(x, ix[0], f'j * {sx}')};",
        f"    acc = {wrapping(dtype, 'acc', mode, 'v')};",
        f"    {at(out, ix[1], f'j * {so}')} = acc;",
        "}",
    ]))


@EXPORT_C.register(LinearRecurrence)
def linear_recurrence(ctx: NodeContext) -> None:
    """``s[i] = a[i] * s[i-1] + b[i]`` along the axis (from the end with ``reverse``); the
    first step is ``b`` alone, as in the reference (``a * 0 + b`` would turn an infinite
    ``a`` into NaN)."""
    a, b = ctx.inputs
    out = ctx.output(0)
    dtype, ctype = out.dtype, out.ctype
    if not a.shape:
        ctx.emit(f"    {out.element('0')} = ({ctype}){b.element('0')};")
        return
    axis = _axis(ctx)
    n = a.shape[axis]
    first, order = ((n - 1, f"for (ptrdiff_t j = {n - 2}; j >= 0; --j) {{")
                    if ctx.op.reverse else (0, f"for (ptrdiff_t j = 1; j < {n}; ++j) {{"))
    sa, sb, so = a.strides[axis], b.strides[axis], out.strides[axis]

    def body(ix: list[str]) -> list[str]:
        term = f"({ctype}){at(a, ix[0], f'j * {sa}')}"
        shift = f"({ctype}){at(b, ix[1], f'j * {sb}')}"
        return [
            f"{ctype} s = ({ctype}){at(b, ix[1], str(first * sb))};",
            f"{at(out, ix[2], str(first * so))} = s;",
            order,
            f"    s = {wrapping(dtype, wrapping(dtype, term, '*', 's'), '+', shift)};",
            f"    {at(out, ix[2], f'j * {so}')} = s;",
            "}",
        ]

    ctx.emit(*lanes(a.shape, axis, [a, b, out], body))


# --------------------------------------------------------------------------- Repeat
def _counts(ctx: NodeContext, j: int, size: int, total: int) -> tuple[list[str], Callable]:
    """Checks of the repeats input ``j`` for an axis of ``size`` elements whose copies must
    add up to ``total`` (the static size of the result), and the C expression of count k.

    Counts known at export are checked now; counts read at run time are checked before any
    element is copied, and a count that would not give the planned size is an error."""
    counts = ctx.inputs[j]
    value = ctx.values[j]
    label = str(ctx.op)
    if value is not None:
        flat = np.asarray(value).astype("int64").reshape(-1)
        if flat.size not in (1, size) or (flat < 0).any() \
                or int(np.broadcast_to(flat, (size,)).sum()) != total:
            raise ExportError(f"cannot export {ctx.describe()} to C: its repeats "
                              f"{flat.tolist()} do not fit an axis of {size} elements "
                              f"repeated into {total}")
    single = counts.size == 1

    def count(k: str) -> str:
        element = counts.element("0" if single else f"{k} * {counts.strides[0]}")
        return as_int64(element, counts.dtype)

    if value is not None or size == 0:
        return [], count
    fail = ctx.fail("EXPRC_ERROR_VALUE", f"{label}: repeats must be non-negative and add up "
                    f"to {total}, the size the export planned for")
    return [
        "    {",
        "        int64_t total = 0;",
        f"        for (ptrdiff_t k = 0; k < {size}; ++k) {{",
        f"            const int64_t c = {count('k')};",
        f"            if (c < 0 || c > {total} - total) {fail}",
        "            total += c;",
        "        }",
        f"        if (total != {total}) {fail}",
        "    }",
    ], count


@EXPORT_C.register(Repeat)
def repeat(ctx: NodeContext) -> None:
    """Each element copied ``repeats`` times along the axis, lane by lane."""
    x = ctx.inputs[0]
    out = ctx.output(0)
    axis = _axis(ctx)
    size = x.shape[axis]
    checks, count = _counts(ctx, 1, size, out.shape[axis])
    ctx.emit(*checks)
    sx, so = x.strides[axis], out.strides[axis]
    ctx.emit(*lanes(x.shape, axis, [x, out], lambda ix: [
        "ptrdiff_t o = 0;",
        f"for (ptrdiff_t k = 0; k < {size}; ++k) {{",
        f"    const {x.ctype} v = {at(x, ix[0], f'k * {sx}')};",
        f"    for (int64_t c = {count('k')}; c > 0; --c, ++o) "
        f"{at(out, ix[1], f'o * {so}')} = v;",
        "}",
    ]))


@EXPORT_C.register(RepeatSum)
def repeat_sum(ctx: NodeContext) -> None:
    """The copies :class:`Repeat` made summed back, in order, into the element each came
    from."""
    g = ctx.inputs[0]
    out = ctx.output(0)
    axis = _axis(ctx)
    size = out.shape[axis]
    checks, count = _counts(ctx, 1, size, g.shape[axis])
    ctx.emit(*checks)
    dtype, ctype = out.dtype, out.ctype
    sg, so = g.strides[axis], out.strides[axis]
    # Lanes run over the output's shape (the group axis has `size` entries), g's view has
    # the same strides off the axis.
    g_view = Layout(g.buffer, g.offset, out.shape, g.strides)
    ctx.emit(*lanes(out.shape, axis, [g_view, out], lambda ix: [
        "ptrdiff_t q = 0;",
        f"for (ptrdiff_t k = 0; k < {size}; ++k) {{",
        f"    {ctype} acc = 0;",
        f"    for (int64_t c = {count('k')}; c > 0; --c, ++q) {{",
        f"        const {ctype} v = {at(g, ix[0], f'q * {sg}')};",
        f"        acc = {wrapping(dtype, 'acc', '+', 'v')};",
        "    }",
        f"    {at(out, ix[1], f'k * {so}')} = acc;",
        "}",
    ]))


# --------------------------------------------------------------------------- OneHot
@EXPORT_C.register(OneHot)
def one_hot(ctx: NodeContext) -> None:
    """Zeros, then a one per row at the label's column; a label outside ``[0, nb_class)`` is
    ``EXPRC_ERROR_INDEX``."""
    y = ctx.inputs[0]
    out = ctx.output(0)
    classes = ctx.op.nb_class
    n = y.shape[0]
    if out.size:
        ctx.emit(f"    memset({out.pointer()}, 0, {out.size} * sizeof({out.ctype}));")
    if n == 0:
        return
    fail = ctx.fail("EXPRC_ERROR_INDEX", f"{ctx.op}: a label is out of range for "
                    f"{classes} classes")
    ctx.emit(
        f"    for (ptrdiff_t i = 0; i < {n}; ++i) {{",
        f"        const int64_t label = {as_int64(y.element(f'i * {y.strides[0]}'), y.dtype)};",
        f"        if (label < 0 || label >= {classes}) {fail}",
        f"        {out.element(f'i * {classes} + (ptrdiff_t)label')} = 1;",
        "    }")


# --------------------------------------------------------------------------- RuntimeCheck
@EXPORT_C.register(RuntimeCheck)
def runtime_check(ctx: NodeContext) -> None:
    """The check's bool, computed at run time, must be true: else the error
    ``exprc.tensor.extra_ops.CHECKS`` gives for it. The output is the input itself."""
    kind, message = CHECKS[ctx.op.check]
    ok = ctx.inputs[1]
    ctx.emit(f"    if (!{ok.element('0')}) {ctx.fail(error_code(kind), f'{ctx.op}: {message}')}")
    ctx.view(0, ctx.inputs[0])


# --------------------------------------------------------------------------- SearchSorted
def sort_before(a: str, b: str, dtype: str) -> str:
    """C expression: ``a`` sorts before ``b`` (NaN after every number, as NumPy sorts)."""
    if np.dtype(dtype).kind == "f":
        return f"({a} < {b} || (isnan({b}) && !isnan({a})))"
    return f"({a} < {b})"


@EXPORT_C.register(SearchSorted)
def searchsorted(ctx: NodeContext) -> None:
    """A binary search per value, comparing in the promoted dtype with NaN greatest. With a
    sorter, every position it holds is checked first (``EXPRC_ERROR_VALUE``, as the
    reference's ValueError)."""
    x, v = ctx.inputs[0], operand(ctx, 1)
    out = ctx.output(0)
    n = x.shape[0]
    common = np.result_type(x.dtype, v.dtype).name
    ctype = C_TYPES[common]
    position = "m"
    if len(ctx.inputs) == 3:
        sorter = ctx.inputs[2]
        fail = ctx.fail("EXPRC_ERROR_VALUE", f"{ctx.op}: sorter holds a position out of "
                        f"range for the {n} elements of x")
        entry = as_int64(sorter.element(f"k * {sorter.strides[0]}"), sorter.dtype)
        ctx.emit(f"    for (ptrdiff_t k = 0; k < {n}; ++k) {{",
                 f"        const int64_t p = {entry};",
                 f"        if (p < 0 || p >= {n}) {fail}",
                 "    }")
        entry = as_int64(sorter.element(f"m * {sorter.strides[0]}"), sorter.dtype)
        position = f"(ptrdiff_t){entry}"
    before = (sort_before("key", "value", common) if ctx.op.side == "left"
              else f"!{sort_before('value', 'key', common)}")
    key = f"({ctype}){x.element(f'({position}) * {x.strides[0]}')}"
    ctx.emit(*loop_nest(v.shape, [v, out], lambda ix: [
        f"const {ctype} value = ({ctype}){v.element(ix[0])};",
        "ptrdiff_t lo = 0, hi = " + str(n) + ";",
        "while (lo < hi) {",
        "    const ptrdiff_t m = lo + (hi - lo) / 2;",
        f"    const {ctype} key = {key};",
        f"    if ({before}) lo = m + 1; else hi = m;",
        "}",
        f"{out.element(ix[1])} = (int64_t)lo;",
    ]))
