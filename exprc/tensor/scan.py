"""The loop op: :class:`Scan` runs an inner graph once per step, carrying state between steps.

``exprc.scan`` (:mod:`exprc.tensor.scan_builder`) turns Theano's ``scan(fn, sequences,
outputs_info, non_sequences, ...)`` into one ``Scan`` node; this module is the node itself.
Every value that crosses the loop boundary has one of five roles, and the inner graph's inputs
and outputs, and the node's, are listed role by role in this order:

==========  ==============================  ===============================  ====================
role        outer input                     inner input(s)                   outer output
==========  ==============================  ===============================  ====================
sequence    ``x`` (steps on axis 0)         ``x[t + tap - min(taps)]`` per   --
                                            tap
state       ``init`` (its first ``L``       ``buf[t + L + tap]`` per tap     ``buf``: ``L + n``
("sot")     rows start the buffer;          (taps negative, ``L`` = the      rows, ``init``'s
            ``L`` = -min(taps))             deepest)                         rows first
output      --                              --                               ``n`` rows, one per
("nit-sot")                                                                  step
carry       its first value                 its value before the step        its value after the
                                                                             last step
constant    ``w``                           ``w``                            --
==========  ==============================  ===============================  ====================

The inner outputs are the states' new rows, the outputs' rows, the carries' new values and, for
a loop with a stop condition (``as_while``), the condition last. The node's first input is the
number of steps ``n`` (an upper bound when ``as_while``). A state keeps every row (the gradient
reads them); a carry keeps only its latest value (random generator states, the gradient's
accumulators, and a state whose rows nobody reads but the last, which a rewrite turns into a
carry).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exprc.errors import ExprcTypeError, build_error
from exprc.graph.inner import InnerGraph
from exprc.graph.ir import Apply, Op
from exprc.tensor.params import int_param
from exprc.tensor.type import INTEGER_DTYPES, TensorType
from exprc.tensor.variable import as_tensor_variable

__all__ = ["LENGTH_HINT", "Scan", "ScanRoles"]

#: Said by both executors when sequences are longer or shorter than the steps need.
LENGTH_HINT = (" (sequences of different lengths are refused rather than cut: Theano ran as "
               "many steps as the shortest has; give n_steps to do so)")


def _taps(owner: str, taps: Any) -> tuple:
    return tuple(tuple(int_param(owner, "tap", t) for t in group) for group in taps)


class ScanRoles:
    """Index arithmetic over a :class:`Scan`'s role-ordered lists (see the module docstring)."""

    def __init__(self, op: Scan):
        self.op = op
        self.n_seqs = len(op.seq_taps)
        self.n_sot = len(op.sot_taps)
        self.n_nit = op.n_nit_sot
        self.n_carry = op.n_carry
        self.n_const = op.n_non_seqs

    # outer inputs (after n_steps at 0)
    def outer_seqs(self, inputs: Sequence) -> list:
        return list(inputs[1:1 + self.n_seqs])

    def outer_inits(self, inputs: Sequence) -> list:
        start = 1 + self.n_seqs
        return list(inputs[start:start + self.n_sot])

    def outer_carries(self, inputs: Sequence) -> list:
        start = 1 + self.n_seqs + self.n_sot
        return list(inputs[start:start + self.n_carry])

    def outer_consts(self, inputs: Sequence) -> list:
        return list(inputs[1 + self.n_seqs + self.n_sot + self.n_carry:])

    # inner inputs
    def inner_groups(self, inner_inputs: Sequence) -> tuple[list, list, list, list]:
        """Inner inputs as (per-sequence lists, per-state lists, carries, constants)."""
        pos = 0
        seqs = []
        for taps in self.op.seq_taps:
            seqs.append(list(inner_inputs[pos:pos + len(taps)]))
            pos += len(taps)
        sots = []
        for taps in self.op.sot_taps:
            sots.append(list(inner_inputs[pos:pos + len(taps)]))
            pos += len(taps)
        carries = list(inner_inputs[pos:pos + self.n_carry])
        pos += self.n_carry
        return seqs, sots, carries, list(inner_inputs[pos:])

    # inner outputs
    def inner_out_groups(self, inner_outputs: Sequence) -> tuple[list, list, list, Any]:
        """Inner outputs as (states, outputs, carries, condition or None)."""
        a = self.n_sot
        b = a + self.n_nit
        c = b + self.n_carry
        cond = inner_outputs[c] if self.op.as_while else None
        return list(inner_outputs[:a]), list(inner_outputs[a:b]), list(inner_outputs[b:c]), cond

    # outer outputs
    def outer_out_groups(self, outputs: Sequence) -> tuple[list, list, list]:
        a = self.n_sot
        b = a + self.n_nit
        return list(outputs[:a]), list(outputs[a:b]), list(outputs[b:])

    def depth(self, k: int) -> int:
        """How many initial rows state ``k`` starts with: its deepest tap."""
        return -min(self.op.sot_taps[k])

    def extent(self, i: int) -> int:
        """How many rows sequence ``i`` needs beyond the number of steps."""
        taps = self.op.seq_taps[i]
        return max(taps) - min(taps)


class Scan(Op):
    """A loop over an inner graph (see the module docstring for the roles of its values).

    Parameters
    ----------
    inner : InnerGraph
    seq_taps : tuple of tuples of int
        Per sequence, the offsets it is read at (``0``: the step's own row).
    sot_taps : tuple of tuples of int
        Per state, the negative offsets of the rows it is read at.
    n_nit_sot, n_carry, n_non_seqs : int
    as_while : bool
        The inner graph's last output is a stop condition, checked after each step.
    exact_steps : bool
        Sequences must be exactly as long as the number of steps needs (the number of steps was
        not given; a sequence of another length is an error rather than silently cut).
    name : str
        How errors and printed graphs name the loop (the ``name=`` of ``scan``).
    truncate_gradient : int
        Backpropagate through this many steps at most (-1: all).
    keep : tuple of int, optional
        Per state, 0 (the default) to return every row, or ``K`` to keep only the last ``K``
        rows (at least the deepest tap plus one), in a ring of ``K`` rows: the output is then
        the buffer's last ``min(K, rows)`` rows. Set by the ``scan_keep_last_rows`` rewrite
        when nothing reads the earlier rows; a loop keeping fewer rows has no gradient.
    """

    __props__ = ("seq_taps", "sot_taps", "n_nit_sot", "n_carry", "n_non_seqs", "as_while",
                 "exact_steps", "name", "truncate_gradient", "keep")

    def __init__(self, inner: InnerGraph, seq_taps: Any, sot_taps: Any, n_nit_sot: int,
                 n_carry: int, n_non_seqs: int, as_while: bool = False,
                 exact_steps: bool = True, name: str = "scan", truncate_gradient: int = -1,
                 keep: Any = None):
        self.inner = inner
        self.seq_taps = _taps("Scan", seq_taps)
        self.sot_taps = _taps("Scan", sot_taps)
        for taps in self.sot_taps:
            if not taps or max(taps) >= 0:
                raise ExprcTypeError(f"Scan: the taps of a state must be negative, got {taps}")
        for taps in self.seq_taps:
            if not taps:
                raise ExprcTypeError("Scan: a sequence needs at least one tap")
        self.n_nit_sot = int_param("Scan", "n_nit_sot", n_nit_sot)
        self.n_carry = int_param("Scan", "n_carry", n_carry)
        self.n_non_seqs = int_param("Scan", "n_non_seqs", n_non_seqs)
        self.as_while = bool(as_while)
        self.exact_steps = bool(exact_steps)
        self.name = str.__str__(name) if isinstance(name, str) else "scan"
        self.truncate_gradient = int_param("Scan", "truncate_gradient", truncate_gradient)
        keep = (0,) * len(self.sot_taps) if keep is None else keep
        self.keep = tuple(int_param("Scan", "keep", k) for k in keep)
        if len(self.keep) != len(self.sot_taps) or (any(self.keep) and self.as_while) or any(
                k and k < 1 - min(taps) for k, taps in zip(self.keep, self.sot_taps)):
            raise ExprcTypeError(f"internal error: scan {self.name!r}: keep {self.keep} does not "
                                 f"fit the states' taps {self.sot_taps}")
        self.roles = ScanRoles(self)
        n_in = sum(map(len, self.seq_taps)) + sum(map(len, self.sot_taps)) + self.n_carry \
            + self.n_non_seqs
        n_out = len(self.sot_taps) + self.n_nit_sot + self.n_carry + int(self.as_while)
        if len(inner.inputs) != n_in or len(inner.outputs) != n_out:
            raise ExprcTypeError(
                f"internal error: scan {self.name!r}: the inner graph has {len(inner.inputs)} "
                f"inputs and {len(inner.outputs)} outputs, its roles say {n_in} and {n_out}")

    def inner_graphs(self) -> list[InnerGraph]:
        """The graphs this op runs itself (the protocol of every op holding inner graphs)."""
        return [self.inner]

    def with_inner_graphs(self, graphs: Sequence[InnerGraph]) -> Scan:
        """The same op running ``graphs`` instead (rewritten copies of its own)."""
        (inner,) = graphs
        return self.with_inner(inner)

    def with_inner(self, inner: InnerGraph, **changes: Any) -> Scan:
        """The same loop with another inner graph (and any parameters changed)."""
        params = {p: getattr(self, p) for p in self.__props__}
        params.update(changes)
        return Scan(inner, **params)

    def __eq__(self, other: object) -> bool:
        return (type(self) is type(other) and self._props() == other._props()
                and self.inner == other.inner)

    def __hash__(self) -> int:
        return hash((type(self), self._props(), hash(self.inner)))

    def __str__(self) -> str:
        return f"Scan{{{self.name}}}"

    __repr__ = __str__

    def _fail(self, message: str) -> Exception:
        return build_error(ExprcTypeError, f"scan {self.name!r}", message)

    def make_node(self, n_steps: Any, *outer: Any) -> Apply:
        roles = self.roles
        n_steps = as_tensor_variable(n_steps)
        if n_steps.ndim != 0 or n_steps.dtype not in INTEGER_DTYPES:
            raise self._fail(f"the number of steps must be a 0-d integer, got {n_steps.type}")
        outer = [as_tensor_variable(v) for v in outer]
        want = roles.n_seqs + roles.n_sot + roles.n_carry + roles.n_const
        if len(outer) != want:
            raise self._fail(f"takes {want} inputs after the number of steps, got {len(outer)}")
        inner = self.inner
        seq_in, sot_in, carry_in, const_in = roles.inner_groups(inner.inputs)
        sot_out, nit_out, carry_out, cond = roles.inner_out_groups(inner.outputs)
        for i, (x, group) in enumerate(zip(roles.outer_seqs([None, *outer]), seq_in)):
            for p in group:
                if x.dtype != p.dtype or x.ndim != p.ndim + 1:
                    raise self._fail(f"sequence {i} ({x}, {x.type}) does not hold steps of "
                                     f"{p.type}")
        outputs = []
        for k, (init, group, new) in enumerate(zip(roles.outer_inits([None, *outer]), sot_in,
                                                   sot_out)):
            for p in group:
                if init.dtype != p.dtype or init.ndim != p.ndim + 1:
                    raise self._fail(f"the initial rows of state {k} ({init.type}) do not hold "
                                     f"rows of {p.type}")
            _same_kind(self, f"state {k}", init.type.clone(shape=init.type.shape[1:]), new)
            outputs.append(TensorType(init.dtype, shape=(None, *init.type.shape[1:]))())
        for new in nit_out:
            outputs.append(TensorType(new.dtype, shape=(None, *new.type.shape))())
        for k, (init, p, new) in enumerate(zip(roles.outer_carries([None, *outer]), carry_in,
                                               carry_out)):
            _same_kind(self, f"carried value {k}", init.type, p)
            _same_kind(self, f"carried value {k}", init.type, new)
            outputs.append(init.type())
        for k, (w, p) in enumerate(zip(roles.outer_consts([None, *outer]), const_in)):
            if w.dtype != p.dtype or w.ndim != p.ndim:
                raise self._fail(f"non-sequence {k} ({w.type}) does not match its inner "
                                 f"placeholder ({p.type})")
        if cond is not None and (cond.ndim != 0 or cond.dtype not in (*INTEGER_DTYPES, "bool")):
            raise self._fail(f"the stop condition (until) must be a 0-d bool or integer, got "
                             f"{cond.type}")
        return Apply(self, [n_steps, *outer], outputs)


def _same_kind(op: Scan, what: str, want: TensorType, got: Any) -> None:
    """Refuse an inner value whose dtype or rank differs from the outer one it stands for."""
    if want.dtype != got.dtype or want.ndim != got.ndim:
        raise op._fail(
            f"the inner function's result for {what} is {got.type}, but its initial value is "
            f"{want}; a loop's state keeps one dtype and rank from step to step (cast the "
            f"result, e.g. T.cast(..., {want.dtype!r}), or the initial value)")
