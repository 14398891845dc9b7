"""CUDA rules of the reductions: ``Reduce`` and ``Argmax`` over any axes.

The kernels are instances of the templates of ``cuda_kernels/exprc_cuda_reduce.cuh`` and
``exprc_cuda_argmax.cuh``; :func:`_plan` picks, per call, the way to fold (rows or columns,
see the header) from the strides, and splits a long reduction into chunks folded by a second
launch so that a sum of one huge array keeps every multiprocessor busy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

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


def reducer(build: Build, op: str, in_dtype: str, acc_dtype: str, empty_error: str | None = None,
            ndim: int | None = None) -> Callable[[Run, DeviceArray, tuple[int, ...]], DeviceArray]:
    """A run-time function ``reduce(run, x, axes)``: ``x`` folded over ``axes`` with ``op``
    in ``acc_dtype``, a new contiguous array of the kept axes' shape. ``empty_error`` names
    a reduction without identity (``max``), refused over an empty axis. ``ndim``, the rank of
    the inputs when known, saves the copy kernels that only ranks above CUDA_MAXDIM need."""
    first = reduce_kernels(build, op, in_dtype, acc_dtype)
    second = reduce_kernels(build, op, acc_dtype, acc_dtype)
    copy = _gatherer(build, in_dtype, ndim)

    def reduce(run: Run, x: DeviceArray, axes: tuple[int, ...]) -> DeviceArray:
        kept = [d for d in range(x.ndim) if d not in axes]
        out = run.empty(tuple(x.shape[d] for d in kept), acc_dtype)
        if empty_error and any(x.shape[a] == 0 for a in axes):
            raise ValueError(f"{empty_error} of an empty axis: axes {axes} of an input of "
                             f"shape {x.shape} hold no elements, and {empty_error} has no "
                             "identity")
        if out.size == 0:
            return out
        x, axes = _gathered(run, copy, x, axes)
        plan = _plan(run, x, axes, out.size)
        if plan.columns:
            run.launch(f"{first}_columns", plan.blocks, 256, [plan.loop, x.address, out.address])
            return out
        kept_total, chunks = out.size, plan.chunks
        target = out if chunks == 1 else run.empty((kept_total * chunks,), acc_dtype)
        run.launch(f"{first}_rows", plan.blocks, plan.threads,
                   [plan.loop, x.address, target.address])
        if chunks > 1:
            loop = _loop([kept_total], [chunks], [chunks], [1], kept_total, chunks, 1, chunks)
            run.launch(f"{second}_rows", min(kept_total, 65535), 32 if chunks <= 32 else 128,
                       [loop, target.address, out.address])
        return out

    return reduce


@dataclass(frozen=True)
class _Plan:
    """How one reduction runs: the loop struct, columns or rows, the launch's size, and the
    blocks per output of a split (rows) reduction."""

    loop: bytes
    columns: bool
    blocks: int
    threads: int
    chunks: int


def _plan(run: Run, x: DeviceArray, axes: tuple[int, ...], kept_total: int) -> _Plan:
    """Rows (a block per output, read along the reduced axis) when the reduced axis is the
    contiguous one or the kept one is not, else columns (a thread per output); a rows
    reduction with few outputs and many elements is split into chunks per output."""
    itemsize = x.dtype.itemsize
    kept = [d for d in range(x.ndim) if d not in axes]
    kshape, kstride = _merge([(x.shape[d], x.strides[d] // itemsize) for d in kept])
    rshape, rstride = _merge([(x.shape[d], x.strides[d] // itemsize) for d in axes])
    red_total = math.prod(rshape)
    rows = kept_total == 1 or (rstride and abs(rstride[0]) == 1 and red_total >= 32) \
        or not kstride or abs(kstride[0]) != 1
    device = run.device
    if not rows:
        loop = _loop(kshape, kstride, rshape, rstride, kept_total, red_total, 1, red_total)
        blocks = max(1, min(-(-kept_total // 256), device.multiprocessors * 8))
        return _Plan(loop, True, blocks, 256, 1)
    chunks = 1
    if kept_total < 2 * device.multiprocessors and red_total >= _SPLIT_FROM:
        chunks = max(1, min(-(-red_total // _CHUNK), -(-4 * device.multiprocessors // kept_total)))
    chunk = -(-red_total // chunks) if red_total else 0
    threads = min(256, max(32, -(-min(chunk, 256) // 32) * 32))
    loop = _loop(kshape, kstride, rshape, rstride, kept_total, red_total, chunks, chunk)
    return _Plan(loop, False, min(kept_total * chunks, 65535), threads, chunks)


def _gatherer(build: Build, dtype: str, ndim: int | None):
    """The copier :func:`_gathered` needs for inputs of rank ``ndim`` (None: any), or None
    when the rank is within CUDA_MAXDIM."""
    if ndim is not None and ndim <= CUDA_MAXDIM:
        return None
    from exprc.link.cuda.ops.elemwise import copier

    return copier(build, dtype)


def _gathered(run: Run, copy, x: DeviceArray, axes: tuple[int, ...]
              ) -> tuple[DeviceArray, tuple[int, ...]]:
    """``x`` and ``axes`` as they are when the kept and the reduced axes each merge into at
    most CUDA_MAXDIM (the loop struct's room), else a contiguous copy of ``x`` with its kept
    axes first and its reduced axes last (in their order, which keeps an Argmax's flat index),
    where each kind merges into one axis."""
    if x.ndim <= CUDA_MAXDIM:
        return x, axes
    item = x.dtype.itemsize
    kept = [d for d in range(x.ndim) if d not in axes]
    sizes = [len(_merge([(x.shape[d], x.strides[d] // item) for d in which])[0])
             for which in (kept, axes)]
    if max(sizes) <= CUDA_MAXDIM:
        return x, axes
    order = kept + list(axes)
    moved = x.view([x.shape[d] for d in order], [x.strides[d] for d in order])
    return copy(run, moved), tuple(range(len(kept), x.ndim))


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
    fold = reducer(build, op.scalar_op.name, node.inputs[0].dtype, op.dtype, op.no_identity,
                   node.inputs[0].ndim)

    def step(run: Run, args: list[DeviceArray]) -> list[DeviceArray]:
        return [fold(run, args[0], op.axis)]

    return step


#: The type an Argmax candidate's value travels in: warp shuffles take 32- and 64-bit types,
#: so the narrower ones travel as int (exactly).
_ARGMAX_KEYS = {"bool": "int32", "int8": "int32", "int16": "int32", "uint8": "int32",
                "uint16": "int32"}


def argmax_kernels(build: Build, dtype: str) -> str:
    """The base name of the ``_rows``, ``_finish`` and ``_columns`` kernels of an Argmax of
    ``dtype`` (``cuda_kernels/exprc_cuda_argmax.cuh``); the last argument of each says
    whether the largest (1) or the smallest (0) element is sought."""
    build.preamble("reduce", '#include "exprc_cuda_reduce.cuh"')
    build.preamble("argmax", '#include "exprc_cuda_argmax.cuh"')

    def make(base: str):
        t, k = C_TYPES[dtype], C_TYPES[_ARGMAX_KEYS.get(dtype, dtype)]
        loop = param("struct", "struct exprc_reduce_loop", _STRUCT_SIZE)
        specs = [
            KernelSpec(f"{base}_rows", (loop, param("ptr", f"const {t} *"),
                                        param("ptr", f"{k} *"), param("ptr", "int64_t *"),
                                        param("ptr", "int64_t *"), param("i32"))),
            KernelSpec(f"{base}_finish", (param("i64"), param("i64"),
                                          param("ptr", f"const {k} *"),
                                          param("ptr", "const int64_t *"),
                                          param("ptr", "int64_t *"), param("i32"))),
            KernelSpec(f"{base}_columns", (loop, param("ptr", f"const {t} *"),
                                           param("ptr", "int64_t *"), param("i32"))),
        ]
        calls = [f"exprc_argmax_rows<{t}, {k}>(loop, x, pv, pi, y, largest != 0);",
                 f"exprc_argmax_finish<{k}>(outputs, chunks, pv, pi, y, largest != 0);",
                 f"exprc_argmax_columns<{t}, {k}>(loop, x, y, largest != 0);"]
        names = [["loop", "x", "pv", "pi", "y", "largest"],
                 ["outputs", "chunks", "pv", "pi", "y", "largest"],
                 ["loop", "x", "y", "largest"]]
        text = "\n".join(f'extern "C" __global__ void {spec.name}({spec.signature(n)})\n'
                         f"{{\n    {call}\n}}" for spec, call, n in zip(specs, calls, names))
        return text, specs

    return build.kernel(("argmax", dtype), make)


@CUDA_CODE.register(Argmax)
def argmax(node, build: Build):
    op = node.op
    dtype = node.inputs[0].dtype
    base = argmax_kernels(build, dtype)
    key_dtype = _ARGMAX_KEYS.get(dtype, dtype)
    name = "argmax" if op.largest else "argmin"
    largest = int(op.largest)
    copy = _gatherer(build, dtype, node.inputs[0].ndim)

    def step(run: Run, args: list[DeviceArray]) -> list[DeviceArray]:
        (x,) = args
        axes = op.axis
        if any(x.shape[a] == 0 for a in axes):
            raise ValueError(f"{name} of an empty axis: axes {axes} of an input of shape "
                             f"{x.shape} hold no elements, and {name} has no identity")
        kept = [d for d in range(x.ndim) if d not in axes]
        out = run.empty(tuple(x.shape[d] for d in kept), "int64")
        if out.size == 0:
            return [out]
        x, axes = _gathered(run, copy, x, axes)
        plan = _plan(run, x, axes, out.size)
        if plan.columns:
            run.launch(f"{base}_columns", plan.blocks, 256,
                       [plan.loop, x.address, out.address, largest])
            return [out]
        if plan.chunks == 1:
            run.launch(f"{base}_rows", plan.blocks, plan.threads,
                       [plan.loop, x.address, 0, 0, out.address, largest])
            return [out]
        kept_total = out.size
        values = run.empty((kept_total * plan.chunks,), key_dtype)
        indices = run.empty((kept_total * plan.chunks,), "int64")
        run.launch(f"{base}_rows", plan.blocks, plan.threads,
                   [plan.loop, x.address, values.address, indices.address, 0, largest])
        run.launch(f"{base}_finish", min(kept_total, 65535), 32 if plan.chunks <= 32 else 128,
                   [kept_total, plan.chunks, values.address, indices.address, out.address,
                    largest])
        return [out]

    return step
