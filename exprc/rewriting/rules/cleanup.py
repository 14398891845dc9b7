"""Passes every pipeline runs: merging equal subexpressions, folding constants, and dropping
the gradient filters once gradients have been taken.

Dead code needs no pass: ``FunctionGraph.replace`` drops a node as soon as nothing reads it.
"""

from __future__ import annotations

import numpy as np

from exprc import hooks
from exprc.graph.fgraph import FunctionGraph
from exprc.graph.ir import Constant
from exprc.rewriting.engine import RewriteLog, node_rule
from exprc.tensor.gradient_filters import GradientFilter
from exprc.tensor.variable import TensorConstant

#: Largest constant (in elements) that folding may create; bigger results are computed at run
#: time instead of being stored in the graph.
MAX_FOLDED_SIZE = 1 << 14


def merge(fgraph: FunctionGraph, log: RewriteLog) -> None:
    """Common-subexpression elimination: equal constants, then equal ops on equal inputs."""
    constants: dict[tuple, Constant] = {}
    for var in list(fgraph.clients):
        if isinstance(var, Constant) and fgraph.clients.get(var):
            kept = constants.setdefault(var.signature(), var)
            if kept is not var:
                fgraph.replace(var, kept, "merge")
                log.fired["merge_constant"] += 1
    seen: dict[tuple, object] = {}
    for node in fgraph.toposort():
        if node not in fgraph or getattr(node.op, "nondeterministic", False):
            continue
        key = (node.op, tuple(id(i) for i in node.inputs))
        other = seen.setdefault(key, node)
        if other is not node and other in fgraph:
            fgraph.replace_all(zip(node.outputs, other.outputs), "merge")
            log.fired["merge"] += 1


@node_rule("canonicalize", "constant_folding", tracks=[None])
def fold_constants(fgraph, node):
    """A node whose inputs are all constants becomes a constant (if small enough)."""
    if not node.inputs or not all(isinstance(i, Constant) for i in node.inputs):
        return None
    if getattr(node.op, "nondeterministic", False):
        return None
    # Theano's do_constant_folding(node): an op written in Python may forbid folding.
    folds = getattr(node.op, "do_constant_folding", None)
    if folds is not None and not folds(node):
        return None
    for out in node.outputs:
        if None in out.type.shape or int(np.prod(out.type.shape)) > MAX_FOLDED_SIZE:
            return None
    try:
        values = hooks.NODE_EVALUATOR(node, [i.data for i in node.inputs])
    except Exception:  # leave the error to run time, where it is reported with context
        return None
    return [TensorConstant(out.type, value) for out, value in zip(node.outputs, values)]


@node_rule("canonicalize", "remove_gradient_filter", tracks=[GradientFilter])
def remove_gradient_filter(fgraph, node):
    """Gradient filters are the identity once gradients have been taken."""
    return [node.inputs[0]]
