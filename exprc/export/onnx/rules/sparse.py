"""ONNX rules of the sparse family: none. ONNX models hold dense tensors only (``prepare``
refuses sparse values before any rule is asked)."""

from __future__ import annotations

from exprc.export.onnx.rules import ONNX
from exprc.tensor import sparse

for _op in (sparse.CSM, sparse.CSMGrad, sparse.CSMProperties, sparse.Cast,
            sparse.DenseFromSparse, sparse.EnsureSortedIndices, sparse.HStack, sparse.Neg,
            sparse.Remove0, sparse.SparseFromDense, sparse.Transpose, sparse.VStack):
    ONNX.exempt(_op, "sparse matrices are not exported to ONNX, whose tensors are dense")
