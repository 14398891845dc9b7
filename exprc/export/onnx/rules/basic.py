"""ONNX rules of the basic family: ``Alloc`` (``Expand``), ``Join`` (``Concat``), ``Split``
(one ``Slice`` per piece), and ``ARange``/``Eye`` computed from their (run-time) scalar
inputs. Every size is known when the model is written, so sizes are constants."""

from __future__ import annotations

import numpy as np

from exprc.export.onnx.rules import ONNX
from exprc.export.onnx.rules.elemwise import numpy_cast
from exprc.tensor.basic import Alloc, ARange, Eye, Join, Split


@ONNX.register(Alloc)
def alloc(b, node, inputs):
    out = node.outputs[0]
    value = numpy_cast(b, inputs[0], out.type.dtype)
    return [b.op("Expand", [value, b.ints(b.graph.shapes[out])], out.type.dtype,
                 b.graph.shapes[out])]


@ONNX.register(Join)
def join(b, node, inputs):
    out = node.outputs[0]
    dtype = out.type.dtype
    return [b.op("Concat", [numpy_cast(b, x, dtype) for x in inputs], dtype,
                 b.graph.shapes[out], axis=node.op.axis)]


@ONNX.register(Split)
def split(b, node, inputs):
    x = inputs[0]
    axis = node.op.axis
    pieces, start = [], 0
    for out in node.outputs:
        size = b.graph.shapes[out][axis]
        pieces.append(b.slice(x, [axis], [start], [start + size], [1]))
        start += size
    # A piece covering all of x is x itself, which the exporter may return as it is.
    return pieces


@ONNX.register(ARange)
def arange(b, node, inputs):
    out = node.outputs[0]
    (length,) = b.graph.shapes[out]
    dtype = out.type.dtype
    start, _, step = inputs
    if all(b.dtype(v) not in ("float32", "float64") for v in (start, step)):
        # start + step * i modulo 2**64, then wrapped to the dtype: exact, as the reference.
        positions = b.const(np.arange(length, dtype="int64"), share=False)
        values = b.binary("Add", b.cast(start, "int64"),
                          b.binary("Mul", b.cast(step, "int64"), positions))
        return [numpy_cast(b, values, dtype)]
    # NumPy's arange of floats: the first two values converted to the dtype, then
    # first + i * (second - first) computed in the dtype.
    first = numpy_cast(b, b.cast(start, "float64"), dtype)
    second = numpy_cast(b, b.binary("Add", b.cast(start, "float64"), b.cast(step, "float64")),
                        dtype)
    positions = b.const(np.arange(length).astype(dtype), share=False)
    values = b.binary("Add", first, b.binary("Mul", positions, b.binary("Sub", second, first)))
    return [values]


@ONNX.register(Eye)
def eye(b, node, inputs):
    out = node.outputs[0]
    rows, cols = b.graph.shapes[out]
    k = b.cast(inputs[2], "int64")
    offsets = b.const(np.arange(cols, dtype="int64")[None, :] -
                      np.arange(rows, dtype="int64")[:, None], share=False)
    return [numpy_cast(b, b.binary("Equal", offsets, k, "bool"), out.type.dtype)]
