"""Control-flow transforms every compiled function gets, in every mode, before the pipeline.

- :func:`expand_inline` replaces each application of an ``OpFromGraph`` made with
  ``inline=True`` by a copy of its graph, so the rewrites see through it.
- :func:`sink_into_branches` makes ``ifelse`` lazy in substance: the user-facing builder gives
  an ``IfElse`` identity branches (its outer inputs are the branch values themselves), so the
  work computing them sits outside the node. This transform moves into each branch's inner
  graph every node whose value only that branch needs (all its clients, transitively, are
  inputs of that ``IfElse`` read by that branch alone; not the condition, not the other
  branch, not a graph output, not anything else), so that work runs only when the branch is
  taken. Work needed by both branches, or elsewhere, stays outside and runs once; outputs
  nobody reads are dropped from both branches, and a conditional on a constant is replaced
  by the branch it takes.

Both also work inside the inner graphs of ops holding them (the protocol
``op.inner_graphs()`` / ``op.with_inner_graphs(graphs)``), so an ``ifelse`` in a loop body, a
branch or an ``OpFromGraph`` is as lazy as one outside.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from exprc.graph.fgraph import OUTPUT, FunctionGraph
from exprc.graph.inner import InnerGraph
from exprc.graph.ir import Apply, Constant, Variable
from exprc.graph.traversal import ancestors, clone, clone_replace
from exprc.tensor.ifelse import IfElse
from exprc.tensor.opfromgraph import OpFromGraph

__all__ = ["expand_inline", "sink_into_branches"]


def _is_inline(node: Apply) -> bool:
    return isinstance(node.op, OpFromGraph) and node.op.inline


def _is_ifelse(node: Apply) -> bool:
    return isinstance(node.op, IfElse)


# ---------------------------------------------------------------------- inline OpFromGraph
def expand_inline(fgraph: FunctionGraph) -> bool:
    """Replace every inline ``OpFromGraph`` application (nested ones too) by a copy of its
    graph. Returns whether anything changed."""
    changed = False
    while True:
        found = [n for n in fgraph.toposort() if _is_inline(n)]
        if not found:
            break
        for node in found:
            if node in fgraph:
                fgraph.replace_all(zip(node.outputs, _tagged(node, node.op.expand(node.inputs))),
                                   "expand_inline")
        changed = True
    return _in_inner_graphs(fgraph, expand_inline, _is_inline) or changed


# ---------------------------------------------------------------------- sinking into branches
def sink_into_branches(fgraph: FunctionGraph) -> bool:
    """Move into each ``IfElse`` branch the work only that branch needs (see the module
    docstring). Returns whether anything changed."""
    changed = False
    for node in reversed(fgraph.toposort()):  # an IfElse before those its branches read
        if node in fgraph and _is_ifelse(node):
            changed = _sink(fgraph, node) or changed
    return _in_inner_graphs(fgraph, sink_into_branches, _is_ifelse) or changed


def _sink(fgraph: FunctionGraph, node: Apply) -> bool:
    op = node.op
    condition, outer = node.inputs[0], node.inputs[1:]
    if isinstance(condition, Constant):  # the branch taken is known: it replaces the node
        graph = op.inner_graphs()[0 if bool(condition.data) else 1]
        placeholders, outputs = clone(graph.inputs, graph.outputs)
        fgraph.replace_all(zip(node.outputs, clone_replace(outputs, dict(zip(placeholders,
                                                                            outer)))),
                           "sink_into_branches")
        return True
    # Outputs nobody reads are not computed in either branch.
    keep = [k for k, out in enumerate(node.outputs) if fgraph.clients.get(out)]
    graphs = [InnerGraph(g.inputs, [g.outputs[k] for k in keep]) for g in op.inner_graphs()]
    used = [_used_inputs(g) for g in graphs]
    order = {n: k for k, n in enumerate(fgraph.toposort())}
    sunk = [_sinkable(fgraph, node, used[b] - used[1 - b], order) for b in (0, 1)]
    unused = len(used[0] | used[1]) < len(outer) or len(keep) < len(node.outputs)
    if not (sunk[0] or sunk[1] or unused or len(set(map(id, outer))) < len(outer)):
        return False
    free: dict[int, Variable] = {}  # the new outer inputs, in a deterministic order
    for b in (0, 1):
        for i in sorted(used[b]):
            if outer[i].owner not in sunk[b]:
                free.setdefault(id(outer[i]), outer[i])
        for n in sorted(sunk[b], key=order.__getitem__):
            for v in n.inputs:
                if not isinstance(v, Constant) and v.owner not in sunk[b]:
                    free.setdefault(id(v), v)
    free_vars = list(free.values())
    new_graphs = [_rebuilt(g, sorted(used[b]), outer, free_vars) for b, g in enumerate(graphs)]
    new = op.with_inner_graphs(new_graphs).make_node(condition, *free_vars)
    kept = [node.outputs[k] for k in keep]
    for old_var, new_var in zip(kept, new.outputs):
        new_var.tag, new_var.name = old_var.tag, old_var.name
    fgraph.replace_all(zip(kept, new.outputs), "sink_into_branches")
    return True


def _used_inputs(graph: InnerGraph) -> set[int]:
    """The positions of the inputs ``graph``'s outputs read."""
    read = {id(v) for v in ancestors(graph.outputs)}
    return {i for i, p in enumerate(graph.inputs) if id(p) in read}


def _sinkable(fgraph: FunctionGraph, ifelse: Apply, exclusive: set[int],
              order: dict) -> set[Apply]:
    """The nodes whose every output is read only by the ``exclusive`` inputs of ``ifelse``
    (those only one branch reads) or by nodes of the result.

    The candidates are visited from the last in topological order back, so each node's
    clients are decided before it (a client that is never visited is outside the set).
    """
    heap: list[tuple[int, int, Apply]] = []
    seen: set[Apply] = set()

    def push(var: Variable) -> None:
        owner = var.owner
        if owner is not None and owner in fgraph and owner not in seen:
            seen.add(owner)
            heapq.heappush(heap, (-order[owner], id(owner), owner))

    for i in exclusive:
        push(ifelse.inputs[i + 1])
    result: set[Apply] = set()
    while heap:
        _, _, node = heapq.heappop(heap)
        if getattr(node.op, "destroy_map", None):
            continue
        if all(_private(client, i, ifelse, exclusive, result)
               for out in node.outputs for client, i in fgraph.clients.get(out, {})):
            result.add(node)
            for v in node.inputs:
                push(v)
    return result


def _private(client, i: int, ifelse: Apply, exclusive: set[int], result: set) -> bool:
    if client == OUTPUT:
        return False
    if client is ifelse:
        return i >= 1 and i - 1 in exclusive
    return client in result


def _rebuilt(graph: InnerGraph, used: list[int], outer: list[Variable],
             free: list[Variable]) -> InnerGraph:
    """``graph`` over placeholders for ``free``: the outer work between ``free`` and the
    inputs it reads, copied in."""
    placeholders = [v.type() for v in free]
    for v, p in zip(free, placeholders):
        p.name = v.name
    values = clone_replace([outer[i] for i in used], dict(zip(free, placeholders)))
    outputs = clone_replace(graph.outputs, {graph.inputs[i]: v for i, v in zip(used, values)})
    return InnerGraph(placeholders, outputs).clone()


def _tagged(node: Apply, outputs: list[Variable]) -> list[Variable]:
    """``outputs`` with the names and source lines of ``node``'s outputs (those made for the
    replacement: not an input passed through, nor a constant)."""
    for old, new in zip(node.outputs, outputs):
        if new.owner is None or any(new is v for v in node.inputs):
            continue
        new.tag = old.tag
        if new.name is None:
            new.name = old.name
    return outputs


# ---------------------------------------------------------------------- inner graphs
def _in_inner_graphs(fgraph: FunctionGraph, transform: Callable[[FunctionGraph], bool],
                     wanted: Callable[[Apply], bool]) -> bool:
    """Run ``transform`` on the inner graphs of every node holding some, where a node
    ``wanted`` is inside (at any depth); rebuild the nodes whose graphs changed."""
    changed = False
    for node in fgraph.toposort():
        if node not in fgraph or not hasattr(node.op, "inner_graphs"):
            continue
        graphs = node.op.inner_graphs()
        if not any(_holds(g, wanted) for g in graphs):
            continue
        new_graphs = []
        for graph in graphs:
            copy = graph.clone()
            inner = FunctionGraph(copy.inputs, copy.outputs, clone=False)
            new_graphs.append(InnerGraph(inner.inputs, inner.outputs) if transform(inner)
                              else graph)
        if any(a is not b for a, b in zip(new_graphs, graphs)):
            new = node.op.with_inner_graphs(new_graphs).make_node(*node.inputs)
            fgraph.replace_all(zip(node.outputs, _tagged(node, new.outputs)), "inner graphs")
            changed = True
    return changed


def _holds(graph: InnerGraph, wanted: Callable[[Apply], bool]) -> bool:
    """Whether a node of ``graph``, or of an inner graph inside it, is ``wanted``."""
    for node in graph.nodes():
        if wanted(node) or any(_holds(g, wanted)
                               for g in getattr(node.op, "inner_graphs", list)()):
            return True
    return False
