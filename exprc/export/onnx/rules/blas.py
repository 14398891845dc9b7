"""ONNX rules of the blas family: ``beta * z + alpha * product(x, y)``.

The reference computes ``alpha * product`` and ``beta * z`` and adds them, with NumPy's
broadcasting of ``z``; so does the model, leaving out a multiplication by a constant 1 (exact).
Where ``beta`` is the constant 1, ``alpha`` a constant float32 holds exactly, and ``z``
broadcasts to the product's shape, a ``Gemm`` (``x @ y``, ``Ger``'s outer product is not one)
computes the same in one node.
"""

from __future__ import annotations

import numpy as np

from exprc.export.onnx.rules import ONNX
from exprc.export.onnx.rules.linalg import matmul
from exprc.tensor.blas import Gemm, Gemv, Ger


def _is_one(b, name: str) -> bool:
    value = b.known(name)
    return value is not None and value.size == 1 and float(value.reshape(())) == 1.0


def _as_float32_attribute(b, name: str) -> float | None:
    """The constant scalar ``name`` holds, when float32 holds it exactly, else None."""
    value = b.known(name)
    if value is None:
        return None
    scalar = float(value.reshape(()))
    return scalar if float(np.float32(scalar)) == scalar else None


@ONNX.register(Gemm, Gemv, Ger)
def blas(b, node, inputs):
    z, alpha, x, y, beta = inputs
    out = node.outputs[0]
    dtype, shape = out.type.dtype, b.graph.shapes[out]
    if isinstance(node.op, Ger):
        product = b.binary("Mul", b.unsqueeze(x, [1]), b.unsqueeze(y, [0]))
    else:
        product_shape = b.shape(x)[:-1] + b.shape(y)[1:]
        alpha_value = _as_float32_attribute(b, alpha)
        if (isinstance(node.op, Gemm) and _is_one(b, beta) and alpha_value is not None
                and tuple(product_shape) == tuple(shape)):
            return [b.op("Gemm", [x, y, z], dtype, shape, alpha=alpha_value, beta=1.0)]
        product = matmul(b, x, y, dtype, product_shape)
    scaled = product if _is_one(b, alpha) else b.binary("Mul", alpha, product)
    base = z if _is_one(b, beta) else b.binary("Mul", beta, z)
    return [b.expand(b.binary("Add", base, scaled), shape)]
