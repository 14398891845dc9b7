"""ONNX rules of the pool family: ``Pool`` in every mode; its gradients are exempt.

``max`` is ``MaxPool``, whose padding never wins, as exprc's; a window holding a NaN gives
NaN, as NumPy's maximum (a second ``MaxPool``, of the NaN mask, finds those windows). The
leading axes are merged into one batch axis for ``MaxPool``, which wants (N, C, H, W), unless
the input has those four. A last partial window (``ignore_border=False``) is padding added at
the end of the axis, so that ONNX's ``floor`` rule of output sizes counts it.

``sum`` and the averages add the window's taps, one strided ``Slice`` of the zero-padded input
each (any float dtype), and divide by each window's count, computed when the model is
written: the whole window for ``average_inc_pad`` (cut at the end of the padded axis), its
input elements for ``average_exc_pad``, as the reference does.
"""

from __future__ import annotations

import numpy as np

from exprc.export.onnx.rules import ONNX
from exprc.tensor.signal.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool


def _windows(op, axis: int, n: int, count: int) -> list[tuple[int, int, int]]:
    """``(lo, hi, full)`` of each window along pooled ``axis`` (as the reference's)."""
    w, s, p = op.ws[axis], op.stride[axis], op.pad[axis]
    windows = []
    for i in range(count):
        start = i * s - p
        lo = min(max(start, 0), n)
        windows.append((lo, max(lo, min(start + w, n)), min(start + w, n + p) - start))
    return windows


def _end_padding(op, axis: int, n: int, count: int) -> int:
    """Entries the windows reach past the end of the padded axis (partial windows)."""
    w, s, p = op.ws[axis], op.stride[axis], op.pad[axis]
    return max(0, (count - 1) * s + w - (n + 2 * p)) if count else 0


@ONNX.register(Pool)
def pool(b, node, inputs):
    (x,) = inputs
    op, out = node.op, node.outputs[0]
    shape = b.shape(x)
    rows, cols = shape[-2:]
    counts = b.graph.shapes[out][-2:]
    if 0 in shape or 0 in counts:
        return [b.expand(b.const(0, dtype=b.dtype(x)), b.graph.shapes[out])]
    extra = [_end_padding(op, a, n, c) for a, (n, c) in enumerate(zip((rows, cols), counts))]
    if op.mode == "max":
        return [_max_pool(b, x, op, extra, b.graph.shapes[out])]
    return [_sum_pool(b, x, op, extra, counts)]


def _max_pool(b, x: str, op, extra: list[int], out_shape) -> str:
    shape = b.shape(x)
    leading = shape[:-2] if len(shape) == 4 else (int(np.prod(shape[:-2], dtype="int64")), 1)
    image = b.reshape(x, tuple(leading) + tuple(shape[-2:]))
    pads = list(op.pad) + [p + e for p, e in zip(op.pad, extra)]
    shape = tuple(leading) + tuple(out_shape[-2:])
    attributes = {"kernel_shape": list(op.ws), "strides": list(op.stride), "pads": pads}
    pooled = b.op("MaxPool", [image], b.dtype(x), shape, **attributes)
    # A NaN in a window is its maximum (NumPy's rule), which MaxPool does not promise: the
    # windows holding one are found by pooling the NaN mask (padding never wins there).
    mask = b.cast(b.unary("IsNaN", image, "bool"), b.dtype(x))
    found = b.op("MaxPool", [mask], b.dtype(x), shape, **attributes)
    nan = b.binary("Greater", found, b.const(0, dtype=b.dtype(x)), "bool")
    pooled = b.where(nan, b.const(np.nan, dtype=b.dtype(x)), pooled)
    return b.reshape(pooled, out_shape)


def _sum_pool(b, x: str, op, extra: list[int], counts) -> str:
    shape = b.shape(x)
    rank = len(shape)
    before = [0] * (rank - 2) + list(op.pad)
    after = [0] * (rank - 2) + [p + e for p, e in zip(op.pad, extra)]
    padded = x
    if any(before) or any(after):
        padded = b.op("Pad", [x, b.ints(before + after), b.const(0, dtype=b.dtype(x))],
                      b.dtype(x), [s + lo + hi for s, lo, hi in zip(shape, before, after)],
                      mode="constant")
    total = None
    for a in range(op.ws[0]):
        for c in range(op.ws[1]):
            ends = [a + op.stride[0] * (counts[0] - 1) + 1, c + op.stride[1] * (counts[1] - 1)
                    + 1]
            tap = b.slice(padded, [rank - 2, rank - 1], [a, c], ends, list(op.stride))
            total = tap if total is None else b.binary("Add", total, tap)
    if op.mode == "sum":
        return total
    row_windows = _windows(op, 0, shape[-2], counts[0])
    col_windows = _windows(op, 1, shape[-1], counts[1])
    if op.mode == "average_inc_pad":
        sizes = np.outer([w[2] for w in row_windows], [w[2] for w in col_windows])
    else:
        sizes = np.outer([w[1] - w[0] for w in row_windows],
                         [w[1] - w[0] for w in col_windows])
    return b.binary("Div", total, b.const(sizes.astype(b.dtype(x)), share=False))


_GRADIENT = "the gradient of pooling only appears in training graphs, which are not exported"
ONNX.exempt(MaxPoolGrad, _GRADIENT)
ONNX.exempt(AveragePoolGrad, _GRADIENT)
ONNX.exempt(MaxPoolGradGrad, _GRADIENT)
