"""CUDA rules of the sparse family: none yet; its ops run on the CPU with transfers."""

from __future__ import annotations

from exprc.link.cuda.program import CUDA_CODE
from exprc.tensor.sparse import (
    CSM,
    Cast,
    CSMGrad,
    CSMProperties,
    DenseFromSparse,
    EnsureSortedIndices,
    HStack,
    Neg,
    Remove0,
    SparseFromDense,
    Transpose,
    VStack,
)

_OPS = (
    DenseFromSparse,
    SparseFromDense,
    CSMProperties,
    CSM,
    CSMGrad,
    Cast,
    Transpose,
    Neg,
    Remove0,
    EnsureSortedIndices,
    HStack,
    VStack,
)
for _op in _OPS:
    CUDA_CODE.exempt(_op, "runs on the CPU with transfers: no CUDA kernel yet")
