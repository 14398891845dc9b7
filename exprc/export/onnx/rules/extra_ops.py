"""ONNX rules of the extra_ops family: ``CumOp`` (cumulative sums as ``CumSum``), ``OneHot``,
``Repeat`` with counts known when the model is written (a ``Gather``), and ``RuntimeCheck``
where its condition is known to hold. Cumulative products, run-time checks that could fail
(ONNX cannot raise an error), searchsorted and the ops of gradients are refused or exempt.
"""

from __future__ import annotations

import numpy as np

from exprc.export.onnx.rules import ONNX
from exprc.export.onnx.rules.elemwise import numpy_cast
from exprc.tensor.extra_ops import (
    CumOp,
    LinearRecurrence,
    OneHot,
    Repeat,
    RepeatSum,
    RuntimeCheck,
    SearchSorted,
)


@ONNX.register(CumOp)
def cumop(b, node, inputs):
    op, out = node.op, node.outputs[0]
    if op.mode != "add":
        raise b.fail("ONNX has no cumulative product (opsets up to 21)")
    dtype = out.type.dtype
    x = numpy_cast(b, inputs[0], dtype)
    # Integer sums wrap around modulo 2**bits in int64 too.
    work = dtype if dtype in ("float32", "float64", "int32", "int64") else "int64"
    axis = op.axis % len(b.shape(x))
    total = b.op("CumSum", [b.cast(x, work), b.const(axis, dtype="int64")], work, b.shape(x),
                 reverse=int(op.reverse))
    return [b.cast(total, dtype)]


@ONNX.register(OneHot)
def one_hot(b, node, inputs):
    (y,) = inputs
    op = node.op
    # Row i is (y[i] == 0, ..., y[i] == nb_class - 1); a label out of range, which exprc
    # refuses when the function runs, gives a row of zeros.
    # (uint64 labels past int64 wrap to negative ones, which match no class either.)
    classes = b.const(np.arange(op.nb_class, dtype="int64")[None, :], share=False)
    labels = b.unsqueeze(b.cast(y, "int64"), [1])
    return [numpy_cast(b, b.binary("Equal", labels, classes, "bool"), op.dtype)]


@ONNX.register(Repeat)
def repeat(b, node, inputs):
    x, repeats = inputs
    counts = b.known(repeats)
    if counts is None:
        raise b.fail("its repeat counts are computed when the function runs; only counts "
                     "known when the model is written can be exported")
    axis = node.op.axis % len(b.shape(x))
    size = b.shape(x)[axis]
    counts = np.broadcast_to(counts.astype("int64").reshape(-1), (size,))
    positions = np.repeat(np.arange(size, dtype="int64"), counts)
    return [b.gather(x, b.const(positions, share=False), axis)]


@ONNX.register(RuntimeCheck)
def runtime_check(b, node, inputs):
    x, ok = inputs
    known = b.known(ok)
    if known is None or not bool(known):
        detail = "fails for these inputs" if known is not None else \
            "depends on the inputs, and an ONNX model cannot raise an error"
        raise b.fail(f"its run-time check {node.op.check!r} {detail}")
    return [x]


_GRADIENT = "it only appears in gradient graphs, which are not exported"
ONNX.exempt(LinearRecurrence, "the linear recurrence of cumprod's gradient has no ONNX "
            f"operator; {_GRADIENT}")
ONNX.exempt(RepeatSum, f"the transpose of repeat, {_GRADIENT}")
ONNX.exempt(SearchSorted, "ONNX has no searchsorted (binary search) operator")
