"""ONNX rules of the sort family: ``Sort`` and ``ArgSort`` as an ascending ``TopK`` of every
element, ``Permute`` as ``GatherElements``.

``TopK`` breaks ties by position, lower first: the stable sort exprc promises. Dtypes ONNX
Runtime has no ``TopK`` kernel for are sorted through an order-preserving conversion, and the
sorted values are then gathered from the input itself. NaN sorts last in NumPy; the ONNX
specification leaves NaN open (ONNX Runtime sorts it last too).
"""

from __future__ import annotations

from exprc.export.onnx.rules import ONNX
from exprc.tensor.sort import ArgSort, Permute, Sort

#: Dtypes ONNX Runtime's TopK sorts directly.
TOPK_DTYPES = ("int8", "uint8", "int16", "int32", "int64", "float32", "float64")


def sorted_positions(b, x: str, axis: int) -> str:
    """The int64 positions that sort ``x`` stably along ``axis``."""
    key = x if b.dtype(x) in TOPK_DTYPES else b.ordered(x)[0]
    shape = b.shape(x)
    _, positions = b.op_multi("TopK", [key, b.ints([shape[axis]])],
                              [(b.dtype(key), shape), ("int64", shape)],
                              axis=axis, largest=0, sorted=1)
    return positions


@ONNX.register(Sort)
def sort(b, node, inputs):
    (x,) = inputs
    axis = node.op.axis % len(b.shape(x))
    positions = sorted_positions(b, x, axis)
    return [b.op("GatherElements", [x, positions], b.dtype(x), b.shape(x), axis=axis)]


@ONNX.register(ArgSort)
def argsort(b, node, inputs):
    (x,) = inputs
    return [sorted_positions(b, x, node.op.axis % len(b.shape(x)))]


@ONNX.register(Permute)
def permute(b, node, inputs):
    x, perm = inputs
    axis = node.op.axis % len(b.shape(x))
    return [b.op("GatherElements", [x, b.cast_index(perm)], b.dtype(x), b.shape(x),
                 axis=axis)]
