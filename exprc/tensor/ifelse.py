"""The lazy conditional: :class:`IfElse` computes one of two branches, never both.

``ifelse(condition, then_branch, else_branch)`` returns the values of ``then_branch`` when the
0-d ``condition`` is true (non-zero) and those of ``else_branch`` otherwise. Unlike ``switch``,
which is elementwise and evaluates both sides, the branch not taken is not computed, in every
mode.

The op holds two closed graphs (:class:`~exprc.graph.inner.InnerGraph`), one per branch, over
one list of outer inputs (after the condition); each graph reads what it needs of them. The
user-facing :func:`ifelse` builds it with identity graphs (the outer inputs are the branch
values themselves, as in Theano); before rewriting, every compiled function moves into each
branch's graph the work only that branch needs
(:func:`exprc.rewriting.rules.branches.sink_into_branches`), so that work runs only when its
branch is taken, while work both branches (or anything else) need stays outside and runs once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from exprc.errors import ExprcTypeError, ExprcValueError, build_error
from exprc.graph.inner import InnerGraph
from exprc.graph.ir import Apply, Constant, Op, Variable
from exprc.tensor.type import INTEGER_DTYPES, TensorType
from exprc.tensor.variable import TensorVariable, as_tensor_variable, constant

__all__ = ["IfElse", "ifelse"]


class IfElse(Op):
    """Run ``then_graph`` when input 0 is true (non-zero), else ``else_graph``.

    Parameters
    ----------
    then_graph, else_graph : InnerGraph
        Over the same inputs (one placeholder per outer input after the condition, of the
        outer input's type), with as many outputs, pairwise of the same dtype and rank.
    name : str, optional
        How errors and printed graphs name the conditional (``IfElse{name}``).
    """

    __props__ = ("name",)

    def __init__(self, then_graph: InnerGraph, else_graph: InnerGraph, name: str | None = None):
        self.then_graph = then_graph
        self.else_graph = else_graph
        self.name = str.__str__(name) if isinstance(name, str) else ""
        a, b = then_graph, else_graph
        if len(a.inputs) != len(b.inputs) or any(
                p.type != q.type for p, q in zip(a.inputs, b.inputs)):
            raise ExprcTypeError(f"internal error: {self}: the two branches' graphs read "
                                 "different inputs")
        if len(a.outputs) != len(b.outputs):
            raise ExprcTypeError(f"internal error: {self}: the branches' graphs have "
                                 f"{len(a.outputs)} and {len(b.outputs)} outputs")
        for k, (t, e) in enumerate(zip(a.outputs, b.outputs)):
            _check_pair(self, k, t, e)

    # ------------------------------------------------------------------ inner-graph protocol
    def inner_graphs(self) -> list[InnerGraph]:
        """The graphs this op runs itself: ``[then_graph, else_graph]``."""
        return [self.then_graph, self.else_graph]

    def with_inner_graphs(self, graphs: Sequence[InnerGraph]) -> IfElse:
        """The same conditional running ``graphs`` instead (rewritten copies of its own)."""
        then_graph, else_graph = graphs
        return IfElse(then_graph, else_graph, name=self.name)

    def __eq__(self, other: object) -> bool:
        return (type(self) is type(other) and self._props() == other._props()
                and self.then_graph == other.then_graph and self.else_graph == other.else_graph)

    def __hash__(self) -> int:
        return hash((type(self), self._props(), hash(self.then_graph), hash(self.else_graph)))

    def __str__(self) -> str:
        return f"IfElse{{{self.name}}}"

    __repr__ = __str__

    @property
    def n_outputs(self) -> int:
        return len(self.then_graph.outputs)

    def make_node(self, condition: Any, *outer: Any) -> Apply:
        condition = _condition(self, condition)
        outer = [as_tensor_variable(v) for v in outer]
        placeholders = self.then_graph.inputs
        if len(outer) != len(placeholders):
            raise build_error(ExprcTypeError, self, f"takes {len(placeholders)} inputs after "
                              f"the condition, got {len(outer)}")
        for k, (v, p) in enumerate(zip(outer, placeholders)):
            if not _fits(v.type, p.type):
                raise build_error(ExprcTypeError, self, f"input {k + 1} ({v}) is {v.type}, but "
                                  f"the branches read it as {p.type}")
        outputs = [_joined_type(t.type, e.type)()
                   for t, e in zip(self.then_graph.outputs, self.else_graph.outputs)]
        return Apply(self, [condition, *outer], outputs)


def _fits(given: TensorType, wanted: TensorType) -> bool:
    """Whether a value of type ``given`` may stand for a placeholder of type ``wanted``: the
    same dtype and rank, and no known size that differs (a rewrite may replace an input by
    a variable knowing fewer sizes)."""
    return (given.dtype == wanted.dtype and given.ndim == wanted.ndim
            and all(w is None or g is None or g == w for g, w in zip(given.shape, wanted.shape)))


def _joined_type(a: TensorType, b: TensorType) -> TensorType:
    """The type of a value that is either of type ``a`` or of type ``b``: the sizes both know
    and agree on stay known."""
    return TensorType(a.dtype, shape=[x if x == y else None for x, y in zip(a.shape, b.shape)])


def _condition(owner: Any, condition: Any) -> TensorVariable:
    condition = as_tensor_variable(condition)
    if condition.ndim != 0:
        raise build_error(ExprcTypeError, owner, f"the condition must be a 0-d (scalar) tensor, "
                          f"got {condition} of type {condition.type}")
    if condition.dtype not in (*INTEGER_DTYPES, "bool"):
        raise build_error(ExprcTypeError, owner, f"the condition must be a bool or integer "
                          f"scalar, got {condition} of type {condition.type} (compare it: "
                          "T.neq(c, 0), T.gt(c, 0))")
    return condition


def _check_pair(owner: Any, k: int, then_value: Variable, else_value: Variable) -> None:
    """Refuse a then/else pair of different dtypes or ranks, naming both."""
    a, b = then_value.type, else_value.type
    if a.dtype != b.dtype or a.ndim != b.ndim:
        what = "dtypes" if a.dtype != b.dtype else "ranks"
        hint = (f" (cast one of them, e.g. T.cast(..., {a.dtype!r}))" if a.dtype != b.dtype
                else "")
        raise build_error(ExprcTypeError, owner, f"branch value {k} has different {what} in "
                          f"the two branches: then {then_value} is {a}, else {else_value} is "
                          f"{b}; both branches must give values of the same dtype and rank"
                          + hint)


# ---------------------------------------------------------------------- the builder
def ifelse(condition: Any, then_branch: Any, else_branch: Any, name: str | None = None):
    """``then_branch`` if ``condition`` is true (non-zero), else ``else_branch``; lazily.

    Parameters
    ----------
    condition : 0-d bool or integer tensor
    then_branch, else_branch : tensor variable, or list of them
        Of equal lengths; each pair of the same dtype and rank. A Python number on one side
        takes the dtype of the other side's value.
    name : str, optional
        Shown in printed graphs and errors (``IfElse{name}``).

    Returns
    -------
    Variable, or a list of Variable when the branches are lists
        Each value's static sizes are those the two branches agree on.

    Notes
    -----
    Only the branch taken is computed, in every mode (the reference executor and compiled
    C): the work only a branch needs runs inside it, the work the two branches share (or that
    anything else needs) once, before the choice. ``switch`` is the elementwise,
    evaluate-both-sides choice.

    Examples
    --------
    >>> import exprc, exprc.tensor as T
    >>> from exprc.ifelse import ifelse
    >>> c = T.bscalar('c'); x = T.dvector('x')
    >>> f = exprc.function([c, x], ifelse(c, x[10], x.sum()))
    >>> float(f(0, [1.0, 2.0, 3.0]))     # x[10] is not computed
    6.0
    """
    single = not isinstance(then_branch, (list, tuple))
    if single != (not isinstance(else_branch, (list, tuple))):
        raise build_error(ExprcTypeError, "ifelse", "one branch is a list and the other is not "
                          f"(then: {type(then_branch).__name__}, else: "
                          f"{type(else_branch).__name__}); give both as lists or both as "
                          "single values")
    thens = [then_branch] if single else list(then_branch)
    elses = [else_branch] if single else list(else_branch)
    if len(thens) != len(elses):
        raise build_error(ExprcValueError, "ifelse", f"the then branch has {len(thens)} values "
                          f"and the else branch {len(elses)}; they must have as many")
    if not thens:
        raise build_error(ExprcValueError, "ifelse", "the branches hold no values")
    pairs = [_as_pair(k, t, e) for k, (t, e) in enumerate(zip(thens, elses))]
    label = f"ifelse {name!r}" if name else "ifelse"
    condition = _condition(label, condition)
    for k, (t, e) in enumerate(pairs):
        _check_pair(label, k, t, e)
    outer = list(dict.fromkeys(v for pair in pairs for v in pair
                               if not isinstance(v, Constant)))
    then_graph = identity_graph(outer, [t for t, _ in pairs])
    else_graph = identity_graph(outer, [e for _, e in pairs])
    outputs = IfElse(then_graph, else_graph, name=name)(condition, *outer)
    outputs = [outputs] if isinstance(outputs, Variable) else outputs
    for out, (t, e) in zip(outputs, pairs):
        if t.name and t.name == e.name:
            out.name = t.name
    return outputs[0] if single else outputs


def identity_graph(outer: Sequence[Variable], values: Sequence[Variable]) -> InnerGraph:
    """An inner graph over placeholders for ``outer`` returning ``values`` (each one of
    ``outer`` or a constant) as they are."""
    placeholders = [v.type() for v in outer]
    for v, p in zip(outer, placeholders):
        p.name = v.name
    index = {id(v): p for v, p in zip(outer, placeholders)}
    return InnerGraph(placeholders, [index.get(id(v), v) for v in values])


def _as_pair(k: int, then_value: Any, else_value: Any) -> tuple[TensorVariable, TensorVariable]:
    """Both values as tensor variables; a Python or NumPy number on one side takes the dtype
    of a variable on the other (weak scalars, as in arithmetic)."""
    if isinstance(then_value, Variable) and _is_number(else_value):
        return as_tensor_variable(then_value), _weak(k, else_value, then_value, "else")
    if isinstance(else_value, Variable) and _is_number(then_value):
        return _weak(k, then_value, else_value, "then"), as_tensor_variable(else_value)
    return as_tensor_variable(then_value), as_tensor_variable(else_value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, bool, np.number, np.bool_)) or (
        isinstance(value, np.ndarray) and value.ndim == 0)


def _weak(k: int, value: Any, other: Any, side: str) -> TensorVariable:
    other = as_tensor_variable(other)
    try:
        result = constant(value, dtype=other.dtype)
    except ExprcTypeError:
        result = None
    if result is None or (np.asarray(value).dtype.kind == "f" and other.dtype not in
                          ("float16", "float32", "float64")):
        raise build_error(ExprcTypeError, "ifelse", f"branch value {k}: the {side} branch's "
                          f"{value!r} does not fit in the other branch's dtype {other.dtype} "
                          f"({other})")
    return result
