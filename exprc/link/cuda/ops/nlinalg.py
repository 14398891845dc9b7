"""CUDA rules of the nlinalg family: none yet; its ops run on the CPU with transfers."""

from __future__ import annotations

from exprc.link.cuda.program import CUDA_CODE
from exprc.tensor.nlinalg import QR, SVD, Det, Eig, Eigh, Lstsq, MatrixInverse, MatrixPinv

for _op in (MatrixInverse, MatrixPinv, Det, Eig, Eigh, SVD, QR, Lstsq):
    CUDA_CODE.exempt(_op, "runs on the CPU with transfers: no CUDA kernel yet")
