"""ONNX rules of the ifelse family: none (an ``If`` with subgraphs is not written)."""

from __future__ import annotations

from exprc.export.onnx.rules import ONNX
from exprc.tensor.ifelse import IfElse

ONNX.exempt(IfElse, "conditional branches (ifelse) are not exported to ONNX; compute both "
            "results and select with T.switch instead")
