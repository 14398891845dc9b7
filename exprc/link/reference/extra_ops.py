"""Reference implementations of the extra_ops family."""

import math

import numpy as np

from exprc.errors import ExprcShapeError
from exprc.link.reference.table import REFERENCE
from exprc.tensor.extra_ops import (
    CHECKS,
    CumOp,
    LinearRecurrence,
    OneHot,
    Repeat,
    RepeatSum,
    RuntimeCheck,
    SearchSorted,
)
from exprc.tensor.subtensor import ExprcIndexError

#: The largest number of elements (and of bytes) an array may have, as in the C backend.
_MAX_SIZE = 2**63 - 1


@REFERENCE.register(CumOp)
def cumop(node, x):
    op = node.op
    accumulate = np.cumsum if op.mode == "add" else np.cumprod
    dtype = node.outputs[0].dtype
    if not op.reverse:
        return [accumulate(x, axis=op.axis, dtype=dtype)]
    flipped = np.flip(x, axis=op.axis)
    return [np.flip(accumulate(flipped, axis=op.axis, dtype=dtype), axis=op.axis).copy()]


@REFERENCE.register(LinearRecurrence)
def linear_recurrence(node, a, b):
    if a.shape != b.shape:
        raise ExprcShapeError(f"{node.op}: a and b must have one shape, got {a.shape} and "
                              f"{b.shape}")
    dtype = node.outputs[0].dtype
    axis = node.op.axis % a.ndim
    # Step along the axis, vectorised over the others, so that no entry is ever divided.
    a_steps, b_steps = np.moveaxis(a, axis, 0), np.moveaxis(b, axis, 0)
    out = np.empty(b_steps.shape, dtype=dtype)
    order = range(len(out) - 1, -1, -1) if node.op.reverse else range(len(out))
    state = None
    for i in order:
        # The first step is b alone (not a * 0 + b, which would turn an infinite a into NaN).
        state = b_steps[i].astype(dtype) if state is None else a_steps[i] * state + b_steps[i]
        out[i] = state
    return [np.moveaxis(out, 0, axis)]


def _counts(op, repeats, size):
    """``repeats`` as one int64 count per element of an axis of ``size``, checked."""
    counts = repeats.astype("int64").reshape(-1)
    if counts.size not in (1, size):
        raise ExprcShapeError(f"{op}: repeats has {counts.size} entries but the repeated axis "
                              f"has size {size}; give one count per element, or a single count")
    if np.any(counts < 0):
        raise ExprcShapeError(f"{op}: repeats must be non-negative, got {counts.tolist()}")
    return np.broadcast_to(counts, (size,))


def _total(op, counts) -> int:
    """The exact sum of ``counts`` (non-negative int64), refused when it passes int64.

    NumPy sums in int64, where a total of 2**64 wraps to 0, and ``np.repeat`` then writes past
    its buffer (NumPy 2.4 segfaults): the sum is checked with Python ints first.
    """
    if counts.size == 0 or int(counts.max()) * counts.size <= _MAX_SIZE:
        return int(counts.sum())  # cannot overflow
    total = sum(int(c) for c in counts)
    if total > _MAX_SIZE:
        raise ExprcShapeError(f"{op}: the repeated axis is too large: the counts add up to "
                              f"{total}, more than an array axis may hold")
    return total


@REFERENCE.register(Repeat)
def repeat(node, x, repeats):
    axis = node.op.axis
    counts = _counts(node.op, repeats, x.shape[axis])
    total = _total(node.op, counts)
    shape = x.shape[:axis % x.ndim] + (total,) + x.shape[axis % x.ndim + 1:]
    if math.prod(shape) * x.itemsize > _MAX_SIZE:
        raise ExprcShapeError(f"{node.op}: an array of shape {shape} is too large")
    return [np.repeat(x, counts, axis=axis)]


@REFERENCE.register(RepeatSum)
def repeat_sum(node, g, repeats, shape):
    axis = node.op.axis
    counts = _counts(node.op, repeats, int(shape[axis]))
    total = _total(node.op, counts)
    if total != g.shape[axis]:
        raise ExprcShapeError(f"{node.op}: the counts {counts.tolist()} add up to {total}, "
                              f"but g has size {g.shape[axis]} on axis {axis}")
    moved = np.moveaxis(g, axis, 0)
    out = np.zeros((counts.size,) + moved.shape[1:], dtype=g.dtype)
    # Each copy is added to the element it was copied from.
    np.add.at(out, np.repeat(np.arange(counts.size), counts), moved)
    return [np.moveaxis(out, 0, axis)]


@REFERENCE.register(OneHot)
def one_hot(node, y):
    nb_class = node.op.nb_class
    bad = (y < 0) | (y >= nb_class)
    if np.any(bad):
        raise IndexError(f"{node.op}: label {y[bad][0]} (at position {np.argmax(bad)}) is out "
                         f"of range for {nb_class} classes")
    out = np.zeros((y.size, nb_class), dtype=node.op.dtype)
    out[np.arange(y.size), y] = 1
    return [out]


@REFERENCE.register(RuntimeCheck)
def runtime_check(node, x, ok):
    if not ok:
        kind, message = CHECKS[node.op.check]
        raise (ExprcIndexError if kind == "IndexError" else ExprcShapeError)(
            f"{node.op}: {message}")
    return [x]


@REFERENCE.register(SearchSorted)
def searchsorted(node, x, v, sorter=None):
    if sorter is not None:
        if sorter.shape != x.shape:
            raise ExprcShapeError(f"{node.op}: sorter has {sorter.size} entries but x has "
                                  f"{x.size}")
        if sorter.size and (sorter.min() < 0 or sorter.max() >= x.size):
            raise ExprcShapeError(f"{node.op}: sorter holds a position out of range for the "
                                  f"{x.size} elements of x")
        sorter = sorter.astype("int64")
    common = np.result_type(x, v)
    found = np.searchsorted(x.astype(common), v.astype(common), side=node.op.side,
                            sorter=sorter)
    return [np.asarray(found, dtype="int64")]
