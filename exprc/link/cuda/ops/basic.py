"""CUDA rules of the basic constructors: ``Alloc`` (a broadcast copy), ``Join`` (one copy per
input into its slice of the result), ``Split`` (views of the input), ``ARange`` and ``Eye``
(one thread per element; kernels in ``cuda_kernels/exprc_cuda_basic.cuh``).

Sizes, bounds and split sizes are read on the host, where the program computes the small
integer arithmetic over shapes.
"""

from __future__ import annotations

import numpy as np

from exprc.errors import ExprcShapeError
from exprc.link.codegen.loops import CUDA_MAXDIM
from exprc.link.codegen.render import C_TYPES
from exprc.link.cuda.device import DeviceArray, KernelSpec, param
from exprc.link.cuda.ops.elemwise import copier, elemwise_kernels, launch_elemwise
from exprc.link.cuda.ops.subtensor import update_program
from exprc.link.cuda.program import CUDA_CODE, Build, CudaUnsupportedError, Run
from exprc.tensor.basic import Alloc, ARange, Eye, Join, Split, arange_length

#: The largest number of bytes an array may have (the reference's limit for ``ARange``).
_MAX_SIZE = 2**63 - 1


@CUDA_CODE.register(Alloc)
def alloc(node, build: Build):
    build.host_input(1)
    copy = copier(build, node.outputs[0].dtype)

    def step(run: Run, args: list) -> list[DeviceArray]:
        value, shape = args
        shape = tuple(int(n) for n in shape)
        if any(n < 0 for n in shape):
            raise ExprcShapeError(f"{node.op}: negative size in the target shape {shape}")
        pad = len(shape) - value.ndim
        for have, want in zip(value.shape, shape[pad:]):
            if have not in (1, want):
                raise ExprcShapeError(f"{node.op}: cannot broadcast a value of shape "
                                      f"{value.shape} to shape {shape}")
        return [copy(run, value, shape)]

    return step


# --------------------------------------------------------------------------- Join, Split
@CUDA_CODE.register(Join)
def join(node, build: Build):
    dtype = node.outputs[0].dtype
    if node.outputs[0].ndim > CUDA_MAXDIM:
        raise CudaUnsupportedError(f"{node.op} of rank {node.outputs[0].ndim}")
    # out[slice] = input, cast to the result's dtype; the slice is also an input, so that
    # the kernel takes its strides into account.
    writers = {d: elemwise_kernels(build, update_program(True, dtype, d))
               for d in {v.dtype for v in node.inputs}}
    axis = node.op.axis

    def step(run: Run, args: list[DeviceArray]) -> list[DeviceArray]:
        others = {t.shape[:axis] + t.shape[axis + 1:] for t in args}
        if len(others) > 1:
            shapes = ", ".join(str(t.shape) for t in args)
            raise ExprcShapeError(f"{node.op}: cannot join arrays of shapes {shapes}: sizes "
                                  f"differ on an axis other than {axis}")
        shape = list(args[0].shape)
        shape[axis] = sum(t.shape[axis] for t in args)
        out = run.empty(shape, dtype)
        at = 0
        for t in args:
            if t.size:
                part = out.view(t.shape, out.strides, at * out.strides[axis])
                launch_elemwise(run, writers[t.dtype.name], [part, t], [part])
            at += t.shape[axis]
        return [out]

    return step


@CUDA_CODE.register(Split)
def split(node, build: Build):
    build.host_input(1)
    op = node.op

    def step(run: Run, args: list) -> list[DeviceArray]:
        x, splits = args
        sizes = [int(s) for s in np.asarray(splits).reshape(-1)]
        axis = op.axis
        if len(sizes) != op.n_splits or min(sizes, default=0) < 0 \
                or sum(sizes) != x.shape[axis]:
            raise ExprcShapeError(f"{op}: cannot split an array of shape {x.shape} on axis "
                                  f"{axis} into {op.n_splits} pieces of sizes {sizes}")
        pieces, at = [], 0
        for n in sizes:
            shape = x.shape[:axis] + (n,) + x.shape[axis + 1:]
            pieces.append(x.view(shape, x.strides, at * x.strides[axis] if n else 0))
            at += n
        return pieces

    return step


# --------------------------------------------------------------------------- ARange, Eye
def _include(build: Build) -> None:
    build.preamble("basic", '#include "exprc_cuda_basic.cuh"')


def _scalar_param(dtype: str):
    """The kernel parameter carrying one value of ``dtype`` (integers as int64 bits)."""
    if dtype == "float32":
        return param("f32", "float")
    if dtype == "float64":
        return param("f64", "double")
    return param("i64", "int64_t")


def _int64_bits(value: int) -> int:
    """``value`` modulo 2**64 as the int64 with the same bits."""
    value %= 2**64
    return value - 2**64 if value >= 2**63 else value


@CUDA_CODE.register(ARange)
def arange(node, build: Build):
    dtype = node.op.dtype
    if dtype not in C_TYPES:
        raise CudaUnsupportedError(f"{node.op}")
    build.host_input(0, 1, 2)
    _include(build)
    t = C_TYPES[dtype]
    p = _scalar_param(dtype)
    kind = "float" if dtype.startswith("float") else "int"

    def make(base: str):
        text = "\n".join([
            f'extern "C" __global__ void {base}_exact(int64_t n, uint64_t first, '
            f"uint64_t stride, int is_signed, {t} *__restrict__ out)\n"
            f"{{\n    exprc_arange_exact<{t}>(n, first, stride, is_signed, out);\n}}",
            f'extern "C" __global__ void {base}_fill(int64_t n, {p.ctype} first, '
            f"{p.ctype} second, {t} *__restrict__ out)\n"
            f"{{\n    exprc_arange_fill<{t}, {kind}>(n, ({t})first, ({t})second, out);\n}}"])
        return text, [
            KernelSpec(f"{base}_exact", (param("i64"), param("i64", "uint64_t"),
                                         param("i64", "uint64_t"), param("i32"),
                                         param("ptr", f"{t} *"))),
            KernelSpec(f"{base}_fill", (param("i64"), p, p, param("ptr", f"{t} *")))]

    base = build.kernel(("arange", dtype), make)
    op = node.op

    def step(run: Run, args: list) -> list[DeviceArray]:
        start, stop, step_ = (np.asarray(a) for a in args)
        if step_ == 0:
            raise ExprcShapeError(f"{op}: step must not be zero")
        if all(a.dtype.kind in "iub" for a in (start, stop, step_)):
            return [_arange_exact(run, op, base, int(start), int(stop), int(step_), dtype)]
        return [_arange_fill(run, base, start.item(), stop.item(), step_.item(), dtype)]

    return step


def _arange_exact(run: Run, op, base: str, first: int, end: int, stride: int,
                  dtype: str) -> DeviceArray:
    n = max(0, -((first - end) // stride))  # ceil((end - first) / stride), exactly
    if n * np.dtype(dtype).itemsize > _MAX_SIZE:
        raise ExprcShapeError(f"{op}: Maximum allowed size exceeded: arange({first}, "
                              f"{end}, {stride}) would hold {n} elements")
    out = run.empty((n,), dtype)
    if n == 0:
        return out
    last = first + stride * (n - 1)
    if min(first, last) < 0 and max(first, last) >= 2**63:
        # Values on both sides of the int64 range: exact only as Python integers (the
        # reference's object array), formed on the host.
        host = np.array(range(first, first + stride * n, stride), dtype=object).astype(dtype)
        run.device.upload(out.address, np.ascontiguousarray(host))
        return out
    is_signed = int(min(first, last) < 0)
    run.launch_elements(f"{base}_exact", n, [n, _int64_bits(first), _int64_bits(stride),
                                            is_signed, out.address])
    return out


def _arange_fill(run: Run, base: str, start, stop, step, dtype: str) -> DeviceArray:
    try:
        n = arange_length(start, stop, step)
    except (ValueError, OverflowError):
        n = None
    if n is None or dtype == "bool" and n > 2:
        # NumPy's own errors (a length it cannot compute; no fill for booleans).
        host = np.arange(start, stop, step, dtype=dtype)
        return DeviceArray.from_host(run.device, host)
    out = run.empty((n,), dtype)
    if n == 0:
        return out
    # The first two values as NumPy forms them: cast to the dtype from Python numbers.
    values = [np.array(v).astype(dtype).item() for v in (start, start + step)]
    if not dtype.startswith("float"):
        values = [_int64_bits(int(v)) for v in values]
    run.launch_elements(f"{base}_fill", n, [n, *values, out.address])
    return out


@CUDA_CODE.register(Eye)
def eye(node, build: Build):
    dtype = node.op.dtype
    if dtype not in C_TYPES:
        raise CudaUnsupportedError(f"{node.op}")
    build.host_input(0, 1, 2)
    _include(build)
    t = C_TYPES[dtype]

    def make(base: str):
        text = (f'extern "C" __global__ void {base}(int64_t n, int64_t m, int64_t k, '
                f"{t} *__restrict__ out)\n{{\n    exprc_eye<{t}>(n, m, k, out);\n}}")
        return text, [KernelSpec(base, (param("i64"), param("i64"), param("i64"),
                                        param("ptr", f"{t} *")))]

    name = build.kernel(("eye", dtype), make)
    op = node.op

    def step(run: Run, args: list) -> list[DeviceArray]:
        n, m, k = (int(np.asarray(a)) for a in args)
        if n < 0 or m < 0:
            raise ExprcShapeError(f"{op}: negative size: n={n}, m={m}")
        out = run.empty((n, m), dtype)
        k = max(-n - 1, min(m + 1, k))  # a diagonal outside the matrix: all zeros
        run.launch_elements(name, n * m, [n, m, k, out.address])
        return [out]

    return step
