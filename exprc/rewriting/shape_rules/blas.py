"""Shape rules of the BLAS-shaped ops: ``z`` broadcast against the product's shape."""

from exprc.rewriting.shape_rules import SHAPE
from exprc.rewriting.shape_rules.sizes import broadcast
from exprc.tensor.blas import Gemm, Gemv, Ger


def _beside(z_shape, product_shape):
    return [tuple(broadcast(pair) for pair in zip(z_shape, product_shape))]


@SHAPE.register(Gemm)
def gemm(node, input_shapes):
    z, _, x, y, _ = input_shapes
    return _beside(z, (x[0], y[1]))


@SHAPE.register(Gemv)
def gemv(node, input_shapes):
    y, _, a, _, _ = input_shapes
    return _beside(y, (a[0],))


@SHAPE.register(Ger)
def ger(node, input_shapes):
    a, _, x, y, _ = input_shapes
    return _beside(a, (x[0], y[0]))
