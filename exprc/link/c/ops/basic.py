"""C rules of the construction ops: ``ARange``, ``Join``, ``Split``, ``Eye`` and ``Alloc``.

``Split`` returns views of its input and never copies.
"""

from __future__ import annotations

from exprc.link.c.ops.shape import read_shape
from exprc.link.c.program import C_CODE, NodeContext, ctype, format_text, itemsize
from exprc.tensor.basic import Alloc, ARange, Eye, Join, Split


def cast_copy(dst: str, dst_dtype: str, src: str, src_dtype: str) -> list[str]:
    """Lines writing ``src`` into ``dst`` (same shape), converting each element."""
    if dst_dtype == src_dtype:
        return [f"exprc_assign(&{dst}, &{src}, {itemsize(dst_dtype)});"]
    dt, sc = ctype(dst_dtype), ctype(src_dtype)
    value = "(v != 0)" if dst_dtype == "bool" else f"({dt})v"
    return [
        "{",
        "    int64_t cst[2 * EXPRC_MAXDIM];",
        f"    char *cdata[2] = {{{dst}.data, {src}.data}};",
        (f"    for (int d = 0; d < {dst}.ndim; ++d) {{ cst[d] = {dst}.strides[d]; "
        f"cst[{dst}.ndim + d] = {src}.strides[d]; }}"),
        "    exprc_iter ci;",
        f"    exprc_iter_init(&ci, {dst}.ndim, {dst}.shape, 2, cdata, cst);",
        "    if (!ci.done) do {",
        "        for (int64_t i = 0; i < ci.inner; ++i) {",
        f"            const {sc} v = *(const {sc} *)(ci.ptr[1] + i * ci.step[1]);",
        f"            *({dt} *)(ci.ptr[0] + i * ci.step[0]) = {value};",
        "        }",
        "    } while (exprc_iter_next(&ci));",
        "}",
    ]


def _integer_count(label: str, ctx: NodeContext) -> list[str]:
    """Lines setting ``n`` to the exact length of an integer arange, or failing.

    The span ``stop - start`` and the step's magnitude are taken as unsigned 64-bit numbers,
    which hold them exactly for any int64 bounds (``stop - start + step - 1`` in int64 would
    overflow near the ends of the range and give an empty result).
    """
    return [
        "uint64_t span = 0, stride = step > 0 ? (uint64_t)step : (uint64_t)0 - (uint64_t)step;",
        "if (step > 0 && stop > start) span = (uint64_t)stop - (uint64_t)start;",
        "if (step < 0 && start > stop) span = (uint64_t)start - (uint64_t)stop;",
        "const uint64_t length = span == 0 ? 0 : (span - 1) / stride + 1;",
        "if (length > (uint64_t)INT64_MAX) " + ctx.fail(
            "ValueError", f"{label}: Maximum allowed size exceeded: arange(%lld, %lld, %lld) "
            "would hold %llu elements", "(long long)start", "(long long)stop",
            "(long long)step", "(unsigned long long)length"),
        "const int64_t n = (int64_t)length;",
    ]


def _float_count(label: str, ctx: NodeContext) -> list[str]:
    """Lines setting ``n`` to the length of a float arange, or failing.

    The length is NumPy's ``ceil((stop - start) / step)``; a NaN or too large length fails as
    in NumPy (converting either to int64 would be undefined behaviour).
    """
    return [
        "const double length = ceil((stop - start) / step);",
        "if (length != length) " + ctx.fail(
            "ValueError", f"{label}: cannot compute the length of arange(%g, %g, %g)",
            "start", "stop", "step"),
        "if (length >= 9223372036854775808.0) " + ctx.fail(
            "ValueError", f"{label}: Maximum allowed size exceeded: arange(%g, %g, %g)",
            "start", "stop", "step"),
        "const int64_t n = length > 0 ? (int64_t)length : 0;",
    ]


@C_CODE.register(ARange)
def arange(node, ctx: NodeContext) -> str:
    dtype = node.op.dtype
    integral = all(v.dtype.startswith(("int", "uint", "bool")) for v in node.inputs)
    kind = "int64_t" if integral else "double"
    label = format_text(node.op)
    start, stop, step = (f"(({kind}){ctx.scalar(j)})" for j in range(3))
    # Integer values are formed in unsigned arithmetic: i * step may pass INT64_MAX on the way
    # to a value that fits, and unsigned overflow wraps where signed overflow is undefined.
    value = ("(int64_t)((uint64_t)start + (uint64_t)i * (uint64_t)step)" if integral
             else "start + i * step")
    out = ctx.outputs[0]
    return "\n".join([
        f"const {kind} start = {start}, stop = {stop}, step = {step};",
        "if (step == 0) " + ctx.fail("ValueError", f"{label}: step must not be zero"),
        *(_integer_count if integral else _float_count)(label, ctx),
        ctx.alloc_output(0, ["n"]),
        (f"for (int64_t i = 0; i < n; ++i) (({ctype(dtype)} *){out}.data)[i] = "
         f"({ctype(dtype)})({value});"),
    ])


@C_CODE.register(Join)
def join(node, ctx: NodeContext) -> str:
    axis, ndim = node.op.axis, node.outputs[0].ndim
    dtype = node.outputs[0].dtype
    first, out = ctx.inputs[0], ctx.outputs[0]
    if all(v.dtype == dtype for v in node.inputs):  # the common case: one run-time call
        return "\n".join([
            f"const exprc_array *ins[] = {{{', '.join('&' + v for v in ctx.inputs)}}};",
            (f"if (exprc_join(&pool, &{out}, {len(ctx.inputs)}, ins, {axis}, "
             f"{itemsize(dtype)}, {ctx.label}, error, {ctx.index})) goto fail;")])
    others = [d for d in range(ndim) if d != axis]
    lines = ["int64_t total = 0;"]
    for v in ctx.inputs:
        test = " || ".join(f"{v}.shape[{d}] != {first}.shape[{d}]" for d in others) or "0"
        lines += [f"if ({test}) " + ctx.fail(
            "ValueError", f"{format_text(node.op)}: cannot join arrays of shapes %s, %s: sizes "
            f"differ on an axis other than {axis}", f"exprc_shape_str(&{first})",
            f"exprc_shape_str(&{v})"), f"total += {v}.shape[{axis}];"]
    lines.append(ctx.alloc_output(0, [f"{first}.shape[{d}]" if d != axis else "total"
                                      for d in range(ndim)]))
    lines += ["exprc_array part;", "int64_t offset = 0;"]
    for v, var in zip(ctx.inputs, node.inputs):
        lines += [f"part = {out}; part.shape[{axis}] = {v}.shape[{axis}];",
                  f"part.data = {out}.data + offset * {out}.strides[{axis}];",
                  *cast_copy("part", dtype, v, var.dtype),
                  f"offset += {v}.shape[{axis}];"]
    return "\n".join(lines)


__all__ = ["alloc", "arange", "cast_copy", "eye", "join", "split"]


@C_CODE.register(Split)
def split(node, ctx: NodeContext) -> str:
    x, sizes = ctx.inputs
    axis, count = node.op.axis, node.op.n_splits
    lines = [
        f"int64_t size[{count}], total = 0, bad = {sizes}.shape[0] != {count};",
        f"for (int64_t p = 0; !bad && p < {count}; ++p) {{",
        f"    size[p] = {ctx.element(1, 'p')};",
        "    bad = size[p] < 0 || __builtin_add_overflow(total, size[p], &total);",
        "}",
        f"if (bad || total != {x}.shape[{axis}]) {{",
        # Show the sizes as given (at most 16 of them), whatever was wrong with them.
        f"    int64_t given[16], shown = {sizes}.shape[0] < 16 ? {sizes}.shape[0] : 16;",
        f"    for (int64_t p = 0; p < shown; ++p) given[p] = {ctx.element(1, 'p')};",
        "    " + ctx.fail(
            "ValueError", f"{format_text(node.op)}: cannot split an array of shape %s on axis "
            f"{axis} into {count} pieces of sizes %s", f"exprc_shape_str(&{x})",
            "exprc_ints_str(shown, given, 1)"),
        "}",
        "int64_t offset = 0;",
    ]
    # Every piece is a view of x: the same strides, a shifted start, a shorter axis.
    for i, piece in enumerate(ctx.outputs):
        lines += [
            ctx.view(i, 0),
            f"{piece}.shape[{axis}] = size[{i}];",
            f"{piece}.data += offset * {x}.strides[{axis}];",
            f"offset += size[{i}];",
        ]
    return "\n".join(lines)


@C_CODE.register(Eye)
def eye(node, ctx: NodeContext) -> str:
    out = ctx.outputs[0]
    oc = ctype(node.op.dtype)
    n, m, k = (f"(int64_t){ctx.scalar(j)}" for j in range(3))
    return "\n".join([
        f"const int64_t n = {n}, m = {m}, k = {k};",
        "if (n < 0 || m < 0) " + ctx.fail(
            "ValueError", f"{format_text(node.op)}: negative size: n=%lld, m=%lld", "(long long)n",
            "(long long)m"),
        ctx.alloc_output(0, ["n", "m"]),
        f"memset({out}.data, 0, (size_t)(n * m * {itemsize(node.op.dtype)}));",
        # Row i holds its one at column i + k; the bounds keep i + k from overflowing.
        "if (k < m && k > -n)",
        "    for (int64_t i = k < 0 ? -k : 0; i < n && i + k < m; ++i)",
        f"        (({oc} *){out}.data)[i * m + i + k] = ({oc})1;",
    ])


@C_CODE.register(Alloc)
def alloc(node, ctx: NodeContext) -> str:
    value, out = ctx.inputs[0], ctx.outputs[0]
    ndim, vdim = node.outputs[0].ndim, node.inputs[0].ndim
    lines = read_shape(ctx, 1, ndim, "t")
    lines += [
        f"for (int k = 0; k < {ndim}; ++k) if (t[k] < 0) " + ctx.fail(
            "ValueError", f"{format_text(node.op)}: negative size in the target shape"),
        f"for (int d = 0; d < {vdim}; ++d) {{",
        f"    int64_t v = {value}.shape[d], want = t[d + {ndim - vdim}];",
        "    if (v != 1 && v != want) " + ctx.fail(
            "ValueError", f"{format_text(node.op)}: cannot broadcast a value of shape %s to shape "
            "%s", f"exprc_shape_str(&{value})", f"exprc_ints_str({ndim}, t, 0)"),
        "}",
        ctx.alloc_output(0, [f"t[{d}]" for d in range(ndim)]),
        f"exprc_assign(&{out}, &{value}, {itemsize(node.outputs[0].dtype)});",
    ]
    return "\n".join(lines)
