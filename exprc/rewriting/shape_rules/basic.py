"""Shape rules of the construction ops: Alloc, ARange, Eye, Join and Split."""

from exprc.rewriting.shape_rules import SHAPE
from exprc.rewriting.shape_rules.sizes import as_size, const, floordiv, maximum, sub, total
from exprc.tensor import math as tm
from exprc.tensor.basic import Alloc, ARange, Eye, Join, Split
from exprc.tensor.type import INTEGER_DTYPES


@SHAPE.register(Alloc)
def alloc(node, input_shapes):
    return [tuple(input_shapes.values(node.inputs[1]))]


@SHAPE.register(ARange)
def arange(node, input_shapes):
    if all(v.dtype in INTEGER_DTYPES for v in node.inputs):
        # ceil(a / b) == -((-a) // b) in exact integer arithmetic.
        start, stop, step = (input_shapes.values(v)[0] for v in node.inputs)
        length = sub(const(0), floordiv(sub(start, stop), step))
    else:
        # NumPy computes the length of a float range in double precision.
        start, stop, step = (tm.cast(v, "float64") for v in node.inputs)
        length = tm.cast(tm.ceil(tm.true_div(tm.sub(stop, start), step)), "int64")
    return [(maximum(length, const(0)),)]


@SHAPE.register(Eye)
def eye(node, input_shapes):
    n, m, _ = node.inputs
    return [(input_shapes.values(n)[0], input_shapes.values(m)[0])]


@SHAPE.register(Join)
def join(node, input_shapes):
    axis = node.op.axis
    # Every input has the same size off the joined axis; take the first input's.
    out = list(input_shapes[0])
    out[axis] = total(shape[axis] for shape in input_shapes)
    return [tuple(out)]


@SHAPE.register(Split)
def split(node, input_shapes):
    splits = node.inputs[1]
    if splits.type.shape[0] is None:
        sizes = [as_size(splits[k]) for k in range(node.op.n_splits)]
    else:
        sizes = input_shapes.values(splits)
    axis = node.op.axis
    return [tuple(input_shapes[0][:axis]) + (size,) + tuple(input_shapes[0][axis + 1:])
            for size in sizes]
