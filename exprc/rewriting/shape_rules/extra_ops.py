"""Shape rules of the extra ops: cumulative ops, recurrences, repeats, one-hot codes, run-time
checks and searchsorted."""

from exprc.rewriting.shape_rules import SHAPE
from exprc.rewriting.shape_rules.sizes import const, eq, mul, switch
from exprc.tensor.extra_ops import (
    CumOp,
    LinearRecurrence,
    OneHot,
    Repeat,
    RepeatSum,
    RuntimeCheck,
    SearchSorted,
)
from exprc.tensor.reduction import Reduce


@SHAPE.register(CumOp, LinearRecurrence, RuntimeCheck)
def same_as_first_input(node, input_shapes):
    return [input_shapes[0]]


@SHAPE.register(Repeat)
def repeat(node, input_shapes):
    x, repeats = node.inputs
    axis = node.op.axis % x.ndim
    size = input_shapes[0][axis]
    if repeats.ndim == 0:
        repeated = mul(size, input_shapes.values(repeats)[0])
    else:
        # One count per element, or a single count (a vector of length 1) for all of them.
        counts = Reduce("add", (0,), "int64")(repeats)
        repeated = switch(eq(input_shapes[1][0], const(1)), mul(size, counts), counts)
    out = list(input_shapes[0])
    out[axis] = repeated
    return [tuple(out)]


@SHAPE.register(RepeatSum)
def repeat_sum(node, input_shapes):
    g, _, shape = node.inputs
    axis = node.op.axis % g.ndim
    out = list(input_shapes[0])
    out[axis] = input_shapes.values(shape)[axis]
    return [tuple(out)]


@SHAPE.register(OneHot)
def one_hot(node, input_shapes):
    return [(input_shapes[0][0], const(node.op.nb_class))]


@SHAPE.register(SearchSorted)
def searchsorted(node, input_shapes):
    return [input_shapes[1]]
