"""Shape rule of the loop op: a state's buffer has its initial rows plus one row per step, an
output one row per step, a carried value its initial shape. The row shape of an output that is
not fed back is only known once the body has run, so it is left to the run time."""

from exprc.rewriting.shape_rules import SHAPE
from exprc.rewriting.shape_rules.sizes import add, const, minimum
from exprc.tensor.scan import Scan


@SHAPE.register(Scan)
def scan_shapes(node, input_shapes):
    op = node.op
    roles = op.roles
    steps = None if op.as_while else input_shapes.values(node.inputs[0])[0]
    init_shapes = roles.outer_inits(input_shapes)
    shapes = []
    for k, init in enumerate(init_shapes):
        rows = None if steps is None else add(steps, const(roles.depth(k)))
        if rows is not None and op.keep[k]:
            rows = minimum(rows, const(op.keep[k]))
        shapes.append((rows, *init[1:]))
    for var in node.outputs[roles.n_sot:roles.n_sot + roles.n_nit]:
        shapes.append((steps, *([None] * (var.ndim - 1))))
    shapes += list(roles.outer_carries(input_shapes))
    return shapes
