"""CUDA rules of the sparse_math family: none yet; its ops run on the CPU with transfers."""

from __future__ import annotations

from exprc.link.cuda.program import CUDA_CODE
from exprc.tensor.sparse_math import (
    AddSD,
    AddSS,
    Dot,
    MulSD,
    MulSS,
    Scale,
    SpSum,
    StructuredDot,
    StructuredDotGrad,
    TrueDot,
)

_OPS = (
    AddSS,
    AddSD,
    MulSS,
    MulSD,
    Dot,
    StructuredDot,
    StructuredDotGrad,
    TrueDot,
    SpSum,
    Scale,
)
for _op in _OPS:
    CUDA_CODE.exempt(_op, "runs on the CPU with transfers: no CUDA kernel yet")
