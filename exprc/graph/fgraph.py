"""``FunctionGraph``: a private, mutable copy of a graph that rewrites edit in place.

A FunctionGraph owns copies of the Apply nodes between its inputs and outputs, so rewriting it
never touches the graphs users built. It keeps, for every variable, its clients (an ordered
dict whose keys are ``(node, input index)`` pairs, or ``("output", i)`` for graph outputs, so
adding and removing one costs O(1) even for a constant read everywhere), which is what lets a
rewrite replace a variable everywhere in time proportional to its number of uses, and lets
dead nodes be dropped as soon as their last client goes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from exprc.errors import ExprcError
from exprc.graph.ir import Apply, Variable
from exprc.graph.traversal import toposort

OUTPUT = "output"


class FunctionGraph:
    """A graph from ``inputs`` to ``outputs`` that rewrites may modify.

    Parameters
    ----------
    inputs : list of Variable
        Variables given at run time (including shared variables); kept as they are.
    outputs : list of Variable
    clone : bool
        Copy every Apply node (default). False is only for graphs nobody else holds.
    """

    def __init__(self, inputs: Sequence[Variable], outputs: Sequence[Variable],
                 clone: bool = True):
        self.inputs = list(inputs)
        if clone:
            outputs = _copy_nodes(self.inputs, outputs)
        self.outputs = list(outputs)
        self.clients: dict[Variable, dict] = {}
        self.apply_nodes: set[Apply] = set()
        self._listeners: list = []
        for v in self.inputs:
            self.clients.setdefault(v, {})
        for node in toposort(self.outputs, self.inputs):
            self._import_node(node)
        for i, out in enumerate(self.outputs):
            self._import_variable(out)
            self.clients[out][(OUTPUT, i)] = None

    # ------------------------------------------------------------------ queries
    def toposort(self) -> list[Apply]:
        """The nodes in an order where each comes after the producers of its inputs.

        A depth-first post-order from the outputs, in input order, so it is deterministic. The
        passes call this once each, so it is written as a linear walk over the nodes rather
        than by building a networkx graph every time (that cost dominated large compiles).
        """
        order: list[Apply] = []
        done: set[Apply] = set()
        for out in self.outputs:
            if out.owner is None or out.owner in done:
                continue
            stack = [(out.owner, iter(out.owner.inputs))]
            done.add(out.owner)
            while stack:
                node, pending = stack[-1]
                for inp in pending:
                    producer = inp.owner
                    if producer is not None and producer not in done \
                            and producer in self.apply_nodes:
                        done.add(producer)
                        stack.append((producer, iter(producer.inputs)))
                        break
                else:
                    stack.pop()
                    order.append(node)
        return order

    def client_nodes(self, var: Variable) -> list[Apply]:
        """The nodes reading ``var`` (graph outputs excluded)."""
        return [c for c, _ in self.clients.get(var, []) if c != OUTPUT]

    def is_output(self, var: Variable) -> bool:
        return any(c == OUTPUT for c, _ in self.clients.get(var, []))

    def __contains__(self, node: Apply) -> bool:
        return node in self.apply_nodes

    # ------------------------------------------------------------------ edits
    def replace(self, old: Variable, new: Variable, reason: str = "") -> None:
        """Make every reader of ``old`` read ``new`` instead; drop what becomes dead.

        ``new`` must have the dtype and rank of ``old``, and must not contradict a static size
        ``old`` had; it may know fewer sizes.
        """
        if old is new:
            return
        check_compatible(old, new, reason)
        if old not in self.clients:
            raise ExprcError(f"replace ({reason}): {old} is not in this graph")
        self._import_variable(new)
        for client, i in list(self.clients[old]):
            if client == OUTPUT:
                self.outputs[i] = new
            else:
                client.inputs[i] = new
            self.clients[new][(client, i)] = None
        self.clients[old] = {}
        for listener in self._listeners:
            listener(old, new, reason)
        self._prune(old)

    def replace_all(self, pairs: Iterable[tuple[Variable, Variable]], reason: str = "") -> None:
        """:meth:`replace` for each pair. Replacing every output of a node works even when
        some output is unused: once the others are replaced the node is dropped, and its
        unused outputs with it, so those are skipped rather than reported missing."""
        pairs = list(pairs)
        present = {id(old) for old, _ in pairs if old in self.clients}
        for old, new in pairs:
            if old not in self.clients and id(old) in present:
                continue  # dropped, unused, with its node by an earlier pair
            self.replace(old, new, reason)

    def add_listener(self, fn) -> None:
        """Call ``fn(old, new, reason)`` after every replacement (used by the rewrite log)."""
        self._listeners.append(fn)

    # ------------------------------------------------------------------ internals
    def _import_variable(self, var: Variable) -> None:
        """Add ``var`` and the nodes computing it that are not in the graph yet.

        A depth-first walk that stops at variables already present, so importing a small
        replacement costs time proportional to its size, not to the graph's.
        """
        if var in self.clients:
            return
        if var.owner is None:
            self.clients[var] = {}
            return
        stack = [(var.owner, iter(var.owner.inputs))]
        visiting = {var.owner}
        while stack:
            node, pending = stack[-1]
            for inp in pending:
                producer = inp.owner
                if (inp not in self.clients and producer is not None
                        and producer not in visiting and producer not in self.apply_nodes):
                    visiting.add(producer)
                    stack.append((producer, iter(producer.inputs)))
                    break
            else:
                stack.pop()
                self._import_node(node)

    def _import_node(self, node: Apply) -> None:
        self.apply_nodes.add(node)
        for i, inp in enumerate(node.inputs):
            if inp not in self.clients:
                self._import_variable(inp)
            self.clients[inp][(node, i)] = None
        for out in node.outputs:
            self.clients.setdefault(out, {})

    def _prune(self, var: Variable) -> None:
        """Remove ``var``'s producer (and its producers, recursively) once unused."""
        stack = [var]
        while stack:
            v = stack.pop()
            node = v.owner
            if node is None or node not in self.apply_nodes:
                continue
            if any(self.clients.get(o) for o in node.outputs):
                continue
            self.apply_nodes.discard(node)
            for o in node.outputs:
                self.clients.pop(o, None)
            for i, inp in enumerate(node.inputs):
                users = self.clients.get(inp)
                if users is not None:
                    users.pop((node, i), None)
                    if not users and inp not in self.inputs:
                        stack.append(inp)


def check_compatible(old: Variable, new: Variable, reason: str) -> None:
    ot, nt = old.type, new.type
    if getattr(ot, "dtype", None) != getattr(nt, "dtype", None) or ot.ndim != nt.ndim:
        raise ExprcError(f"rewrite {reason!r} would replace {old} of type {ot} by {new} of "
                         f"type {nt}")
    for a, b in zip(ot.shape, nt.shape):
        if a is not None and b is not None and a != b:
            raise ExprcError(f"rewrite {reason!r} would replace {old} of type {ot} by {new} "
                             f"of type {nt}")


def _copy_nodes(inputs: Sequence[Variable], outputs: Sequence[Variable]) -> list[Variable]:
    """Copies of the nodes computing ``outputs``; ownerless variables are kept."""
    memo: dict[int, Variable] = {}
    for node in toposort(outputs, inputs):
        new_inputs = [memo.get(id(i), i) for i in node.inputs]
        new_outputs = [o.clone() for o in node.outputs]
        for old, new in zip(node.outputs, new_outputs):
            new.tag = old.tag
            memo[id(old)] = new
        Apply(node.op, new_inputs, new_outputs)
    return [memo.get(id(o), o) for o in outputs]
