"""CUDA rules of the softmax family: ``Softmax`` and ``LogSoftmax`` over any axis, and the
fused ``CrossentropySoftmaxIntLabels``.

The kernels are instances of the templates of ``cuda_kernels/exprc_cuda_softmax.cuh``. Each
row (the elements along the softmax axis at fixed other coordinates) is shifted by its
maximum before ``exp``, as the reference does. A softmax over the contiguous axis runs one
block per row; over another axis whose rows are contiguous (axis 0 of a matrix), one thread
per row, so that neighbouring threads read neighbouring elements.

The labels of the cross-entropy are checked against the number of classes: on the host when
the program has them there (the labels a caller passes, or a slice of them computed on the
host), else by the kernel, which raises a flag in device memory that the step reads back.
"""

from __future__ import annotations

import math

import numpy as np

from exprc.errors import ExprcShapeError
from exprc.link.codegen.loops import CUDA_MAXDIM
from exprc.link.codegen.render import C_TYPES
from exprc.link.cuda.device import DeviceArray, KernelSpec, param
from exprc.link.cuda.program import CUDA_CODE, Build, CudaUnsupportedError, Run
from exprc.tensor.nnet.softmax import CrossentropySoftmaxIntLabels, LogSoftmax, Softmax

_FLOATS = ("float32", "float64")
_LOOP_SIZE = 8 * (5 + 3 * CUDA_MAXDIM)
_LOOP = param("struct", "struct exprc_softmax_loop", _LOOP_SIZE)
#: Most blocks of one launch; the kernels loop over the rows beyond.
_MAX_BLOCKS = 65535


def _include(build: Build) -> None:
    build.preamble("softmax", '#include "exprc_cuda_softmax.cuh"')


def _row_threads(length: int) -> int:
    """Threads of a block working on one row of ``length`` elements (a multiple of 32)."""
    return min(256, max(32, -(-length // 32) * 32))


# --------------------------------------------------------------------------- Softmax
def softmax_kernels(build: Build, dtype: str, log: bool) -> str:
    """The base name of the ``_rows`` and ``_columns`` kernels of a (log-)softmax of
    ``dtype``."""
    _include(build)

    def make(base: str):
        t = C_TYPES[dtype]
        flag = "true" if log else "false"
        text = "\n".join(
            f'extern "C" __global__ void {base}_{way}(struct exprc_softmax_loop loop, '
            f"const {t} *__restrict__ x, {t} *__restrict__ out)\n"
            f"{{\n    exprc_softmax_{way}<{t}, {flag}>(loop, x, out);\n}}"
            for way in ("rows", "columns"))
        params = (_LOOP, param("ptr", f"const {t} *"), param("ptr", f"{t} *"))
        return text, [KernelSpec(f"{base}_{way}", params) for way in ("rows", "columns")]

    return build.kernel(("softmax", dtype, log), make)


def _softmax_loop(x: DeviceArray, out: DeviceArray, axis: int) -> tuple[bytes, bool]:
    """The loop struct of a softmax of ``x`` over ``axis`` into ``out``, and whether to run
    one thread per row (``columns``) rather than one block per row."""
    item = x.dtype.itemsize
    outer = [(x.shape[d], x.strides[d] // item, out.strides[d] // item)
             for d in reversed(range(x.ndim)) if d != axis and x.shape[d] != 1]
    # Neighbouring outer axes contiguous in both arrays are one axis.
    merged: list[list[int]] = []
    for n, xs, os in outer:
        if merged and xs == merged[-1][1] * merged[-1][0] and os == merged[-1][2] * merged[-1][0]:
            merged[-1][0] *= n
            continue
        merged.append([n, xs, os])
    if len(merged) > CUDA_MAXDIM:
        raise ValueError(f"a softmax over more than {CUDA_MAXDIM} non-contiguous axes")
    rows = math.prod([m[0] for m in merged])
    length = x.shape[axis]
    xstep, ostep = x.strides[axis] // item, out.strides[axis] // item
    loop = np.zeros(5 + 3 * CUDA_MAXDIM, np.int64)
    loop[:5] = [len(merged), rows, length, xstep, ostep]
    for d, (n, xs, os) in enumerate(merged):
        loop[5 + d], loop[5 + CUDA_MAXDIM + d], loop[5 + 2 * CUDA_MAXDIM + d] = n, xs, os
    columns = abs(xstep) != 1 and length > 1 and bool(merged) and abs(merged[0][1]) == 1
    return loop.tobytes(), columns


def softmax_runner(build: Build, dtype: str, log: bool):
    """A run-time function ``softmax(run, x, axis)``: the (log-)softmax of the device array
    ``x`` over ``axis``, a new contiguous array."""
    base = softmax_kernels(build, dtype, log)

    def run_softmax(run: Run, x: DeviceArray, axis: int) -> DeviceArray:
        out = run.empty(x.shape, dtype)
        if out.size == 0:
            return out
        axis = axis % x.ndim
        loop, columns = _softmax_loop(x, out, axis)
        rows = out.size // x.shape[axis]
        if columns:
            blocks = max(1, min(-(-rows // 256), run.device.multiprocessors * 8))
            run.launch(f"{base}_columns", blocks, 256, [loop, x.address, out.address])
        else:
            run.launch(f"{base}_rows", min(rows, _MAX_BLOCKS), _row_threads(x.shape[axis]),
                       [loop, x.address, out.address])
        return out

    return run_softmax


def _softmax_rule(log: bool):
    def rule(node, build: Build):
        dtype = node.outputs[0].dtype
        if dtype not in _FLOATS or node.inputs[0].ndim > CUDA_MAXDIM + 1:
            raise CudaUnsupportedError(f"{node.op} of {node.inputs[0].type}")
        run_softmax = softmax_runner(build, dtype, log)
        axis = node.op.axis

        def step(run: Run, args: list[DeviceArray]) -> list[DeviceArray]:
            return [run_softmax(run, args[0], axis)]

        return step

    return rule


CUDA_CODE.register(Softmax)(_softmax_rule(False))
CUDA_CODE.register(LogSoftmax)(_softmax_rule(True))


# --------------------------------------------------------------------------- cross-entropy
def _check_labels(op, labels: np.ndarray, n: int, k: int) -> None:
    """The reference's checks of the labels (an ExprcShapeError or IndexError naming the
    op)."""
    if labels.shape != (n,):
        raise ExprcShapeError(f"{op}: {labels.shape[0]} labels for {n} rows of logits")
    bad = (labels < -k) | (labels >= k)
    if bad.any():
        row = int(np.argmax(bad))
        raise IndexError(f"{op}: label {int(labels[row])} of row {row} is out of range for "
                         f"{k} classes")


@CUDA_CODE.register(CrossentropySoftmaxIntLabels)
def crossentropy_softmax_int_labels(node, build: Build):
    dtype, label_dtype = node.inputs[0].dtype, node.inputs[1].dtype
    if dtype not in _FLOATS or label_dtype not in C_TYPES:
        raise CudaUnsupportedError(f"{node.op} of {dtype} with {label_dtype} labels")
    _include(build)
    # Labels the program holds on the host are checked there, and the call does not wait for
    # the device; labels computed on the device are checked by the kernel.
    on_host = build.on_host(1)
    if on_host:
        build.host_input(1)
    t, tl = C_TYPES[dtype], C_TYPES[label_dtype]

    def make(base: str):
        text = (f'extern "C" __global__ void {base}(int64_t n, int64_t k, int64_t rs, '
                f"int64_t cs, const {t} *__restrict__ x, const {tl} *__restrict__ labels, "
                f"int64_t ls, {t} *__restrict__ loss, int *flag)\n"
                f"{{\n    exprc_crossentropy_rows<{t}, {tl}>(n, k, rs, cs, x, labels, ls, "
                "loss, flag);\n}")
        params = (param("i64"), param("i64"), param("i64"), param("i64"),
                  param("ptr", f"const {t} *"), param("ptr", f"const {tl} *"), param("i64"),
                  param("ptr", f"{t} *"), param("ptr", "int *"))
        return text, [KernelSpec(base, params)]

    name = build.kernel(("crossentropy_softmax", dtype, label_dtype), make)
    op = node.op

    def step(run: Run, args: list) -> list[DeviceArray]:
        logits, labels = args
        n, k = logits.shape
        if on_host:
            labels = np.asarray(labels)
            _check_labels(op, labels, n, k)
        elif labels.shape != (n,):
            raise ExprcShapeError(f"{op}: {labels.shape[0]} labels for {n} rows of logits")
        loss = run.empty((n,), dtype)
        if n == 0:
            return [loss]
        flag = None
        if on_host:
            labels = DeviceArray.from_host(run.device, labels)
        else:
            flag = run.new_flag()
        item, litem = logits.dtype.itemsize, labels.dtype.itemsize
        run.launch(name, min(n, _MAX_BLOCKS), _row_threads(k),
                   [n, k, logits.strides[0] // item, logits.strides[1] // item, logits.address,
                    labels.address, labels.strides[0] // litem, loss.address,
                    0 if flag is None else flag.address])
        # A device-side check costs a wait for the device: only labels computed there pay it.
        if flag is not None and run.flag_raised(flag):
            _check_labels(op, labels.to_host(), n, k)
        return [loss]

    return step
