"""Standalone C of the reductions: ``Reduce`` and ``Argmax``.

``Reduce`` converts each element to its ``dtype`` and folds the reduced axes in that dtype, as
the reference's ``ufunc.reduce(x.astype(dtype))``. A float sum whose input already has the
sum's dtype is pairwise (``csrc/exprc_portable_sum.h``), as NumPy's is; every other fold is
exact or order-independent enough to run in C order, one element after the other: integer sums
and products wrap around as NumPy's do, maximum and minimum propagate NaN, bool results are
logical. The loop order follows memory: when the kept axes are the contiguous ones (a sum over
rows), each reduced slice is folded into the whole output at once.
"""

from __future__ import annotations

import math

import numpy as np

from exprc.export.c.layout import Layout, loop_nest, merged_axes
from exprc.export.c.program import EXPORT_C, NodeContext, copy_lines
from exprc.export.c.rules.extra_ops import nest, wrapping
from exprc.export.graph import ExportError
from exprc.link.codegen.render import C_TYPES
from exprc.tensor.reduction import Argmax, Reduce

# Result dtype bool: every reduction is a logical one (NumPy's add/max of bools is `or`).
_BOOL = {"add": "or_", "maximum": "or_", "or_": "or_", "mul": "and_", "minimum": "and_",
         "and_": "and_"}


def _identity(name: str, dtype: str) -> str:
    if name in ("add", "or_"):
        return "-0.0" if dtype.startswith("float") else "0"
    if name in ("mul", "and_"):
        return "1"
    if dtype.startswith("float"):
        return "-INFINITY" if name == "maximum" else "INFINITY"
    info = np.iinfo(dtype)
    value = info.min if name == "maximum" else info.max
    if dtype == "int64":
        return "INT64_MIN" if value < 0 else "INT64_MAX"
    if dtype == "uint64":
        return "UINT64_MAX" if value else "0"
    return f"(({C_TYPES[dtype]}){value})"


def _combine(name: str, dtype: str, a: str, b: str) -> str:
    """C expression folding ``b`` into the accumulated ``a``."""
    if name == "or_":
        return f"({a} || {b})"
    if name == "and_":
        return f"({a} && {b})"
    if name in ("add", "mul"):
        return wrapping(dtype, a, "+" if name == "add" else "*", b)
    test = ">=" if name == "maximum" else "<="
    if dtype.startswith("float"):  # NaN wins, as np.maximum / np.minimum
        return f"((isnan({a}) || {a} {test} {b}) ? {a} : {b})"
    return f"({a} {test} {b} ? {a} : {b})"


def _empty_axis_error(ctx: NodeContext, name: str) -> ExportError:
    return ExportError(f"cannot export {ctx.describe()} to C: {name} of an empty axis "
                       f"(axes {ctx.op.axis} of an input of shape {ctx.inputs[0].shape}) has no "
                       "identity, so the function always fails")


def _inner_last(x: Layout, axes: tuple[int, ...], kept: list[int]) -> bool:
    """Whether the reduced axes step through memory faster than the kept ones (fold each
    output element's lane in one go), rather than the other way round."""
    def smallest(dims):
        steps = [abs(x.strides[d]) for d in dims if x.shape[d] > 1]
        return min(steps, default=math.inf)
    return smallest(axes) <= smallest(kept)


@EXPORT_C.register(Reduce)
def reduce(ctx: NodeContext) -> None:
    op = ctx.op
    x = ctx.inputs[0]
    dtype = op.dtype
    name = op.scalar_op.name
    if dtype == "bool":
        name = _BOOL[name]
    axes = tuple(op.axis)
    kept = [d for d in range(len(x.shape)) if d not in axes]
    count = math.prod(x.shape[a] for a in axes)
    if op.no_identity and count == 0 and math.prod(x.shape[d] for d in kept):
        raise _empty_axis_error(ctx, op.no_identity)
    out = ctx.output(0)
    if out.size == 0:
        return
    ctype = C_TYPES[dtype]
    if count == 0:
        value = "0" if name == "add" else _identity(name, dtype)
        ctx.emit(f"    for (ptrdiff_t i = 0; i < {out.size}; ++i) "
                 f"{out.element('i')} = ({ctype}){value};")
        return
    if name == "add" and dtype.startswith("float") and x.dtype == dtype:
        _pairwise_sum(ctx, x, axes, kept, out)
        return
    convert = "({} != 0)" if dtype == "bool" else f"({ctype}){{}}"
    kept_shape = [x.shape[d] for d in kept]
    red_shape = [x.shape[a] for a in axes]
    if _inner_last(x, axes, kept):
        # One output element at a time, its lane folded in C order.
        def fold(ix: list[str]) -> list[str]:
            base = ix[0]
            read = nest(red_shape, [[x.strides[a] for a in axes]], lambda jx: [
                "acc = " + _combine(name, dtype, "acc",
                                    convert.format(x.element(f"{base} + {jx[0]}"))) + ";"],
                "r")
            return [f"{ctype} acc = ({ctype}){_identity(name, dtype)};", *read,
                    f"{out.element(ix[1])} = acc;"]

        kept_x = Layout(x.buffer, x.offset, tuple(kept_shape),
                        tuple(x.strides[d] for d in kept))
        ctx.emit(*loop_nest(kept_shape, [kept_x, out], fold))
        return
    # Kept axes innermost: the output starts at the identity, and each element of x is
    # folded into its output element, reduced slice after reduced slice (the same order per
    # output element as above).
    ctx.emit(f"    for (ptrdiff_t i = 0; i < {out.size}; ++i) "
             f"{out.element('i')} = ({ctype}){_identity(name, dtype)};")
    order = list(axes) + kept
    x_view = Layout(x.buffer, x.offset, tuple(x.shape[d] for d in order),
                    tuple(x.strides[d] for d in order))
    out_view = Layout(out.buffer, out.offset, x_view.shape,
                      (0,) * len(axes) + tuple(out.strides))
    ctx.emit(*loop_nest(x_view.shape, [x_view, out_view], lambda ix: [
        f"{out_view.element(ix[1])} = "
        + _combine(name, dtype, out_view.element(ix[1]), convert.format(x_view.element(ix[0])))
        + ";"]))


def _pairwise_sum(ctx: NodeContext, x: Layout, axes: tuple[int, ...], kept: list[int],
                  out: Layout) -> None:
    """One pairwise sum per output element over its lane: the reduced axes must merge into
    one strided axis, else they are first copied (in kept-then-reduced order) to scratch."""
    dtype = x.dtype
    suffix = ctx.need("sum", dtype)
    kept_shape = tuple(x.shape[d] for d in kept)
    sizes, strides = merged_axes([x.shape[a] for a in axes], [[x.strides[a] for a in axes]])
    if len(sizes) <= 1:
        n = sizes[0] if sizes else 1
        stride = strides[0][0] if sizes else 1
        source = Layout(x.buffer, x.offset, kept_shape, tuple(x.strides[d] for d in kept))
    else:
        n, stride = math.prod(sizes), 1
        order = kept + list(axes)
        permuted = Layout(x.buffer, x.offset, tuple(x.shape[d] for d in order),
                          tuple(x.strides[d] for d in order))
        scratch = ctx.scratch(dtype, x.size)
        copy = Layout.whole(scratch.buffer, permuted.shape)
        ctx.emit(*copy_lines(permuted, copy))
        source = Layout(scratch.buffer, 0, kept_shape, copy.strides[:len(kept)])
    ctx.emit(*loop_nest(kept_shape, [source, out], lambda ix: [
        f"{out.element(ix[1])} = exprc_portable_sum{suffix}({source.pointer()} + {ix[0]}, "
        f"{n}, {stride});"]))


@EXPORT_C.register(Argmax)
def argmax(ctx: NodeContext) -> None:
    """The first position (in C order over the reduced axes) of the largest or smallest
    element; a NaN counts as the extreme value, the first NaN winning (NumPy)."""
    x = ctx.inputs[0]
    axes = tuple(ctx.op.axis)
    kept = [d for d in range(len(x.shape)) if d not in axes]
    count = math.prod(x.shape[a] for a in axes)
    name = "argmax" if ctx.op.largest else "argmin"
    if count == 0 and math.prod(x.shape[d] for d in kept):
        raise _empty_axis_error(ctx, name)
    out = ctx.output(0)
    if out.size == 0:
        return
    cmp = ">" if ctx.op.largest else "<"
    better = f"v {cmp} top"
    if x.dtype.startswith("float"):
        better = f"{better} || (isnan(v) && !isnan(top))"
    kept_shape = tuple(x.shape[d] for d in kept)
    red_shape = [x.shape[a] for a in axes]

    def find(ix: list[str]) -> list[str]:
        base = ix[0]
        scan = nest(red_shape, [[x.strides[a] for a in axes]], lambda jx: [
            f"const {x.ctype} v = {x.element(f'{base} + {jx[0]}')};",
            f"if ({better}) {{ top = v; best = f; }}",
            "++f;"], "r")
        return [f"{x.ctype} top = {x.element(base)};", "int64_t best = 0, f = 0;", *scan,
                f"{out.element(ix[1])} = best;"]

    kept_x = Layout(x.buffer, x.offset, kept_shape, tuple(x.strides[d] for d in kept))
    ctx.emit(*loop_nest(kept_shape, [kept_x, out], find))
