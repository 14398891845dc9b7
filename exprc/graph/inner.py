"""Inner graphs: the graph an op runs inside itself (a loop body, a branch, a reused subgraph).

An :class:`InnerGraph` is a graph from placeholder inputs to outputs that belongs to one op
(``Scan``, ``IfElse``, ``OpFromGraph``). It is closed: every ownerless variable it reads is one
of its ``inputs`` or a constant, so the op's outer inputs are the only way values get in.
Ops compare inner graphs by structure (:func:`exprc.graph.traversal.equal_computations`), so two
loops with the same body merge like any two equal nodes.

:func:`close_over` builds one from a function's result: the variables that do not depend on the
placeholders are cut off and become extra inputs (what Theano calls non-sequences found
automatically), which also moves loop-invariant work out of the body as it is built.
"""

from __future__ import annotations

from collections.abc import Sequence

from exprc.errors import ExprcError
from exprc.graph.ir import Constant, Variable
from exprc.graph.traversal import ancestors, clone, equal_computations, graph_inputs, toposort


class InnerGraph:
    """A closed graph from ``inputs`` to ``outputs``, owned by one op.

    Parameters
    ----------
    inputs : sequence of Variable
        Ownerless placeholders, each used only inside this graph.
    outputs : sequence of Variable

    Raises
    ------
    ExprcError
        When the outputs read an ownerless variable that is neither an input nor a constant.
    """

    def __init__(self, inputs: Sequence[Variable], outputs: Sequence[Variable]):
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        known = set(map(id, self.inputs))
        for var in graph_inputs(self.outputs, self.inputs):
            if id(var) not in known and not isinstance(var, Constant):
                raise ExprcError(f"internal error: an inner graph reads {var!r} ({var.type}), "
                                 "which is neither one of its inputs nor a constant")

    def clone(self) -> InnerGraph:
        """A copy with fresh placeholders and nodes (for rewriting it without touching the
        graph other ops hold)."""
        inputs, outputs = clone(self.inputs, self.outputs)
        return InnerGraph(inputs, outputs)

    def nodes(self) -> list:
        """The Apply nodes between inputs and outputs (any order)."""
        seen = []
        ids = set()
        for var in ancestors(self.outputs, self.inputs):
            node = var.owner
            if node is not None and id(node) not in ids and var not in self.inputs:
                ids.add(id(node))
                seen.append(node)
        return seen

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, InnerGraph):
            return NotImplemented
        return (self is other or (
            len(self.inputs) == len(other.inputs)
            and all(a.type == b.type for a, b in zip(self.inputs, other.inputs))
            and equal_computations(self.outputs, other.outputs, self.inputs, other.inputs)))

    def __hash__(self) -> int:
        return hash((len(self.inputs), tuple(v.type for v in self.inputs),
                     tuple(v.type for v in self.outputs)))

    def __repr__(self) -> str:
        return f"InnerGraph({len(self.inputs)} inputs -> {len(self.outputs)} outputs)"


def close_over(placeholders: Sequence[Variable], outputs: Sequence[Variable]
               ) -> tuple[list[Variable], list[Variable], list[Variable]]:
    """Cut the free variables off ``outputs``: what they read that does not depend on
    ``placeholders``.

    Returns
    -------
    outer : list of Variable
        The free variables, in a deterministic order (graph inputs, shared variables and
        computed values alike; constants stay inside).
    inner_inputs : list of Variable
        One fresh placeholder per free variable.
    inner_outputs : list of Variable
        ``outputs`` with each free variable replaced by its placeholder.
    """
    from exprc.graph.traversal import clone_replace

    placeholder_ids = set(map(id, placeholders))
    dependent: set[int] = set(placeholder_ids)
    nodes = toposort(outputs, placeholders)
    for node in nodes:
        if any(id(i) in dependent for i in node.inputs):
            dependent.update(id(o) for o in node.outputs if id(o) not in placeholder_ids)
    free: list[Variable] = []
    seen: set[int] = set()

    def cut(var: Variable) -> None:
        if id(var) in dependent or isinstance(var, Constant) or id(var) in seen:
            return
        seen.add(id(var))
        free.append(var)

    for node in nodes:
        if any(id(o) in dependent for o in node.outputs):
            for i in node.inputs:
                cut(i)
    for out in outputs:
        cut(out)
    inner = [v.type() for v in free]
    for v, p in zip(free, inner):
        p.name = v.name
    replaced = clone_replace(list(outputs), dict(zip(free, inner))) if free else list(outputs)
    return free, inner, replaced
