"""ONNX rules of the sparse_math family: none. ONNX models hold dense tensors only."""

from __future__ import annotations

from exprc.export.onnx.rules import ONNX
from exprc.tensor import sparse_math

for _op in (sparse_math.AddSD, sparse_math.AddSS, sparse_math.Dot, sparse_math.MulSD,
            sparse_math.MulSS, sparse_math.Scale, sparse_math.SpSum, sparse_math.StructuredDot,
            sparse_math.StructuredDotGrad, sparse_math.TrueDot):
    ONNX.exempt(_op, "sparse matrices are not exported to ONNX, whose tensors are dense")
