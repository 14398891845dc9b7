"""CUDA rules of the reductions: ``Reduce`` over any axes (``Argmax`` runs on the CPU for
now).

The kernels are instances of the templates of ``cuda_kernels/exprc_cuda_reduce.cuh``; this
module picks, per call, the way to fold (rows or columns, see the header) from the strides,
and splits a long reduction into chunks folded by a second launch so that a sum of one huge
array keeps every multiprocessor busy.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from exprc.link.codegen.loops import CUDA_MAXDIM
from exprc.link.codegen.render import C_TYPES
from exprc.link.cuda.device import DeviceArray, KernelSpec, param
from exprc.link.cuda.program import CUDA_CODE, Build, Run
from exprc.tensor.reduction import Argmax, Reduce

_OPS = {"add": "exprc_add_op", "mul": "exprc_mul_op", "maximum": "exprc_max_op",
        "minimum": "exprc_min_op", "and_": "exprc_and_op", "or_": "exprc_or_op"}

_STRUCT_SIZE = 8 * (6 + 4 * CUDA_MAXDIM)

#: Reduced elements from which a reduction with few outputs is split among several blocks.
_SPLIT_FROM = 1 << 14
#: Reduced elements one block of a split reduction folds, at least.
_CHUNK = 4096


def _identity(op: str, dtype: str, build: Build) -> str:
    kind = np.dtype(dtype).kind
    if op == "add":
        value = 0
    elif op == "mul" or op == "and_":
        value = 1
    elif op == "or_":
        value = 0
    elif kind == "f":
        value = -np.inf if op == "maximum" else np.inf
    elif kind == "b":
        value = op == "minimum"
    else:
        info = np.iinfo(dtype)
        value = info.min if op == "maximum" else info.max
    return build.renderer.literal(np.array(value, dtype=dtype))


def reduce_kernels(build: Build, op: str, in_dtype: str, acc_dtype: str) -> str:
    """The base name of the ``_rows`` and ``_columns`` kernels folding ``in_dtype`` elements
    with ``op`` in ``acc_dtype``."""
    build.preamble("reduce", '#include "exprc_cuda_reduce.cuh"')

    def make(base: str):
        tin, tacc = C_TYPES[in_dtype], C_TYPES[acc_dtype]
        identity = _identity(op, acc_dtype, build)
        text = "\n".join(
            f'extern "C" __global__ void {base}_{way}(struct exprc_reduce_loop loop, '
            f"const {tin} *__restrict__ x, {tacc} *__restrict__ y)\n"
            f"{{\n    exprc_reduce_{way}<{tin}, {tacc}>(loop, x, y, {_OPS[op]}(), "
            f"({tacc}){identity});\n}}"
            for way in ("rows", "columns"))
        params = (param("struct", "struct exprc_reduce_loop", _STRUCT_SIZE),
                  param("ptr", f"const {tin} *"), param("ptr", f"{tacc} *"))
        return text, [KernelSpec(f"{base}_{way}", params) for way in ("rows", "columns")]

    return build.kernel(("reduce", op, in_dtype, acc_dtype), make)


def reducer(build: Build, op: str, in_dtype: str, acc_dtype: str, empty_error: str | None = None
            ) -> Callable[[Run, DeviceArray, tuple[int, ...]], DeviceArray]:
    """A run-time function ``reduce(run, x, axes)``: ``x`` folded over ``axes`` with ``op``
    in ``acc_dtype``, a new contiguous array of the kept axes' shape. ``empty_error`` names
    a reduction without identity (``max``), refused over an empty axis."""
    first = reduce_kernels(build, op, in_dtype, acc_dtype)
    second = reduce_kernels(build, op, acc_dtype, acc_dtype)

    def reduce(run: Run, x: DeviceArray, axes: tuple[int, ...]) -> DeviceArray:
        kept = [d for d in range(x.ndim) if d not in axes]
        out = run.empty(tuple(x.shape[d] for d in kept), acc_dtype)
        if empty_error and any(x.shape[a] == 0 for a in axes):
            raise ValueError(f"{empty_error} of an empty axis: axes {axes} of an input of "
                             f"shape {x.shape} hold no elements, and {empty_error} has no "
                             "identity")
        if out.size == 0:
            return out
        itemsize = x.dtype.itemsize
        kshape, kstride = _merge([(x.shape[d], x.strides[d] // itemsize) for d in kept])
        rshape, rstride = _merge([(x.shape[d], x.strides[d] // itemsize) for d in axes])
        red_total = int(np.prod(rshape, dtype=np.int64)) if rshape else 1
        if not rshape and any(x.shape[a] == 0 for a in axes):
            red_total = 0
        kept_total = out.size
        rows = kept_total == 1 or (rstride and abs(rstride[0]) == 1 and red_total >= 32) \
            or not kstride or abs(kstride[0]) != 1
        device = run.device
        if not rows:
            loop = _loop(kshape, kstride, rshape, rstride, kept_total, red_total, 1, red_total)
            blocks = max(1, min(-(-kept_total // 256), device.multiprocessors * 8))
            run.launch(f"{first}_columns", blocks, 256, [loop, x.address, out.address])
            return out
        chunks = 1
        if kept_total < 2 * device.multiprocessors and red_total >= _SPLIT_FROM:
            chunks = max(1, min(-(-red_total // _CHUNK),
                                -(-4 * device.multiprocessors // kept_total)))
        chunk = -(-red_total // chunks) if red_total else 0
        threads = min(256, max(32, -(-min(chunk, 256) // 32) * 32))
        loop = _loop(kshape, kstride, rshape, rstride, kept_total, red_total, chunks, chunk)
        target = out if chunks == 1 else run.empty((kept_total * chunks,), acc_dtype)
        run.launch(f"{first}_rows", min(kept_total * chunks, 65535), threads,
                   [loop, x.address, target.address])
        if chunks > 1:
            loop = _loop([kept_total], [chunks], [chunks], [1], kept_total, chunks, 1, chunks)
            run.launch(f"{second}_rows", min(kept_total, 65535), 32 if chunks <= 32 else 128,
                       [loop, target.address, out.address])
        return out

    return reduce


def _merge(axes: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Sizes and element strides, innermost first, with size-1 axes dropped and neighbours
    that are contiguous merged."""
    sizes: list[int] = []
    strides: list[int] = []
    for n, s in reversed(axes):
        if n == 1:
            continue
        if sizes and s == strides[-1] * sizes[-1]:
            sizes[-1] *= n
            continue
        sizes.append(n)
        strides.append(s)
    return sizes, strides


def _loop(kshape, kstride, rshape, rstride, kept_total, red_total, chunks, chunk) -> bytes:
    if len(kshape) > CUDA_MAXDIM or len(rshape) > CUDA_MAXDIM:
        raise ValueError(f"a reduction over more than {CUDA_MAXDIM} non-contiguous axes")
    loop = np.zeros(6 + 4 * CUDA_MAXDIM, np.int64)
    loop[:6] = [len(kshape), len(rshape), kept_total, red_total, chunks, chunk]
    for k, values in enumerate((kshape, kstride, rshape, rstride)):
        at = 6 + k * CUDA_MAXDIM
        loop[at:at + len(values)] = values
    return loop.tobytes()


@CUDA_CODE.register(Reduce)
def reduce(node, build: Build):
    op = node.op
    fold = reducer(build, op.scalar_op.name, node.inputs[0].dtype, op.dtype, op.no_identity)

    def step(run: Run, args: list[DeviceArray]) -> list[DeviceArray]:
        return [fold(run, args[0], op.axis)]

    return step


CUDA_CODE.exempt(Argmax, "runs on the CPU with transfers: no CUDA kernel yet")
