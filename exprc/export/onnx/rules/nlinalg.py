"""ONNX rules of the nlinalg family: none. ONNX has no matrix decompositions, inverses or
least squares (its ``Det`` has no float64 kernel in ONNX Runtime and no defined method)."""

from __future__ import annotations

from exprc.export.onnx.rules import ONNX
from exprc.tensor import nlinalg

for _op in (nlinalg.Det, nlinalg.Eig, nlinalg.Eigh, nlinalg.Lstsq, nlinalg.MatrixInverse,
            nlinalg.MatrixPinv, nlinalg.QR, nlinalg.SVD):
    ONNX.exempt(_op, f"ONNX has no operator for the linear algebra of {_op.__name__}")
