"""CUDA rules of the BLAS ops ``Gemm``, ``Gemv`` and ``Ger``: cuBLAS products.

Every product is one ``gemm`` call on row-major arrays, through the column-major view cuBLAS
has of them (:func:`matmul_into`). ``beta * z + alpha * product`` keeps the reference's order
of operations and NaN behaviour: the output first receives ``beta * z`` (broadcast, by an
elementwise kernel), then cuBLAS adds ``alpha * product`` to it with its own beta of 1; so a
``z`` holding NaN or infinity gives NaN even where ``beta`` is 0, as NumPy does. cuBLAS does
not read the operands at all when ``alpha`` is 0, where NumPy's ``0 * product`` is NaN wherever
the product is NaN or infinite: that case multiplies the product by ``alpha`` apart.
"""

from __future__ import annotations

import numpy as np

from exprc.link.codegen.loops import ScalarProgram
from exprc.link.cuda.device import DeviceArray
from exprc.link.cuda.ops.elemwise import broadcast_shape, copier, elemwise_kernels, launch_elemwise
from exprc.link.cuda.program import CUDA_CODE, Build, CudaUnsupportedError, Run
from exprc.tensor.blas import Gemm, Gemv, Ger
from exprc.tensor.elemwise import Elemwise
from exprc.tensor.scalar import SCALAR_OPS

_FLOATS = ("float32", "float64")


def _operand(array: DeviceArray) -> tuple[int, bool] | None:
    """``(leading dimension, transposed)`` of a 2-d row-major operand as cuBLAS reads it, or
    None when neither axis is contiguous (the caller copies it)."""
    rows, cols = array.shape
    item = array.dtype.itemsize
    s0, s1 = array.strides[0] // item, array.strides[1] // item
    if cols == 1 or s1 == 1:
        ld = s0 if rows > 1 else cols
        if ld >= max(1, cols):
            return ld, False
    if rows == 1 or s0 == 1:
        ld = s1 if cols > 1 else rows
        if ld >= max(1, rows):
            return ld, True
    return None


def matmul_into(run: Run, copy, out: DeviceArray, a: DeviceArray, b: DeviceArray,
                alpha: float, beta: float) -> None:
    """``out = alpha * a @ b + beta * out`` for 2-d arrays, ``out`` contiguous; ``copy`` (a
    :func:`~exprc.link.cuda.ops.elemwise.copier` of the dtype) makes an operand contiguous when
    cuBLAS cannot read it as it is."""
    m, n = out.shape
    k = a.shape[1]
    if m == 0 or n == 0:
        return
    if k == 0:  # an empty sum: the product is zero
        if beta == 0.0:
            run.device.fill_zero(out.address, out.nbytes)
        elif beta != 1.0:
            _scale(run, out, beta)
        return
    described = []
    for x in (a, b):
        form = _operand(x)
        if form is None:
            x = copy(run, x)
            form = _operand(x)
        described.append((x, *form))
    (a, lda, ta), (b, ldb, tb) = described
    # Row-major C = A B is column-major C^T = B^T A^T: cuBLAS computes an n x m product with
    # B's view first.
    run.device.gemm(out.dtype.name, tb, ta, n, m, k, alpha, b.address, ldb, a.address, lda,
                    beta, out.address, n)


def _scale(run: Run, out: DeviceArray, beta: float) -> None:
    # Only reached for an empty inner dimension, with beta != 1: rare enough for a host trip.
    host = out.to_host() * out.dtype.type(beta)
    run.device.upload(out.address, np.ascontiguousarray(host))


def _host_scalar(value) -> float:
    return float(np.asarray(value))


@CUDA_CODE.register(Gemm, Gemv, Ger)
def blas(node, build: Build):
    dtype = node.outputs[0].dtype
    if dtype not in _FLOATS:
        raise CudaUnsupportedError(f"{node.op} of {dtype}")
    build.host_input(1, 4)  # alpha and beta: cuBLAS takes them from the host
    scale = elemwise_kernels(build, ScalarProgram.from_op(Elemwise(SCALAR_OPS["mul"]),
                                                          [dtype, dtype]))
    copy = copier(build, dtype)
    kind = type(node.op)
    out_ndim = node.outputs[0].ndim
    # alpha and beta on the device, uploaded once per value (keyed by their bits: -0.0 is not
    # 0.0, and NaN is equal to itself)
    scalars: dict[bytes, DeviceArray] = {}
    # beta * z + scaled, in the reference's order, for a product that broadcasts.
    mul, add = SCALAR_OPS["mul"], SCALAR_OPS["add"]
    scale_add = elemwise_kernels(build, ScalarProgram(
        (dtype, dtype, dtype), ((mul, (("i", 0), ("i", 1))), (add, (("t", 0), ("i", 2)))),
        (1,), "beta * z + scaled"))

    def _on_device(run: Run, value: float) -> DeviceArray:
        host = np.array(value, dtype=dtype)
        key = host.tobytes()
        array = scalars.get(key)
        if array is None or array.device is not run.device:
            array = scalars[key] = DeviceArray.from_host(run.device, host)
        return array

    def step(run: Run, args: list) -> list[DeviceArray]:
        z, alpha, x, y, beta = args
        alpha, beta = _host_scalar(alpha), _host_scalar(beta)
        if kind is Gemm:
            a, b = x, y
            product = (x.shape[0], y.shape[1])
            if x.shape[1] != y.shape[0]:
                raise ValueError(f"{node.op}: shapes {x.shape} and {y.shape} not aligned")
        elif kind is Gemv:
            a, b = x, y.view((y.shape[0], 1), (y.strides[0], 0))
            product = (x.shape[0],)
            if x.shape[1] != y.shape[0]:
                raise ValueError(f"{node.op}: shapes {x.shape} and {y.shape} not aligned")
        else:  # Ger: outer(x, y)
            a = x.view((x.shape[0], 1), (x.strides[0], 0))
            b = y.view((1, y.shape[0]), (0, y.strides[0]))
            product = (x.shape[0], y.shape[0])
        shape = broadcast_shape(node, [z.shape, product], out_ndim)
        # alpha == 0: cuBLAS would skip the operands, whose NaN and infinities must show
        apart = alpha == 0.0 and a.shape[1] > 0
        if shape != product or apart:  # the product computed apart, then added
            scaled = run.empty(product, z.dtype)
            matrix = scaled if scaled.ndim == 2 else scaled.view(
                (scaled.shape[0], 1), (scaled.strides[0], 0))
            matmul_into(run, copy, matrix, a, b, 1.0 if apart else alpha, 0.0)
            if apart:
                launch_elemwise(run, scale, [scaled, _on_device(run, alpha)], [scaled])
            out = run.empty(shape, z.dtype)
            launch_elemwise(run, scale_add, [z, _on_device(run, beta), scaled], [out])
            return [out]
        out = run.empty(shape, z.dtype)
        launch_elemwise(run, scale, [z, _on_device(run, beta)], [out])
        out2 = out if out.ndim == 2 else out.view((out.shape[0], 1), (out.strides[0], 0))
        matmul_into(run, copy, out2, a, b, alpha, 1.0)
        return [out]

    return step
