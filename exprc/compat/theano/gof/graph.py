"""``theano.gof.graph``: Variable, Constant, Apply and the graph walks."""

from __future__ import annotations

from collections.abc import Iterable

from exprc.graph.ir import Apply, Constant, Variable
from exprc.graph.traversal import (
    ancestors,
    clone_replace,
    equal_computations,
    graph_inputs,
    toposort,
)
from exprc.graph.traversal import clone as _clone

__all__ = ["Apply", "Constant", "Variable", "ancestors", "clone", "inputs", "io_toposort",
           "is_same_graph"]


def inputs(variable_list: Iterable[Variable], blockers: Iterable[Variable] | None = None
           ) -> list[Variable]:
    """The graph inputs (variables without an owner, constants included) that
    ``variable_list`` depends on, stopping at ``blockers``."""
    return graph_inputs(list(variable_list), blockers or ())


def clone(i, o, copy_inputs=True):
    """Copy the graph from inputs ``i`` to outputs ``o``; return ``(new_inputs, new_outputs)``.
    ``copy_inputs`` is accepted for Theano's signature (exprc always copies them)."""
    return _clone(list(i), list(o))


def io_toposort(inputs, outputs):
    """The Apply nodes between ``inputs`` and ``outputs`` in a topological order."""
    return list(toposort(list(outputs), list(inputs)))


def is_same_graph(var1: Variable, var2: Variable, givens=None) -> bool:
    """Whether ``var1`` and ``var2`` compute the same thing: the same ops applied in the same
    way to the same graph inputs (constants compared by value). ``givens`` (a dict or list
    of pairs) lists variables to take as equal: each key is replaced by its value in both
    graphs before comparing."""
    if givens:
        pairs = dict(givens.items() if hasattr(givens, "items") else givens)
        var1, var2 = clone_replace([var1, var2], pairs)
    return equal_computations([var1], [var2])
