"""The graph IR (variables, apply nodes, ops, types) and the algorithms over it."""

from exprc.graph.ir import Apply, Constant, Op, Type, Variable
from exprc.graph.optable import MissingRuleError, OpTable
from exprc.graph.traversal import (
    ancestors,
    clone,
    clone_replace,
    dependency_graph,
    equal_computations,
    graph_inputs,
    toposort,
)

__all__ = [
    "Apply", "Constant", "Op", "Type", "Variable", "MissingRuleError", "OpTable", "ancestors",
    "clone", "clone_replace", "dependency_graph", "equal_computations", "graph_inputs",
    "toposort",
]
