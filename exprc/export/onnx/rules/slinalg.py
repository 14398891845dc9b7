"""ONNX rules of the slinalg family: none. ONNX has no factorisations, solvers or matrix
exponential."""

from __future__ import annotations

from exprc.export.onnx.rules import ONNX
from exprc.tensor import slinalg

for _op in (slinalg.Cholesky, slinalg.CholeskySolve, slinalg.Eigvalsh, slinalg.Expm,
            slinalg.Solve, slinalg.SolveTriangular):
    ONNX.exempt(_op, f"ONNX has no operator for the linear algebra of {_op.__name__}")
