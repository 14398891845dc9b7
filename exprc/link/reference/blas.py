"""Reference implementations of the BLAS ops and of the in-place elementwise op.

A BLAS op computes ``beta * z + alpha * product`` with NumPy broadcasting, in exactly the order
of operations of the expression the ``blas`` rewrite replaced, so rewritten graphs give the
same bits as the original on this executor. An in-place op (``destroy_map``) writes its result
into the destroyed input's memory when that array can hold it (same shape and dtype, writable)
and returns that array; otherwise it returns a fresh one. The executor has already copied any
input it must not overwrite (see :class:`exprc.link.reference.ReferenceProgram`).
"""

from __future__ import annotations

import numpy as np

from exprc.link.reference.elemwise import elemwise
from exprc.link.reference.table import REFERENCE
from exprc.tensor.blas import Gemm, Gemv, Ger
from exprc.tensor.inplace import InplaceElemwise

_PRODUCTS = {Gemm: np.dot, Gemv: np.dot, Ger: np.outer}


def can_overwrite(target: np.ndarray, shape: tuple, dtype: str) -> bool:
    """Whether ``target`` can receive a result of ``shape`` and ``dtype`` in place."""
    return target.shape == shape and target.dtype.name == dtype and target.flags.writeable


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


@REFERENCE.register(InplaceElemwise)
def inplace_elemwise(node, *inputs):
    (result,) = elemwise(node, *inputs)
    target = inputs[node.op.destroyed]
    if can_overwrite(target, result.shape, result.dtype.name):
        np.copyto(target, result)
        return [target]
    return [result]
