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


#: The largest number of elements (and of bytes) an array may have, as in the C backend.
_MAX_SIZE = 2**63 - 1


@REFERENCE.register(ARange)
def arange(node, start, stop, step):
    """``numpy.arange``, except that integer bounds give an exactly computed length.

    NumPy computes the length as ``ceil((stop - start) / step)`` in double precision, which is
    off by one once ``stop - start`` passes 2**53 (``arange(0, 2**53 + 1, 2**52)`` has 2
    elements in NumPy, not 3). With integer inputs the length and values here are exact, as in
    the C backend; float inputs keep NumPy's computation.
    """
    if step == 0:
        raise ExprcShapeError(f"{node.op}: step must not be zero")
    dtype = node.op.dtype
    if not all(a.dtype.kind in "iub" for a in (start, stop, step)):
        return [np.arange(start.item(), stop.item(), step.item(), dtype=dtype)]
    first, end, stride = int(start), int(stop), int(step)
    n = max(0, -((first - end) // stride))  # ceil((end - first) / stride), exactly
    if n * np.dtype(dtype).itemsize > _MAX_SIZE:
        raise ExprcShapeError(f"{node.op}: Maximum allowed size exceeded: arange({first}, "
                              f"{end}, {stride}) would hold {n} elements")
    return [_integer_range(first, stride, n).astype(dtype)]


def _integer_range(first: int, stride: int, n: int) -> np.ndarray:
    """``first + stride * i`` for i in ``range(n)``: int64, or uint64 for values past int64.

    Formed modulo 2**64 (i * stride may pass the int64 range on the way to a value inside it),
    then read as int64 or uint64, whichever holds every value.
    """
    last = first + stride * (n - 1) if n else first
    wrapped = (np.arange(n, dtype=np.uint64) * np.uint64(stride % 2**64)
               + np.uint64(first % 2**64))
    if min(first, last) >= 0:
        return wrapped
    if max(first, last) < 2**63:
        return wrapped.view(np.int64)
    return np.array(range(first, first + stride * n, stride), dtype=object)


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
