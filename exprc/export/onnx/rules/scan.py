"""ONNX rules of the scan family: none (ONNX ``Loop``/``Scan`` subgraphs are not written)."""

from __future__ import annotations

from exprc.export.onnx.rules import ONNX
from exprc.tensor.scan import Scan

ONNX.exempt(Scan, "loops (scan) are not exported to ONNX; a loop over a length known in "
            "advance can be unrolled in Python when the graph is built")
