"""An op made from a graph: :class:`OpFromGraph` wraps a subgraph so that it can be applied like
any op (Theano's ``OpFromGraph``).

``op = OpFromGraph([x, y], [x + y * w])`` records the graph from ``x, y`` to the outputs as a
closed :class:`~exprc.graph.inner.InnerGraph`; ``op(a, b)`` applies it to other variables of
the same types. What the outputs read beyond the listed inputs (shared variables, and the work
that depends only on them) becomes implicit extra inputs of every application, so the inner
graph stays closed (:func:`~exprc.graph.inner.close_over`).

The reference executor runs the inner graph, the C backend compiles it inline into the
function's code, and the gradient is derived from the inner graph (or given by
``grad_overrides``). With ``inline=True`` every application is replaced by a copy of the inner
graph before rewriting (:func:`exprc.rewriting.rules.branches.expand_inline`), so the rewrites
see through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exprc.errors import ExprcTypeError, build_error
from exprc.graph.inner import InnerGraph, close_over
from exprc.graph.ir import Apply, Constant, Op, Variable
from exprc.graph.testvalues import compute_test_values
from exprc.graph.traversal import clone, clone_replace, graph_inputs
from exprc.tensor.sharedvar import SharedVariable
from exprc.tensor.type import TensorType
from exprc.tensor.variable import TensorVariable, as_tensor_variable, constant

__all__ = ["OpFromGraph"]

#: What ``grad_overrides`` may hold for one input, in its per-input (list) form.
DEFAULT = "default"


class OpFromGraph(Op):
    """An op computing ``outputs`` from ``inputs``, applicable to other variables.

    Parameters
    ----------
    inputs : list of TensorVariable
        The graph's inputs: distinct variables, not constants or shared variables (shared
        variables the outputs read are taken in by themselves, as implicit inputs).
    outputs : TensorVariable or list of TensorVariable
    inline : bool
        Replace every application by a copy of the graph before rewriting (the rewrites then
        optimise across it). Default False: the graph stays one node, compiled natively.
    grad_overrides : callable, OpFromGraph or list, optional
        The gradient, instead of the one derived from the graph (Theano's forms):

        - a callable ``(inputs, output_grads) -> list`` of one gradient per input (a
          variable, or None for no gradient);
        - an ``OpFromGraph`` taking the inputs then the output gradients, with one output
          per input;
        - a list with one entry per input: ``'default'`` (derived), None (no gradient) or a
          callable ``(inputs, output_grads) -> variable``.

        The implicit inputs (shared variables) always get the derived gradient.
    name : str, optional
        Shown in printed graphs and errors (``OpFromGraph{name}``).

    Examples
    --------
    >>> import exprc, exprc.tensor as T
    >>> x, y = T.dscalar('x'), T.dscalar('y')
    >>> op = exprc.OpFromGraph([x, y], [x + 2 * y])
    >>> a, b = T.dscalar('a'), T.dscalar('b')
    >>> f = exprc.function([a, b], op(a, op(a, b)))
    >>> float(f(1.0, 2.0))
    11.0
    """

    __props__ = ("name", "inline", "n_explicit")

    def __init__(self, inputs: Sequence[Any], outputs: Any, inline: bool = False,
                 grad_overrides: Any = None, name: str | None = None):
        self.name = str.__str__(name) if isinstance(name, str) else ""
        self.inline = bool(inline)
        self.grad_overrides = _overrides(self, grad_overrides, len(inputs)
                                         if isinstance(inputs, (list, tuple)) else None)
        inputs, outputs = _check_graph(self, inputs, outputs)
        placeholders = [v.type() for v in inputs]
        for v, p in zip(inputs, placeholders):
            p.name = v.name
        replaced = clone_replace(outputs, dict(zip(inputs, placeholders)))
        free, extra, inner_outputs = close_over(placeholders, replaced)
        _check_free(self, inputs, free)
        # Work on constants alone stays inside (folded there), not an implicit input.
        constant = [k for k, v in enumerate(free)
                    if all(isinstance(i, Constant) for i in graph_inputs([v]))]
        if constant:
            inner_outputs = clone_replace(inner_outputs, {extra[k]: free[k] for k in constant})
            free = [v for k, v in enumerate(free) if k not in constant]
            extra = [p for k, p in enumerate(extra) if k not in constant]
        self.n_explicit = len(inputs)
        self.implicit = free
        self.inner = InnerGraph(placeholders + extra, inner_outputs).clone()

    @classmethod
    def _from_parts(cls, inner: InnerGraph, n_explicit: int, implicit: list, inline: bool,
                    grad_overrides: Any, name: str) -> OpFromGraph:
        op = cls.__new__(cls)
        op.inner, op.n_explicit, op.implicit = inner, n_explicit, list(implicit)
        op.inline, op.grad_overrides, op.name = inline, grad_overrides, name
        return op

    # ------------------------------------------------------------------ inner-graph protocol
    def inner_graphs(self) -> list[InnerGraph]:
        """The graph this op runs itself (the protocol of every op holding inner graphs)."""
        return [self.inner]

    def with_inner_graphs(self, graphs: Sequence[InnerGraph]) -> OpFromGraph:
        """The same op running ``graphs`` instead (rewritten copies of its own)."""
        (inner,) = graphs
        if len(inner.inputs) != len(self.inner.inputs) or \
                len(inner.outputs) != len(self.inner.outputs):
            raise ExprcTypeError(f"internal error: {self}: a replacement inner graph must have "
                                 "the same inputs and outputs")
        return OpFromGraph._from_parts(inner, self.n_explicit, self.implicit, self.inline,
                                       self.grad_overrides, self.name)

    def __eq__(self, other: object) -> bool:
        return (type(self) is type(other) and self._props() == other._props()
                and self.grad_overrides is other.grad_overrides and self.inner == other.inner)

    def __hash__(self) -> int:
        return hash((type(self), self._props(), hash(self.inner)))

    def __str__(self) -> str:
        return f"OpFromGraph{{{self.name}}}"

    __repr__ = __str__

    # ------------------------------------------------------------------ applying
    def __call__(self, *inputs: Any) -> Any:
        """Apply the graph to the explicit ``inputs``; each argument's known sizes must be
        those of its input where the graph's input declares them."""
        if len(inputs) != self.n_explicit:
            raise build_error(ExprcTypeError, self, f"takes {self.n_explicit} inputs, got "
                              f"{len(inputs)}")
        node = self.make_node(*inputs, *self.implicit, _strict=True)
        compute_test_values(node)
        return node.outputs[0] if len(node.outputs) == 1 else list(node.outputs)

    def make_node(self, *inputs: Any, _strict: bool = False) -> Apply:
        """Apply the graph to all its inputs, implicit ones included (as a rebuilt node passes
        them; a rewritten argument may know fewer sizes than its input declares)."""
        if len(inputs) != len(self.inner.inputs):
            raise build_error(ExprcTypeError, self, f"takes {len(self.inner.inputs)} inputs "
                              f"({self.n_explicit} and {len(self.implicit)} implicit), got "
                              f"{len(inputs)}")
        args = [_argument(self, k, value, p, _strict)
                for k, (value, p) in enumerate(zip(inputs, self.inner.inputs))]
        outputs = [TensorType(o.type.dtype, shape=o.type.shape)() for o in self.inner.outputs]
        return Apply(self, args, outputs)

    def expand(self, inputs: Sequence[Variable]) -> list[Variable]:
        """A fresh copy of the inner graph computing the outputs from ``inputs`` (all of
        them, implicit ones included): what an inline application is replaced by."""
        placeholders, outputs = clone(self.inner.inputs, self.inner.outputs)
        return clone_replace(outputs, dict(zip(placeholders, inputs)))


def _argument(op: OpFromGraph, k: int, value: Any, placeholder: Variable,
              strict: bool) -> TensorVariable:
    """``value`` as the ``k``-th argument, checked against the input it stands for (a size
    the input declares must be known the same, or with ``strict=False`` not differ)."""
    want = placeholder.type
    if not isinstance(value, Variable):
        try:
            value = constant(value, dtype=want.dtype)
        except ExprcTypeError:
            value = as_tensor_variable(value)
    var = as_tensor_variable(value)
    what = (f"argument {k}" if k < op.n_explicit
            else f"implicit input {k - op.n_explicit} ({op.implicit[k - op.n_explicit]})")
    if var.dtype != want.dtype or var.ndim != want.ndim:
        raise build_error(ExprcTypeError, op, f"{what} ({var}) is {var.type}, but the graph's "
                          f"input {k} ({placeholder.name or placeholder}) is {want}")
    for axis, (got, wanted) in enumerate(zip(var.type.shape, want.shape)):
        if wanted is not None and got != wanted and (strict or got is not None):
            known = f"size {got}" if got is not None else "a size not known statically"
            raise build_error(ExprcTypeError, op, f"{what} ({var}) has {known} on axis {axis}"
                              f", but the graph's input {k} is {want}, of size {wanted} there "
                              "(declare the graph's input with unknown sizes to take any)")
    return var


def _check_graph(op: OpFromGraph, inputs: Any, outputs: Any
                 ) -> tuple[list[TensorVariable], list[TensorVariable]]:
    if not isinstance(inputs, (list, tuple)):
        raise build_error(ExprcTypeError, op, f"inputs must be a list of variables, got "
                          f"{type(inputs).__name__}")
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    if not outputs:
        raise build_error(ExprcTypeError, op, "needs at least one output")
    seen: set[int] = set()
    for k, v in enumerate(inputs):
        if not isinstance(v, TensorVariable):
            raise build_error(ExprcTypeError, op, f"input {k} ({v!r}) is not a symbolic tensor "
                              "variable")
        if isinstance(v, Constant):
            raise build_error(ExprcTypeError, op, f"input {k} ({v}) is a constant; use it in the "
                              "graph directly instead of listing it as an input")
        if isinstance(v, SharedVariable):
            raise build_error(ExprcTypeError, op, f"input {k} ({v}) is a shared variable; leave "
                              "it out of the inputs: the graph takes the shared variables it "
                              "reads by itself")
        if id(v) in seen:
            raise build_error(ExprcTypeError, op, f"input {k} ({v}) is listed twice")
        seen.add(id(v))
    for k, v in enumerate(outputs):
        if not isinstance(v, TensorVariable):
            raise build_error(ExprcTypeError, op, f"output {k} ({v!r}) is not a symbolic tensor "
                              "variable")
    return list(inputs), outputs


def _check_free(op: OpFromGraph, inputs: list, free: list) -> None:
    """Refuse outputs that read a variable given at call time that is not among the inputs."""
    for var in graph_inputs(free):
        if var.owner is None and not isinstance(var, (Constant, SharedVariable)):
            raise build_error(ExprcTypeError, op, f"the outputs depend on {var} ({var.type}), "
                              f"which is not among the inputs {[str(v) for v in inputs]}; add "
                              "it to the inputs")


def _overrides(op: OpFromGraph, value: Any, n_inputs: int | None) -> Any:
    """``grad_overrides`` normalised: None (derived), a callable, or a tuple per input."""
    if value is None or (isinstance(value, str) and value == DEFAULT):
        return None
    if isinstance(value, (list, tuple)):
        if n_inputs is not None and len(value) != n_inputs:
            raise build_error(ExprcTypeError, op, f"grad_overrides lists {len(value)} entries "
                              f"for {n_inputs} inputs")
        for k, entry in enumerate(value):
            if not (entry is None or (isinstance(entry, str) and entry == DEFAULT)
                    or callable(entry)):
                raise build_error(ExprcTypeError, op, f"grad_overrides[{k}] must be 'default', "
                                  f"None or a callable, got {entry!r}")
        return tuple(DEFAULT if isinstance(e, str) else e for e in value)
    if isinstance(value, OpFromGraph) or callable(value):
        return value
    raise build_error(ExprcTypeError, op, "grad_overrides must be a callable (inputs, "
                      "output_grads) -> list, an OpFromGraph, or a list per input, got "
                      f"{value!r}")
