"""Standalone C of the softmax family: ``Softmax``, ``LogSoftmax`` (along any axis) and
``CrossentropySoftmaxIntLabels``.

Each lane along the axis is shifted by its maximum (0 where that maximum is infinite, NaN
when the lane holds one), as the reference does, so no ``exp`` overflows; exponentials and
sums are computed in double with exprc's own ``exprc_exp``/``exprc_log``
(``csrc/exprc_math.h``), the same on every target.
"""

from __future__ import annotations

from exprc.export.c.layout import Layout
from exprc.export.c.program import EXPORT_C, NodeContext
from exprc.export.c.rules.extra_ops import as_int64, at, lanes
from exprc.tensor.nnet.softmax import CrossentropySoftmaxIntLabels, LogSoftmax, Softmax


def _lane_stats(x: Layout, base: str, n: int, stride: int,
                keep: tuple | None = None) -> list[str]:
    """Lines setting ``m`` (the lane's shift) and ``s`` (the sum of ``exp(v - m)``); with
    ``keep = (layout, base, stride)``, each ``exp(v - m)`` is also stored there."""
    value = f"(double){at(x, base, f'j * {stride}')}"
    if keep is not None:
        target = at(keep[0], keep[1], f"j * {keep[2]}")
        total = [f"for (ptrdiff_t j = 0; j < {n}; ++j) {{",
                 f"    const double e = exprc_exp({value} - m);",
                 f"    {target} = ({keep[0].ctype})e;",
                 "    s += e;",
                 "}"]
    else:
        total = [f"for (ptrdiff_t j = 0; j < {n}; ++j) s += exprc_exp({value} - m);"]
    return [
        "double m = -INFINITY, s = 0.0;",
        f"for (ptrdiff_t j = 0; j < {n}; ++j) {{",
        f"    const double v = {value};",
        "    if (isnan(v) || isnan(m)) m = isnan(m) ? m : v; else if (v > m) m = v;",
        "}",
        "if (isinf(m)) m = 0.0;",
        *total,
    ]


@EXPORT_C.register(Softmax, LogSoftmax)
def softmax(ctx: NodeContext) -> None:
    """Per lane: the shift and the sum, then ``exp(v - m) / s`` or ``(v - m) - log(s)``.
    The output may overwrite the input (each element is read before it is written)."""
    x = ctx.inputs[0]
    out = ctx.output(0, reuse=0)
    axis = ctx.op.axis % len(x.shape)
    n = x.shape[axis]
    if n == 0 or x.size == 0:
        return
    sx, so = x.strides[axis], out.strides[axis]
    ctype = out.ctype
    if isinstance(ctx.op, LogSoftmax):
        ctx.emit(*lanes(x.shape, axis, [x, out], lambda ix: [
            *_lane_stats(x, ix[0], n, sx),
            "s = exprc_log(s);",
            f"for (ptrdiff_t j = 0; j < {n}; ++j)",
            f"    {at(out, ix[1], f'j * {so}')} = "
            f"({ctype})(((double){at(x, ix[0], f'j * {sx}')} - m) - s);",
        ]))
        return
    # exp(v - m) is computed once per element: stored in the output (in place of v when the
    # output overwrites the input), summed, then divided by the sum.
    ctx.emit(*lanes(x.shape, axis, [x, out], lambda ix: [
        *_lane_stats(x, ix[0], n, sx, keep=(out, ix[1], so)),
        f"for (ptrdiff_t j = 0; j < {n}; ++j) {at(out, ix[1], f'j * {so}')} = "
        f"({ctype})((double){at(out, ix[1], f'j * {so}')} / s);",
    ]))


@EXPORT_C.register(CrossentropySoftmaxIntLabels)
def crossentropy_softmax_int_labels(ctx: NodeContext) -> None:
    """Per row, ``logsumexp(logits) - logits[label]``; labels count from the end when
    negative, and one outside ``[-k, k)`` is ``EXPRC_ERROR_INDEX``."""
    x, labels = ctx.inputs
    out = ctx.output(0)
    rows, k = x.shape
    if rows == 0:
        return
    fail = ctx.fail("EXPRC_ERROR_INDEX", f"{ctx.op}: a label is out of range for {k} classes")
    s0, s1 = x.strides
    label = as_int64(labels.element(f"r * {labels.strides[0]}"), labels.dtype)
    ctx.emit(f"    for (ptrdiff_t r = 0; r < {rows}; ++r) {{",
             f"        int64_t l = {label};",
             f"        if (l < -{k} || l >= {k}) {fail}",
             f"        if (l < 0) l += {k};",
             "        {",
             *(f"            {line}" for line in _lane_stats(x, f"r * {s0}", k, s1)),
             f"            {out.element('r')} = ({out.ctype})-(((double)"
             f"{x.element(f'r * {s0} + (ptrdiff_t)l * {s1}')} - m) - exprc_log(s));",
             "        }",
             "    }")
