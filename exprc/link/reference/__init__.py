"""The NumPy reference executor: evaluates a graph node by node with NumPy.

It is the living specification of every op: compiled backends and rewrites are tested against
it, and ``mode='REFERENCE'`` runs user functions on it for debugging. It checks that each op's
result has exactly the dtype, rank and known static sizes that the op's type inference
promised, so a disagreement between the two is caught where it happens.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from exprc.errors import ExprcError
from exprc.graph.basic import Apply, Constant, Variable
from exprc.graph.traversal import toposort
from exprc.link.reference.table import REFERENCE

# Importing the rule modules fills the table.
from exprc.link.reference import elemwise  # noqa: F401,E402
from exprc.link.reference import families  # noqa: F401,E402

__all__ = ["REFERENCE", "ReferenceProgram", "run_node"]


class ReferenceProgram:
    """A graph from ``inputs`` to ``outputs``, ready to run on NumPy arrays."""

    def __init__(self, inputs: Sequence[Variable], outputs: Sequence[Variable]):
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.nodes = toposort(self.outputs, self.inputs)
        self.rules = [REFERENCE[node.op] for node in self.nodes]

    def __call__(self, values: Sequence[np.ndarray]) -> list[np.ndarray]:
        storage: dict[int, np.ndarray] = {id(v): x for v, x in zip(self.inputs, values)}
        for node, rule in zip(self.nodes, self.rules):
            args = [_value(storage, v) for v in node.inputs]
            for var, result in zip(node.outputs, run_node(node, rule, args)):
                storage[id(var)] = result
        return [_value(storage, v) for v in self.outputs]


def _value(storage: dict, var: Variable) -> np.ndarray:
    if isinstance(var, Constant):
        return var.data
    return storage[id(var)]


def run_node(node: Apply, rule, args: list[np.ndarray]) -> list[np.ndarray]:
    """Run one node's reference rule and check its results against the node's types."""
    try:
        results = rule(node, *args)
    except Exception as exc:
        raise _annotate(exc, node, args) from exc
    if len(results) != len(node.outputs):
        raise ExprcError(f"internal error: {node.op} returned {len(results)} results for "
                         f"{len(node.outputs)} outputs")
    return [_check(node, var, np.asarray(r)) for var, r in zip(node.outputs, results)]


def _check(node: Apply, var: Variable, value: np.ndarray) -> np.ndarray:
    t = var.type
    ok = value.dtype.name == t.dtype and value.ndim == t.ndim and all(
        s is None or s == v for s, v in zip(t.shape, value.shape))
    if not ok:
        raise ExprcError(f"internal error: {node.op} produced dtype {value.dtype} shape "
                         f"{value.shape}, but its type inference promised {t}")
    return value


def _annotate(exc: Exception, node: Apply, args: list[np.ndarray]) -> Exception:
    """The same kind of exception, with the node, input shapes and user line added."""
    shapes = ", ".join(f"{a.dtype}{list(a.shape)}" for a in args)
    where = getattr(node.outputs[0].tag, "trace", "<unknown>")
    message = (f"{exc}\n    while computing {node.op} on inputs {shapes}"
               f"\n    (graph built at {where})")
    try:
        return type(exc)(message)
    except Exception:  # exception classes with unusual constructors
        return ExprcError(message)
