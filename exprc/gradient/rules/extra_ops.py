"""Gradient rules of the extra_ops family."""

from exprc.gradient.table import DISCONNECTED, GRAD
from exprc.tensor.basic import join
from exprc.tensor.extra_ops import (
    CumOp,
    LinearRecurrence,
    OneHot,
    Repeat,
    RepeatSum,
    RuntimeCheck,
    SearchSorted,
)
from exprc.tensor.math import fill
from exprc.tensor.shape import shape, specify_shape
from exprc.tensor.variable import constant

GRAD.exempt(OneHot, "its only input is integer labels")
GRAD.exempt(SearchSorted, "its output is integer positions, piecewise constant in the inputs")


@GRAD.register(RuntimeCheck)
def runtime_check(node, output_grads):
    # The output is the input itself; the condition only decides whether there is one.
    return [output_grads[0], DISCONNECTED]


def _shift(x, axis, step, edge):
    """``x`` moved one place along ``axis``: ``out[i] = x[i - step]`` for ``step`` 1 or -1,
    with ``edge`` in the place left empty (an empty axis stays empty)."""
    def along(s):
        return x[(slice(None),) * axis + (s,)]

    kept = along(slice(None, -1) if step == 1 else slice(1, None))
    vacated = fill(along(slice(None, 1)), constant(edge, dtype=x.dtype))
    return join(axis, *([vacated, kept] if step == 1 else [kept, vacated]))


@GRAD.register(CumOp)
def cumop(node, output_grads):
    (x,), (gz,) = node.inputs, output_grads
    op = node.op
    axis = op.axis % x.ndim
    # Element i feeds every output on its accumulation side, so the gradient accumulates gz
    # the other way.
    if op.mode == "add":
        return [CumOp(axis, "add", not op.reverse)(gz)]
    # Going forward, d out[j] / d x[i] (j >= i) is the product of x[k] for k < i times the
    # product of x[k] for i < k <= j. The first factor is out[i-1]; summed against gz[j], the
    # second is r[i] = gz[i] + x[i+1] * r[i+1], a reverse recurrence. Neither divides by x,
    # so zeros in x are exact. A reverse cumprod mirrors all of this.
    step = -1 if op.reverse else 1
    before = _shift(node.outputs[0], axis, step, 1)
    after = LinearRecurrence(axis, not op.reverse)(_shift(x, axis, -step, 0), gz)
    return [before * after]


@GRAD.register(LinearRecurrence)
def linear_recurrence(node, output_grads):
    (a, _), (gs,) = node.inputs, output_grads
    op = node.op
    axis = op.axis % a.ndim
    # s[i] = a[i] * s[i-1] + b[i] going forward: the cost's total derivative by s[i] is
    # lam[i] = gs[i] + a[i+1] * lam[i+1], a recurrence the other way; b[i] enters s[i] with
    # weight 1 and a[i] with weight s[i-1] (0 for the first step, which does not use a).
    step = -1 if op.reverse else 1
    lam = LinearRecurrence(axis, not op.reverse)(_shift(a, axis, -step, 0), gs)
    return [lam * _shift(node.outputs[0], axis, step, 0), lam]


@GRAD.register(Repeat)
def repeat(node, output_grads):
    (x, repeats), (gz,) = node.inputs, output_grads
    gx = RepeatSum(node.op.axis)(gz, repeats, shape(x))
    # RepeatSum learns the repeated axis's size only at run time; x's type knows it.
    return [specify_shape(gx, x.type.shape), DISCONNECTED]


@GRAD.register(RepeatSum)
def repeat_sum(node, output_grads):
    (_, repeats, _), (gz,) = node.inputs, output_grads
    return [Repeat(node.op.axis)(gz, repeats), DISCONNECTED, DISCONNECTED]
