"""ONNX rules of the reduction family: ``Reduce`` and ``Argmax``.

``Reduce`` converts its input to its dtype and folds the axes with ``add`` (``ReduceSum``),
``mul`` (``ReduceProd``), ``maximum``/``minimum`` (``ReduceMax``/``ReduceMin``, NaN
propagating as in NumPy) or the logical ``and_``/``or_``; integer sums and products wrap
around as NumPy's (see :meth:`~exprc.export.onnx.OnnxBuilder.reduce`). An empty reduced axis
gives the operation's identity; for ``max`` and ``min``, which have none, exprc raises an
error at run time, so the export refuses.

``Argmax`` over several axes searches them as one, flattened in C order: the model moves them
last and merges them. The first extreme wins ties, and the first NaN is the extreme (NumPy's
rule), which ``ArgMax`` alone does not promise.
"""

from __future__ import annotations

import numpy as np

from exprc.export.onnx.rules import ONNX
from exprc.export.onnx.rules.elemwise import numpy_cast
from exprc.tensor.reduction import Argmax, Reduce

_KIND = {"add": "sum", "mul": "prod", "maximum": "max", "minimum": "min",
         "and_": "min", "or_": "max"}
_IDENTITY = {"add": 0, "mul": 1, "and_": True, "or_": False}


@ONNX.register(Reduce)
def reduce(b, node, inputs):
    op, out = node.op, node.outputs[0]
    x = numpy_cast(b, inputs[0], op.dtype)
    name = op.scalar_op.name
    if not op.axis:
        return [x]
    if any(b.shape(x)[a] == 0 for a in op.axis):
        if op.no_identity:
            raise b.fail(f"{op.no_identity} of an empty axis has no value (exprc raises an "
                         "error when the function runs)")
        return [b.const(np.full(b.graph.shapes[out], _IDENTITY[name], dtype=op.dtype))]
    return [b.reduce(_KIND[name], x, op.axis)]


@ONNX.register(Argmax)
def argmax(b, node, inputs):
    (x,) = inputs
    axes = list(node.op.axis)
    shape = b.shape(x)
    if any(shape[a] == 0 for a in axes):
        raise b.fail("the position of the extreme of an empty axis does not exist (exprc "
                     "raises an error when the function runs)")
    kept_shape = [s for a, s in enumerate(shape) if a not in axes]
    flat = b.axes_last(x, axes)
    if b.dtype(flat) not in ("int8", "uint8", "int32", "int64", "float32", "float64"):
        flat = b.ordered(flat)[0]
    op_type = "ArgMax" if node.op.largest else "ArgMin"
    axis = len(kept_shape)
    found = b.op(op_type, [flat], "int64", kept_shape, axis=axis, keepdims=0)
    if b.dtype(flat) in ("float32", "float64"):
        nan = b.cast(b.unary("IsNaN", flat, "bool"), "int8")
        first_nan = b.op("ArgMax", [nan], "int64", kept_shape, axis=axis, keepdims=0)
        any_nan = b.reduce("max", b.unary("IsNaN", flat, "bool"), [axis])
        found = b.where(any_nan, first_nan, found)
    return [found]
