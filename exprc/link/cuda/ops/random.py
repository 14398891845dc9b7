"""CUDA rules of the random family: ``RandomUniform``, ``RandomNormal``, ``RandomIntegers``,
``RandomBinomial``, ``RandomChoice`` and ``RandomPermutation``.

The kernels (``cuda_kernels/exprc_cuda_random.cuh``) read the same Philox4x32-10 stream words
as the C runtime and the NumPy reference and turn them into the same values, bit for bit, so
a seed gives the same numbers on every backend; the new state (the counter advanced by the
blocks the node uses) is written by the sampling kernel itself, and the state never leaves the
device.

The sample's shape (the ``size`` input) is read on the host, as are the parameters whose
values decide how much of the stream a node reads (a binomial's ``n``, a choice's population
and probabilities, a permutation's length). The other parameters stay on the device: when they
are constants, their domain (``high - low`` finite and >= 0, ``std`` >= 0, ...) is checked on
the host; otherwise the kernel flags an element outside it and the step reads the flag back,
waiting for the device. Either way the error is raised by the reference rule on host copies
of the inputs, with its type and message.
"""

from __future__ import annotations

import math

import numpy as np

from exprc.errors import ExprcShapeError
from exprc.graph.ir import Constant
from exprc.link.codegen.loops import CUDA_MAXDIM
from exprc.link.codegen.render import C_TYPES
from exprc.link.cuda.device import DeviceArray, param
from exprc.link.cuda.ops.extra_ops import (
    kernel,
    ptr,
    raise_reference_error,
)
from exprc.link.cuda.ops.sort import sorter
from exprc.link.cuda.program import CUDA_CODE, Build, CudaUnsupportedError, Run, launch_geometry
from exprc.link.reference.random import BINOMIAL_MAX_WORDS, _choice_check
from exprc.tensor.random import (
    RandomBinomial,
    RandomChoice,
    RandomIntegers,
    RandomNormal,
    RandomPermutation,
    RandomUniform,
    words_used,
)

#: The ``struct exprc_rnd_params`` kernel parameter.
_PARAMS = param("struct", "struct exprc_rnd_params", 8 * (3 + 3 * CUDA_MAXDIM))

#: The parameters every sampler starts with: the state, its stride, the new state, and the
#: blocks of the stream the node uses.
_STATE = [(ptr("uint32", True), "state"), (param("i64"), "state_stride"),
          (ptr("uint32"), "new_state"), (param("i64"), "used")]
_FLAG = (param("ptr", "int *"), "flag")


def _header(build: Build) -> None:
    build.preamble("random", '#include "exprc_cuda_random.cuh"')


def _launch(run: Run, name: str, items: int, args: list) -> None:
    """A grid-stride launch over ``items``, with at least one thread: the thread of global
    index 0 writes the new state, even for an empty sample."""
    blocks, threads = launch_geometry(run.device, max(items, 1))
    run.launch(name, blocks, threads, args)


def _begin(node, run: Run, state: DeviceArray, size) -> tuple[list, tuple[int, ...], int,
                                                              DeviceArray]:
    """The state's kernel arguments (without ``used``), the sample's shape and element
    count, and the new state's array; the reference's errors for a bad state or size."""
    if state.shape != (6,):
        raise ValueError(f"{node.op}: the state must hold 6 words, got shape {state.shape}")
    shape = tuple(int(s) for s in np.asarray(size))
    if any(s < 0 for s in shape):
        raise ValueError(f"{node.op}: negative size in {shape}")
    new_state = run.empty((6,), "uint32")
    count = math.prod(shape)
    return [state.address, state.strides[0] // 4, new_state.address], shape, count, new_state


def _check_broadcast(node, name: str, value_shape: tuple[int, ...], shape: tuple[int, ...]):
    """The reference's error for a parameter that does not broadcast to the sample."""
    ok = len(value_shape) <= len(shape) and all(
        have in (1, want) for have, want in zip(value_shape[::-1], shape[::-1]))
    if not ok:
        raise ExprcShapeError(f"{node.op}: {name} of shape {value_shape} does not broadcast "
                              f"to the size {shape}")


def _param_struct(shape: tuple[int, ...], a, b) -> bytes:
    """The ``struct exprc_rnd_params`` of two parameters (device or host arrays with their
    element strides, or None for one not read through the struct) broadcast to ``shape``."""
    ndim = len(shape)
    values = np.zeros(3 + 3 * CUDA_MAXDIM, np.int64)
    values[0] = ndim
    values[3:3 + ndim] = shape
    for k, array in enumerate((a, b)):
        single = array is None or math.prod(array.shape) == 1
        values[1 + k] = int(single)
        if single:
            continue
        pad = ndim - len(array.shape)
        strides = [0] * pad + [0 if n == 1 else s // array.dtype.itemsize
                               for n, s in zip(array.shape, array.strides)]
        at = 3 + (k + 1) * CUDA_MAXDIM
        values[at:at + ndim] = strides
    return values.tobytes()


def _rank(node) -> int:
    ndim = node.inputs[1].type.shape[0]
    if ndim > CUDA_MAXDIM:
        raise CudaUnsupportedError(f"{node.op} of a sample of rank {ndim}")
    return ndim


def _constant_bad(node, positions: tuple[int, ...], bad) -> bool | None:
    """Whether the constant parameters at ``positions`` hold a value outside the domain
    (``bad`` of their values, broadcast together); None when one is not a constant."""
    values = [node.inputs[k] for k in positions]
    if not all(isinstance(v, Constant) for v in values):
        return None
    with np.errstate(all="ignore"):
        return bool(np.any(bad(*(np.asarray(v.data) for v in values))))


def _blocks(words: int) -> int:
    return -(-words // 4)


# --------------------------------------------------------------------------- uniform, normal
def _uniform_bad(low, high):
    span = high - low
    return ~(np.isfinite(span) & (span >= 0))


def _normal_bad(std):
    return std < 0


def _float_rule(node, build: Build, uniform: bool):
    op = node.op
    _rank(node)
    build.host_input(1)
    _header(build)
    dtype = op.dtype
    base = kernel(build, ("random_float", dtype, uniform),
                  f"exprc_random_float<{C_TYPES[dtype]}>(state, state_stride, new_state, used, "
                  f"n, p, a, b, out, flag, {str(uniform).lower()});",
                  _STATE + [(param("i64"), "n"), (_PARAMS, "p"), (ptr(dtype, True), "a"),
                            (ptr(dtype, True), "b"), (ptr(dtype), "out"), _FLAG])
    names = ("low", "high") if uniform else ("avg", "std")
    constant_bad = (_constant_bad(node, (2, 3), _uniform_bad) if uniform
                    else _constant_bad(node, (3,), _normal_bad))
    per_block = 16 // np.dtype(dtype).itemsize

    def step(run: Run, args: list) -> list[DeviceArray]:
        state, size, a, b = args
        head, shape, count, new_state = _begin(node, run, state, size)
        for name, value in zip(names, (a, b)):
            _check_broadcast(node, name, value.shape, shape)
        if constant_bad and count:
            raise_reference_error(node, args)
        out = run.empty(shape, dtype)
        flag = run.new_flag() if constant_bad is None else None
        used = _blocks(words_used(op, count))
        _launch(run, base, -(-count // per_block),
                [*head, used, count, _param_struct(shape, a, b), a.address, b.address,
                 out.address, flag.address if flag is not None else 0])
        if flag is not None and run.flag_raised(flag):  # waits: the parameters are on the device
            raise_reference_error(node, args)
        return [new_state, out]

    return step


@CUDA_CODE.register(RandomUniform)
def uniform(node, build: Build):
    return _float_rule(node, build, True)


@CUDA_CODE.register(RandomNormal)
def normal(node, build: Build):
    return _float_rule(node, build, False)


# --------------------------------------------------------------------------- integers
@CUDA_CODE.register(RandomIntegers)
def integers(node, build: Build):
    _rank(node)
    build.host_input(1)
    _header(build)
    base = kernel(build, ("random_integers",),
                  "exprc_random_integers(state, state_stride, new_state, n, p, a, b, out, "
                  "flag);",
                  _STATE[:3] + [(param("i64"), "n"), (_PARAMS, "p"), (ptr("int64", True), "a"),
                                (ptr("int64", True), "b"), (ptr("int64"), "out"), _FLAG])
    constant_bad = _constant_bad(node, (2, 3), lambda low, high: low > high)

    def step(run: Run, args: list) -> list[DeviceArray]:
        state, size, low, high = args
        head, shape, count, new_state = _begin(node, run, state, size)
        for name, value in (("low", low), ("high", high)):
            _check_broadcast(node, name, value.shape, shape)
        if constant_bad and count:
            raise_reference_error(node, args)
        out = run.empty(shape, "int64")
        flag = run.new_flag() if constant_bad is None else None
        _launch(run, base, count,
                [*head, count, _param_struct(shape, low, high), low.address, high.address,
                 out.address, flag.address if flag is not None else 0])
        if flag is not None and run.flag_raised(flag):  # waits: the parameters are on the device
            raise_reference_error(node, args)
        return [new_state, out]

    return step


# --------------------------------------------------------------------------- binomial
@CUDA_CODE.register(RandomBinomial)
def binomial(node, build: Build):
    op = node.op
    _rank(node)
    # n decides how many words each element reads: it is read on the host.
    build.host_input(1, 2)
    _header(build)
    dtype = op.dtype
    base = kernel(build, ("random_binomial", dtype),
                  f"exprc_random_binomial<{C_TYPES[dtype]}>(state, state_stride, new_state, "
                  "used, count, p, nn, n_single, prob, trials, out, flag);",
                  _STATE + [(param("i64"), "count"), (_PARAMS, "p"), (ptr("int64", True), "nn"),
                            (param("i64"), "n_single"), (ptr("float64", True), "prob"),
                            (param("i64"), "trials"), (ptr(dtype), "out"), _FLAG])
    constant_bad = _constant_bad(node, (3,), lambda p: ~((p >= 0) & (p <= 1)))

    def step(run: Run, args: list) -> list[DeviceArray]:
        state, size, n, prob = args
        head, shape, count, new_state = _begin(node, run, state, size)
        n = np.asarray(n)
        _check_broadcast(node, "n", n.shape, shape)
        _check_broadcast(node, "p", prob.shape, shape)
        every_n = np.broadcast_to(n, shape)
        trials = int(every_n.max()) if count else 0
        if (every_n < 0).any() or (constant_bad and count) or count * trials > BINOMIAL_MAX_WORDS:
            raise_reference_error(node, args)
        if n.size == 1:
            n_array, n_single = None, int(n.reshape(-1)[0])
        else:
            n_array, n_single = DeviceArray.from_host(run.device, n.astype(np.int64)), 0
        out = run.empty(shape, dtype)
        flag = run.new_flag() if constant_bad is None else None
        _launch(run, base, count,
                [*head, _blocks(words_used(op, count, trials)), count,
                 _param_struct(shape, n_array, prob),
                 n_array.address if n_array is not None else 0, n_single, prob.address, trials,
                 out.address, flag.address if flag is not None else 0])
        if flag is not None and run.flag_raised(flag):  # waits: p is on the device
            raise_reference_error(node, args)
        return [new_state, out]

    return step


# --------------------------------------------------------------------------- choice
def _shuffle_kernel(build: Build, dtype: str) -> str:
    return kernel(build, ("random_shuffle", dtype),
                  f"exprc_random_shuffle<{C_TYPES[dtype]}>(state, state_stride, new_state, "
                  "used, rows, length, steps, keep, perm, out);",
                  _STATE + [(param("i64"), "rows"), (param("i64"), "length"),
                            (param("i64"), "steps"), (param("i64"), "keep"),
                            (ptr("int64"), "perm"), (ptr(dtype), "out")])


@CUDA_CODE.register(RandomChoice)
def choice(node, build: Build):
    op = node.op
    _rank(node)
    # The population and the probabilities are checked as a whole (their sum): on the host.
    build.host_input(*range(1, len(node.inputs)))
    _header(build)
    dtype, t = op.dtype, C_TYPES[op.dtype]
    if op.replace and not op.weighted:
        draw = kernel(build, ("random_choice_uniform", dtype),
                      f"exprc_random_choice_uniform<{t}>(state, state_stride, new_state, used, "
                      "k, a, out);",
                      _STATE + [(param("i64"), "k"), (param("i64"), "a"), (ptr(dtype), "out")])
    elif op.replace:
        draw = kernel(build, ("random_choice_cdf", dtype),
                      f"exprc_random_choice_cdf<{t}>(state, state_stride, new_state, used, k, "
                      "a, cdf, last, out);",
                      _STATE + [(param("i64"), "k"), (param("i64"), "a"),
                                (ptr("float64", True), "cdf"), (param("i64"), "last"),
                                (ptr(dtype), "out")])
    elif not op.weighted:
        draw = _shuffle_kernel(build, dtype)
    else:
        draw = kernel(build, ("random_choice_keys",),
                      "exprc_random_choice_keys(state, state_stride, new_state, used, a, prob, "
                      "keys);",
                      _STATE + [(param("i64"), "a"), (ptr("float64", True), "prob"),
                                (ptr("float64"), "keys")])
        sort_keys = sorter(build, "float64")
        store = kernel(build, ("random_store", dtype),
                       f"exprc_random_store<{t}>(n, src, out);",
                       [(param("i64"), "n"), (ptr("int64", True), "src"), (ptr(dtype), "out")])

    def step(run: Run, args: list) -> list[DeviceArray]:
        state, size, a = args[:3]
        p = np.asarray(args[3]) if op.weighted else None
        head, shape, k, new_state = _begin(node, run, state, size)
        a = int(a)
        _choice_check(op, a, k, p)  # the reference's checks and messages
        used = _blocks(words_used(op, k, a))
        out = run.empty(shape, dtype)
        if op.replace and p is None:
            _launch(run, draw, k, [*head, used, k, a, out.address])
        elif op.replace:
            cdf = DeviceArray.from_host(run.device, np.cumsum(p))
            last = int(np.flatnonzero(p > 0)[-1]) if k else 0
            _launch(run, draw, k, [*head, used, k, a, cdf.address, last, out.address])
        elif p is None:  # the first k steps of one shuffle of range(a), on one thread
            perm = run.empty((a,), "int64")
            _launch(run, draw, 1, [*head, used, 1, a, k, k, perm.address, out.address])
        else:  # the k largest keys log(u) / p: an ascending stable sort of their negatives
            prob = DeviceArray.from_host(run.device, p.astype(np.float64))
            keys = run.empty((a,), "float64")
            _launch(run, draw, a, [*head, used, a, prob.address, keys.address])
            order = run.empty((a,), "int64")
            sort_keys(run, keys, 0, None, order)
            run.launch_elements(store, k, [k, order.address, out.address])
        return [new_state, out]

    return step


# --------------------------------------------------------------------------- permutation
@CUDA_CODE.register(RandomPermutation)
def permutation(node, build: Build):
    op = node.op
    _rank(node)
    build.host_input(1, 2)
    _header(build)
    dtype = op.dtype
    shuffle = _shuffle_kernel(build, dtype)

    def step(run: Run, args: list) -> list[DeviceArray]:
        state, size, n = args
        head, shape, rows, new_state = _begin(node, run, state, size)
        n = int(n)
        if n < 0:
            raise_reference_error(node, args)
        out = run.empty(shape + (n,), dtype)
        perm = run.empty((rows * n,), "int64")
        _launch(run, shuffle, rows if n else 0,
                [*head, _blocks(words_used(op, rows, n)), rows if n else 0, n, n, n,
                 perm.address, out.address])
        return [new_state, out]

    return step


__all__ = ["binomial", "choice", "integers", "normal", "permutation", "uniform"]
