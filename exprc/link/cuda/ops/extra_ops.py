"""CUDA rules of the extra_ops family: ``CumOp``, ``LinearRecurrence``, ``Repeat``,
``RepeatSum``, ``OneHot``, ``SearchSorted`` and ``RuntimeCheck``; and the lane walk and
error flag the sort and random families use too.

The kernels are instances of the templates of ``cuda_kernels/exprc_cuda_scan.cuh``. The axis
ops walk their operands lane by lane (a lane is the 1-d slice along the op's axis), described
to the kernels by :func:`lanes`. The recurrences run one thread per lane, in order, so that
float results are NumPy's bit for bit.

Errors that only the data on the device shows (a label out of range, a bad ``sorter``) are
caught by the kernel setting a flag in a small device buffer, which the step reads back after
the launch: that waits for the device, a cost paid only by the ops that need it. The error
itself is then raised by the op's reference rule on host copies of the inputs, so that its
type and message are those of every other backend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from exprc.errors import ExprcError, ExprcShapeError
from exprc.link.codegen.loops import CUDA_MAXDIM
from exprc.link.codegen.render import C_TYPES
from exprc.link.cuda.device import DeviceArray, KernelSpec, param
from exprc.link.cuda.program import CUDA_CODE, Build, CudaUnsupportedError, Run
from exprc.link.reference import REFERENCE, run_node
from exprc.link.reference.extra_ops import _counts, _total
from exprc.tensor.extra_ops import (
    CHECKS,
    CumOp,
    LinearRecurrence,
    OneHot,
    Repeat,
    RepeatSum,
    RuntimeCheck,
    SearchSorted,
)
from exprc.tensor.subtensor import ExprcIndexError

#: Operands one lane walk describes (``EXPRC_LANE_OPERANDS``).
LANE_OPERANDS = 3

#: The ``struct exprc_lanes`` kernel parameter.
LANES = param("struct", "struct exprc_lanes",
              8 * (3 + CUDA_MAXDIM + LANE_OPERANDS * CUDA_MAXDIM + LANE_OPERANDS))

#: Most blocks of a launch whose blocks loop over their work (gridDim.x's portable limit).
MAX_BLOCKS = 65535


# --------------------------------------------------------------------------- shared helpers
def scan_header(build: Build) -> None:
    """Include ``exprc_cuda_scan.cuh`` (once)."""
    build.preamble("scan", '#include "exprc_cuda_scan.cuh"')


def check_lane_rank(node, ndim: int, axis: bool = True) -> None:
    """Refuse (at build time) a node whose arrays have more axes besides the lane's than a
    lane walk holds."""
    if ndim - (1 if axis else 0) > CUDA_MAXDIM:
        raise CudaUnsupportedError(f"{node.op} of rank {ndim}: a lane walk holds "
                                   f"{CUDA_MAXDIM} other axes")


def lanes(operands: Sequence[DeviceArray], axis: int | None) -> tuple[bytes, int, int]:
    """The ``struct exprc_lanes`` of ``operands`` (at most three, of one shape except along
    ``axis``; the first gives the other axes' sizes) along ``axis``, with the number of lanes
    and the first operand's lane length. ``axis=None`` makes every element a lane of one."""
    shape = operands[0].shape
    kept = [d for d in range(len(shape)) if d != axis and shape[d] != 1][::-1]
    if len(kept) > CUDA_MAXDIM:
        raise CudaUnsupportedError(f"a lane walk over {len(kept)} axes")
    loop = np.zeros(3 + CUDA_MAXDIM + LANE_OPERANDS * CUDA_MAXDIM + LANE_OPERANDS, np.int64)
    count = math.prod([shape[d] for d in kept])
    n = 1 if axis is None else shape[axis]
    loop[:3] = [len(kept), count, n]
    loop[3:3 + len(kept)] = [shape[d] for d in kept]
    for k, a in enumerate(operands):
        at = 3 + CUDA_MAXDIM + k * CUDA_MAXDIM
        loop[at:at + len(kept)] = [a.strides[d] // a.dtype.itemsize for d in kept]
        if axis is not None:
            loop[3 + CUDA_MAXDIM + LANE_OPERANDS * CUDA_MAXDIM + k] = (
                a.strides[axis] // a.dtype.itemsize)
    return loop.tobytes(), count, n


def raise_reference_error(node, args: Sequence) -> None:
    """Raise the error of ``node``'s reference rule for ``args`` (device arrays are copied to
    the host): the same type and message as on the other backends. The caller knows the
    input is bad; a reference rule that accepts it is an internal error."""
    host = [a.to_host() if isinstance(a, DeviceArray) else a for a in args]
    run_node(node, REFERENCE[node.op], host)
    raise ExprcError(f"internal error: {node.op}: the device found bad input that the "
                     "reference rule accepts")


def _wrapper(base: str, body: str, params: Sequence[tuple[object, str]]) -> tuple[str, list]:
    """The text and spec of ``extern "C" __global__ void base(params) { body }``; ``params``
    are ``(KernelParam, name)`` pairs."""
    spec = KernelSpec(base, tuple(p for p, _ in params))
    text = (f'extern "C" __global__ void {base}({spec.signature([n for _, n in params])})\n'
            f"{{\n    {body}\n}}")
    return text, [spec]


def ptr(dtype: str, const: bool = False):
    """A pointer parameter to elements of ``dtype``."""
    return param("ptr", f"{'const ' if const else ''}{C_TYPES[dtype]} *")


def kernel(build: Build, key: tuple, body: str, params: Sequence[tuple[object, str]]) -> str:
    """The base name of one kernel calling ``body`` (``{base}`` is not used in it) with
    ``params``, added to the module once per ``key``."""
    return build.kernel(key, lambda base: _wrapper(base, body, params))


# --------------------------------------------------------------------------- cumulative ops
@CUDA_CODE.register(CumOp)
def cumop(node, build: Build):
    op = node.op
    ndim = node.inputs[0].ndim
    check_lane_rank(node, ndim)
    axis = op.axis % ndim
    in_dtype, dtype = node.inputs[0].dtype, node.outputs[0].dtype
    scan_header(build)
    tin, tout = C_TYPES[in_dtype], C_TYPES[dtype]
    identity = "1" if op.mode == "mul" else ("-0.0" if dtype.startswith("float") else "0")
    base = kernel(build, ("cumulative", in_dtype, dtype, op.mode, op.reverse),
                  f"exprc_cumulative<{tin}, {tout}>(loop, x, y, ({tout}){identity}, "
                  f"{str(op.mode == 'mul').lower()}, {str(op.reverse).lower()});",
                  [(LANES, "loop"), (ptr(in_dtype, True), "x"), (ptr(dtype), "y")])

    def step(run: Run, args: list[DeviceArray]) -> list[DeviceArray]:
        (x,) = args
        out = run.empty(x.shape, dtype)
        if out.size:
            loop, count, _ = lanes([x, out], axis)
            run.launch_elements(base, count, [loop, x.address, out.address])
        return [out]

    return step


@CUDA_CODE.register(LinearRecurrence)
def linear_recurrence(node, build: Build):
    ndim = node.inputs[0].ndim
    check_lane_rank(node, ndim)
    axis = node.op.axis % ndim
    dta, dtb = node.inputs[0].dtype, node.inputs[1].dtype
    dtype = node.outputs[0].dtype
    if dtype == "bool":
        raise CudaUnsupportedError(f"{node.op} of bool operands")
    scan_header(build)
    types = ", ".join(C_TYPES[d] for d in (dta, dtb, dtype))
    base = kernel(build, ("recurrence", dta, dtb, dtype, node.op.reverse),
                  f"exprc_linear_recurrence<{types}>(loop, a, b, s, "
                  f"{str(node.op.reverse).lower()});",
                  [(LANES, "loop"), (ptr(dta, True), "a"), (ptr(dtb, True), "b"),
                   (ptr(dtype), "s")])

    def step(run: Run, args: list[DeviceArray]) -> list[DeviceArray]:
        a, b = args
        if a.shape != b.shape:
            raise ExprcShapeError(f"{node.op}: a and b must have one shape, got {a.shape} and "
                                  f"{b.shape}")
        out = run.empty(a.shape, dtype)
        if out.size:
            loop, count, _ = lanes([a, b, out], axis)
            run.launch_elements(base, count, [loop, a.address, b.address, out.address])
        return [out]

    return step


# --------------------------------------------------------------------------- repeat
def _first_positions(counts: np.ndarray) -> np.ndarray:
    """Where each element's copies start, and the total at the end (int64)."""
    return np.concatenate([[0], np.cumsum(counts, dtype=np.int64)]).astype(np.int64)


@CUDA_CODE.register(Repeat)
def repeat(node, build: Build):
    ndim = node.inputs[0].ndim
    check_lane_rank(node, ndim)
    axis = node.op.axis % ndim
    dtype = node.inputs[0].dtype
    build.host_input(1)
    scan_header(build)
    t = C_TYPES[dtype]
    base = kernel(build, ("repeat", dtype),
                  f"exprc_repeat<{t}>(loop, total, x, y, source, count);",
                  [(LANES, "loop"), (param("i64"), "total"), (ptr(dtype, True), "x"),
                   (ptr(dtype), "y"), (ptr("int64", True), "source"), (param("i64"), "count")])

    def step(run: Run, args: list) -> list[DeviceArray]:
        x, repeats = args
        # The reference's checks and messages (counts, their sum, the output's size).
        counts = _counts(node.op, np.asarray(repeats), x.shape[axis])
        total = _total(node.op, counts)
        shape = x.shape[:axis] + (total,) + x.shape[axis + 1:]
        if math.prod(shape) * x.dtype.itemsize > 2**63 - 1:
            raise ExprcShapeError(f"{node.op}: an array of shape {shape} is too large")
        out = run.empty(shape, dtype)
        if out.size == 0:
            return [out]
        loop, count, _ = lanes([x, out], axis)
        if np.asarray(repeats).size == 1:
            source, every = 0, int(counts[0])
        else:
            # The source position of every output position (the output's own length).
            source_array = DeviceArray.from_host(
                run.device, np.repeat(np.arange(counts.size, dtype=np.int64), counts))
            source, every = source_array.address, 1
        run.launch_elements(base, count * total,
                            [loop, total, x.address, out.address, source, every])
        return [out]

    return step


@CUDA_CODE.register(RepeatSum)
def repeat_sum(node, build: Build):
    ndim = node.inputs[0].ndim
    check_lane_rank(node, ndim)
    axis = node.op.axis % ndim
    dtype = node.inputs[0].dtype
    build.host_input(1, 2)
    scan_header(build)
    t = C_TYPES[dtype]
    base = kernel(build, ("repeat_sum", dtype),
                  f"exprc_repeat_sum<{t}>(loop, size, g, y, first, count);",
                  [(LANES, "loop"), (param("i64"), "size"), (ptr(dtype, True), "g"),
                   (ptr(dtype), "y"), (ptr("int64", True), "first"), (param("i64"), "count")])

    def step(run: Run, args: list) -> list[DeviceArray]:
        g, repeats, shape = args
        counts = _counts(node.op, np.asarray(repeats), int(shape[axis]))
        total = _total(node.op, counts)
        if total != g.shape[axis]:
            raise ExprcShapeError(f"{node.op}: the counts {counts.tolist()} add up to {total}, "
                                  f"but g has size {g.shape[axis]} on axis {node.op.axis}")
        out = run.empty(g.shape[:axis] + (counts.size,) + g.shape[axis + 1:], dtype)
        if out.size == 0:
            return [out]
        loop, _, _ = lanes([g, out], axis)
        if np.asarray(repeats).size == 1:
            first, every = 0, int(counts[0])
        else:
            first_array = DeviceArray.from_host(run.device, _first_positions(counts))
            first, every = first_array.address, 1
        run.launch_elements(base, out.size, [loop, counts.size, g.address, out.address, first,
                                             every])
        return [out]

    return step


# --------------------------------------------------------------------------- one-hot
@CUDA_CODE.register(OneHot)
def one_hot(node, build: Build):
    classes = node.op.nb_class
    label_dtype, dtype = node.inputs[0].dtype, node.outputs[0].dtype
    scan_header(build)
    base = kernel(build, ("one_hot", label_dtype, dtype),
                  f"exprc_one_hot<{C_TYPES[label_dtype]}, {C_TYPES[dtype]}>(y, n, sy, "
                  "classes, out, flag);",
                  [(ptr(label_dtype, True), "y"), (param("i64"), "n"), (param("i64"), "sy"),
                   (param("i64"), "classes"), (ptr(dtype), "out"),
                   (param("ptr", "int *"), "flag")])

    def step(run: Run, args: list[DeviceArray]) -> list[DeviceArray]:
        (y,) = args
        n = y.shape[0]
        out = run.empty((n, classes), dtype)
        if out.size == 0:
            # No class: every label is out of range.
            if n and not classes:
                raise_reference_error(node, args)
            return [out]
        run.device.fill_zero(out.address, out.nbytes)
        flag = run.new_flag()
        run.launch_elements(base, n, [y.address, n, y.strides[0] // y.dtype.itemsize,
                                      classes, out.address, flag.address])
        if run.flag_raised(flag):  # waits for the device: the labels are only known there
            raise_reference_error(node, args)
        return [out]

    return step


# --------------------------------------------------------------------------- checks
@CUDA_CODE.register(RuntimeCheck)
def runtime_check(node, build: Build):
    # ok is one bool, read on the host (a wait for the device when it was computed there).
    build.host_input(1)
    kind, message = CHECKS[node.op.check]
    error = ExprcIndexError if kind == "IndexError" else ExprcShapeError

    def step(run: Run, args: list) -> list[DeviceArray]:
        x, ok = args
        if not ok:
            raise error(f"{node.op}: {message}")  # as the reference rule
        return [x]

    return step


# --------------------------------------------------------------------------- searchsorted
@CUDA_CODE.register(SearchSorted)
def searchsorted(node, build: Build):
    x_dtype, v_dtype = node.inputs[0].dtype, node.inputs[1].dtype
    common = np.result_type(x_dtype, v_dtype).name
    if common not in C_TYPES:
        raise CudaUnsupportedError(f"{node.op} comparing in {common}")
    check_lane_rank(node, node.inputs[1].ndim, axis=False)
    scan_header(build)
    right = str(node.op.side == "right").lower()
    types = ", ".join(C_TYPES[d] for d in (x_dtype, v_dtype, common))
    search = kernel(build, ("searchsorted", x_dtype, v_dtype, node.op.side),
                    f"exprc_searchsorted<{types}>(loop, x, n, sx, positions, v, out, {right});",
                    [(LANES, "loop"), (ptr(x_dtype, True), "x"), (param("i64"), "n"),
                     (param("i64"), "sx"), (ptr("int64", True), "positions"),
                     (ptr(v_dtype, True), "v"), (ptr("int64"), "out")])
    positions = None
    if len(node.inputs) == 3:
        s_dtype = node.inputs[2].dtype
        positions = kernel(build, ("sorter_positions", s_dtype),
                           f"exprc_sorter_positions<{C_TYPES[s_dtype]}>(sorter, n, ss, "
                           "positions, flag);",
                           [(ptr(s_dtype, True), "sorter"), (param("i64"), "n"),
                            (param("i64"), "ss"), (ptr("int64"), "positions"),
                            (param("ptr", "int *"), "flag")])

    def step(run: Run, args: list[DeviceArray]) -> list[DeviceArray]:
        x, v = args[:2]
        n = x.shape[0]
        sorted_at = 0
        flag = None
        if positions is not None:
            sorter = args[2]
            if sorter.shape != x.shape:
                raise ExprcShapeError(f"{node.op}: sorter has {sorter.size} entries but x has "
                                      f"{x.size}")
            at = run.empty((n,), "int64")
            flag = run.new_flag()
            run.launch_elements(positions, n, [sorter.address, n,
                                               sorter.strides[0] // sorter.dtype.itemsize,
                                               at.address, flag.address])
            sorted_at = at.address
        out = run.empty(v.shape, "int64")
        if out.size:
            loop, count, _ = lanes([v, out], None)
            run.launch_elements(search, count, [loop, x.address, n,
                                                x.strides[0] // x.dtype.itemsize, sorted_at,
                                                v.address, out.address])
        if flag is not None and run.flag_raised(flag):  # waits: the positions are on the device
            raise_reference_error(node, args)
        return [out]

    return step


__all__ = ["LANES", "MAX_BLOCKS", "check_lane_rank", "kernel", "lanes",
           "ptr", "raise_reference_error", "scan_header"]
