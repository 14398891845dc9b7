"""``Composite``: one node computing a small program of scalar ops over broadcast inputs.

The fusion pass (:mod:`exprc.rewriting.rules.fusion`) replaces connected groups of ``Elemwise``
nodes by one ``Composite``, so that a backend runs the group as one loop over the elements
instead of one loop (and one temporary array) per scalar op. The op's props are the program
itself, a hashable description:

- ``nin``: the number of tensor inputs, all of one rank, broadcast against each other;
- ``steps``: ``(scalar_op, args)`` pairs, each arg a reference ``("i", k)`` to input ``k``,
  ``("t", j)`` to the result of step ``j < this step``, or ``("c", dtype, text)`` to a scalar
  constant (``text`` is the ``repr`` of its value, which round-trips exactly);
- ``outputs``: the indices of the steps whose results are the op's outputs.

Each output has the broadcast shape of the inputs it depends on, and dtypes follow each scalar
op's rule, exactly as in the equivalent graph of ``Elemwise`` nodes (which
:meth:`Composite.expand` builds). All inputs must broadcast together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.graph.ir import Apply, Constant, Op, Variable
from exprc.graph.traversal import toposort
from exprc.tensor.elemwise import DimShuffle, Elemwise, broadcast_static_shapes
from exprc.tensor.params import dtype_param, int_param, int_tuple
from exprc.tensor.scalar import SCALAR_OPS, ScalarOp
from exprc.tensor.type import TensorType
from exprc.tensor.variable import TensorVariable, as_tensor_variable, constant

__all__ = ["Composite", "compose"]


class Composite(Op):
    """Compute several scalar ops, element by element, in one node.

    Parameters
    ----------
    nin : int
        Number of inputs (at least 1).
    steps : sequence of (ScalarOp, tuple of refs)
        The program, in execution order (see the module docstring for the references).
    outputs : sequence of int
        The steps whose results are outputs, in output order.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> x, y, z = T.dmatrix('x'), T.dmatrix('y'), T.dmatrix('z')
    >>> op = compose([x, y, z], [T.exp(x) * y + z])
    >>> op
    Composite{exp(i0) * i1 + i2}
    >>> op(x, y, z).type
    TensorType(float64, (?, ?))
    """

    __props__ = ("nin", "steps", "outputs")

    def __init__(self, nin: int, steps: Sequence[tuple], outputs: Sequence[int]):
        self.nin = int_param("Composite", "nin", nin)
        self.steps = tuple((sop, tuple(_plain_ref(ref) for ref in args)) for sop, args in steps)
        self.outputs = int_tuple("Composite", "outputs", outputs)
        self._check_program()

    def _check_program(self) -> None:
        if self.nin < 1 or not self.outputs:
            raise ExprcTypeError(f"Composite needs at least one input and one output, got "
                                 f"nin={self.nin} and outputs={self.outputs}")
        for j, (sop, args) in enumerate(self.steps):
            if not isinstance(sop, ScalarOp) or len(args) != sop.nin:
                raise ExprcTypeError(f"Composite step {j}: {sop!r} is not a scalar op applied "
                                     f"to its {getattr(sop, 'nin', '?')} argument(s): {args}")
            for ref in args:
                if not _valid_ref(ref, self.nin, j):
                    raise ExprcTypeError(f"Composite step {j}: invalid reference {ref!r} (an "
                                         f"input below {self.nin}, an earlier step or a "
                                         "constant)")
        if any(not 0 <= o < len(self.steps) for o in self.outputs):
            raise ExprcTypeError(f"Composite outputs {self.outputs} must name steps "
                                 f"0..{len(self.steps) - 1}")

    def make_node(self, *inputs: Any) -> Apply:
        if len(inputs) != self.nin:
            raise build_error(ExprcTypeError, self, f"takes {self.nin} input(s), got "
                              f"{len(inputs)}")
        inputs = [as_tensor_variable(x) for x in inputs]
        ranks = {x.ndim for x in inputs}
        if len(ranks) != 1:
            described = ", ".join(f"{x} of type {x.type}" for x in inputs)
            raise build_error(ExprcShapeError, self, f"inputs must have one rank (the fusion "
                              f"pass aligns them), got {described}")
        broadcast_static_shapes([x.type.shape for x in inputs], self, inputs)
        try:
            dtypes = self.step_dtypes([x.dtype for x in inputs])
        except ExprcTypeError as exc:
            raise build_error(ExprcTypeError, self, str(exc)) from None
        outs = []
        for step, deps in zip(self.outputs, self.output_inputs()):
            shapes = [inputs[k].type.shape for k in deps] or [(1,) * inputs[0].ndim]
            outs.append(TensorType(dtypes[step], shape=broadcast_static_shapes(shapes))())
        return Apply(self, inputs, outs)

    def output_inputs(self) -> list[tuple[int, ...]]:
        """For each output, the inputs it depends on: it has their broadcast shape."""
        deps: list[frozenset] = []
        for _, args in self.steps:
            deps.append(frozenset().union(*(
                {r[1]} if r[0] == "i" else deps[r[1]] if r[0] == "t" else set() for r in args)))
        return [tuple(sorted(deps[o])) for o in self.outputs]

    def step_dtypes(self, input_dtypes: Sequence[str]) -> list[str]:
        """The dtype of every step's result, given the inputs' dtypes."""
        dtypes: list[str] = []
        for sop, args in self.steps:
            dtypes.append(sop.output_dtype([_ref_dtype(r, input_dtypes, dtypes) for r in args]))
        return dtypes

    def expand(self, inputs: Sequence[Variable]) -> list[TensorVariable]:
        """The outputs computed from ``inputs`` by ``Elemwise`` nodes, one per step."""
        values: list[TensorVariable] = []
        for sop, args in self.steps:
            values.append(Elemwise(sop)(*[_ref_variable(r, inputs, values) for r in args]))
        return [values[o] for o in self.outputs]

    def __str__(self) -> str:
        return "Composite{" + render(self) + "}"

    __repr__ = __str__


def _plain_ref(ref: Any) -> Any:
    """``ref`` made of plain built-in values (see :mod:`exprc.tensor.params`); anything that is
    not a reference is kept for :func:`_valid_ref` to refuse."""
    if not isinstance(ref, tuple) or not ref or not isinstance(ref[0], str):
        return ref
    kind = str.__str__(ref[0])
    if kind in ("i", "t") and len(ref) == 2:
        return (kind, int_param("Composite", "reference", ref[1]))
    if kind == "c" and len(ref) == 3 and isinstance(ref[2], str):
        return ("c", dtype_param("Composite", "constant dtype", ref[1]), str.__str__(ref[2]))
    return ref


def _valid_ref(ref: Any, nin: int, step: int) -> bool:
    if not isinstance(ref, tuple) or not ref:
        return False
    if ref[0] == "i":
        return len(ref) == 2 and 0 <= ref[1] < nin
    if ref[0] == "t":
        return len(ref) == 2 and 0 <= ref[1] < step
    return ref[0] == "c" and len(ref) == 3 and isinstance(ref[2], str)


def _ref_dtype(ref: tuple, input_dtypes: Sequence[str], step_dtypes: Sequence[str]) -> str:
    if ref[0] == "i":
        return input_dtypes[ref[1]]
    if ref[0] == "t":
        return step_dtypes[ref[1]]
    return ref[1]


def constant_value(ref: tuple) -> np.ndarray:
    """The 0-d array a constant reference ``("c", dtype, text)`` stands for."""
    _, dtype, text = ref
    kind = np.dtype(dtype).kind
    value = (text == "True") if kind == "b" else int(text) if kind in "iu" else float(text)
    return np.asarray(value, dtype=dtype)


def _ref_variable(ref: tuple, inputs: Sequence[Variable], values: list) -> Variable:
    if ref[0] == "i":
        return inputs[ref[1]]
    if ref[0] == "t":
        return values[ref[1]]
    return constant(constant_value(ref), dtype=ref[1])


def constant_ref(var: Constant) -> tuple:
    """The program reference of a constant holding one element."""
    return ("c", var.dtype, repr(var.data.reshape(()).item()))


# --------------------------------------------------------------------------- building
def compose(inputs: Sequence[Variable], outputs: Sequence[Variable]) -> Composite:
    """The ``Composite`` computing ``outputs`` from ``inputs``.

    Every node between them must be an ``Elemwise`` or a ``Composite`` (whose program is
    inlined). Constants holding one element that are not among ``inputs`` become literals of
    the program; any other variable outside ``inputs`` is an error.
    """
    refs: dict[Variable, tuple] = {v: ("i", k) for k, v in enumerate(inputs)}
    steps: list[tuple] = []
    for node in toposort(list(outputs), list(inputs)):
        if _scalar_constant(node.outputs[0]) is not None:
            continue  # a constant padded to a rank: referenced as a literal
        if isinstance(node.op, Elemwise):
            args = tuple(_input_ref(v, refs) for v in node.inputs)
            steps.append((node.op.scalar_op, args))
            refs[node.outputs[0]] = ("t", len(steps) - 1)
        elif isinstance(node.op, Composite):
            _inline(node, refs, steps)
        else:
            raise ExprcTypeError(f"compose: {node.op} is not elementwise; only Elemwise and "
                                 "Composite nodes can be composed")
    return Composite(len(inputs), steps, [_output_step(o, refs, steps) for o in outputs])


def _input_ref(var: Variable, refs: dict) -> tuple:
    if var in refs:
        return refs[var]
    const = _scalar_constant(var)
    if const is not None:
        return constant_ref(const)
    raise ExprcTypeError(f"compose: {var} is neither one of the inputs nor a one-element "
                         "constant")


def _scalar_constant(var: Variable) -> Constant | None:
    """The one-element constant ``var`` is, possibly behind DimShuffles, or None."""
    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    return var if isinstance(var, Constant) and var.data.size == 1 else None


def _inline(node: Apply, refs: dict, steps: list) -> None:
    """Append ``node``'s program to ``steps``, renumbering its references."""
    outer = [_input_ref(v, refs) for v in node.inputs]
    offset = len(steps)
    for sop, args in node.op.steps:
        steps.append((sop, tuple(outer[r[1]] if r[0] == "i" else
                                 ("t", r[1] + offset) if r[0] == "t" else r for r in args)))
    for out, step in zip(node.outputs, node.op.outputs):
        refs[out] = ("t", step + offset)


def _output_step(var: Variable, refs: dict, steps: list) -> int:
    ref = refs[var] if var in refs else _input_ref(var, refs)
    if ref[0] != "t":
        # An output that is an input or a constant: copy it, so every output is a step.
        steps.append((SCALAR_OPS["identity"], (ref,)))
        return len(steps) - 1
    return ref[1]


# --------------------------------------------------------------------------- printing
# Binding strength of infix operators (Python's), for parenthesising only where needed.
_PRECEDENCE = {"**": 7, "*": 5, "/": 5, "//": 5, "%": 5, "+": 4, "-": 4, "&": 3, "^": 2,
               "|": 1, "==": 0, "!=": 0, "<": 0, ">": 0, "<=": 0, ">=": 0}
_ATOM, _UNARY = 9, 6


def render(op: Composite) -> str:
    """The program as formulas: ``exp(i0) * i1 + i2``; results used more than once are named
    ``t<step>`` and defined first (``t0 = i0 + i1; maximum(t0, 0.0), t0 >= 0.0``)."""
    uses = [0] * len(op.steps)
    for _, args in op.steps:
        for r in args:
            if r[0] == "t":
                uses[r[1]] += 1
    for o in op.outputs:
        uses[o] += 1
    texts: list[tuple[str, int]] = []
    lets = []
    for j, (sop, args) in enumerate(op.steps):
        text = _render_step(sop, [_render_ref(r, texts) for r in args])
        if uses[j] > 1:
            lets.append(f"t{j} = {text[0]}")
            text = (f"t{j}", _ATOM)
        texts.append(text)
    outs = ", ".join(texts[o][0] for o in op.outputs)
    return "; ".join(lets + [outs])


def _render_ref(ref: tuple, texts: list) -> tuple[str, int]:
    if ref[0] == "i":
        return f"i{ref[1]}", _ATOM
    if ref[0] == "t":
        return texts[ref[1]]
    return ref[2], (_UNARY if ref[2].startswith("-") else _ATOM)


def _render_step(sop: ScalarOp, args: list[tuple[str, int]]) -> tuple[str, int]:
    symbol = sop.symbol
    if symbol is not None and len(args) == 1:
        text, prec = args[0]
        return symbol + (f"({text})" if prec < _UNARY else text), _UNARY
    if symbol is not None and len(args) == 2:
        p = _PRECEDENCE[symbol]
        (left, lp), (right, rp) = args
        # Left-associative, except ** (right-associative); comparisons never chain.
        wrap_left = lp < p or (lp == p and (symbol == "**" or p == 0))
        wrap_right = rp < p or (rp == p and symbol != "**")
        left = f"({left})" if wrap_left else left
        right = f"({right})" if wrap_right else right
        return f"{left} {symbol} {right}", p
    return f"{sop}({', '.join(text for text, _ in args)})", _ATOM
