"""Reference implementations of the shape ops."""

import numpy as np

from exprc.errors import ExprcShapeError
from exprc.link.reference.table import REFERENCE
from exprc.tensor.shape import Reshape, Shape, SpecifyShape, format_shape


@REFERENCE.register(Shape)
def shape(node, x):
    return [np.array(x.shape, dtype="int64")]


@REFERENCE.register(Reshape)
def reshape(node, x, newshape):
    target = tuple(int(s) for s in newshape)
    if len(target) != node.op.ndim:
        raise ExprcShapeError(f"{node.op}: the target shape {target} has {len(target)} "
                              f"entries, expected {node.op.ndim}")
    rest = [s for s in target if s != -1]
    known = int(np.prod(rest))
    ok = all(s >= 0 for s in rest) and len(rest) >= len(target) - 1 and (
        known == x.size if len(rest) == len(target) else known > 0 and x.size % known == 0)
    if not ok:
        raise ExprcShapeError(f"{node.op}: cannot reshape an array of shape {x.shape} "
                              f"({x.size} elements) into shape {target}")
    return [x.reshape(target)]


@REFERENCE.register(SpecifyShape)
def specify_shape(node, x):
    expected = node.op.shape
    if any(want is not None and want != have for want, have in zip(expected, x.shape)):
        raise ExprcShapeError(f"{node.op}: the value has shape {x.shape}, but the graph "
                              f"specified shape {format_shape(expected)}")
    return [x]
