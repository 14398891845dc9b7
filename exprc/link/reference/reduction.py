"""Reference implementations of the reductions ``Reduce`` and ``Argmax``."""

from __future__ import annotations

import numpy as np

from exprc.link.reference.table import REFERENCE
from exprc.tensor.reduction import Argmax, Reduce

_UFUNCS = {
    "add": np.add, "mul": np.multiply, "maximum": np.maximum, "minimum": np.minimum,
    "and_": np.logical_and, "or_": np.logical_or,
}


def _check_not_empty(name: str, x: np.ndarray, axes: tuple[int, ...]) -> None:
    if any(x.shape[a] == 0 for a in axes):
        raise ValueError(f"{name} of an empty axis: axes {axes} of an input of shape "
                         f"{x.shape} hold no elements, and {name} has no identity")


@REFERENCE.register(Reduce)
def reduce(node, x):
    op = node.op
    if op.no_identity:
        _check_not_empty(op.no_identity, x, op.axis)
    ufunc = _UFUNCS[op.scalar_op.name]
    with np.errstate(all="ignore"):
        out = ufunc.reduce(x.astype(op.dtype, copy=False), axis=op.axis, dtype=op.dtype)
    return [np.asarray(out, dtype=op.dtype)]


@REFERENCE.register(Argmax)
def argmax(node, x):
    axes = node.op.axis
    name = "argmax" if node.op.largest else "argmin"
    _check_not_empty(name, x, axes)
    kept = [d for d in range(x.ndim) if d not in axes]
    kept_shape = tuple(x.shape[d] for d in kept)
    count = int(np.prod([x.shape[a] for a in axes], dtype="int64"))
    flat = x.transpose(kept + list(axes)).reshape(kept_shape + (count,))
    find = np.argmax if node.op.largest else np.argmin
    return [np.asarray(find(flat, axis=-1), dtype="int64")]
