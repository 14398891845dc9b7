"""Reverse-mode differentiation: one walk over the graph, one rule per op.

``grad`` visits the nodes between ``wrt`` and the cost in reverse topological order. At each
node it sums the gradients that reached the node's outputs, asks the op's rule (from the
``GRAD`` table) for the gradients of its inputs, sums broadcast gradients back to each input's
shape, and casts them to the input's dtype. The result is an ordinary graph: it can be
compiled, rewritten and differentiated again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exprc.errors import DisconnectedInputError, ExprcError, ExprcTypeError, NullGradError
from exprc.gradient import sparse
from exprc.gradient.table import DISCONNECTED, GRAD, ZERO, NullGrad
from exprc.graph import testvalues as test_values
from exprc.graph.ir import Variable
from exprc.graph.traversal import toposort
from exprc.tensor.elemwise import sum_to
from exprc.tensor.math import add, cast, fill
from exprc.tensor.type import DISCRETE_DTYPES
from exprc.tensor.variable import TensorVariable, as_tensor_variable, constant


class DisconnectedType:
    """What ``grad(..., return_disconnected='Disconnected')`` returns for a disconnected input."""

    def __repr__(self) -> str:
        return "DisconnectedType()"


def grad(cost: Any, wrt: Any, consider_constant: Sequence[Variable] | None = None,
         disconnected_inputs: str = "raise", add_names: bool = True,
         known_grads: dict | None = None, return_disconnected: str = "zero",
         null_gradients: str = "raise"):
    """Symbolic gradient of a scalar ``cost`` with respect to ``wrt``.

    Parameters
    ----------
    cost : scalar TensorVariable or None
        The expression to differentiate (0-d, float). May be None when ``known_grads`` says
        where gradients start.
    wrt : Variable or list of Variable
        The variables to differentiate with respect to; the result has the same structure.
    consider_constant : list of Variable, optional
        Expressions through which no gradient flows (treated as constants).
    disconnected_inputs : {'raise', 'warn', 'ignore'}
        What to do when ``cost`` does not depend on an element of ``wrt``.
    add_names : bool
        Name each result ``(d<cost>/d<wrt>)`` when both have names.
    known_grads : dict, optional
        Maps variables to gradients already known for them (``Lop`` uses this).
    return_disconnected : {'zero', 'None', 'Disconnected'}
        What to return for disconnected inputs (when not raising).
    null_gradients : {'raise', 'return'}
        Whether an undefined gradient raises ``NullGradError`` or is returned as a
        :class:`~exprc.gradient.table.NullGrad`.

    Returns
    -------
    Variable or list
        Gradients with the types of ``wrt``.

    Examples
    --------
    >>> import exprc, exprc.tensor as T
    >>> x = T.dvector('x')
    >>> g = exprc.grad((x ** 2).sum(), x)
    >>> g.eval({x: [1.0, 3.0]})
    array([2., 6.])
    """
    _check_choice("disconnected_inputs", disconnected_inputs, ("raise", "warn", "ignore"))
    _check_choice("return_disconnected", return_disconnected, ("zero", "None", "Disconnected"))
    _check_choice("null_gradients", null_gradients, ("raise", "return"))
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    for k, w in enumerate(wrt_list):
        if not isinstance(w, TensorVariable) and not sparse.involves_sparse(w):
            raise ExprcTypeError(f"grad: wrt[{k}] = {w!r} is not a symbolic tensor variable")
    seeds = _seeds(cost, known_grads or {})
    blockers = list(consider_constant or [])
    totals = _reverse_walk(seeds, wrt_list, blockers)
    results = [_finish(w, totals, cost, disconnected_inputs, return_disconnected,
                       null_gradients, add_names) for w in wrt_list]
    return results[0] if single else results


def _check_choice(name: str, value: str, allowed: tuple) -> None:
    if value not in allowed:
        raise ExprcTypeError(f"grad: {name} must be one of {allowed}, got {value!r}")


def _seeds(cost: Any, known_grads: dict) -> list[tuple[Variable, Variable]]:
    seeds = []
    if cost is not None:
        cost = as_tensor_variable(cost)
        if cost.ndim != 0:
            raise ExprcTypeError(
                f"grad: the cost must be a scalar (0-d), got {cost} of type {cost.type}. Sum or "
                "average it first, or use jacobian / Lop (known_grads) for non-scalar outputs")
        if cost.dtype in DISCRETE_DTYPES:
            raise ExprcTypeError(f"grad: the cost {cost} has dtype {cost.dtype}; gradients "
                                 "need a float cost")
        # ones_like(cost), not a bare constant, so that grad(c, c) still reads c.
        seeds.append((cost, fill(cost, constant(1.0, dtype=cost.dtype))))
    elif not known_grads:
        raise ExprcTypeError("grad: give a cost, or known_grads to start from")
    for var, g in known_grads.items():
        g = as_tensor_variable(g)
        if g.ndim != var.ndim:
            raise ExprcTypeError(f"grad: known gradient of {var} (type {var.type}) has rank "
                                 f"{g.ndim}, expected {var.ndim}")
        seeds.append((var, cast(g, var.dtype) if var.dtype not in DISCRETE_DTYPES else g))
    return seeds


class _Totals:
    """Gradient contributions per variable, summed once on first read."""

    def __init__(self):
        self.parts: dict[int, list] = {}
        self.summed: dict[int, Any] = {}

    def add(self, var: Variable, g: Any) -> None:
        if id(var) in self.summed:
            raise ExprcError(f"internal error: gradient of {var} extended after it was read")
        self.parts.setdefault(id(var), []).append(g)

    def reached(self, var: Variable) -> bool:
        return id(var) in self.parts

    def get(self, var: Variable) -> Any:
        """The summed gradient of ``var``: a Variable, a NullGrad, or None (none/zero)."""
        if id(var) not in self.summed:
            parts = [p for p in self.parts.get(id(var), []) if p is not ZERO]
            null = [p for p in parts if isinstance(p, NullGrad)]
            if null:
                total = null[0]
            elif parts:
                total = parts[0]
                for p in parts[1:]:
                    total = (sparse.total(total, p) if sparse.involves_sparse(total, p)
                             else add(total, p))
            else:
                total = None
            self.summed[id(var)] = total
        return self.summed[id(var)]


def _reverse_walk(seeds, wrt_list, blockers) -> _Totals:
    roots = [v for v, _ in seeds]
    nodes = toposort(roots)
    blocked = {id(b) for b in blockers}
    depends = {id(w) for w in wrt_list}
    for node in nodes:
        if any(id(i) in depends for i in node.inputs):
            depends.update(id(o) for o in node.outputs if id(o) not in blocked)
    totals = _Totals()
    for var, g in seeds:
        totals.add(var, g)
    for node in reversed(nodes):
        if not any(id(i) in depends for i in node.inputs):
            continue
        out_grads = [totals.get(o) for o in node.outputs]
        # A node reached only through discrete inputs (argmax fed into one_hot, say) has no
        # rule to ask: those inputs carry no gradient.
        through_floats = any(id(i) in depends and i.dtype not in DISCRETE_DTYPES
                             for i in node.inputs)
        if all(g is None for g in out_grads) or not through_floats:
            # Either nothing reached the outputs, or only zeros did: still connected.
            if any(totals.reached(o) for o in node.outputs):
                for inp in node.inputs:
                    if id(inp) in depends:
                        totals.add(inp, ZERO)
            continue
        for inp, g in zip(node.inputs, _input_grads(node, out_grads)):
            if id(inp) in depends and g is not DISCONNECTED:
                totals.add(inp, _conform(node, inp, g))
    return totals


def _input_grads(node, out_grads) -> list:
    null = [g for g in out_grads if isinstance(g, NullGrad)]
    if null:
        return [null[0]] * len(node.inputs)
    rule = GRAD[node.op]
    try:
        result = rule(node, out_grads)
    except test_values.TestValueError:
        # The rule builds graphs on fresh variables of its own (the inner graph of a
        # reverse loop): build them without test values, then give its results theirs.
        with test_values.suspended():
            result = rule(node, out_grads)
        test_values.fill_test_values([g for g in result if isinstance(g, Variable)])
    if len(result) != len(node.inputs):
        raise ExprcError(f"internal error: gradient rule of {node.op} returned {len(result)} "
                         f"gradients for {len(node.inputs)} inputs")
    return result


def _conform(node, inp: Variable, g: Any) -> Any:
    """Sum ``g`` back to ``inp``'s shape and cast it to its dtype (ZERO for discrete inputs)."""
    if g is ZERO or isinstance(g, NullGrad) or inp.dtype in DISCRETE_DTYPES:
        return ZERO if not isinstance(g, NullGrad) else g
    if sparse.involves_sparse(inp, g):
        return sparse.conform(node, inp, g)
    g = as_tensor_variable(g)
    if node.op.gradient_in_output_shape:
        g = sum_to(g, inp)
    if g.ndim != inp.ndim:
        raise ExprcError(f"internal error: gradient rule of {node.op} gave a {g.ndim}-d "
                         f"gradient for the {inp.ndim}-d input {inp}")
    return cast(g, inp.dtype)


def _finish(w, totals, cost, disconnected_inputs, return_disconnected,
            null_gradients, add_names):
    g = totals.get(w)
    if isinstance(g, NullGrad):
        if null_gradients == "raise":
            raise NullGradError(f"grad: the gradient w.r.t. {w} is undefined: it flows "
                                f"through {g.op}, and {g.reason}")
        return g
    if g is None:
        if not totals.reached(w):
            handled = _disconnected(w, cost, disconnected_inputs, return_disconnected)
            if handled is not _ZEROS:
                return handled
        g = sparse.zeros(w) if sparse.involves_sparse(w) else fill(
            w, constant(0, dtype=w.dtype if w.dtype not in DISCRETE_DTYPES else "float64"))
    if add_names and w.name and cost is not None and getattr(cost, "name", None):
        g.name = f"(d{cost.name}/d{w.name})"
    return g


_ZEROS = object()


def _disconnected(w, cost, policy, return_disconnected):
    message = (f"grad: the cost does not depend on {w} (type {w.type}, created at "
               f"{w.tag.trace}); pass disconnected_inputs='ignore' or 'warn' to get "
               f"{return_disconnected!r} for it")
    if policy == "raise":
        raise DisconnectedInputError(message)
    if policy == "warn":
        import warnings

        warnings.warn(message, stacklevel=4)
    if return_disconnected == "None":
        return None
    if return_disconnected == "Disconnected":
        return DisconnectedType()
    return _ZEROS
