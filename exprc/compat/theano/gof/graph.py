"""``theano.gof.graph``: Variable, Constant, Apply and the graph walks."""

from __future__ import annotations

from collections.abc import Iterable

from exprc.graph.ir import Apply, Constant, Variable
from exprc.graph.traversal import ancestors, graph_inputs, toposort
from exprc.graph.traversal import clone as _clone

__all__ = ["Apply", "Constant", "Variable", "ancestors", "clone", "inputs", "io_toposort"]


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
