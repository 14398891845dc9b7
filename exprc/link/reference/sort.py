"""Reference implementations of the sorting ops."""

import numpy as np

from exprc.errors import ExprcShapeError
from exprc.link.reference.table import REFERENCE
from exprc.tensor.sort import ArgSort, Permute, Sort


@REFERENCE.register(Sort)
def sort(node, x):
    return [np.sort(x, axis=node.op.axis, kind="stable")]


@REFERENCE.register(ArgSort)
def argsort(node, x):
    return [np.argsort(x, axis=node.op.axis, kind="stable").astype("int64")]


@REFERENCE.register(Permute)
def permute(node, x, perm):
    axis = node.op.axis
    if x.shape != perm.shape:
        raise ExprcShapeError(f"{node.op}: perm of shape {perm.shape} must have the shape of x "
                              f"{x.shape}")
    # Each slice along the axis must hold every index exactly once.
    expected = np.arange(x.shape[axis]).reshape([-1 if a == axis % x.ndim else 1
                                                 for a in range(x.ndim)])
    if not np.array_equal(np.sort(perm, axis=axis), np.broadcast_to(expected, perm.shape)):
        raise ValueError(f"{node.op}: perm is not a permutation of 0..{x.shape[axis] - 1} along "
                         f"axis {axis}")
    return [np.take_along_axis(x, perm.astype("int64"), axis=axis)]
