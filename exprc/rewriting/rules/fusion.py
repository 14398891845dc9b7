"""Elementwise fusion: connected groups of ``Elemwise`` nodes become one ``Composite``.

A backend runs a ``Composite`` as one loop, so fusing saves one pass over memory and one
temporary array per fused op. A composite computes exactly what its ``Elemwise`` nodes did
(each output has the broadcast shape of the inputs it depends on), so what may join a group
is decided by work and by the graph's structure, not by correctness:

- every output of every member has the static shape of the group's first node. A value of a
  smaller static shape (a bias row ``(1, ?)``, a scalar) stays a boundary input: fusing it
  would recompute it for every row. Unknown sizes count as equal (a chain of elementwise ops
  over ``(?, ?)`` operands), as Theano's fusion did; only an operand that turns out to be
  broadcast at run time is then recomputed per element;
- a value read by two consumers is computed once: either both consumers join the group (the
  value becomes internal, or an output of the composite), or it stays a boundary;
- the group stays convex (no path leaves it and comes back), so that contracting it to one
  node keeps the graph acyclic: a producer joins only if all its readers are members, and a
  consumer only if its other inputs cannot depend on the group;
- a composite reads at most :data:`MAX_INPUTS` inputs and has at most :data:`MAX_OPERANDS`
  inputs and outputs together (what a backend's loop takes); a larger group is cut, in
  topological order, into several composites.

One-element constants become literals of the composite's program instead of inputs. Growing a
group visits each node once per neighbour that joins, so the pass is linear in graph size.
"""

from __future__ import annotations

from collections import deque

from exprc.graph.fgraph import OUTPUT, FunctionGraph
from exprc.graph.ir import Apply, Variable
from exprc.rewriting.engine import node_rule
from exprc.tensor.composite import Composite, _scalar_constant, compose
from exprc.tensor.elemwise import DimShuffle, Elemwise

#: Most inputs one composite may read (a C kernel's argument list stays small).
MAX_INPUTS = 32

#: Most inputs and outputs of one composite together: the operands the C backend's loop driver
#: takes (``EXPRC_ELEMWISE_MAX_OPERANDS`` in ``csrc/exprc_elemwise.h``).
MAX_OPERANDS = 64


# --------------------------------------------------------------------------- groups
def _fusable(node: Apply) -> bool:
    return isinstance(node.op, (Elemwise, Composite))


class _Group:
    """A convex set of elementwise nodes whose outputs all have one shape."""

    def __init__(self, fgraph: FunctionGraph, seed: Apply):
        self.fgraph, self.seed = fgraph, seed
        self.shape = seed.outputs[0].type.shape
        self.members: set[Apply] = {seed}
        self.reads: set[Variable] = set(seed.inputs)

    def grow(self) -> None:
        """Add neighbours while they qualify; each node is checked once per added neighbour."""
        queue = deque(self._neighbours(self.seed))
        while queue:
            node = queue.popleft()
            if node in self.members or not self._fits(node):
                continue
            if not (self._is_enclosed_producer(node) or self._is_independent_consumer(node)):
                continue
            self.members.add(node)
            self.reads.update(node.inputs)
            queue.extend(self._neighbours(node))

    def _neighbours(self, node: Apply) -> list[Apply]:
        producers = [i.owner for i in node.inputs if i.owner is not None]
        return producers + [c for o in node.outputs for c in self.fgraph.client_nodes(o)]

    def _fits(self, node: Apply) -> bool:
        return (node in self.fgraph and _fusable(node)
                and all(o.type.shape == self.shape for o in node.outputs))

    def _is_enclosed_producer(self, node: Apply) -> bool:
        """Every reader of ``node`` is a member: adding it cannot create a cycle."""
        return all(client != OUTPUT and client in self.members
                   for o in node.outputs for client, _ in self.fgraph.clients[o])

    def _is_independent_consumer(self, node: Apply) -> bool:
        """``node`` reads a member, and its other inputs cannot depend on the group."""
        from_group = [i for i in node.inputs if i.owner in self.members]
        return bool(from_group) and all(
            i.owner in self.members or self._independent(i) for i in node.inputs)

    def _independent(self, var: Variable) -> bool:
        # Graph inputs, constants and what the group already reads (which cannot depend on a
        # convex group), possibly behind a DimShuffle.
        while var.owner is not None and isinstance(var.owner.op, DimShuffle) \
                and var not in self.reads:
            var = var.owner.inputs[0]
        return var.owner is None or var in self.reads

    def ordered(self) -> list[Apply]:
        """The members in topological order (Kahn's algorithm over the group's edges)."""
        waiting = {n: sum(1 for i in n.inputs if i.owner in self.members) for n in self.members}
        ready = sorted((n for n, k in waiting.items() if k == 0), key=_creation_order)
        order = []
        while ready:
            node = ready.pop()
            order.append(node)
            for o in node.outputs:
                for client in self.fgraph.client_nodes(o):
                    if client in waiting:
                        waiting[client] -= 1
                        if waiting[client] == 0:
                            ready.append(client)
        return order


def _creation_order(node: Apply) -> int:
    return -int(node.outputs[0].auto_name[1:])


def _external_reads(nodes: list[Apply], inside: set[Apply]) -> list[Variable]:
    """The inputs of ``nodes`` computed outside ``inside``, without literal constants."""
    reads: dict[Variable, None] = {}
    for node in nodes:
        for i in node.inputs:
            if i.owner not in inside and _scalar_constant(i) is None:
                reads.setdefault(i)
    return list(reads)


def _cut(fgraph: FunctionGraph, order: list[Apply]) -> list[list[Apply]]:
    """Consecutive pieces of a topological order, each reading at most MAX_INPUTS inputs and
    with at most MAX_OPERANDS inputs and outputs together.

    Edges only go forward between pieces of a topological order, so the pieces stay acyclic.
    """
    pieces: list[list[Apply]] = [[]]
    members: set[Apply] = set()
    reads: set[Variable] = set()
    leaving: set[Variable] = set()  # outputs of the piece read outside it (so far)

    def leaves(var: Variable, inside: set[Apply]) -> bool:
        return any(c == OUTPUT or c not in inside for c, _ in fgraph.clients[var])

    for node in order:
        # In topological order a node's outputs are not read by earlier nodes of its piece.
        extra = {i for i in node.inputs if i.owner not in members and _scalar_constant(i) is None}
        joined = members | {node}
        still = {v for v in leaving if leaves(v, joined)} | \
            {o for o in node.outputs if leaves(o, joined)}
        if pieces[-1] and (len(reads | extra) > MAX_INPUTS
                           or len(reads | extra) + len(still) > MAX_OPERANDS):
            pieces.append([])
            members, reads = set(), set()
            extra = {i for i in node.inputs if _scalar_constant(i) is None}
            joined = {node}
            still = {o for o in node.outputs if leaves(o, joined)}
        pieces[-1].append(node)
        members, reads, leaving = joined, reads | extra, still
    return pieces


@node_rule("fusion", "elemwise_fusion", tracks=[Elemwise, Composite])
def fuse_elementwise(fgraph: FunctionGraph, node: Apply):
    """Replace the group of elementwise nodes around ``node`` by composites."""
    group = _Group(fgraph, node)
    group.grow()
    if len(group.members) < 2:
        return None
    pieces = _cut(fgraph, group.ordered())
    if len(pieces) == len(group.members):
        return None  # nothing to merge (the group was cut back into its members)
    new: dict[Variable, Variable] = {}
    for piece in pieces:
        members = set(piece)
        inputs = _external_reads(piece, members)
        outputs = [o for n in piece for o in n.outputs
                   if any(c == OUTPUT or c not in members for c, _ in fgraph.clients[o])]
        if len(piece) == 1 or not inputs:
            continue  # a lone node stays as it is
        fused = compose(inputs, outputs)(*[new.get(i, i) for i in inputs])
        new.update(zip(outputs, fused if isinstance(fused, list) else [fused]))
    return new or None
