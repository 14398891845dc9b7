"""Gradient rules of the extra_ops family."""

from exprc.gradient.table import DISCONNECTED, GRAD
from exprc.tensor.extra_ops import CumOp, OneHot, Repeat, RepeatSum
from exprc.tensor.shape import shape, specify_shape

GRAD.exempt(OneHot, "its only input is integer labels")


@GRAD.register(CumOp)
def cumop(node, output_grads):
    (x,), (gz,) = node.inputs, output_grads
    op = node.op
    # Element i feeds every output on its accumulation side, so the gradient accumulates gz
    # the other way.
    backwards = CumOp(op.axis, "add", not op.reverse)
    if op.mode == "add":
        return [backwards(gz)]
    # d out[j] / d x[i] = out[j] / x[i] for j on the accumulation side of i (no zeros in x).
    return [backwards(gz * node.outputs[0]) / x]


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
