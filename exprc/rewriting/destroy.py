"""The safety checker for in-place rewrites.

An op may overwrite an input (``destroy_map = {output: [input]}``) only when nothing else
can read that memory afterwards. Memory is shared between a variable and its *views*: outputs
that alias an input without copying (declared by the op's ``view_map``), and outputs of ops
that overwrote an input in place (its ``destroy_map``). The set of variables sharing memory
with the destroyed one is its *alias family*.

The rule is deliberately conservative and cheap (no reasoning about execution order): a node
may destroy input ``i`` only if

- the node reads the family exactly once, at input ``i`` (so ``x + x`` and ``x + x.T`` are not
  candidates), and no other node and no graph output reads any member of the family, except
  the view and in-place nodes that connect the family's members;
- no member is a graph input (function arguments and shared values belong to the caller and
  to the shared state) or a constant;
- the input can hold the result: same dtype, and no static size that differs from the
  output's or that could broadcast (a size-1 axis where the output's is not known to be 1).
  Sizes known only at run time are checked by the executor, which falls back to a fresh array.

A family larger than :data:`MAX_FAMILY` is refused, so one check costs a bounded time and the
``inplace`` pass stays linear in the graph size (a long chain of in-place ops restarts with a
fresh buffer now and then).
"""

from __future__ import annotations

from exprc.graph.fgraph import OUTPUT, FunctionGraph
from exprc.graph.ir import Apply, Op, Variable

#: Largest alias family the checker examines; larger ones are refused.
MAX_FAMILY = 16


def _aliased_inputs(op: Op, output_index: int) -> list[int]:
    """Inputs whose memory output ``output_index`` of ``op`` may share."""
    return [*op.view_map.get(output_index, []), *op.destroy_map.get(output_index, [])]


def _view_outputs(op: Op, input_index: int) -> list[int]:
    """Outputs of ``op`` that may be views of input ``input_index``."""
    return [o for o, ins in op.view_map.items() if input_index in ins]


def alias_family(fgraph: FunctionGraph, var: Variable) -> set[Variable] | None:
    """The variables that may share memory with ``var`` (``var`` included), or None when
    there are more than :data:`MAX_FAMILY`.

    Walks up from each member to what it aliases (views and in-place results), and down to the
    views taken of it; not down through other in-place nodes, whose reads are conflicts.
    """
    family, stack = {var}, [var]
    while stack:
        member = stack.pop()
        related = []
        node = member.owner
        if node is not None and node in fgraph:
            related += [node.inputs[i] for i in _aliased_inputs(node.op, member.index)]
        for client, i in fgraph.clients.get(member, []):
            if client != OUTPUT:
                related += [client.outputs[o] for o in _view_outputs(client.op, i)]
        for other in related:
            if other not in family:
                family.add(other)
                stack.append(other)
        if len(family) > MAX_FAMILY:
            return None
    return family


def destroy_refusal(fgraph: FunctionGraph, node: Apply, input_index: int,
                    output_index: int = 0) -> str | None:
    """Why ``node`` may not overwrite input ``input_index`` with output ``output_index``, or
    None when it may.

    ``node`` may already be in-place (to validate a rewritten graph) or not yet (to decide).
    """
    target, out = node.inputs[input_index], node.outputs[output_index]
    shape_problem = _shape_refusal(target, out)
    if shape_problem:
        return shape_problem
    family = alias_family(fgraph, target)
    if family is None:
        return f"{target} shares memory with more than {MAX_FAMILY} variables"
    for member in family:
        if member.owner is None or member.owner not in fgraph:
            return f"{target} is (a view of) the graph input or constant {member}"
    readers = [(client, i) for member in family for client, i in fgraph.clients[member]
               if not _links_family(client, i, family)]
    others = [(c, i) for c, i in readers if (c, i) != (node, input_index)]
    if others:
        client, i = others[0]
        what = "a graph output" if client == OUTPUT else f"{client.op} (input {i})"
        return f"{target} (or a variable sharing its memory) is also read by {what}"
    if len(readers) != 1:
        return f"{node.op} does not read {target} at input {input_index}"
    return None


def _links_family(client, input_index: int, family: set[Variable]) -> bool:
    """Whether the edge ``(client, input_index)`` connects two members of the family (a view
    or in-place node whose aliasing output is a member), rather than reading it."""
    if client == OUTPUT:
        return False
    return any(client.outputs[o] in family
               for o in range(len(client.outputs))
               if input_index in _aliased_inputs(client.op, o))


def _shape_refusal(target: Variable, out: Variable) -> str | None:
    """Why ``target`` cannot statically be known to hold ``out``'s value, or None."""
    tt, ot = target.type, out.type
    if tt.dtype != ot.dtype or tt.ndim != ot.ndim:
        return f"{target} of type {tt} cannot hold a result of type {ot}"
    for axis, (ts, os) in enumerate(zip(tt.shape, ot.shape)):
        if (ts is not None and os is not None and ts != os) or (ts == 1 and os != 1):
            return (f"{target} of type {tt} is (or may be) broadcast on axis {axis} to the "
                    f"result's type {ot}")
    return None


def can_destroy(fgraph: FunctionGraph, node: Apply, input_index: int,
                output_index: int = 0) -> bool:
    """Whether ``node`` may overwrite input ``input_index`` (see :func:`destroy_refusal`)."""
    return destroy_refusal(fgraph, node, input_index, output_index) is None


def check_destroyers(fgraph: FunctionGraph) -> list[str]:
    """The problems with every in-place node of ``fgraph`` (empty when the graph is safe)."""
    problems = []
    for node in fgraph.apply_nodes:
        for o, inputs in node.op.destroy_map.items():
            for i in inputs:
                why = destroy_refusal(fgraph, node, i, o)
                if why:
                    problems.append(f"{node.op}: {why}")
    return problems
