"""CUDA rules of the ifelse family: none yet; its ops run on the CPU with transfers."""

from __future__ import annotations

from exprc.link.cuda.program import CUDA_CODE
from exprc.tensor.ifelse import IfElse

for _op in (IfElse,):
    CUDA_CODE.exempt(_op, "runs on the CPU with transfers: no CUDA kernel yet")
