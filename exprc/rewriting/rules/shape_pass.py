"""The ``shape`` pass: sizes from shape inference instead of from computed tensors.

- ``Shape(x)`` of a computed ``x`` becomes the vector of the sizes :func:`shape_of` infers,
  so ``x`` need not be computed to know its shape (``dot(x, W).shape`` reads the shapes of
  ``x`` and ``W``), and ``x.shape[i]`` becomes the one inferred size;
- ``SumToShape(g, shape)`` disappears when ``g`` provably has that shape already;
- ``SpecifyShape(x)`` disappears when ``x`` provably has the shape it states.

Inferred sizes refer only to graph inputs' shapes, to constants and to the small integer
inputs (indices, shape vectors) of the nodes they describe, so they never keep a dead
computation alive. A rewrite that would leave a node uncomputed fires only when that node's
output shape holds unconditionally (see :func:`skipping_is_safe`): a node that checks its
inputs at run time (broadcasting of unknown sizes, matrix inner sizes, a stated shape, index
bounds, reshape sizes) must still run, so that a graph that is invalid for its inputs raises
instead of reporting the shape it would have had. ``Shape(x)`` of a graph input, and any size
inference can only read from ``x.shape``, is left alone, so no rule can undo or repeat another.
"""

from __future__ import annotations

import weakref

import numpy as np

from exprc.graph.fgraph import OUTPUT, FunctionGraph
from exprc.graph.ir import Apply, Constant, Variable
from exprc.rewriting.engine import RULE_SETS, node_rule
from exprc.rewriting.shape_rules import int_entries, reads_shape_of, shape_of
from exprc.rewriting.shape_rules.sizes import same_size, value_of
from exprc.tensor.basic import Join, alloc, stack
from exprc.tensor.composite import Composite
from exprc.tensor.elemwise import DimShuffle, Elemwise, SumToShape
from exprc.tensor.linalg import Dot
from exprc.tensor.shape import Shape, SpecifyShape
from exprc.tensor.subtensor import Subtensor
from exprc.tensor.variable import constant

_MEMOS: weakref.WeakKeyDictionary[FunctionGraph, dict] = weakref.WeakKeyDictionary()


def graph_memo(fgraph: FunctionGraph) -> dict:
    """The :func:`shape_of` memo of ``fgraph``, shared by the rules of this pass.

    Rewrites of other passes may change what a graph's variables are computed from, so the
    memo is emptied whenever a rule outside this pass edits the graph.
    """
    memo = _MEMOS.get(fgraph)
    if memo is None:
        memo = _MEMOS[fgraph] = {}
        ours = {r.name for r in RULE_SETS.get("shape", [])}

        def forget(old, new, reason):
            if reason not in ours:
                memo.clear()

        fgraph.add_listener(forget)
    return memo


def _as_vector(sizes: tuple):
    """The int64 vector of ``sizes``: a constant when they all are."""
    values = [value_of(s) for s in sizes]
    if None not in values:
        return constant(np.array(values, dtype="int64").reshape(len(values)))
    return stack(list(sizes))


@node_rule("shape", "infer_shape", tracks=[Shape])
def infer_shape(fgraph, node):
    """``Shape(x)`` -> the inferred sizes of ``x`` (a constant when they are static)."""
    x = node.inputs[0]
    # A static size stated by an op that checks it at run time (SpecifyShape, Reshape) is only
    # proven once that op has run, so the safety test comes first.
    if x.owner is not None and not skipping_is_safe(fgraph, x, node):
        return None
    if None not in x.type.shape:
        return [_as_vector(tuple(constant(s, dtype="int64") for s in x.type.shape))]
    if x.owner is None:
        return None
    sizes = shape_of(x, graph_memo(fgraph))
    if any(reads_shape_of(s, x) for s in sizes):
        return None  # some size is data; ``infer_size`` still handles the others
    return [_as_vector(sizes)]


@node_rule("shape", "shape_through_elementwise", tracks=[Shape])
def shape_through_elementwise(fgraph, node):
    """``Shape(f(y, c...))`` -> ``Shape(y)`` for an elementwise ``f`` whose other operands are
    constants of size 1 on every axis (``y ** 2``, ``tanh(y)``): its result has ``y``'s shape
    with nothing checked. ``infer_shape`` does more where it may skip every node below; this
    rule still drops ``f`` where a node below checks a shape at run time (``SpecifyShape``),
    whose check must stay."""
    x = node.inputs[0]
    if x.owner is None or not isinstance(x.owner.op, (Elemwise, Composite)):
        return None
    operands = [i for i in x.owner.inputs
                if not (isinstance(i, Constant) and all(d == 1 for d in i.type.shape))]
    if len(operands) != 1 or operands[0].ndim != x.ndim:
        return None
    return [Shape()(operands[0])]


@node_rule("shape", "infer_size", tracks=[Subtensor])
def infer_size(fgraph, node):
    """``v[i]`` with a constant ``i``, for ``v`` a ``Shape``, a stack or a constant -> the
    ``i``-th size."""
    vector = node.inputs[0]
    entry = node.op.idx_list[0] if len(node.op.idx_list) == 1 else None
    if not isinstance(entry, int) or vector.ndim != 1 or vector.dtype != "int64" \
            or vector.type.shape[0] is None:
        return None
    source = vector.owner
    measured = source.inputs[0] if source is not None and isinstance(source.op, Shape) else None
    if measured is None and not _is_stack_or_constant(vector):
        return None
    if measured is not None and measured.owner is None and measured.type.shape[entry] is None:
        return None  # a graph input's size is read from it
    if measured is not None and not skipping_is_safe(fgraph, vector, node):
        return None
    size = int_entries(vector, graph_memo(fgraph))[entry % vector.type.shape[0]]
    if measured is not None and reads_shape_of(size, measured):
        return None  # the size is data: it can only be measured
    return [size]


def _is_stack_or_constant(vector) -> bool:
    if isinstance(vector, Constant):
        return True
    node = vector.owner
    if node is None or not isinstance(node.op, Join):
        return False
    return all(p.owner is not None and isinstance(p.owner.op, DimShuffle)
               and p.owner.op.new_order == ("x",) for p in node.inputs)


@node_rule("shape", "drop_sum_to_same_shape", tracks=[SumToShape])
def drop_sum_to_same_shape(fgraph, node):
    """``SumToShape(g, shape)`` -> ``g`` when ``g`` provably has that shape."""
    g, target = node.inputs
    memo = graph_memo(fgraph)
    if all(same_size(a, b) for a, b in zip(shape_of(g, memo), int_entries(target, memo))):
        return [g]
    return None


@node_rule("shape", "drop_known_specify_shape", tracks=[SpecifyShape])
def drop_known_specify_shape(fgraph, node):
    """``SpecifyShape(x)`` -> ``x`` when ``x`` provably has every size it states."""
    x = node.inputs[0]
    sizes = None
    for axis, (want, have) in enumerate(zip(node.op.shape, x.type.shape)):
        if want is None or want == have:
            continue
        sizes = shape_of(x, graph_memo(fgraph)) if sizes is None else sizes
        if value_of(sizes[axis]) != want:
            return None
    return [x]


@node_rule("specialize", "fill_from_shape", tracks=["second"])
def fill_from_shape(fgraph, node):
    """``fill(x, v)`` of a computed ``x`` -> ``v`` allocated to the inferred shape, so that
    ``x`` (often a whole forward result, read by a gradient's ``zeros_like``) need not be
    computed just for its size. It runs with ``specialize``, after the stability rules, which
    recognise gradient patterns by their fills."""
    x, value = node.inputs
    if x.owner is None or not skipping_is_safe(fgraph, x, node):
        return None
    out = node.outputs[0]
    sizes = shape_of(out, graph_memo(fgraph))
    if any(reads_shape_of(s, x) for s in sizes):
        return None
    return [alloc(value, *sizes)]


# ---------------------------------------------------------------------- skipping safely
#: How far back a rewrite looks for nodes it would leave uncomputed; beyond, it gives up.
_MAX_SKIPPED = 32


def _unconditional_shape(node: Apply) -> bool:
    """Whether ``node``'s output shape follows from its inputs' with no run-time check."""
    op = node.op
    if op.unconditional_shape:  # declared by the op class
        return True
    if isinstance(op, (Elemwise, Composite)):
        # Broadcasting is checked at run time unless, on every axis, at most one input may be
        # other than 1, or every size is static (then make_node has checked it).
        for sizes in zip(*(i.type.shape for i in node.inputs)):
            if None in sizes and sum(s != 1 for s in sizes) > 1:
                return False
        return True
    if isinstance(op, DimShuffle):
        x = node.inputs[0]
        return all(x.type.shape[a] == 1 for a in op.dropped(x.ndim))
    if isinstance(op, Dot):
        a, b = node.inputs
        return a.type.shape[-1] is not None and b.type.shape[0 if b.ndim == 1 else -2] \
            is not None
    return False


def skipping_is_safe(fgraph: FunctionGraph, var: Variable, reader: Apply) -> bool:
    """Whether ``reader`` may stop reading ``var``: every node that would then no longer be
    computed has an unconditional output shape, so no run-time check is lost."""
    skipped: set[Apply] = set()
    pending = [var]
    while pending:
        v = pending.pop()
        node = v.owner
        if node is None or node in skipped:  # graph inputs have no owner
            continue
        readers = {c for o in node.outputs for c, _ in fgraph.clients.get(o, {})}
        if OUTPUT in readers or not readers <= skipped | {reader}:
            continue  # still computed for another reader: its checks still run
        if not _unconditional_shape(node) or len(skipped) >= _MAX_SKIPPED:
            return False
        skipped.add(node)
        pending.extend(node.inputs)
    return True
