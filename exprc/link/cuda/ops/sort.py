"""CUDA rules of the sort family: ``Sort``, ``ArgSort`` (stable, NaNs last, along any axis)
and ``Permute``.

The kernels are instances of the templates of ``cuda_kernels/exprc_cuda_sort.cuh``. A lane
that fits in shared memory (a few thousand elements) is sorted by one block, a bitonic network
over (key, position) pairs; a longer lane is cut into such segments, sorted the same way into
scratch arrays, then merged in global memory, one launch per doubling of the sorted runs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from exprc.errors import ExprcShapeError
from exprc.link.codegen.render import C_TYPES
from exprc.link.cuda.device import DeviceArray, param
from exprc.link.cuda.ops.extra_ops import (
    LANES,
    MAX_BLOCKS,
    check_lane_rank,
    kernel,
    lanes,
    ptr,
    raise_reference_error,
)
from exprc.link.cuda.program import CUDA_CODE, Build, Run
from exprc.tensor.sort import ArgSort, Permute, Sort

#: Longest segment one block sorts in shared memory (more threads than this would idle).
_MAX_SEGMENT = 4096
#: Most threads of a sorting block (each handles several pairs of the network).
_MAX_THREADS = 512


def _sort_header(build: Build) -> None:
    build.preamble("scan", '#include "exprc_cuda_scan.cuh"')
    build.preamble("sort", '#include "exprc_cuda_sort.cuh"')


def _shared_bytes(npad: int, itemsize: int) -> int:
    """Dynamic shared memory of a segment of ``npad`` pairs: int32 positions (rounded to 8
    bytes), then the keys."""
    return (npad + 1) // 2 * 8 + npad * itemsize


def _pow2_at_least(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def sorter(build: Build, dtype: str) -> Callable[[Run, DeviceArray, int, DeviceArray | None,
                                                  DeviceArray | None], None]:
    """A run-time function ``sort(run, x, axis, values, indices)``: sorts ``x`` stably along
    ``axis`` and writes the sorted keys to ``values`` and/or their positions (int64) to
    ``indices`` (contiguous arrays of ``x``'s shape; either may be None)."""
    _sort_header(build)
    t = C_TYPES[dtype]
    segments = kernel(
        build, ("sort_segments", dtype),
        f"exprc_sort_segments<{t}>(loop, seg, npad, x, values, indices, keys_out, idx_out);",
        [(LANES, "loop"), (param("i64"), "seg"), (param("i64"), "npad"),
         (ptr(dtype, True), "x"), (ptr(dtype), "values"), (ptr("int64"), "indices"),
         (ptr(dtype), "keys_out"), (ptr("int64"), "idx_out")])
    merge = kernel(
        build, ("sort_merge", dtype),
        f"exprc_sort_merge<{t}>(lanes, n, width, keys, idx, keys_to, idx_to);",
        [(param("i64"), "lanes"), (param("i64"), "n"), (param("i64"), "width"),
         (ptr(dtype, True), "keys"), (ptr("int64", True), "idx"), (ptr(dtype), "keys_to"),
         (ptr("int64"), "idx_to")])
    store = kernel(
        build, ("sort_store", dtype),
        f"exprc_sort_store<{t}>(loop, keys, idx, values, indices);",
        [(LANES, "loop"), (ptr(dtype, True), "keys"), (ptr("int64", True), "idx"),
         (ptr(dtype), "values"), (ptr("int64"), "indices")])
    itemsize = np.dtype(dtype).itemsize
    limit = build.device.max_shared_per_block
    longest = _MAX_SEGMENT
    while longest > 32 and _shared_bytes(longest, itemsize) > limit:
        longest //= 2

    def sort(run: Run, x: DeviceArray, axis: int, values: DeviceArray | None,
             indices: DeviceArray | None) -> None:
        out = values if values is not None else indices
        if out.size == 0:
            return
        loop, count, n = lanes([x, out], axis)
        destinations = [a.address if a is not None else 0 for a in (values, indices)]
        if n <= longest:
            npad = _pow2_at_least(n)
            threads = min(_MAX_THREADS, max(32, npad // 2))
            run.launch(segments, min(count, MAX_BLOCKS), threads,
                       [loop, n, npad, x.address, *destinations, 0, 0],
                       _shared_bytes(npad, itemsize))
            return
        # Sorted segments into scratch, then merge passes (ping-pong), then the output.
        keys = [run.empty((count * n,), dtype) for _ in range(2)]
        idx = [run.empty((count * n,), "int64") for _ in range(2)]
        pieces = count * -(-n // longest)
        run.launch(segments, min(pieces, MAX_BLOCKS), min(_MAX_THREADS, longest // 2),
                   [loop, longest, longest, x.address, 0, 0, keys[0].address, idx[0].address],
                   _shared_bytes(longest, itemsize))
        width, source = longest, 0
        while width < n:
            run.launch_elements(merge, count * n,
                                [count, n, width, keys[source].address, idx[source].address,
                                 keys[1 - source].address, idx[1 - source].address])
            source, width = 1 - source, 2 * width
        run.launch_elements(store, count * n, [loop, keys[source].address,
                                               idx[source].address, *destinations])

    return sort


@CUDA_CODE.register(Sort, ArgSort)
def sort(node, build: Build):
    x_var = node.inputs[0]
    check_lane_rank(node, x_var.ndim)
    axis = node.op.axis % x_var.ndim
    run_sort = sorter(build, x_var.dtype)
    indices = isinstance(node.op, ArgSort)
    dtype = node.outputs[0].dtype

    def step(run: Run, args: list[DeviceArray]) -> list[DeviceArray]:
        (x,) = args
        out = run.empty(x.shape, dtype)
        run_sort(run, x, axis, None if indices else out, out if indices else None)
        return [out]

    return step


@CUDA_CODE.register(Permute)
def permute(node, build: Build):
    x_var, perm_var = node.inputs
    check_lane_rank(node, x_var.ndim)
    axis = node.op.axis % x_var.ndim
    dtype, pdtype = x_var.dtype, perm_var.dtype
    _sort_header(build)
    base = kernel(build, ("permute", dtype, pdtype),
                  f"exprc_permute<{C_TYPES[dtype]}, {C_TYPES[pdtype]}>(loop, x, perm, out, "
                  "seen, flag);",
                  [(LANES, "loop"), (ptr(dtype, True), "x"), (ptr(pdtype, True), "perm"),
                   (ptr(dtype), "out"), (param("ptr", "unsigned int *"), "seen"),
                   (param("ptr", "int *"), "flag")])

    def step(run: Run, args: list[DeviceArray]) -> list[DeviceArray]:
        x, perm = args
        if x.shape != perm.shape:
            raise ExprcShapeError(f"{node.op}: perm of shape {perm.shape} must have the shape "
                                  f"of x {x.shape}")
        out = run.empty(x.shape, dtype)
        if out.size == 0:
            return [out]
        loop, count, n = lanes([x, perm, out], axis)
        seen = run.empty((count * n,), "uint32")
        run.device.fill_zero(seen.address, seen.nbytes)
        flag = run.new_flag()
        run.launch_elements(base, count * n, [loop, x.address, perm.address, out.address,
                                              seen.address, flag.address])
        if run.flag_raised(flag):  # waits for the device: perm's entries are only known there
            raise_reference_error(node, args)
        return [out]

    return step


__all__ = ["permute", "sort", "sorter"]
