"""Gradient rule of ``Composite``: differentiate its program expanded into ``Elemwise`` nodes.

Fusion runs after differentiation, so this rule is only met when a graph that was already
optimized is differentiated again (or a user builds a ``Composite``). Expanding reuses the
elementwise derivatives and the reverse walk's handling of broadcasting, so the gradients come
back in the shapes of the inputs.
"""

from __future__ import annotations

from exprc.gradient.table import DISCONNECTED, GRAD
from exprc.tensor.composite import Composite


@GRAD.register(Composite)
def composite_grad(node, output_grads):
    from exprc.gradient.walk import DisconnectedType, grad

    outputs = node.op.expand(node.inputs)
    known = {out: g for out, g in zip(outputs, output_grads) if g is not None}
    grads = grad(None, list(node.inputs), known_grads=known, disconnected_inputs="ignore",
                 return_disconnected="Disconnected", null_gradients="return")
    return [DISCONNECTED if isinstance(g, DisconnectedType) else g for g in grads]
