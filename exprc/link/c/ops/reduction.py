"""C rules of the reductions ``Reduce`` and ``Argmax``.

``Reduce`` (and ``SumToShape``, whose rule lives with the elementwise family) emits a call of
the kernel of ``csrc/exprc_reduce.h`` with the element type, conversion and operation filled in
(``csrc/exprc_reduce_body.h``). The input is converted to the result dtype element by element,
as NumPy's ``ufunc.reduce(x.astype(dtype))`` does. Sums are pairwise, so a float sum is about as
accurate as NumPy's; integer sums are exact (wrapping around as NumPy's do). Above the
elementwise loops' size threshold the work is shared among OpenMP threads, and the result does
not depend on their number.
"""

from __future__ import annotations

import numpy as np

from exprc.link.c.program import (
    C_CODE,
    CUnsupportedError,
    NodeContext,
    ctype,
    format_text,
    itemsize,
    typed_name,
)
from exprc.link.codegen.loops import DEFAULT_PARALLEL_THRESHOLD
from exprc.tensor.reduction import Argmax, Reduce

# Result dtype bool: every reduction is a logical one.
_BOOL = {"add": "or_", "maximum": "or_", "or_": "or_", "mul": "and_", "minimum": "and_",
         "and_": "and_"}


# The operations as csrc/exprc_reduce.h spells them (maximum and minimum propagate NaN).
_COMBINE = {"add": "EXPRC_REDUCE_ADD", "mul": "EXPRC_REDUCE_MUL", "or_": "EXPRC_REDUCE_OR",
            "and_": "EXPRC_REDUCE_AND", "maximum": "EXPRC_REDUCE_MAXIMUM",
            "minimum": "EXPRC_REDUCE_MINIMUM"}
# Compiled once in the runtime library (csrc/exprc_reduce.c): exprc_reduce_<name>_<dtype>.
SHARED_KERNELS = {(name, dtype) for name in ("add", "mul", "maximum", "minimum")
           for dtype in ("float32", "float64")}


def _identity(name: str, dtype: str) -> str:
    if name in ("add", "or_"):
        return "0"
    if name in ("mul", "and_"):
        return "1"
    sign = "-" if name == "maximum" else ""
    if dtype.startswith("float"):
        return f"{sign}INFINITY"
    info = np.iinfo(dtype)
    value = info.min if name == "maximum" else info.max
    if dtype == "int64" and value == info.min:
        return "INT64_MIN"
    if dtype == "uint64" and value == info.max:
        return "UINT64_MAX"
    return f"(({ctype(dtype)}){value}LL)"


def _combine_op(name: str, dtype: str) -> str:
    """The C expression folding ``a`` and ``b`` for ``name`` in ``dtype``.

    Integer sums and products are computed in ``uint64_t`` and converted back, so that they
    wrap around as NumPy's do rather than overflow (undefined behaviour for signed types).
    """
    if name in ("add", "mul") and dtype != "bool" and not dtype.startswith("float"):
        return f"EXPRC_REDUCE_WRAP_{name.upper()[:3]}({ctype(dtype)}, a, b)"
    return f"{_COMBINE[name]}(a, b)"


def accumulate(ctx: NodeContext, name: str, x: str, in_dtype: str, out: str, out_dtype: str,
               mask: str) -> list[str]:
    """Lines reducing ``x`` into the allocated ``out`` (see ``csrc/exprc_reduce.h``).

    ``mask`` is a C expression whose bit ``d`` is set when axis ``d`` of ``x`` is reduced;
    ``out`` has the kept axes, or all the axes with the reduced ones of size 1. Sums are
    pairwise, and large reductions run on all OpenMP threads with the same result as on one.
    """
    ctx.include("exprc_reduce.h")
    lines = [
        "exprc_reduce_plan plan;",
        (f"exprc_reduce_plan_init(&plan, &{x}, &{out}, (int64_t)({mask}), "
         f"{itemsize(out_dtype)}, {DEFAULT_PARALLEL_THRESHOLD});"),
    ]
    loop = reduction_loop(ctx, name, in_dtype, out_dtype)
    return lines + [f"{loop}(&plan, {x}.data, {out}.data);"]


def reduction_loop(ctx: NodeContext, name: str, in_dtype: str, out_dtype: str) -> str:
    """The name of a function folding ``in_dtype`` into ``out_dtype`` with ``name`` (an
    ``exprc_reduce_loop``): the runtime library's ``exprc_reduce_<name>_<dtype>`` when it holds
    one, else a hot function of the program, compiled with full optimisation, once each."""
    if in_dtype == out_dtype and (name, out_dtype) in SHARED_KERNELS:
        return typed_name(f"exprc_reduce_{name}", out_dtype)
    oc, xc = ctype(out_dtype), ctype(in_dtype)
    conv = "((bool)((v) != 0))" if out_dtype == "bool" else f"(({oc})(v))"
    body = "\n".join([
        f"#define EXPRC_REDUCE_IN {xc}",
        f"#define EXPRC_REDUCE_ACC {oc}",
        f"#define EXPRC_REDUCE_CONV(v) {conv}",
        f"#define EXPRC_REDUCE_COMB(a, b) {_combine_op(name, out_dtype)}",
        f"#define EXPRC_REDUCE_IDENTITY {_identity(name, out_dtype)}",
        '#include "exprc_reduce_body.h"',
    ])
    return ctx.hot_function("exprc_reduce_plan *rp, const char *rx_data, char *rout_data",
                            body, includes=["exprc_reduce.h"])


@C_CODE.register(Reduce)
def reduce(node, ctx: NodeContext) -> str:
    op = node.op
    name = op.scalar_op.name
    out_dtype, in_dtype = node.outputs[0].dtype, node.inputs[0].dtype
    if out_dtype == "bool":
        name = _BOOL[name]
    elif name in ("or_", "and_"):
        raise CUnsupportedError(f"logical reduction to {out_dtype}")
    x, ndim = ctx.inputs[0], node.inputs[0].ndim
    axes = op.axis
    lines = []
    if op.no_identity:
        label = format_text(op.no_identity)
        test = " || ".join(f"{x}.shape[{a}] == 0" for a in axes) or "0"
        lines.append(f"if ({test}) " + ctx.fail(
            "ValueError", f"{label} of an empty axis: axes {format_text(axes)} of an input of "
            f"shape %s hold no elements, and {label} has no identity", f"exprc_shape_str(&{x})"))
    kept = [d for d in range(ndim) if d not in axes]
    lines.append(ctx.alloc_output(0, [f"{x}.shape[{d}]" for d in kept]))
    mask = sum(1 << a for a in axes)
    lines += accumulate(ctx, name, x, in_dtype, ctx.outputs[0], out_dtype, f"{mask}")
    return "\n".join(lines)


__all__ = ["accumulate", "argmax", "reduce", "reduction_loop"]


@C_CODE.register(Argmax)
def argmax(node, ctx: NodeContext) -> str:
    x, out = ctx.inputs[0], ctx.outputs[0]
    ndim, axes = node.inputs[0].ndim, node.op.axis
    t = ctype(node.inputs[0].dtype)
    kept = [d for d in range(ndim) if d not in axes]
    name = "argmax" if node.op.largest else "argmin"
    cmp = ">" if node.op.largest else "<"
    test = " || ".join(f"{x}.shape[{a}] == 0" for a in axes) or "0"
    nk, na = max(len(kept), 1), max(len(axes), 1)
    join = ", ".join
    return "\n".join([
        f"if ({test}) " + ctx.fail(
            "ValueError", f"{name} of an empty axis: axes {format_text(axes)} of an input of shape "
            f"%s hold no elements, and {name} has no identity", f"exprc_shape_str(&{x})"),
        ctx.alloc_output(0, [f"{x}.shape[{d}]" for d in kept]),
        f"const int64_t rsh[{na}] = {{{join(f'{x}.shape[{a}]' for a in axes) or '1'}}};",
        f"const int64_t rst[{na}] = {{{join(f'{x}.strides[{a}]' for a in axes) or '0'}}};",
        f"int64_t sh[{nk}] = {{{join(f'{x}.shape[{d}]' for d in kept) or '1'}}};",
        (f"int64_t st[{2 * nk}] = {{{join(f'{x}.strides[{d}]' for d in kept) or '0'}, "
        f"{join(f'{out}.strides[{o}]' for o in range(len(kept))) or '0'}}};"),
        "int64_t count = 1;",
        f"for (int a = 0; a < {len(axes)}; ++a) count *= rsh[a];",
        f"char *data[2] = {{{x}.data, {out}.data}};",
        "exprc_iter it;",
        f"exprc_iter_init(&it, {len(kept)}, sh, 2, data, st);",
        "if (!it.done) do {",
        "    for (int64_t i = 0; i < it.inner; ++i) {",
        "        const char *base = it.ptr[0] + i * it.step[0];",
        f"        int64_t index[{na}] = {{0}}, offset = 0, best = 0;",
        f"        {t} top = *(const {t} *)base;",
        "        for (int64_t f = 0; f < count; ++f) {",
        f"            const {t} v = *(const {t} *)(base + offset);",
        f"            if (v {cmp} top || (v != v && top == top)) {{ top = v; best = f; }}",
        f"            for (int a = {len(axes) - 1}; a >= 0; --a) {{",
        "                offset += rst[a];",
        "                if (++index[a] < rsh[a]) break;",
        "                offset -= rsh[a] * rst[a];",
        "                index[a] = 0;",
        "            }",
        "        }",
        "        *(int64_t *)(it.ptr[1] + i * it.step[1]) = best;",
        "    }",
        "} while (exprc_iter_next(&it));",
    ])
