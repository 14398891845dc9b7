"""Derivatives of ops written in Python, from their methods (Theano's protocol).

- The ``GRAD`` table's fallback (:func:`grad_method_rule`) serves an op class without a
  registered rule that defines ``L_op(inputs, outputs, output_grads)`` or
  ``grad(inputs, output_grads)``. An output no gradient reaches gets zeros of its shape. Each
  returned entry may be a tensor (or anything :func:`~exprc.tensor.as_tensor_variable`
  takes), ``DISCONNECTED``, ``ZERO``, a :class:`~exprc.gradient.table.NullGrad` (Theano's
  ``grad_undefined``), a :class:`~exprc.gradient.walk.DisconnectedType` (Theano's
  ``DisconnectedType()()``) or None (disconnected). An op's ``connection_pattern(node)``
  (``[input][output]`` booleans) marks inputs disconnected whatever ``grad`` returns for them.
- ``Rop`` through a graph holding an op that defines ``R_op(inputs, eval_points)`` walks
  forwards (:func:`forward_rop`): such a node's tangents come from its ``R_op``, every other
  node's from its gradient rule (the two reverse passes of :func:`~exprc.gradient.Rop`,
  applied to that node alone).
"""

from __future__ import annotations

from typing import Any

from exprc.errors import ExprcTypeError
from exprc.gradient.table import DISCONNECTED, GRAD, ZERO, NullGrad
from exprc.gradient.walk import DisconnectedType
from exprc.graph.ir import Variable
from exprc.graph.python_op import python_method
from exprc.graph.traversal import clone_replace, toposort
from exprc.tensor.math import fill
from exprc.tensor.type import DISCRETE_DTYPES
from exprc.tensor.variable import as_tensor_variable, constant


@GRAD.register_fallback
def grad_method_rule(op_class: type):
    """The gradient rule of an op class defining ``L_op`` or ``grad``, else None."""
    if python_method(op_class, "L_op"):
        return _l_op
    if python_method(op_class, "grad"):
        return _grad
    return None


grad_method_rule.hint = ("an op written in Python defines grad(inputs, output_grads) or "
                         "L_op(inputs, outputs, output_grads)")


def _grad(node, output_grads) -> list:
    result = node.op.grad(list(node.inputs), _filled(node, output_grads))
    return _converted(node, result, "grad")


def _l_op(node, output_grads) -> list:
    result = node.op.L_op(list(node.inputs), list(node.outputs), _filled(node, output_grads))
    return _converted(node, result, "L_op")


def _zeros_like(var: Variable) -> Variable:
    return fill(var, constant(0, dtype=var.dtype))


def _filled(node, output_grads) -> list:
    """The output gradients, zeros where none reached an output."""
    return [_zeros_like(out) if g is None else g for g, out in zip(output_grads, node.outputs)]


def _converted(node, result: Any, method: str) -> list:
    """``result`` as the walk's values, checked: one per input, of the input's rank."""
    name = f"{type(node.op).__name__}.{method}"
    if not isinstance(result, (list, tuple)) or len(result) != len(node.inputs):
        got = f"{len(result)} values" if isinstance(result, (list, tuple)) else \
            f"a {type(result).__name__}"
        raise ExprcTypeError(f"{name} returned {got}; it must return a list with one gradient "
                             f"per input ({len(node.inputs)})")
    connected = connection_pattern(node)
    converted = []
    for k, (inp, g) in enumerate(zip(node.inputs, result)):
        if not any(connected[k]) or g is None or isinstance(g, DisconnectedType) \
                or g is DISCONNECTED:
            converted.append(DISCONNECTED)
        elif g is ZERO or isinstance(g, NullGrad):
            converted.append(g)
        else:
            converted.append(_tensor_gradient(name, k, inp, g))
    return converted


def _tensor_gradient(name: str, k: int, inp: Variable, g: Any) -> Variable:
    try:
        g = as_tensor_variable(g)
    except ExprcTypeError as exc:
        raise ExprcTypeError(f"{name}: the gradient of input {k} is not a tensor: {exc}") \
            from None
    if g.ndim != inp.ndim:
        raise ExprcTypeError(f"{name}: the gradient of input {k} ({inp}, type {inp.type}) has "
                             f"{g.ndim} dimension(s), expected {inp.ndim}")
    return g


def connection_pattern(node) -> list[list[bool]]:
    """``[input][output]``: whether each output depends on each input (the op's
    ``connection_pattern(node)``, else every pair)."""
    method = python_method(type(node.op), "connection_pattern")
    if method is None:
        return [[True] * len(node.outputs) for _ in node.inputs]
    pattern = node.op.connection_pattern(node)
    if len(pattern) != len(node.inputs) or any(len(row) != len(node.outputs)
                                               for row in pattern):
        raise ExprcTypeError(f"{type(node.op).__name__}.connection_pattern must give one list "
                             f"of {len(node.outputs)} booleans per input ({len(node.inputs)})")
    return [[bool(c) for c in row] for row in pattern]


# ---------------------------------------------------------------------- forward mode
def has_r_op(outputs: list[Variable]) -> bool:
    """Whether a node computing ``outputs`` has an op defining ``R_op``."""
    return any(python_method(type(n.op), "R_op") for n in toposort(outputs))


def forward_rop(fs: list[Variable], wrts: list[Variable], points: list[Variable]) -> list:
    """``J v`` for each of ``fs``, by one forward walk from ``wrts`` with tangents ``points``.

    A node whose op defines ``R_op`` is asked for its outputs' tangents (None for an input
    that no tangent reaches, as in Theano); any other node gets them from its gradient rule.
    """
    tangents: dict[int, Variable] = {id(w): p for w, p in zip(wrts, points)}
    for node in toposort(fs):
        given = [tangents.get(id(i)) for i in node.inputs]
        if all(t is None for t in given):
            continue
        if python_method(type(node.op), "R_op"):
            result = node.op.R_op(list(node.inputs), given)
            if not isinstance(result, (list, tuple)) or len(result) != len(node.outputs):
                raise ExprcTypeError(f"{type(node.op).__name__}.R_op must return one value per "
                                     f"output ({len(node.outputs)})")
        else:
            result = _node_rop(node, given)
        for out, t in zip(node.outputs, result):
            if t is not None and out.dtype not in DISCRETE_DTYPES:
                tangents[id(out)] = as_tensor_variable(t)
    return [tangents[id(f)] if id(f) in tangents else _zeros_like(f) for f in fs]


def _node_rop(node, given: list) -> list:
    """The tangents of ``node``'s outputs for tangents ``given`` of its inputs, from its
    gradient rule: Rop of the node alone, on fresh variables standing for its inputs (so that
    no path between two of its inputs is counted)."""
    from exprc.gradient.derived import Rop

    stand_ins = [i.type() for i in node.inputs]
    alone = node.clone_with_new_inputs(stand_ins)
    moving = [(s, t) for s, i, t in zip(stand_ins, node.inputs, given)
              if t is not None and i.dtype not in DISCRETE_DTYPES]
    outs = [j for j, o in enumerate(alone.outputs) if o.dtype not in DISCRETE_DTYPES]
    result: list = [None] * len(node.outputs)
    if moving and outs:
        jvps = Rop([alone.outputs[j] for j in outs], [s for s, _ in moving],
                   [t for _, t in moving])
        for j, jvp in zip(outs, clone_replace(list(jvps), dict(zip(stand_ins, node.inputs)))):
            result[j] = jvp
    return result
