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
    """

    def __init__(self, inputs: Sequence[Variable], outputs: Sequence[Variable]):
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.nodes: list[Apply] = toposort(self.outputs, self.inputs)
        self._names: dict[int, str] = {}
        self.constants: list[Constant] = []
        self.internal: list[str] = []
        for var in self.inputs:
            self._name(var)
        for var in [i for node in self.nodes for i in node.inputs] + self.outputs:
            if isinstance(var, Constant) and id(var) not in self._names:
                self.constants.append(var)
                self._name(var)
        for node in self.nodes:
            for var in node.outputs:
                self._name(var, internal=True)

    def _name(self, var: Variable, internal: bool = False) -> None:
        if id(var) not in self._names:
            self._names[id(var)] = f"v{len(self._names)}"
            if internal:
                self.internal.append(self._names[id(var)])

    def name(self, var: Variable) -> str:
        """The local name of ``var`` in generated code."""
        return self._names[id(var)]

    def owns(self, var: Variable) -> bool:
        """Whether the program computed ``var`` (rather than received it or a constant)."""
        return self._names[id(var)] in self.internal

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
