"""Gradient rules of the nlinalg family, each a graph of exprc ops (so it is rewritten,
compiled and differentiated again like any other).

With ``G`` the gradient of an output and ``X`` the input:

- inverse ``Z = X^-1``: ``-Z^T G Z^T``; determinant ``d``: ``G d X^-T``;
- pseudo-inverse ``Z``: ``-Z^T G Z^T + (I - X Z) G^T Z Z^T + Z^T Z G^T (I - Z X)`` (Golub and
  Pereyra, 1973; valid where the rank is locally constant);
- ``eigh``: ``V (diag(Gw) + F * (V^T Gv)) V^T`` with ``F[i, j] = 1 / (w[j] - w[i])`` off the
  diagonal (undefined for repeated eigenvalues), folded onto the triangle read;
- QR (``mode='reduced'`` or ``'r'``, any shape): for ``X = [X1 Y]``, ``R = [U V]`` split at
  ``k = min(m, n)`` columns, ``Gq' = Gq + Y Gv^T``, ``M = U Gu^T - Gq'^T Q``,
  ``GX1 = (Gq' + Q copyltu(M)) U^-T`` and ``GY = Q Gv`` (Walter and Lehmann, 2018; Liao et al.,
  2019); the complete factorisation of a tall matrix is not unique, so it has no gradient;
- SVD: through the singular values only, ``U diag(Gs) V`` (singular vectors have none here).

``Eig`` and ``Lstsq`` have no gradient, as in Theano.
"""

from __future__ import annotations

import exprc.tensor.math as tm
from exprc.gradient.table import GRAD, NullGrad
from exprc.tensor import nlinalg as nl
from exprc.tensor.basic import arange, concatenate, identity_like, zeros_like
from exprc.tensor.elemwise import DimShuffle
from exprc.tensor.linalg import dot
from exprc.tensor.nlinalg import (
    QR,
    SVD,
    Det,
    Eig,
    Eigh,
    Lstsq,
    MatrixInverse,
    MatrixPinv,
    alloc_diag,
    matrix_dot,
)
from exprc.tensor.slinalg import solve_triangular

_T = DimShuffle((1, 0))


def triangle(x, lower: bool, diagonal: bool = True):
    """The lower (or upper) triangle of the matrix ``x``, the rest zero; without
    ``diagonal``, the strict triangle."""
    rows = DimShuffle((0, "x"))(arange(x.shape[0]))
    cols = DimShuffle(("x", 0))(arange(x.shape[1]))
    if lower:
        keep = tm.ge(rows, cols) if diagonal else tm.gt(rows, cols)
    else:
        keep = tm.le(rows, cols) if diagonal else tm.lt(rows, cols)
    return tm.switch(keep, x, tm.cast(0, x.dtype))


def fold(g, lower: bool):
    """The gradient w.r.t. the triangle a routine reads of a symmetric matrix, from ``g``, the
    gradient w.r.t. the whole symmetric matrix: an entry off the diagonal stands for two."""
    return triangle(g, lower) + triangle(_T(g), lower, diagonal=False)


@GRAD.register(MatrixInverse)
def matrix_inverse(node, output_grads):
    (gz,), z = output_grads, node.outputs[0]
    return [tm.neg(matrix_dot(_T(z), gz, _T(z)))]


@GRAD.register(Det)
def det(node, output_grads):
    (x,), (gz,) = node.inputs, output_grads
    return [tm.mul(tm.mul(gz, node.outputs[0]), _T(nl.matrix_inverse(x)))]


@GRAD.register(MatrixPinv)
def matrix_pinv(node, output_grads):
    (x,), (gz,), z = node.inputs, output_grads, node.outputs[0]
    xz, zx = dot(x, z), dot(z, x)
    return [tm.neg(matrix_dot(_T(z), gz, _T(z)))
            + matrix_dot(identity_like(xz) - xz, _T(gz), z, _T(z))
            + matrix_dot(_T(z), z, _T(gz), identity_like(zx) - zx)]


@GRAD.register(Eigh)
def eigh(node, output_grads):
    (w, v), (gw, gv) = node.outputs, output_grads
    inner = alloc_diag(gw) if gw is not None else zeros_like(node.inputs[0])
    if gv is not None:
        gaps = DimShuffle(("x", 0))(w) - DimShuffle((0, "x"))(w)  # w[j] - w[i]
        on_diagonal = tm.eq(DimShuffle((0, "x"))(arange(w.shape[0])),
                            DimShuffle(("x", 0))(arange(w.shape[0])))
        f = tm.switch(on_diagonal, tm.cast(0, w.dtype),
                      tm.true_div(1, gaps + tm.cast(on_diagonal, w.dtype)))
        inner = inner + f * dot(_T(v), gv)
    return [fold(matrix_dot(v, inner, _T(v)), node.op.UPLO == "L")]


def _copyltu(m):
    """The symmetric matrix whose lower triangle is ``m``'s."""
    return triangle(m, True) + _T(triangle(m, True, diagonal=False))


@GRAD.register(QR)
def qr(node, output_grads):
    x, mode = node.inputs[0], node.op.mode
    k = tm.minimum(x.shape[0], x.shape[1])
    if mode == "reduced":
        (q, r), (gq, gr) = node.outputs, output_grads
    elif mode == "r":
        (r,), (gr,), gq = node.outputs, output_grads, None
        q = QR("reduced")(x)[0]
    else:
        (q, r), (gq, gr) = node.outputs, output_grads
        rows, cols = x.type.shape
        if rows is None or cols is None or rows > cols:
            # Past the first k, the rows of r are zeros, and the columns of q any basis of
            # what the first k leave out.
            if gq is not None:
                return [NullGrad(node.op, "the complete QR factorisation of a matrix with more "
                                          "rows than columns is not unique; use "
                                          "mode='reduced'")]
            q, r = QR("reduced")(x)
            gr = gr[:k] if gr is not None else None
    return [_qr_grad(x, q, r, gq, gr, k)]


def _qr_grad(x, q, r, gq, gr, k):
    """The gradient of the reduced factorisation ``x = q r`` (see the module's docstring)."""
    u = r[:, :k]
    gq = zeros_like(q) if gq is None else gq
    gr = zeros_like(r) if gr is None else gr
    gu, gv = gr[:, :k], gr[:, k:]
    gq = gq + dot(x[:, k:], _T(gv))
    m = dot(u, _T(gu)) - dot(_T(gq), q)
    b = gq + dot(q, _copyltu(m))
    # b U^-T, with U upper triangular: the transpose of U^-1 b^T.
    gx1 = _T(solve_triangular(u, _T(b), lower=False))
    return concatenate([gx1, dot(q, gv)], axis=1)


@GRAD.register(SVD)
def svd(node, output_grads):
    x = node.inputs[0]
    if node.op.compute_uv:
        gu, gs, gvt = output_grads
        if gu is not None or gvt is not None:
            return [NullGrad(node.op, "the gradient through singular vectors is not "
                                      "implemented; only singular values have one")]
    else:
        (gs,) = output_grads
    u, _, vt = SVD(full_matrices=False)(x)
    return [dot(u * DimShuffle(("x", 0))(gs), vt)]


@GRAD.register(Eig)
def eig(node, output_grads):
    return [NullGrad(node.op, "eigenvectors of a non-symmetric matrix have no gradient here "
                              "(as in Theano); use eigh for symmetric matrices")]


@GRAD.register(Lstsq)
def lstsq(node, output_grads):
    reason = "lstsq has no gradient (as in Theano); differentiate pinv(a) @ b instead"
    return [NullGrad(node.op, reason), NullGrad(node.op, reason)]
