"""The schedule of a whole-graph program, the same for every backend that emits one function.

A :class:`Schedule` fixes the order nodes run in (topological), names every value after its
position (``v0, v1, ...``: the graph inputs first, then the constants the nodes read, then the
nodes' outputs; never after a user's name), lists the constants passed as data after the
inputs, and says after which node each computed value is read for the last time, so that
generated code can release its buffer there and a later allocation can reuse it.
"""

from __future__ import annotations

from collections.abc import Sequence

from exprc.graph.ir import Apply, Constant, Variable
from exprc.graph.traversal import toposort


class Schedule:
    """Execution order, value names, constants and buffer lifetimes of a graph.

    Parameters
    ----------
    inputs, outputs : sequence of Variable
        The program's arguments and results.

    Attributes
    ----------
    nodes : list of Apply
        In execution order; a node's position is its index in error messages.
    constants : list of Constant
        The constants read by the nodes or returned, in the order they follow the inputs.
    internal : list of str
        Names of the values the nodes compute (the ones the program owns and releases).

    An op that runs graphs of its own (a loop body, a branch) lists them in its
    ``inner_graphs()``; each gets a schedule of its own, made by :meth:`inner`, whose names
    carry a prefix (``s3_v0``) so they cannot clash with the outer ones. Constants are passed
    to the program once, so the outer schedule collects those of every inner graph too, and
    inner schedules name them as the outer one does.
    """

    def __init__(self, inputs: Sequence[Variable], outputs: Sequence[Variable],
                 prefix: str = "", root: Schedule | None = None):
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.prefix = prefix
        self.root = root or self
        self.nodes: list[Apply] = toposort(self.outputs, self.inputs)
        self._names: dict[int, str] = {}
        self.constants: list[Constant] = []
        self.internal: list[str] = []
        for var in self.inputs:
            self._name(var)
        if root is None:
            for var in _constants_read(self.nodes, self.outputs):
                if id(var) not in self._names:
                    self.constants.append(var)
                    self._name(var)
        for node in self.nodes:
            for var in node.outputs:
                self._name(var, internal=True)

    def inner(self, inputs: Sequence[Variable], outputs: Sequence[Variable],
              prefix: str) -> Schedule:
        """The schedule of an inner graph, its names prefixed by ``prefix``."""
        return Schedule(inputs, outputs, prefix=prefix, root=self.root)

    def _name(self, var: Variable, internal: bool = False) -> None:
        if id(var) not in self._names:
            self._names[id(var)] = f"{self.prefix}v{len(self._names)}"
            if internal:
                self.internal.append(self._names[id(var)])

    def name(self, var: Variable) -> str:
        """The local name of ``var`` in generated code."""
        name = self._names.get(id(var))
        if name is None and isinstance(var, Constant) and self.root is not self:
            return self.root.name(var)
        if name is None:
            raise KeyError(f"internal error: {var!r} has no name in this schedule")
        return name

    def owns(self, var: Variable) -> bool:
        """Whether the program computed ``var`` (rather than received it or a constant)."""
        return self._names.get(id(var)) in self.internal

    @property
    def value_count(self) -> int:
        """How many values are named: inputs, constants and computed values."""
        return len(self._names)

    def released_after(self) -> dict[int, list[str]]:
        """Node index -> the names of the computed values it reads (or makes) for the last
        time; a program output is never released (it is handed to the caller)."""
        last: dict[int, int] = {}
        for k, node in enumerate(self.nodes):
            for var in node.outputs:
                last.setdefault(id(var), k)
            for var in node.inputs:
                last[id(var)] = k
        for var in self.outputs:
            last[id(var)] = len(self.nodes)
        released: dict[int, list[str]] = {}
        for node in self.nodes:
            for var in node.outputs:
                released.setdefault(last[id(var)], []).append(self.name(var))
        return released


def _constants_read(nodes: list[Apply], outputs: list[Variable]) -> list[Constant]:
    """The constants the nodes read or return, those of their inner graphs included."""
    found: list[Constant] = []
    for node in nodes:
        found += [v for v in node.inputs if isinstance(v, Constant)]
        for inner in getattr(node.op, "inner_graphs", list)():
            found += _constants_read(toposort(inner.outputs, inner.inputs), inner.outputs)
    return found + [v for v in outputs if isinstance(v, Constant)]
