"""CUDA rules of the products ``Dot`` (vector and matrix operands) and ``BatchedDot``: cuBLAS
``gemm`` and ``gemmStridedBatched``."""

from __future__ import annotations

from exprc.link.cuda.device import DeviceArray
from exprc.link.cuda.ops.blas import matmul_into
from exprc.link.cuda.ops.elemwise import copier
from exprc.link.cuda.program import CUDA_CODE, Build, CudaUnsupportedError, Run
from exprc.tensor.linalg import BatchedDot, Dot

_FLOATS = ("float32", "float64")


def _float_operands(node) -> str:
    dtypes = {v.dtype for v in node.inputs + node.outputs}
    if len(dtypes) != 1 or next(iter(dtypes)) not in _FLOATS:
        raise CudaUnsupportedError(f"{node.op} of {sorted(dtypes)} (cuBLAS multiplies float32 "
                                   "or float64 operands of one dtype)")
    return next(iter(dtypes))


def _as_matrix(x: DeviceArray, row: bool) -> DeviceArray:
    """A vector as a 1 x n (``row``) or n x 1 matrix view; a matrix as it is."""
    if x.ndim == 2:
        return x
    return (x.view((1, x.shape[0]), (0, x.strides[0])) if row
            else x.view((x.shape[0], 1), (x.strides[0], 0)))


@CUDA_CODE.register(Dot)
def dot(node, build: Build):
    dtype = _float_operands(node)
    copy = copier(build, dtype)

    def step(run: Run, args: list[DeviceArray]) -> list[DeviceArray]:
        a, b = args
        if a.shape[-1] != b.shape[0]:
            raise ValueError(f"{node.op}: shapes {a.shape} and {b.shape} not aligned: "
                             f"{a.shape[-1]} (dim {a.ndim - 1}) != {b.shape[0]} (dim 0)")
        out = run.empty(a.shape[:-1] + b.shape[1:], dtype)
        rows = a.shape[0] if a.ndim == 2 else 1
        cols = b.shape[1] if b.ndim == 2 else 1
        matrix = out.view((rows, cols), (cols * out.dtype.itemsize, out.dtype.itemsize))
        matmul_into(run, copy, matrix, _as_matrix(a, True), _as_matrix(b, False), 1.0, 0.0)
        return [out]

    return step


@CUDA_CODE.register(BatchedDot)
def batched_dot(node, build: Build):
    dtype = _float_operands(node)
    copy = copier(build, dtype)

    def step(run: Run, args: list[DeviceArray]) -> list[DeviceArray]:
        a, b = args
        if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
            raise ValueError(f"{node.op}: shapes {a.shape} and {b.shape} do not match "
                             "(batch, n, k) @ (batch, k, m)")
        batch, n, k = a.shape
        m = b.shape[2]
        out = run.empty((batch, n, m), dtype)
        if out.size == 0:
            return [out]
        if k == 0:
            run.device.fill_zero(out.address, out.nbytes)
            return [out]
        a, b = (x if x.is_contiguous else copy(run, x) for x in (a, b))
        # Row-major per batch: C_i^T = B_i^T A_i^T in cuBLAS's column-major terms.
        run.device.gemm_strided_batched(dtype, False, False, m, n, k, 1.0, b.address, m, k * m,
                                        a.address, k, n * k, 0.0, out.address, m, n * m, batch)
        return [out]

    return step
