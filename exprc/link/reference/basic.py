"""Reference implementations of the construction ops (Alloc, ARange, Eye, Join, Split)."""

import numpy as np

from exprc.errors import ExprcShapeError
from exprc.link.reference.table import REFERENCE
from exprc.tensor.basic import Alloc, ARange, Eye, Join, Split


@REFERENCE.register(Alloc)
def alloc(node, value, shape):
    target = tuple(int(s) for s in shape)
    if any(t < 0 for t in target):
        raise ExprcShapeError(f"{node.op}: negative size in the target shape {target}")
    if not all(v in (1, t) for v, t in zip(value.shape, target)):
        raise ExprcShapeError(f"{node.op}: cannot broadcast a value of shape {value.shape} "
                              f"to shape {target}")
    out = np.empty(target, dtype=node.outputs[0].dtype)
    out[...] = value
    return [out]


@REFERENCE.register(ARange)
def arange(node, start, stop, step):
    if step == 0:
        raise ExprcShapeError(f"{node.op}: step must not be zero")
    return [np.arange(start.item(), stop.item(), step.item(), dtype=node.op.dtype)]


@REFERENCE.register(Eye)
def eye(node, n, m, k):
    if n < 0 or m < 0:
        raise ExprcShapeError(f"{node.op}: negative size: n={int(n)}, m={int(m)}")
    return [np.eye(int(n), int(m), int(k), dtype=node.op.dtype)]


@REFERENCE.register(Join)
def join(node, *tensors):
    axis = node.op.axis
    others = {t.shape[:axis] + t.shape[axis + 1:] for t in tensors}
    if len(others) > 1:
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise ExprcShapeError(f"{node.op}: cannot join arrays of shapes {shapes}: sizes differ "
                              f"on an axis other than {axis}")
    dtype = node.outputs[0].dtype
    return [np.concatenate([t.astype(dtype, copy=False) for t in tensors], axis=axis)]


@REFERENCE.register(Split)
def split(node, x, splits):
    sizes = [int(s) for s in splits]
    axis = node.op.axis
    if len(sizes) != node.op.n_splits or min(sizes, default=0) < 0 \
            or sum(sizes) != x.shape[axis]:
        raise ExprcShapeError(f"{node.op}: cannot split an array of shape {x.shape} on axis "
                              f"{axis} into {node.op.n_splits} pieces of sizes {sizes}")
    return np.split(x, np.cumsum(sizes)[:-1], axis=axis)
