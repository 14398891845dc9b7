"""ONNX rule of the gradient_filters family: the filters are the identity on values."""

from __future__ import annotations

from exprc.export.onnx.rules import ONNX
from exprc.tensor.gradient_filters import GradientFilter


@ONNX.register(GradientFilter)
def gradient_filter(b, node, inputs):
    return [inputs[0]]
