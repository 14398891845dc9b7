"""CUDA rules of the scan family: none yet; its ops run on the CPU with transfers."""

from __future__ import annotations

from exprc.link.cuda.program import CUDA_CODE
from exprc.tensor.scan import Scan

for _op in (Scan,):
    CUDA_CODE.exempt(_op, "runs on the CPU with transfers: no CUDA kernel yet")
