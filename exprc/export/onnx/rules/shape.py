"""ONNX rules of the shape family. Every size is known when a model is written, so a shape is
a constant, a reshape has a constant target and a shape check has already been made."""

from __future__ import annotations

import numpy as np

from exprc.export.onnx.rules import ONNX
from exprc.tensor.shape import Reshape, Shape, SpecifyShape


@ONNX.register(Shape)
def shape(b, node, inputs):
    return [b.const(np.asarray(b.shape(inputs[0]), dtype="int64"), share=False)]


@ONNX.register(Reshape)
def reshape(b, node, inputs):
    return [b.reshape(inputs[0], b.graph.shapes[node.outputs[0]])]


@ONNX.register(SpecifyShape)
def specify_shape(b, node, inputs):
    # prepare() compared every static size with the one shape inference found.
    return [inputs[0]]
