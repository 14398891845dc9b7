"""ONNX rules of the conv family: ``Conv2d`` as ``Conv`` and ``Conv2dGradInputs`` (the
transposed convolution) as ``ConvTranspose``.

exprc's border modes are symmetric paddings (:meth:`~exprc.tensor.nnet.conv._ConvOp.pads`);
strides, dilations and groups map one to one. With ``filter_flip`` (Theano's default) the
convolution is a true one: the kernel is reversed along both spatial axes, at export time
for a constant kernel, else by a ``Slice`` with negative steps. ``ConvTranspose`` is the
adjoint of ``Conv`` with the same (flipped) kernel, exactly what exprc's gradient computes;
``output_padding`` adds the rows and columns a stride leaves uncovered (zeros in exprc too).

ONNX Runtime has float32 kernels for both operators only: a float64 convolution gives a
valid model that it refuses to load.
"""

from __future__ import annotations

import numpy as np

from exprc.export.onnx.rules import INT64_MIN, ONNX
from exprc.tensor.nnet.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights


def _kernel(b, op, w: str) -> str:
    """The kernel as ONNX cross-correlates with it: reversed when ``op`` flips."""
    if not op.filter_flip:
        return w
    known = b.known(w)
    if known is not None:
        return b.const(np.ascontiguousarray(known[:, :, ::-1, ::-1]), share=False)
    return b.slice(w, [2, 3], [-1, -1], [INT64_MIN, INT64_MIN], [-1, -1])


def _attributes(op, kernel) -> dict:
    pads = [int(p) for p in op.pads(kernel)]
    return {"kernel_shape": [int(k) for k in kernel], "pads": pads + pads,
            "strides": list(op.subsample), "dilations": list(op.filter_dilation),
            "group": op.num_groups}


@ONNX.register(Conv2d)
def conv2d(b, node, inputs):
    x, w = inputs
    out = node.outputs[0]
    kernel = b.shape(w)[2:]
    return [b.op("Conv", [x, _kernel(b, node.op, w)], out.type.dtype, b.graph.shapes[out],
                 **_attributes(node.op, kernel))]


@ONNX.register(Conv2dGradInputs)
def conv2d_grad_inputs(b, node, inputs):
    w, gy, _ = inputs
    op, out = node.op, node.outputs[0]
    kernel = b.shape(w)[2:]
    image = b.graph.shapes[out][2:]
    attributes = _attributes(op, kernel)
    covered = [s * (n - 1) + (k - 1) * d + 1 - 2 * p for s, n, k, d, p in zip(
        op.subsample, b.shape(gy)[2:], kernel, op.filter_dilation, op.pads(kernel))]
    attributes["output_padding"] = [int(i - c) for i, c in zip(image, covered)]
    return [b.op("ConvTranspose", [gy, _kernel(b, op, w)], out.type.dtype,
                 b.graph.shapes[out], **attributes)]


ONNX.exempt(Conv2dGradWeights, "the gradient of a convolution with respect to its filters "
            "only appears in training graphs, which are not exported")
