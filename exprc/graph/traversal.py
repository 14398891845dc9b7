"""Graph algorithms over the IR: ancestors, topological order, cloning, replacement, equality.

The dependency structure is handed to networkx for ordering, so the algorithms here are the
textbook ones; what this module adds is the mapping between the IR and a networkx DiGraph.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import networkx as nx

from exprc.graph.ir import Apply, Constant, Variable


def ancestors(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Variable]:
    """All variables ``outputs`` depend on (themselves included), stopping at ``blockers``.

    The order is depth-first discovery order, so it is deterministic.
    """
    blocked = set(map(id, blockers))
    seen: set[int] = set()
    order: list[Variable] = []
    stack = list(reversed(list(outputs)))
    while stack:
        var = stack.pop()
        if id(var) in seen:
            continue
        seen.add(id(var))
        order.append(var)
        if var.owner is not None and id(var) not in blocked:
            stack.extend(reversed(var.owner.inputs))
    return order


def graph_inputs(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Variable]:
    """The ownerless variables (inputs and constants) that ``outputs`` depend on."""
    blocked = set(map(id, blockers))
    return [v for v in ancestors(outputs, blockers) if v.owner is None or id(v) in blocked]


def dependency_graph(outputs: Sequence[Variable],
                     inputs: Iterable[Variable] = ()) -> nx.DiGraph:
    """A networkx DiGraph whose nodes are the Apply nodes between ``inputs`` and ``outputs``,
    with an edge ``a -> b`` when ``b`` reads an output of ``a``."""
    blocked = set(map(id, inputs))
    dag = nx.DiGraph()
    for var in ancestors(outputs, inputs):
        node = var.owner
        if node is None or id(var) in blocked:
            continue
        # A node is reached through each of its outputs, and may already be in the DiGraph
        # as the end of a consumer's edge; its own input edges are added once.
        if dag.nodes.get(node, {}).get("expanded"):
            continue
        dag.add_node(node, expanded=True)
        for inp in node.inputs:
            if inp.owner is not None and id(inp) not in blocked:
                dag.add_edge(inp.owner, node)
    return dag


def toposort(outputs: Sequence[Variable], inputs: Iterable[Variable] = ()) -> list[Apply]:
    """The Apply nodes computing ``outputs`` from ``inputs``, each after all its producers."""
    return list(nx.topological_sort(dependency_graph(outputs, inputs)))


def clone_replace(outputs: Sequence[Variable],
                  replace: Mapping[Variable, Variable] | None = None,
                  stop_at: Iterable[Variable] = ()) -> list[Variable]:
    """Copy the graph of ``outputs`` with the variables in ``replace`` substituted.

    Graph inputs that are not replaced, and the variables in ``stop_at``, are kept (not copied),
    so the result still depends on them. Every op is re-applied with ``make_node`` to its new
    inputs, so types are re-inferred and a replacement of the wrong type is reported by the
    consuming op.
    """
    memo: dict[int, Variable] = {id(k): v for k, v in (replace or {}).items()}
    frontier = list(replace or {}) + list(stop_at)
    for node in toposort(outputs, frontier):
        new_inputs = [memo.get(id(i), i) for i in node.inputs]
        if all(a is b for a, b in zip(new_inputs, node.inputs)):
            new_node = node
        else:
            new_node = node.clone_with_new_inputs(new_inputs)
        for old, new in zip(node.outputs, new_node.outputs):
            memo[id(old)] = new
    return [memo.get(id(o), o) for o in outputs]


def clone(inputs: Sequence[Variable], outputs: Sequence[Variable]
          ) -> tuple[list[Variable], list[Variable]]:
    """Copy the whole graph from ``inputs`` to ``outputs``; return the new inputs and outputs."""
    new_inputs = [i.clone() for i in inputs]
    new_outputs = clone_replace(outputs, dict(zip(inputs, new_inputs)))
    # clone_replace keeps nodes whose inputs did not change; force fresh nodes for a true copy.
    memo: dict[int, Variable] = {id(a): b for a, b in zip(inputs, new_inputs)}
    for node in toposort(new_outputs, new_inputs):
        new_node = Apply(node.op, [memo.get(id(i), i) for i in node.inputs],
                         [o.clone() for o in node.outputs])
        for old, new in zip(node.outputs, new_node.outputs):
            new.tag = old.tag
            memo[id(old)] = new
    return new_inputs, [memo.get(id(o), o) for o in new_outputs]


def equal_computations(xs: Sequence[Variable], ys: Sequence[Variable],
                       in_xs: Sequence[Variable] = (), in_ys: Sequence[Variable] = ()) -> bool:
    """True when ``xs`` and ``ys`` are computed by the same ops from corresponding inputs.

    ``in_xs[i]`` is taken to correspond to ``in_ys[i]``; other ownerless variables correspond
    only to themselves, and constants correspond when their type and value are equal.
    """
    if len(xs) != len(ys):
        return False
    pairs: dict[int, int] = {id(a): id(b) for a, b in zip(in_xs, in_ys)}

    def same(a: Variable, b: Variable) -> bool:
        if id(a) in pairs:
            return pairs[id(a)] == id(b)
        if isinstance(a, Constant) and isinstance(b, Constant):
            result = a.signature() == b.signature()
        elif a.owner is None or b.owner is None:
            result = a is b
        else:
            result = (a.index == b.index and a.owner.op == b.owner.op
                      and len(a.owner.inputs) == len(b.owner.inputs)
                      and a.type == b.type
                      and all(same(p, q) for p, q in zip(a.owner.inputs, b.owner.inputs)))
        if result:
            pairs[id(a)] = id(b)
        return result

    return all(same(a, b) for a, b in zip(xs, ys))
