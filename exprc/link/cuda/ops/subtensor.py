"""CUDA rules of the indexing ops: ``Subtensor``, ``IncSubtensor``, ``AdvancedSubtensor`` and
``AdvancedIncSubtensor``.

A basic index (integers, slices, new axes, Ellipsis) is a view of the indexed device array,
as in NumPy: no kernel and no copy. Its integers and slice bounds are read on the host.
``IncSubtensor`` copies ``x`` (or takes over its buffer, see :func:`_takes_over`) and updates
the view of the copy that the index selects with one elementwise kernel.

An advanced index keeps the view of its basic entries, and its index arrays select the
elements of that view (see ``cuda_kernels/exprc_cuda_index.cuh``): the element offsets the
arrays select are computed once per call, by NumPy when the program holds the arrays on the
host (the caller's arrays and the small integer arithmetic over shapes the program runs
there, such as ``arange(n)`` and a slice of the labels in a cross-entropy's gradient), else
by a kernel that reads them in device memory. The host checks the bounds of the arrays it
has; the kernel raises a flag in device memory, which the step reads back before it goes on
(waiting for the device: only index arrays computed on the device pay for it). Boolean masks
are read on the host and become the integer arrays of their ``nonzero``.

Increments accumulate over repeated positions (``np.add.at``) with ``atomicAdd``; setting,
and the ``ignore_duplicates`` increment, keep NumPy's order (the last write wins) by walking
the index arrays in order, one thread per element of the axes the index keeps whole, unless
the host knows the positions are distinct.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from exprc.graph.ir import Apply
from exprc.link.codegen.loops import CUDA_MAXDIM, ScalarProgram
from exprc.link.codegen.render import C_TYPES
from exprc.link.cuda.device import DeviceArray, KernelSpec, param
from exprc.link.cuda.ops.elemwise import copier, elemwise_kernels, launch_elemwise
from exprc.link.cuda.program import CUDA_CODE, Build, CudaUnsupportedError, Run
from exprc.tensor.scalar import SCALAR_OPS, cast_op
from exprc.tensor.subtensor import (
    ARRAY,
    MASK,
    SCALAR,
    AdvancedIncSubtensor,
    AdvancedSubtensor,
    ExprcIndexError,
    IncSubtensor,
    SliceSpec,
    Subtensor,
    index_output_shape,
)

__all__ = ["index_view", "update_program"]

#: Most index arrays of one advanced index (``EXPRC_INDEX_MAXARRAYS``).
MAX_ARRAYS = 8
_PLAN_SIZE = 8 * (4 + 7 * CUDA_MAXDIM)
_ARRAYS_SIZE = 8 * (3 + CUDA_MAXDIM + 4 * MAX_ARRAYS + MAX_ARRAYS * CUDA_MAXDIM)
_PLAN = param("struct", "struct exprc_index_plan", _PLAN_SIZE)
_ARRAYS = param("struct", "struct exprc_index_arrays", _ARRAYS_SIZE)
#: The code ``exprc_index_load`` reads an index array of each dtype with.
_INDEX_CODES = {"int8": 0, "int16": 1, "int32": 2, "int64": 3, "uint8": 4, "uint16": 5,
                "uint32": 6, "uint64": 7}
#: The dtypes with an ``atomicAdd`` (``exprc_atomic_add``).
_ATOMIC = ("float32", "float64", "int32", "uint32", "int64", "uint64")


# --------------------------------------------------------------------------- shared helpers
def _strides(shape: Sequence[int], itemsize: int) -> tuple[int, ...]:
    strides, step = [], itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


# --------------------------------------------------------------------------- index views
@dataclass
class _Advanced:
    """One index array of an advanced index: it indexes axis ``axis`` of the view (axis
    ``x_axis`` of the indexed array); ``value`` is a NumPy array, or a device array."""

    axis: int
    x_axis: int
    value: object


@dataclass
class _Indexed:
    """The basic part of an index applied to an array: the view, the index arrays over its
    axes, and where their block of axes goes in the result."""

    view: DeviceArray
    arrays: list[_Advanced]
    block: tuple[int, ...]
    block_at: int

    def whole_axes(self) -> list[int]:
        used = {a.axis for a in self.arrays}
        return [d for d in range(self.view.ndim) if d not in used]

    def region(self) -> tuple[int, ...]:
        """The shape of ``x[index]``."""
        whole = [self.view.shape[d] for d in self.whole_axes()]
        return tuple(whole[:self.block_at]) + self.block + tuple(whole[self.block_at:])


def index_view(op, x: DeviceArray, idx_list: tuple, values: Sequence, advanced: bool,
               ranks: Sequence[int]) -> _Indexed:
    """``x`` with the basic entries of ``idx_list`` applied (a view), given the values of the
    index inputs (host integers and masks; index arrays on the host or the device) and the
    rank of each. Raises NumPy's errors, naming ``op``."""
    consumed = 0
    for entry, rank in _entry_ranks(idx_list, ranks):
        if entry is not None and entry is not Ellipsis:
            consumed += rank
    fill = x.ndim - consumed
    it = iter(values)

    def component(part) -> int | None:
        return int(next(it)) if part == SCALAR else part

    shape: list[int] = []
    strides: list[int] = []
    offset = 0
    arrays: list[_Advanced] = []
    positions: list[int] = []
    whole_before: int | None = None
    axis = 0

    def keep(d: int) -> None:
        shape.append(x.shape[d])
        strides.append(x.strides[d])

    def mark(position: int) -> None:
        nonlocal whole_before
        positions.append(position)
        if whole_before is None:
            whole_before = len(shape) - len(arrays)

    for position, entry in enumerate(idx_list):
        if entry is Ellipsis:
            for _ in range(fill):
                keep(axis)
                axis += 1
        elif entry is None:
            shape.append(1)
            strides.append(0)
        elif isinstance(entry, SliceSpec):
            start, stop, step = (component(p) for p in entry)
            if step == 0:
                raise ValueError(f"{op}: slice step cannot be zero")
            size = x.shape[axis]
            first, end, stride = slice(start, stop, step).indices(size)
            count = len(range(first, end, stride))
            if count > 0:
                offset += first * x.strides[axis]
            shape.append(count)
            # With one element or none the stride is never used: keep the input's.
            strides.append(stride * x.strides[axis] if count > 1 else x.strides[axis])
            axis += 1
        elif entry == MASK:
            mask = np.asarray(next(it))
            for k in range(mask.ndim):
                if mask.shape[k] != x.shape[axis + k]:
                    raise ExprcIndexError(
                        f"{op}: boolean index did not match indexed array along axis "
                        f"{axis + k}; size of axis is {x.shape[axis + k]} but size of "
                        f"corresponding boolean axis is {mask.shape[k]}")
            mark(position)
            for k, picked in enumerate(np.nonzero(mask)):
                arrays.append(_Advanced(len(shape), axis + k, picked))
                keep(axis + k)
            axis += mask.ndim
        elif entry == ARRAY:
            mark(position)
            arrays.append(_Advanced(len(shape), axis, next(it)))
            keep(axis)
            axis += 1
        else:  # an integer, literal or symbolic
            value = component(entry)
            size = x.shape[axis]
            if not advanced:
                if not -size <= value < size:
                    raise ExprcIndexError(f"{op}: index {value} is out of bounds for axis "
                                          f"{axis} with size {size}")
                offset += (value + size if value < 0 else value) * x.strides[axis]
            else:  # a 0-d index array
                mark(position)
                arrays.append(_Advanced(len(shape), axis, np.asarray(value, np.int64)))
                keep(axis)
            axis += 1
    for rest in range(axis, x.ndim):
        keep(rest)
    view = x.view(shape, strides, offset)
    if not arrays:
        return _Indexed(view, [], (), 0)
    try:
        block = tuple(np.broadcast_shapes(*(tuple(a.value.shape) for a in arrays)))
    except ValueError:
        described = " ".join(str(tuple(a.value.shape)) for a in arrays)
        raise ExprcIndexError(f"{op}: shape mismatch: indexing arrays could not be broadcast "
                              f"together with shapes {described}") from None
    # NumPy puts the block where the advanced entries stand when they are adjacent in the
    # index, else first.
    adjacent = positions == list(range(positions[0], positions[-1] + 1))
    return _Indexed(view, arrays, block, whole_before if adjacent else 0)


def _entry_ranks(idx_list: tuple, ranks: Sequence[int]):
    """Pairs (entry, number of axes of the indexed array it uses)."""
    it = iter(ranks)
    for entry in idx_list:
        if isinstance(entry, SliceSpec):
            for part in entry:
                if part == SCALAR:
                    next(it)
            yield entry, 1
        elif entry == MASK:
            yield entry, next(it)
        elif entry == ARRAY or entry == SCALAR:
            next(it)
            yield entry, 1
        else:
            yield entry, 0 if entry is None or entry is Ellipsis else 1


def host_offsets(op, indexed: _Indexed, arrays: Sequence[np.ndarray]) -> np.ndarray:
    """The element offset in the view of each element of the block (C order), from the index
    arrays on the host; an ExprcIndexError names the first index out of range."""
    view = indexed.view
    item = view.dtype.itemsize
    offsets = np.zeros(indexed.block, np.int64)
    for entry, value in zip(indexed.arrays, arrays):
        value = np.asarray(value)
        size = view.shape[entry.axis]
        if value.dtype == np.uint64:
            bad = value >= np.uint64(size)
        else:
            value = value.astype(np.int64, copy=False)
            bad = (value < -size) | (value >= size)
        if bad.any():
            wrong = value[np.unravel_index(int(np.argmax(bad)), value.shape)]
            raise ExprcIndexError(f"{op}: index {int(wrong)} is out of bounds for axis "
                                  f"{entry.x_axis} with size {size}")
        value = value.astype(np.int64)
        value = np.where(value < 0, value + size, value)
        offsets += np.broadcast_to(value, indexed.block) * (view.strides[entry.axis] // item)
    return offsets.reshape(-1)


def offsets_kernel(build: Build) -> str:
    """The kernel computing the block's offsets from index arrays in device memory."""
    build.preamble("index", '#include "exprc_cuda_index.cuh"')

    def make(base: str):
        text = (f'extern "C" __global__ void {base}(struct exprc_index_arrays a, '
                f"int64_t *__restrict__ xblock, int *flag)\n"
                "{\n    exprc_index_offsets(a, xblock, flag);\n}")
        return text, [KernelSpec(base, (_ARRAYS, param("ptr", "int64_t *"),
                                        param("ptr", "int *")))]

    return build.kernel(("index_offsets",), make)


def block_offsets(run: Run, op, offsets_base: str, indexed: _Indexed
                  ) -> tuple[DeviceArray | None, np.ndarray | None]:
    """The block's offsets in device memory (None for an empty block), and on the host too
    when they were computed there."""
    total = math.prod(indexed.block)
    on_device = [a for a in indexed.arrays if isinstance(a.value, DeviceArray)]
    if not on_device:
        host = host_offsets(op, indexed, [a.value for a in indexed.arrays])
        return (DeviceArray.from_host(run.device, host) if total else None), host
    arrays = []
    for entry in indexed.arrays:
        value = entry.value
        if not isinstance(value, DeviceArray):
            value = np.array(value, order="C")  # (np.ascontiguousarray makes 0-d arrays 1-d)
            # viewed with the host array's shape: a 0-d array stays 0-d
            value = DeviceArray.from_host(run.device, value).view(value.shape, value.strides)
        arrays.append(value)
    if total == 0:
        return None, None
    view = indexed.view
    nblock, bshape, keep = _compact(indexed.block)
    struct = np.zeros(_ARRAYS_SIZE // 8, np.int64)
    struct[:3] = [len(arrays), nblock, total]
    struct[3:3 + nblock] = bshape
    at = 3 + CUDA_MAXDIM
    for j, (entry, value) in enumerate(zip(indexed.arrays, arrays)):
        item = value.dtype.itemsize
        struct[at + j] = value.address
        struct[at + MAX_ARRAYS + j] = _INDEX_CODES[value.dtype.name]
        struct[at + 2 * MAX_ARRAYS + j] = view.shape[entry.axis]
        struct[at + 3 * MAX_ARRAYS + j] = view.strides[entry.axis] // view.dtype.itemsize
        pad = len(indexed.block) - value.ndim
        full = [0] * pad + [s // item if n != 1 else 0
                            for n, s in zip(value.shape, value.strides)]
        strides = [full[d] for d in keep]
        row = at + 4 * MAX_ARRAYS + j * CUDA_MAXDIM
        struct[row:row + nblock] = strides
    xblock = run.empty((total,), "int64")
    flag = run.new_flag()
    run.launch_elements(offsets_base, total, [struct.tobytes(), xblock.address, flag.address])
    # The bounds of arrays computed on the device are known only there: wait for the flag.
    if run.flag_raised(flag):
        host_offsets(op, indexed, [a.to_host() for a in arrays])
        raise ExprcIndexError(f"{op}: an index is out of bounds")
    return xblock, None


def _compact(shape: Sequence[int]) -> tuple[int, list[int], list[int]]:
    """The axes of ``shape`` other than size 1, innermost first: (count, sizes, axes)."""
    keep = [d for d in reversed(range(len(shape))) if shape[d] != 1]
    return len(keep), [shape[d] for d in keep], keep


def region_plan(op, indexed: _Indexed, y: DeviceArray | None) -> tuple[bytes, int, int]:
    """The ``exprc_index_plan`` of the region ``indexed`` selects, with the values ``y``
    broadcast to it (checked, NumPy's message) and the output of a read contiguous; and the
    element counts of the whole axes and of the block."""
    view = indexed.view
    item = view.dtype.itemsize
    region = indexed.region()
    whole = indexed.whole_axes()
    nb, at = len(indexed.block), indexed.block_at
    xs = [view.strides[d] // item for d in whole]
    xs = xs[:at] + [0] * nb + xs[at:]
    os = [s // item for s in _strides(region, item)]
    if y is not None:
        pad = len(region) - y.ndim
        fits = pad >= 0 and all(n in (1, r) for n, r in zip(y.shape, region[pad:]))
        if not fits:
            raise ValueError(f"{op}: shape mismatch: value array of shape {y.shape} could not "
                             f"be broadcast to indexing result of shape {region}")
        ys = [0] * pad + [s // y.dtype.itemsize if n != 1 else 0
                          for n, s in zip(y.shape, y.strides)]
    else:
        ys = [0] * len(region)
    block_axes = set(range(at, at + nb))
    kinds = [[], []]  # whole, block: (size, x, y, out), innermost first
    for d in reversed(range(len(region))):
        if region[d] != 1:
            kinds[d in block_axes].append((region[d], xs[d], ys[d], os[d]))
    plan = np.zeros(_PLAN_SIZE // 8, np.int64)
    totals = [math.prod([a[0] for a in kind])
              for kind in kinds]
    plan[:4] = [len(kinds[0]), len(kinds[1]), totals[0], totals[1]]
    base = 4
    for k, (size, x_stride, y_stride, o_stride) in enumerate(kinds[0]):
        for field, value in enumerate((size, x_stride, y_stride, o_stride)):
            plan[base + field * CUDA_MAXDIM + k] = value
    base = 4 + 4 * CUDA_MAXDIM
    for k, (size, _, y_stride, o_stride) in enumerate(kinds[1]):
        for field, value in enumerate((size, y_stride, o_stride)):
            plan[base + field * CUDA_MAXDIM + k] = value
    return plan.tobytes(), totals[0], totals[1]


def _launch_geometry(run: Run, elements: int) -> tuple[int, int]:
    blocks = max(1, min(-(-elements // 256), run.device.multiprocessors * 8))
    return blocks, 256


# --------------------------------------------------------------------------- build helpers
def _index_inputs(node: Apply, first: int, build: Build) -> list[int]:
    """Ask for the index inputs the step reads on the host: integers and slice bounds,
    masks, and index arrays the program holds on the host anyway."""
    idx_list = node.op.idx_list
    kinds = [p for e in idx_list for p in (e if isinstance(e, SliceSpec) else (e,))
             if isinstance(p, str)]
    for k, kind in enumerate(kinds):
        if kind != ARRAY or build.on_host(first + k):
            build.host_input(first + k)
    return [v.ndim for v in node.inputs[first:]]


def _check_rank(node: Apply, region_ndim: int) -> None:
    if region_ndim > CUDA_MAXDIM or node.inputs[0].ndim > CUDA_MAXDIM:
        raise CudaUnsupportedError(f"{node.op} over {region_ndim} axes")


def _region_ndim(node: Apply, first: int) -> int:
    x = node.inputs[0]
    return len(index_output_shape(node.op, x, node.op.idx_list, list(node.inputs[first:])))


# --------------------------------------------------------------------------- rules
@CUDA_CODE.register(Subtensor)
def subtensor(node, build: Build):
    ranks = _index_inputs(node, 1, build)
    op = node.op

    def step(run: Run, args: list) -> list[DeviceArray]:
        x, *values = args
        return [index_view(op, x, op.idx_list, values, False, ranks).view]

    return step


@CUDA_CODE.register(AdvancedSubtensor)
def advanced_subtensor(node, build: Build):
    dtype = node.outputs[0].dtype
    _check_rank(node, node.outputs[0].ndim)
    _check_arrays(node, 1)
    ranks = _index_inputs(node, 1, build)
    offsets = offsets_kernel(build)
    t = C_TYPES[dtype]

    def make(base: str):
        text = (f'extern "C" __global__ void {base}(struct exprc_index_plan p, '
                f"const {t} *__restrict__ x, const int64_t *__restrict__ xblock, "
                f"{t} *__restrict__ out)\n"
                f"{{\n    exprc_index_gather<{t}>(p, x, xblock, out);\n}}")
        return text, [KernelSpec(base, (_PLAN, param("ptr", f"const {t} *"),
                                        param("ptr", "const int64_t *"),
                                        param("ptr", f"{t} *")))]

    gather = build.kernel(("index_gather", dtype), make)
    op = node.op

    def step(run: Run, args: list) -> list[DeviceArray]:
        x, *values = args
        indexed = index_view(op, x, op.idx_list, values, True, ranks)
        xblock, _ = block_offsets(run, op, offsets, indexed)
        out = run.empty(indexed.region(), dtype)
        if out.size == 0:
            return [out]
        plan, whole, block = region_plan(op, indexed, None)
        run.launch(gather, *_launch_geometry(run, whole * block),
                   [plan, indexed.view.address, xblock.address, out.address])
        return [out]

    return step


def _check_arrays(node: Apply, first: int) -> None:
    count = 0
    idx_list = node.op.idx_list
    kinds = [p for e in idx_list for p in (e if isinstance(e, SliceSpec) else (e,))
             if isinstance(p, str)]
    for kind, var in zip(kinds, node.inputs[first:]):
        count += var.ndim if kind == MASK else kind == ARRAY
    count += sum(1 for e in idx_list if isinstance(e, int) and not isinstance(e, bool))
    count += sum(1 for e in idx_list if e == SCALAR)
    if count > MAX_ARRAYS:
        raise CudaUnsupportedError(f"{node.op}: {count} index arrays")


def _takes_over(build: Build) -> bool:
    """Whether the step may write into ``x``'s own buffer when the call made it and nothing
    else holds it: only where this node is the last to read ``x``."""
    return build.last_read(0)


def _result(run: Run, copy, x: DeviceArray, take_over: bool) -> DeviceArray:
    """The array the write updates: ``x`` itself when allowed, else a contiguous copy."""
    if take_over and run.reusable(x, x.shape, x.dtype):
        return x
    return copy(run, x)


def update_program(set_instead_of_inc: bool, dtype: str, y_dtype: str) -> ScalarProgram:
    """``out = y`` or ``out = out + y`` with ``y`` cast to ``dtype``: inputs (out, y)."""
    steps = []
    value = ("i", 1)
    if y_dtype != dtype:
        steps.append((cast_op(dtype), (("i", 1),)))
        value = ("t", 0)
    name = "second" if set_instead_of_inc else "add"
    steps.append((SCALAR_OPS[name], (("i", 0), value)))
    return ScalarProgram((dtype, y_dtype), tuple(steps), (len(steps) - 1,),
                         "set" if set_instead_of_inc else "inc")


@CUDA_CODE.register(IncSubtensor)
def inc_subtensor(node, build: Build):
    dtype, y_dtype = node.outputs[0].dtype, node.inputs[1].dtype
    region_ndim = _region_ndim(node, 2)
    _check_rank(node, region_ndim)
    program = update_program(node.op.set_instead_of_inc, dtype, y_dtype)
    if program.output_dtypes != [dtype]:
        raise CudaUnsupportedError(f"{node.op}: the update computes {program.output_dtypes}")
    update = elemwise_kernels(build, program)
    copy = copier(build, dtype)
    ranks = _index_inputs(node, 2, build)
    take_over = _takes_over(build)
    op = node.op

    def step(run: Run, args: list) -> list[DeviceArray]:
        x, y, *values = args
        out = _result(run, copy, x, take_over)
        view = index_view(op, out, op.idx_list, values, False, ranks).view
        pad = view.ndim - y.ndim
        if pad < 0 or not all(n in (1, r) for n, r in zip(y.shape, view.shape[pad:])):
            raise ValueError(f"{op}: shape mismatch: value array of shape {y.shape} could not "
                             f"be broadcast to indexing result of shape {view.shape}")
        y = y.view((1,) * pad + y.shape, (0,) * pad + y.strides)
        # The view is read and written by the same element of the kernel.
        launch_elemwise(run, update, [view, y], [view])
        return [out]

    return step


def _scatter_kernels(build: Build, dtype: str, y_dtype: str, parallel: str, serial: str
                     ) -> str:
    """The base name of the ``_scatter`` (one thread per element, functor ``parallel``) and
    ``_serial`` (functor ``serial``) kernels writing ``y_dtype`` values into ``dtype``."""
    t, ty = C_TYPES[dtype], C_TYPES[y_dtype]

    def make(base: str):
        text = "\n".join(
            f'extern "C" __global__ void {base}_{way}(struct exprc_index_plan p, {t} *x, '
            f"const int64_t *__restrict__ xblock, const {ty} *__restrict__ y, "
            f"const {t} *before)\n"
            f"{{\n    exprc_index_{way}<{t}, {ty}>(p, x, xblock, y, before, "
            f"exprc_index_{functor}());\n}}"
            for way, functor in (("scatter", parallel), ("serial", serial)))
        params = (_PLAN, param("ptr", f"{t} *"), param("ptr", "const int64_t *"),
                  param("ptr", f"const {ty} *"), param("ptr", f"const {t} *"))
        return text, [KernelSpec(f"{base}_{way}", params) for way in ("scatter", "serial")]

    return build.kernel(("index_scatter", dtype, y_dtype, parallel, serial), make)


def _modes(op, dtype: str) -> tuple[str, str, str, bool]:
    """The functors of a write: (always safe in parallel, for distinct positions, in order),
    and whether the in-order one reads the values before the node."""
    if op.set_instead_of_inc:
        return "", "set", "set", False
    if op.ignore_duplicates:
        once = "or_once" if dtype == "bool" else "add_once"
        return "", "or" if dtype == "bool" else "add", once, True
    if dtype == "bool":
        return "or", "or", "or", False
    if dtype in _ATOMIC:
        return "atomic_add", "add", "add", False
    return "", "add", "add", False


@CUDA_CODE.register(AdvancedIncSubtensor)
def advanced_inc_subtensor(node, build: Build):
    dtype, y_dtype = node.outputs[0].dtype, node.inputs[1].dtype
    region_ndim = _region_ndim(node, 2)
    _check_rank(node, region_ndim)
    _check_arrays(node, 2)
    ranks = _index_inputs(node, 2, build)
    build.preamble("index", '#include "exprc_cuda_index.cuh"')
    offsets = offsets_kernel(build)
    copy = copier(build, dtype)
    op = node.op
    always, distinct, ordered, reads_before = _modes(op, dtype)
    # One pair of kernels for repeated positions, one for distinct positions.
    base_any = _scatter_kernels(build, dtype, y_dtype, always or distinct, ordered)
    base_distinct = _scatter_kernels(build, dtype, y_dtype, distinct, ordered)
    take_over = _takes_over(build) and not reads_before

    def step(run: Run, args: list) -> list[DeviceArray]:
        x, y, *values = args
        out = _result(run, copy, x, take_over)
        indexed = index_view(op, out, op.idx_list, values, True, ranks)
        xblock, host = block_offsets(run, op, offsets, indexed)
        plan, whole, block = region_plan(op, indexed, y)
        if whole * block == 0:
            return [out]
        before = out
        if reads_before:
            before = x if x.is_contiguous and x.buffer is not out.buffer else copy(run, x)
        before_view = before.address + (indexed.view.address - out.address)
        args_ = [plan, indexed.view.address, xblock.address, y.address, before_view]
        if always:
            run.launch(f"{base_any}_scatter", *_launch_geometry(run, whole * block), args_)
        elif host is not None and np.unique(host).size == host.size:  # distinct positions
            run.launch(f"{base_distinct}_scatter", *_launch_geometry(run, whole * block), args_)
        else:
            run.launch(f"{base_any}_serial", *_launch_geometry(run, whole), args_)
        return [out]

    return step
