"""CUDA rules of the slinalg family: none yet; its ops run on the CPU with transfers."""

from __future__ import annotations

from exprc.link.cuda.program import CUDA_CODE
from exprc.tensor.slinalg import Cholesky, CholeskySolve, Eigvalsh, Expm, Solve, SolveTriangular

for _op in (Cholesky, Solve, SolveTriangular, CholeskySolve, Eigvalsh, Expm):
    CUDA_CODE.exempt(_op, "runs on the CPU with transfers: no CUDA kernel yet")
