"""C rules of the softmax family: ``Softmax``, ``LogSoftmax`` and
``CrossentropySoftmaxIntLabels``.

Each lane (a row along the softmax axis) is shifted by its maximum (0 where that maximum is
infinite) before ``exp``, as the reference does, and sums are accumulated in double.
"""

from __future__ import annotations

from exprc.link.c.program import C_CODE, CUnsupportedError, NodeContext, ctype, format_text
from exprc.tensor.nnet.softmax import CrossentropySoftmaxIntLabels, LogSoftmax, Softmax

_LANE_STATS = """\
double m = -INFINITY;
for (int64_t j = 0; j < len; ++j) {{
    const double v = (double)*(const {t} *)(px + j * sx);
    if (v != v || m != m) m = (m != m) ? m : v; else if (v > m) m = v;
}}
if (isinf(m)) m = 0;
double s = 0;
for (int64_t j = 0; j < len; ++j) s += exp((double)*(const {t} *)(px + j * sx) - m);"""


def _float_only(node) -> str:
    dtype = node.outputs[0].dtype
    if dtype not in ("float32", "float64") or node.inputs[0].dtype != dtype:
        raise CUnsupportedError(f"inputs of dtype {node.inputs[0].dtype}")
    return dtype


@C_CODE.register(Softmax, LogSoftmax)
def softmax(node, ctx: NodeContext) -> str:
    dtype = _float_only(node)
    t = ctype(dtype)
    x, out = ctx.inputs[0], ctx.outputs[0]
    ndim = node.inputs[0].ndim
    axis = node.op.axis % ndim
    rest = [d for d in range(ndim) if d != axis]
    nr = max(len(rest), 1)
    store = ("(v - m) - log(s)" if isinstance(node.op, LogSoftmax) else "exp(v - m) / s")
    return "\n".join([
        ctx.alloc_output(0, [f"{x}.shape[{d}]" for d in range(ndim)]),
        (f"const int64_t len = {x}.shape[{axis}], sx = {x}.strides[{axis}], "
        f"so = {out}.strides[{axis}];"),
        f"int64_t sh[{nr}] = {{{', '.join(f'{x}.shape[{d}]' for d in rest) or '1'}}};",
        (f"int64_t st[{2 * nr}] = {{{', '.join(f'{x}.strides[{d}]' for d in rest) or '0'}"
        f"{', '}{', '.join(f'{out}.strides[{d}]' for d in rest) or '0'}}};"),
        f"char *data[2] = {{{x}.data, {out}.data}};",
        "exprc_iter it;",
        f"exprc_iter_init(&it, {len(rest)}, sh, 2, data, st);",
        "if (!it.done && len > 0) do {",
        "    for (int64_t i = 0; i < it.inner; ++i) {",
        "        const char *px = it.ptr[0] + i * it.step[0];",
        "        char *po = it.ptr[1] + i * it.step[1];",
        *["        " + line for line in _LANE_STATS.format(t=t).splitlines()],
        "        for (int64_t j = 0; j < len; ++j) {",
        f"            const double v = (double)*(const {t} *)(px + j * sx);",
        f"            *({t} *)(po + j * so) = ({t})({store});",
        "        }",
        "    }",
        "} while (exprc_iter_next(&it));",
    ])


@C_CODE.register(CrossentropySoftmaxIntLabels)
def crossentropy_softmax_int_labels(node, ctx: NodeContext) -> str:
    dtype = _float_only(node)
    t, lt = ctype(dtype), ctype(node.inputs[1].dtype)
    x, labels = ctx.inputs
    out = ctx.outputs[0]
    label = format_text(node.op)
    return "\n".join([
        f"const int64_t n = {x}.shape[0], k = {x}.shape[1];",
        f"if ({labels}.shape[0] != n) " + ctx.fail(
            "ValueError", f"{label}: %lld labels for %lld rows of logits",
            f"(long long){labels}.shape[0]", "(long long)n"),
        ctx.alloc_output(0, ["n"]),
        "for (int64_t r = 0; r < n; ++r) {",
        f"    int64_t l = (int64_t)*(const {lt} *)({labels}.data + r * {labels}.strides[0]);",
        "    if (l < -k || l >= k) " + ctx.fail(
            "IndexError", f"{label}: label %lld of row %lld is out of range for %lld classes",
            "(long long)l", "(long long)r", "(long long)k"),
        "    if (l < 0) l += k;",
        f"    const char *px = {x}.data + r * {x}.strides[0];",
        f"    const int64_t len = k, sx = {x}.strides[1];",
        *["    " + line for line in _LANE_STATS.format(t=t).splitlines()],
        f"    const double v = (double)*(const {t} *)(px + l * sx);",
        f"    (({t} *){out}.data)[r] = ({t})(-((v - m) - log(s)));",
        "}",
    ])


__all__ = ["crossentropy_softmax_int_labels", "softmax"]
