"""C rules of the reductions ``Reduce`` and ``SumToShape``.

Both accumulate into their output: it is filled with the reduction's identity, then one walk
over the input adds each element into the output element it reduces to (the output's strides
are 0 along the reduced axes). The input is converted to the result dtype element by element,
as NumPy's ``ufunc.reduce(x.astype(dtype))`` does.
"""

from __future__ import annotations

import numpy as np

from exprc.link.c.ops.shape import _text, read_shape
from exprc.link.c.program import C_CODE, CUnsupportedError, NodeContext, ctype
from exprc.tensor.elemwise import SumToShape
from exprc.tensor.reduction import Reduce

# Result dtype bool: every reduction is a logical one.
_BOOL = {"add": "or_", "maximum": "or_", "or_": "or_", "mul": "and_", "minimum": "and_",
         "and_": "and_"}
_NO_IDENTITY = {"maximum": "max", "minimum": "min"}


def _combine(name: str, acc: str, x: str) -> str:
    """C expression of the reduction ``name`` of ``acc`` and ``x`` (NaN propagates)."""
    return {
        "add": f"{acc} + {x}", "mul": f"{acc} * {x}", "or_": f"{acc} || {x}",
        "and_": f"{acc} && {x}",
        "maximum": f"({acc} != {acc} || {acc} >= {x}) ? {acc} : {x}",
        "minimum": f"({acc} != {acc} || {acc} <= {x}) ? {acc} : {x}",
    }[name]


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


def accumulate(ctx: NodeContext, name: str, x: str, in_dtype: str, out: str, out_dtype: str,
               ndim: int, reduced: str) -> list[str]:
    """Lines filling ``out`` with the identity, then reducing ``x`` into it.

    ``reduced`` is a C expression of the axis ``d`` that is true when axis ``d`` is reduced.
    """
    oc, xc = ctype(out_dtype), ctype(in_dtype)
    cast = f"(({oc})(v != 0))" if out_dtype == "bool" else f"(({oc})v)"
    nd = max(ndim, 1)
    return [
        "int64_t count = 1;",
        f"for (int d = 0; d < {out}.ndim; ++d) count *= {out}.shape[d];",
        (f"for (int64_t i = 0; i < count; ++i) (({oc} *){out}.data)[i] = "
        f"{_identity(name, out_dtype)};"),
        f"int64_t st[{2 * nd}] = {{0}};",
        f"for (int d = 0, o = 0; d < {ndim}; ++d) {{",
        f"    st[d] = {x}.strides[d];",
        f"    st[{ndim} + d] = ({reduced}) ? 0 : {out}.strides[o];",
        f"    o += !({reduced}) || {out}.ndim == {ndim};",
        "}",
        f"char *data[2] = {{{x}.data, {out}.data}};",
        "exprc_iter it;",
        f"exprc_iter_init(&it, {ndim}, {x}.shape, 2, data, st);",
        "if (!it.done) do {",
        "    const char *p = it.ptr[0];",
        f"    {oc} *o = ({oc} *)it.ptr[1];",
        "    for (int64_t i = 0; i < it.inner; ++i, p += it.step[0],",
        f"         o = ({oc} *)((char *)o + it.step[1])) {{",
        f"        const {xc} v = *(const {xc} *)p;",
        f"        const {oc} e = {cast};",
        f"        *o = {_combine(name, '*o', 'e')};",
        "    }",
        "} while (exprc_iter_next(&it));",
    ]


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
    if op.scalar_op.name in _NO_IDENTITY:
        label = _NO_IDENTITY[op.scalar_op.name]
        test = " || ".join(f"{x}.shape[{a}] == 0" for a in axes) or "0"
        lines.append(f"if ({test}) " + ctx.fail(
            "ValueError", f"{label} of an empty axis: axes {_text(axes)} of an input of shape "
            f"%s hold no elements, and {label} has no identity", f"exprc_shape_str(&{x})"))
    kept = [d for d in range(ndim) if d not in axes]
    lines.append(ctx.alloc_output(0, [f"{x}.shape[{d}]" for d in kept]))
    mask = "|".join(f"(1 << {a})" for a in axes) or "0"
    lines += accumulate(ctx, name, x, in_dtype, ctx.outputs[0], out_dtype, ndim,
                        f"(({mask}) >> d) & 1")
    return "\n".join(lines)


@C_CODE.register(SumToShape)
def sum_to_shape(node, ctx: NodeContext) -> str:
    g, out = ctx.inputs[0], ctx.outputs[0]
    ndim, dtype = node.inputs[0].ndim, node.inputs[0].dtype
    lines = read_shape(ctx, 1, ndim, "t", _text(node.op))
    lines += [
        "int64_t mask = 0, bad = 0;",
        f"for (int d = 0; d < {ndim}; ++d) {{",
        f"    if (t[d] == 1 && {g}.shape[d] != 1) mask |= (int64_t)1 << d;",
        f"    else bad |= {g}.shape[d] != t[d];",
        "}",
        "if (bad) " + ctx.fail("ValueError", f"{_text(node.op)}: cannot sum an array of "
                               "shape %s down to the target shape", f"exprc_shape_str(&{g})"),
        f"if (mask == 0) {{ {ctx.view(0, 0)} }} else {{",
        *["    " + line for line in [
            ctx.alloc_output(0, [f"t[{d}]" for d in range(ndim)]),
            *accumulate(ctx, "or_" if dtype == "bool" else "add", g, dtype, out, dtype, ndim,
                        "(mask >> d) & 1")]],
        "}",
    ]
    return "\n".join(lines)


__all__ = ["accumulate", "reduce", "sum_to_shape"]
