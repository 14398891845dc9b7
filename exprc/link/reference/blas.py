"""Reference implementations of the BLAS ops.

A BLAS op computes ``beta * z + alpha * product`` with NumPy broadcasting, in exactly the order
of operations of the expression the ``blas`` rewrite replaced, so rewritten graphs give the
same bits as the original on this executor. An in-place ``Gemm`` writes into ``z`` under the
rule of :func:`~exprc.link.reference.elemwise.can_overwrite`.
"""

from __future__ import annotations

import numpy as np

from exprc.link.reference.elemwise import can_overwrite
from exprc.link.reference.table import REFERENCE
from exprc.tensor.blas import Gemm, Gemv, Ger

_PRODUCTS = {Gemm: np.dot, Gemv: np.dot, Ger: np.outer}


@REFERENCE.register(Gemm, Gemv, Ger)
def blas(node, z, alpha, x, y, beta):
    product = _PRODUCTS[type(node.op)](x, y)
    scaled = alpha * product
    shape = np.broadcast_shapes(z.shape, product.shape)
    dtype = node.outputs[0].dtype
    if node.op.inplace and can_overwrite(z, shape, dtype):
        np.multiply(z, beta, out=z)
        np.add(z, scaled, out=z)
        return [z]
    return [np.asarray(beta * z + scaled, dtype=dtype)]
