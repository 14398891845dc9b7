"""Reference implementations of the nlinalg family, with ``numpy.linalg``.

NumPy computes float32 operands in float64; the results are returned in the output's dtype.
The checks and messages are the C backend's, so both executors fail alike.
"""

from __future__ import annotations

import numpy as np

from exprc.errors import ExprcShapeError, ExprcValueError
from exprc.link.reference.table import REFERENCE
from exprc.tensor.nlinalg import (
    PINV_RCOND,
    QR,
    SVD,
    Det,
    Eig,
    Eigh,
    Lstsq,
    MatrixInverse,
    MatrixPinv,
)


def check_square(node, x: np.ndarray, name: str = "x") -> int:
    """The size of the square matrix ``x``; a ValueError naming ``node``'s op otherwise."""
    if x.shape[0] != x.shape[1]:
        raise ExprcShapeError(f"{node.op}: {name} must be a square matrix, got shape "
                              f"{x.shape}")
    return x.shape[0]


def check_finite(node, x: np.ndarray, name: str = "x") -> None:
    """An error for NaN or infinity in ``x``, on which the iterative routines (eigenvalues,
    singular values) would not converge."""
    if not np.isfinite(x).all():
        raise ExprcValueError(f"{node.op}: {name} holds NaN or infinity")


def singular(node) -> ExprcValueError:
    return ExprcValueError(f"{node.op}: the matrix is singular")


def _out(node, k, value) -> np.ndarray:
    return np.asarray(value, dtype=node.outputs[k].dtype)


@REFERENCE.register(MatrixInverse)
def matrix_inverse(node, x):
    check_square(node, x)
    try:
        return [_out(node, 0, np.linalg.inv(x))]
    except np.linalg.LinAlgError:
        raise singular(node) from None


@REFERENCE.register(MatrixPinv)
def matrix_pinv(node, x):
    check_finite(node, x)
    return [_out(node, 0, np.linalg.pinv(x, rcond=PINV_RCOND))]


@REFERENCE.register(Det)
def det(node, x):
    check_square(node, x)
    return [_out(node, 0, np.linalg.det(x))]


@REFERENCE.register(Eig)
def eig(node, x):
    check_square(node, x)
    check_finite(node, x)
    w, v = np.linalg.eig(x)
    if np.iscomplexobj(w) and np.any(w.imag != 0):
        raise ExprcValueError(f"{node.op}: the matrix has complex eigenvalues, which exprc's "
                              "real tensors cannot hold (eigh takes symmetric matrices)")
    return [_out(node, 0, w.real), _out(node, 1, v.real)]


@REFERENCE.register(Eigh)
def eigh(node, x):
    check_square(node, x, "a")
    check_finite(node, x, "a")
    w, v = np.linalg.eigh(x, UPLO=node.op.UPLO)
    return [_out(node, 0, w), _out(node, 1, v)]


@REFERENCE.register(SVD)
def svd(node, x):
    check_finite(node, x)
    op = node.op
    if not op.compute_uv:
        return [_out(node, 0, np.linalg.svd(x, compute_uv=False))]
    u, s, vh = np.linalg.svd(x, full_matrices=op.full_matrices)
    return [_out(node, 0, u), _out(node, 1, s), _out(node, 2, vh)]


@REFERENCE.register(QR)
def qr(node, x):
    if node.op.mode == "r":
        return [_out(node, 0, np.linalg.qr(x, mode="r"))]
    q, r = np.linalg.qr(x, mode=node.op.mode)
    return [_out(node, 0, q), _out(node, 1, r)]


@REFERENCE.register(Lstsq)
def lstsq(node, a, b):
    if a.shape[0] != b.shape[0]:
        raise ExprcShapeError(f"{node.op}: a has {a.shape[0]} rows but b has {b.shape[0]}")
    check_finite(node, a, "a")
    check_finite(node, b, "b")
    rcond = node.op.rcond
    if rcond is None:
        rcond = np.finfo(node.outputs[0].dtype).eps * max(a.shape)
    x, residuals, rank, s = np.linalg.lstsq(a, b, rcond=rcond)
    return [_out(node, 0, x), _out(node, 1, residuals), _out(node, 2, rank), _out(node, 3, s)]
