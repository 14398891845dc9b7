"""ONNX rules of the opfromgraph family: none. ``prepare`` already replaces every inline
``OpFromGraph`` by its graph; the others stay opaque."""

from __future__ import annotations

from exprc.export.onnx.rules import ONNX
from exprc.tensor.opfromgraph import OpFromGraph

ONNX.exempt(OpFromGraph, "an OpFromGraph that is not inline is not exported to ONNX; build "
            "it with inline=True so that its graph is exported in its place")
