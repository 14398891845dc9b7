"""Reference implementation of the loop op: the inner graph on the reference executor, once per
step, in a Python loop (the compiled backends run the loop natively)."""

from __future__ import annotations

import numpy as np

from exprc.errors import ExprcShapeError, ExprcValueError
from exprc.link.reference.table import REFERENCE
from exprc.tensor.scan import LENGTH_HINT, Scan

_PROGRAMS: dict = {}


def _program(op: Scan):
    """The inner graph's reference program, built once per op."""
    from exprc.link.reference import ReferenceProgram

    program = _PROGRAMS.get(id(op))
    if program is None or program[0] is not op:
        program = _PROGRAMS[id(op)] = (op, ReferenceProgram(op.inner.inputs, op.inner.outputs))
    return program[1]


def check_steps(op: Scan, n: int, seqs: list, inits: list) -> None:
    """The run-time checks of a loop's step count, sequence lengths and initial rows, with
    the messages and the exception class (``ExprcShapeError``) of the C loop's."""
    if n <= 0:
        raise ExprcShapeError(f"scan {op.name!r}: the number of steps must be positive, got {n}"
                              " (a loop of zero steps has no outputs to return)")
    roles = op.roles
    for i, x in enumerate(seqs):
        need = n + roles.extent(i)
        if x.shape[0] < need or (op.exact_steps and x.shape[0] != need):
            exact = "exactly " if op.exact_steps else "at least "
            raise ExprcShapeError(
                f"scan {op.name!r}: sequence {i} has {x.shape[0]} rows, but {n} steps over "
                f"taps {list(op.seq_taps[i])} need {exact}{need}"
                + (LENGTH_HINT if op.exact_steps else ""))
    for k, init in enumerate(inits):
        if init.shape[0] < roles.depth(k):
            raise ExprcShapeError(
                f"scan {op.name!r}: state {k} is read {roles.depth(k)} steps back (taps "
                f"{list(op.sot_taps[k])}) but its initial value has {init.shape[0]} rows")


def _check_row(op: Scan, what: str, t: int, want: tuple, got: np.ndarray, source: str) -> None:
    if got.shape != want:
        raise ExprcShapeError(f"scan {op.name!r}: at step {t}, {what} has shape {got.shape}, "
                              f"but {source} shape {want}; a loop's values keep their shape "
                              "from step to step")


def _at_step(exc: Exception, op: Scan, t: int) -> Exception:
    """The same kind of exception, saying at which step of which loop it happened."""
    message = f"{exc}\n    at step {t} of scan {op.name!r}"
    for cls in type(exc).__mro__[:type(exc).__mro__.index(Exception)]:
        try:
            return cls(message)
        except TypeError:  # a constructor that does not take one message
            pass
    return ExprcValueError(message)


@REFERENCE.register(Scan)
def scan(node, n_steps, *outer):
    op = node.op
    roles = op.roles
    program = _program(op)
    n = int(n_steps)
    full = [None, *outer]
    seqs, inits = roles.outer_seqs(full), roles.outer_inits(full)
    carries, consts = roles.outer_carries(full), roles.outer_consts(full)
    check_steps(op, n, seqs, inits)
    sot_vars, nit_vars, _ = roles.outer_out_groups(node.outputs)
    buffers = []
    for k, (init, var) in enumerate(zip(inits, sot_vars)):
        depth = roles.depth(k)
        buf = np.empty((n + depth, *init.shape[1:]), dtype=var.dtype)
        buf[:depth] = init[:depth]
        buffers.append(buf)
    nits: list = [None] * roles.n_nit
    carries = [np.array(c, copy=True) for c in carries]
    taken = n
    for t in range(n):
        args = []
        for i, x in enumerate(seqs):
            low = min(op.seq_taps[i])
            args += [x[t + tap - low] for tap in op.seq_taps[i]]
        for k, buf in enumerate(buffers):
            depth = roles.depth(k)
            args += [buf[t + depth + tap] for tap in op.sot_taps[k]]
        args += carries + consts
        try:
            results = program(args)
        except Exception as exc:
            raise _at_step(exc, op, t) from exc
        new_sots, new_nits, new_carries, cond = roles.inner_out_groups(results)
        for k, (buf, value) in enumerate(zip(buffers, new_sots)):
            _check_row(op, f"state {k}", t, buf.shape[1:], value, "its initial rows have")
            buf[t + roles.depth(k)] = value
        for j, value in enumerate(new_nits):
            if nits[j] is None:
                nits[j] = np.empty((n, *value.shape), dtype=nit_vars[j].dtype)
            _check_row(op, f"output {j}", t, nits[j].shape[1:], value, "step 0 gave")
            nits[j][t] = value
        for j, value in enumerate(new_carries):
            _check_row(op, f"carried value {j}", t, carries[j].shape, value,
                       "its initial value has")
            carries[j] = np.array(value, copy=True)
        if cond is not None and bool(cond):
            taken = t + 1
            break
    if taken < n:
        buffers = [buf[:taken + roles.depth(k)].copy() for k, buf in enumerate(buffers)]
        nits = [y[:taken].copy() for y in nits]
    # A state keeping its last rows only returns those (the C loop keeps no others).
    buffers = [buf[-keep:].copy() if keep else buf for buf, keep in zip(buffers, op.keep)]
    return [*buffers, *nits, *carries]
