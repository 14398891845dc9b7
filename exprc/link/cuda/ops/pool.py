"""CUDA rules of pooling (``Pool`` in every mode, ``MaxPoolGrad``, ``AveragePoolGrad``,
``MaxPoolGradGrad``): the kernels of ``cuda_kernels/exprc_cuda_pool.cuh``.

Each array is seen as planes of its last two axes: the leading axes are merged into one
stride when they can be (a copy is made otherwise), and the last two are read through their
strides. ``Pool`` and ``MaxPoolGradGrad`` are one thread per window; the gradients are one
thread per input element gathering from the windows that hold it, so nothing is added
atomically and the results do not depend on scheduling. ``MaxPoolGrad`` first finds each
window's first maximum (row-major, the first NaN if any: the reference's choice) into a
temporary. Shapes are checked on the host, with the reference's exceptions and messages.
"""

from __future__ import annotations

import math

import numpy as np

from exprc.errors import ExprcShapeError
from exprc.link.codegen.render import C_TYPES
from exprc.link.cuda.device import DeviceArray, KernelSpec, param
from exprc.link.cuda.ops.elemwise import copier
from exprc.link.cuda.program import CUDA_CODE, Build, CudaUnsupportedError, Run
from exprc.tensor.signal.pool import MODES, AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool

__all__ = ["INDEX32_LIMIT", "pool"]

_STRUCT = "struct exprc_cuda_pool_geom"
_GEOM_FIELDS = 18
_INDEX_TYPES = {"32": "int32_t", "64": "int64_t"}

#: Kernels index in 32 bits when every index and offset of a call is below this.
INDEX32_LIMIT = 2**31 - 1

#: The kernels: name -> (template, parameters as (C type, name)), the types with ``{T}`` for
#: the element type and ``{I}`` for the index type.
_KERNELS = {
    "forward": ("exprc_pool_forward", [("const {T} *", "x"), ("{T} *", "out")]),
    "argmax": ("exprc_pool_argmax", [("const {T} *", "x"), ("{I} *", "first")]),
    "max_grad": ("exprc_pool_max_grad", [("const {I} *", "first"), ("const {T} *", "gz"),
                                         ("{T} *", "gx")]),
    "max_grad_grad": ("exprc_pool_max_grad_grad", [("const {T} *", "x"), ("const {T} *", "v"),
                                                   ("{T} *", "out")]),
    "average_grad": ("exprc_pool_average_grad", [("const {T} *", "gz"), ("{T} *", "gx")]),
}


def _kernels(build: Build, dtype: str, which: str) -> str:
    """The base name of pooling kernel ``which`` of ``dtype``, with suffix ``32`` or ``64``
    for the index arithmetic."""
    build.preamble("pool", '#include "exprc_cuda_pool.cuh"')
    template, operands = _KERNELS[which]
    t = C_TYPES[dtype]

    def make(base: str):
        texts, specs = [], []
        for suffix, index in _INDEX_TYPES.items():
            types = [ctype.format(T=t, I=index) for ctype, _ in operands]
            names = [name for _, name in operands]
            signature = ", ".join(f"{ty} __restrict__ {name}" for ty, name in zip(types, names))
            texts.append(f'extern "C" __global__ void {base}{suffix}({_STRUCT} g, {signature})\n'
                         f"{{\n    {template}<{t}, {index}>(g, {', '.join(names)});\n}}")
            specs.append(KernelSpec(f"{base}{suffix}",
                                    (param("struct", _STRUCT, 8 * _GEOM_FIELDS),
                                     *(param("ptr", ty) for ty in types))))
        return "\n".join(texts), specs

    return build.kernel(("pool", which, dtype), make)


def _planes(run: Run, copy, array: DeviceArray) -> tuple[DeviceArray, tuple[int, int, int]]:
    """``array`` (copied when its leading axes do not merge into one stride) and its element
    strides (plane, row, column)."""
    item = array.dtype.itemsize
    lead = [(n, s // item) for n, s in zip(array.shape[:-2], array.strides[:-2]) if n != 1]
    for (_, outer), (n, inner) in zip(lead, lead[1:]):
        if outer != inner * n:
            array = copy(run, array)
            return _planes(run, copy, array)
    plane = lead[-1][1] if lead else 0
    return array, (plane, array.strides[-2] // item, array.strides[-1] // item)


def _extent(shape: tuple[int, int, int], strides: tuple[int, int, int]) -> int:
    """The largest offset (in elements) of an element of a (planes, rows, cols) array."""
    return sum(abs(s) * max(n - 1, 0) for n, s in zip(shape, strides))


@CUDA_CODE.register(Pool, MaxPoolGrad, AveragePoolGrad, MaxPoolGradGrad)
def pool(node, build: Build):
    op = node.op
    dtype = node.outputs[0].dtype
    if dtype not in ("float32", "float64") or any(v.dtype != dtype for v in node.inputs):
        raise CudaUnsupportedError(f"{op} of {dtype}")
    kind = next(k for k in (Pool, MaxPoolGrad, AveragePoolGrad, MaxPoolGradGrad)
                if isinstance(op, k))
    names = {Pool: ["forward"], MaxPoolGrad: ["argmax", "max_grad"],
             AveragePoolGrad: ["average_grad"], MaxPoolGradGrad: ["max_grad_grad"]}[kind]
    kernels = {name: _kernels(build, dtype, name) for name in names}
    copy = copier(build, dtype)
    mode = MODES.index(getattr(op, "mode", "max"))

    def geometry(x_shape, planes, xs=(0, 0, 0), gs=(0, 0, 0)) -> tuple[bytes, str]:
        """The kernels' struct and index suffix for an input of ``x_shape``."""
        h, w = x_shape[-2:]
        oh, ow = op.output_sizes(h, w)
        fields = [planes, h, w, oh, ow, *op.ws, *op.stride, *op.pad, mode, *xs, *gs]
        extents = [planes * h * w, planes * oh * ow, _extent((planes, h, w), xs),
                   _extent((planes, oh, ow) if kind in (MaxPoolGrad, AveragePoolGrad)
                           else (planes, h, w), gs),
                   # window starts and ends: i * stride - pad + ws
                   max(h, (oh - 1) * op.stride[0]) + op.ws[0] + op.pad[0] + op.stride[0],
                   max(w, (ow - 1) * op.stride[1]) + op.ws[1] + op.pad[1] + op.stride[1]]
        suffix = "32" if max(extents) < INDEX32_LIMIT else "64"
        return np.array(fields, np.int64).tobytes(), suffix

    def step(run: Run, args: list[DeviceArray]) -> list[DeviceArray]:
        x = args[0]
        pooled = x.shape[:-2] + tuple(op.output_sizes(*x.shape[-2:]))
        planes = math.prod(x.shape[:-2])
        if kind is Pool:
            out = run.empty(pooled, dtype)
            if out.size:
                x, xs = _planes(run, copy, x)
                geo, suffix = geometry(x.shape, planes, xs)
                run.launch_elements(f"{kernels['forward']}{suffix}", out.size,
                                    [geo, x.address, out.address])
            return [out]
        if kind is MaxPoolGradGrad:
            v = args[1]
            if v.shape != x.shape:
                raise ExprcShapeError(f"{op}: values of shape {v.shape} for an input of shape "
                                      f"{x.shape}")
            out = run.empty(pooled, dtype)
            if out.size:
                (x, xs), (v, vs) = _planes(run, copy, x), _planes(run, copy, v)
                geo, suffix = geometry(x.shape, planes, xs, vs)
                run.launch_elements(f"{kernels['max_grad_grad']}{suffix}", out.size,
                                    [geo, x.address, v.address, out.address])
            return [out]
        gz = args[1]
        if gz.shape != pooled:
            raise ExprcShapeError(f"{op}: the output gradient has shape {gz.shape}, but "
                                  f"pooling the input of shape {x.shape} gives {pooled}")
        gx = run.empty(x.shape, dtype)
        if gx.size == 0:
            return [gx]
        gz, gs = _planes(run, copy, gz)
        if kind is AveragePoolGrad:  # x's values are not read
            geo, suffix = geometry(x.shape, planes, gs=gs)
            run.launch_elements(f"{kernels['average_grad']}{suffix}", gx.size,
                                [geo, gz.address, gx.address])
            return [gx]
        x, xs = _planes(run, copy, x)
        geo, suffix = geometry(x.shape, planes, xs, gs)
        first = run.empty((gz.size,), "int32" if suffix == "32" else "int64")
        run.launch_elements(f"{kernels['argmax']}{suffix}", gz.size,
                            [geo, x.address, first.address])
        run.launch_elements(f"{kernels['max_grad']}{suffix}", gx.size,
                            [geo, first.address, gz.address, gx.address])
        return [gx]

    return step
