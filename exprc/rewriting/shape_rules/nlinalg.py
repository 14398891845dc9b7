"""Shape rules of the nlinalg family: each output's shape follows from the input matrix's
(except the residuals of ``Lstsq``, whose length depends on the rank found)."""

from exprc.rewriting.shape_rules import SHAPE
from exprc.rewriting.shape_rules.sizes import minimum
from exprc.tensor.nlinalg import QR, SVD, Det, Eig, Eigh, Lstsq, MatrixInverse, MatrixPinv


@SHAPE.register(MatrixInverse)
def matrix_inverse(node, input_shapes):
    return [input_shapes[0]]


@SHAPE.register(MatrixPinv)
def matrix_pinv(node, input_shapes):
    rows, cols = input_shapes[0]
    return [(cols, rows)]


@SHAPE.register(Det)
def det(node, input_shapes):
    return [()]


@SHAPE.register(Eig, Eigh)
def eigen(node, input_shapes):
    n, _ = input_shapes[0]
    return [(n,), (n, n)]


@SHAPE.register(SVD)
def svd(node, input_shapes):
    m, n = input_shapes[0]
    k = minimum(m, n)
    if not node.op.compute_uv:
        return [(k,)]
    if node.op.full_matrices:
        return [(m, m), (k,), (n, n)]
    return [(m, k), (k,), (k, n)]


@SHAPE.register(QR)
def qr(node, input_shapes):
    m, n = input_shapes[0]
    k = m if node.op.mode == "complete" else minimum(m, n)
    if node.op.mode == "r":
        return [(k, n)]
    return [(m, k), (k, n)]


@SHAPE.register(Lstsq)
def lstsq(node, input_shapes):
    (m, n), b = input_shapes
    return [(n,) + tuple(b[1:]), None, (), (minimum(m, n),)]
