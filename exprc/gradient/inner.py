"""The vector-Jacobian product of an inner graph, written over the outer variables of the node
that owns it: what the gradient rules of ops holding inner graphs (``IfElse``, ``OpFromGraph``)
are built from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exprc.gradient.table import DISCONNECTED, NullGrad
from exprc.gradient.walk import DisconnectedType, grad
from exprc.graph.inner import InnerGraph
from exprc.graph.ir import Variable
from exprc.graph.traversal import clone_replace
from exprc.tensor.type import DISCRETE_DTYPES


def inner_lop(graph: InnerGraph, outer_inputs: Sequence[Variable],
              output_grads: Sequence[Any], wanted: Sequence[int] | None = None) -> list:
    """The gradients of ``graph``'s inputs given its outputs' gradients, over the outer graph.

    Parameters
    ----------
    graph : InnerGraph
    outer_inputs : sequence of Variable
        What the node feeds each input of ``graph`` with.
    output_grads : sequence
        One per output of ``graph``: its gradient (a variable) or None (none flows in).
    wanted : sequence of int, optional
        The inputs to differentiate (default: all).

    Returns
    -------
    list
        One per wanted input: a variable (over ``outer_inputs`` and ``output_grads``; the inner
        graph's work it reads is recomputed), ``DISCONNECTED`` or a ``NullGrad``.
    """
    wanted = list(range(len(graph.inputs))) if wanted is None else list(wanted)
    known: dict[Variable, Any] = {}
    for out, g in zip(graph.outputs, output_grads):
        if g is None or out.dtype in DISCRETE_DTYPES:
            continue
        known[out] = known[out] + g if out in known else g
    floats = [i for i in wanted if graph.inputs[i].dtype not in DISCRETE_DTYPES]
    if not known or not floats:
        return [DISCONNECTED] * len(wanted)
    grads = grad(None, [graph.inputs[i] for i in floats], known_grads=known,
                 disconnected_inputs="ignore", add_names=False,
                 return_disconnected="Disconnected", null_gradients="return")
    found = {i: g for i, g in zip(floats, grads)}
    variables = [g for g in grads if isinstance(g, Variable)]
    outer = dict(zip(variables, clone_replace(variables, dict(zip(graph.inputs, outer_inputs)))))
    result = []
    for i in wanted:
        g = found.get(i)
        if isinstance(g, Variable):
            result.append(outer[g])
        elif isinstance(g, NullGrad):
            result.append(g)
        else:
            assert g is None or isinstance(g, DisconnectedType)
            result.append(DISCONNECTED)
    return result
