"""ONNX rules of the linalg family: ``Dot`` and ``BatchedDot`` as ``MatMul``.

Operands are converted to the result's dtype first, as NumPy's ``dot`` computes. ONNX Runtime
multiplies matrices of 32- and 64-bit integers and floats; narrower integers are multiplied
as int64 and wrapped back (exact modulo 2**bits, as NumPy's products), and a product of bools
is whether any term is True.
"""

from __future__ import annotations

from exprc.export.onnx.rules import ONNX
from exprc.tensor.linalg import BatchedDot, Dot

#: Result dtypes ONNX Runtime's MatMul computes in directly.
MATMUL_DTYPES = ("int32", "uint32", "int64", "uint64", "float32", "float64")


def matmul(b, x: str, y: str, dtype: str, shape) -> str:
    """NumPy's ``matmul`` of ``x`` and ``y`` computed in ``dtype``, of ``shape``."""
    if dtype in MATMUL_DTYPES:
        return b.op("MatMul", [b.cast(x, dtype), b.cast(y, dtype)], dtype, shape)
    product = b.op("MatMul", [b.cast(x, "int64"), b.cast(y, "int64")], "int64", shape)
    if dtype == "bool":
        return b.unary("Not", b.binary("Equal", product, b.const(0, dtype="int64"), "bool"))
    return b.cast(product, dtype)


@ONNX.register(Dot, BatchedDot)
def dot(b, node, inputs):
    out = node.outputs[0]
    return [matmul(b, *inputs, out.type.dtype, b.graph.shapes[out])]
