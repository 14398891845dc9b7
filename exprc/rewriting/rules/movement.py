"""Movement-op algebra: chains of DimShuffles, Reshapes, slices and SpecifyShapes collapse into
one op, and movement ops that provably change nothing disappear.

These rules are in the ``canonicalize`` set. Lifting a DimShuffle above an elementwise op
(so that fusion sees one chain of elementwise ops) is in ``specialize``: it runs after the
stabilize pass, whose patterns are written against the graphs users and the gradient build.
"""

from __future__ import annotations

import math

from exprc.graph.ir import Constant, Variable
from exprc.rewriting.engine import node_rule, rule
from exprc.rewriting.patterns import Node, Var
from exprc.rewriting.rules.cleanup import fold_constants
from exprc.tensor.basic import Alloc
from exprc.tensor.elemwise import DimShuffle, Elemwise
from exprc.tensor.shape import Reshape, Shape, SpecifyShape, static_int_values
from exprc.tensor.subtensor import SliceSpec, Subtensor

CANON = "canonicalize"

x, s1, s2 = Var("x"), Var("s1"), Var("s2")


# --------------------------------------------------------------------------- DimShuffle
def _compose(inner: tuple, outer: tuple) -> tuple:
    """The new_order of ``DimShuffle(outer)(DimShuffle(inner)(x))`` as one DimShuffle of x.

    Axes dropped by either shuffle are dropped by the composition, which checks at run time
    that they have size 1, as the two shuffles did.
    """
    return tuple("x" if d == "x" else inner[d] for d in outer)


# Both sets: lifting in specialize stacks shuffles on the operands' own shuffles.
for _set in (CANON, "specialize"):
    rule(_set, "dimshuffle_of_dimshuffle",
         Node(DimShuffle, Node(DimShuffle, x, out="inner"), out="outer"),
         lambda x, inner, outer: DimShuffle(_compose(inner.owner.op.new_order,
                                                     outer.owner.op.new_order))(x))
    rule(_set, "identity_dimshuffle", Node(DimShuffle, x, out="out"), lambda x, out: x,
         when=lambda x, out: out.owner.op.new_order == tuple(range(x.ndim)))


# --------------------------------------------------------------------------- Reshape
def _valid_reshape(x: Variable, newshape: Variable) -> bool:
    """Whether reshaping ``x`` to ``newshape`` provably succeeds: the element counts agree
    (or a single -1 next to known positive sizes divides the known part of ``x``'s)."""
    if newshape.owner is not None and isinstance(newshape.owner.op, Shape) \
            and newshape.owner.inputs[0] is x:
        return True
    sizes = static_int_values(newshape)
    if None in sizes or any(s < -1 for s in sizes) or sizes.count(-1) > 1:
        return False
    known = math.prod(s for s in x.type.shape if s is not None)
    rest = math.prod(s for s in sizes if s != -1)
    if -1 in sizes:
        # The unknown sizes of x multiply ``known``, so divisibility holds for any of them.
        return rest > 0 and known % rest == 0
    return None not in x.type.shape and known == rest


# Reshaping is laying out the same elements in C order, so only the last shape counts, once
# the first reshape cannot fail.
rule(CANON, "reshape_of_reshape", Node(Reshape, Node(Reshape, x, s1), s2, out="out"),
     lambda x, s1, s2, out: Reshape(out.ndim)(x, s2),
     when=lambda x, s1, s2, out: _valid_reshape(x, s1))


def _same_shape(x: Variable, newshape: Variable) -> bool:
    """Whether reshaping ``x`` to ``newshape`` provably keeps its shape."""
    if newshape.owner is not None and isinstance(newshape.owner.op, Shape) \
            and newshape.owner.inputs[0] is x:
        return True
    if newshape.type.shape[0] != x.ndim:
        return False
    sizes = static_int_values(newshape)
    if sizes.count(-1) > 1 or 0 in sizes:  # -1 next to a 0 is ambiguous (NumPy refuses)
        return False
    return all(s == -1 or (s is not None and s == have) for s, have in zip(sizes, x.type.shape))


rule(CANON, "useless_reshape", Node(Reshape, x, s1), lambda x, s1: x,
     when=lambda x, s1: _same_shape(x, s1))


# --------------------------------------------------------------------------- SpecifyShape
def _merged(inner: tuple, outer: tuple) -> tuple:
    return tuple(o if o is not None else i for i, o in zip(inner, outer))


# The outer sizes win; the inner ones it forgets are still checked, by the merged node.
def _consistent(x: Variable, inner: Variable, outer: Variable) -> bool:
    # A size x is known to have that only the outer node contradicts: leave that graph (it
    # fails at run time) as it is.
    merged = _merged(inner.owner.op.shape, outer.owner.op.shape)
    return all(None in (a, b) or a == b for a, b in zip(x.type.shape, merged))


rule(CANON, "specify_shape_of_specify_shape",
     Node(SpecifyShape, Node(SpecifyShape, x, out="inner"), out="outer"),
     lambda x, inner, outer: SpecifyShape(_merged(inner.owner.op.shape,
                                                  outer.owner.op.shape))(x),
     when=_consistent)


# --------------------------------------------------------------------------- Alloc
def _useless_alloc(value: Variable, shape: Variable) -> bool:
    if shape.owner is not None and isinstance(shape.owner.op, Shape) \
            and shape.owner.inputs[0] is value:
        return True
    sizes = static_int_values(shape)
    return None not in value.type.shape and tuple(sizes) == value.type.shape


# Alloc's node input is the value already padded to the output's rank.
rule(CANON, "useless_alloc", Node(Alloc, x, s1), lambda x, s1: x,
     when=lambda x, s1: _useless_alloc(x, s1))


# --------------------------------------------------------------------------- Subtensor
def _is_constant_slice(entry) -> bool:
    return isinstance(entry, SliceSpec) and all(isinstance(p, int) or p is None for p in entry)


def _covers_all(spec: SliceSpec, size: int | None) -> bool:
    """Whether the slice provably selects the whole axis, in order."""
    start, stop, step = spec
    if step not in (None, 1) or start not in (None, 0):
        return False
    if stop is None:
        return True
    return size is not None and stop >= size


@node_rule(CANON, "useless_subtensor", tracks=[Subtensor])
def useless_subtensor(fgraph, node):
    """``x[:]``, ``x[0:n]`` with ``n`` at least the static size, ``x[...]``: ``x`` itself."""
    x, entries = node.inputs[0], node.op.idx_list
    slices = [e for e in entries if e is not Ellipsis]
    if not all(map(_is_constant_slice, slices)) or len(slices) > x.ndim:
        return None
    if Ellipsis not in entries or entries[-1] is Ellipsis:
        sizes = x.type.shape[:len(slices)]  # the slices index the leading axes
    elif entries[0] is Ellipsis:
        sizes = x.type.shape[x.ndim - len(slices):]
    else:
        return None
    if all(_covers_all(e, size) for e, size in zip(slices, sizes)):
        return [x]
    return None


def _compose_slices(a: SliceSpec, b: SliceSpec, size: int | None) -> SliceSpec | None:
    """One slice equal to slicing an axis of ``size`` with ``a`` and the result with ``b``."""
    if size is not None:
        picked = range(size)[slice(*a)][slice(*b)]
        stop = picked.stop if picked.stop >= 0 else None
        return SliceSpec(picked.start, stop, picked.step) if len(picked) else SliceSpec(0, 0, 1)
    # Unknown size: only forward, non-negative, unit-step slices compose without it.
    if any(p is not None and p < 0 for p in (*a, *b)) or a.step not in (None, 1) \
            or b.step not in (None, 1):
        return None
    start = (a.start or 0) + (b.start or 0)
    ends = [e for e in (a.stop, None if b.stop is None else (a.start or 0) + b.stop)
            if e is not None]
    return SliceSpec(start, min(ends) if ends else None, None)


@node_rule(CANON, "subtensor_of_subtensor", tracks=[Subtensor])
def subtensor_of_subtensor(fgraph, node):
    """``x[a][b]`` with constant slices ``a`` and ``b`` (one per axis, no other entries) is
    ``x[c]`` for one slice ``c`` per axis."""
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, Subtensor):
        return None
    a_list, b_list = inner.op.idx_list, node.op.idx_list
    if not all(map(_is_constant_slice, a_list + b_list)):
        return None
    x = inner.inputs[0]
    full = SliceSpec(None, None, None)
    a_list = a_list + (full,) * (x.ndim - len(a_list))
    b_list = b_list + (full,) * (x.ndim - len(b_list))
    composed = [_compose_slices(a, b, size) for a, b, size in zip(a_list, b_list, x.type.shape)]
    if None in composed:
        return None
    return [Subtensor(tuple(composed))(x)]


# --------------------------------------------------------------------------- lifting
@node_rule("specialize", "lift_dimshuffle", tracks=[DimShuffle])
def lift_dimshuffle(fgraph, node):
    """``DimShuffle(f(a, b))`` -> ``f(DimShuffle(a), DimShuffle(b))`` for an elementwise ``f``
    whose result nothing else reads, so chains of elementwise ops meet for fusion.

    Every operand of the Elemwise has its rank, and an axis of size 1 in the result has size 1
    in every operand, so the same shuffle applies to each (a dropped axis that is not of size
    1 still fails at run time, in an operand). The new nodes inside a replacement are not
    visited again, so the whole lift happens here: through every elementwise op read only by
    the one being lifted, composing with the operands' own shuffles and folding constants.
    """
    if not _liftable(fgraph, node.inputs[0]):
        return None
    return [_shuffled(fgraph, node.op.new_order, node.inputs[0])]


def _liftable(fgraph, var: Variable) -> bool:
    return (var.owner is not None and isinstance(var.owner.op, Elemwise)
            and len(fgraph.clients.get(var, [])) == 1 and not fgraph.is_output(var))


def _shuffled(fgraph, order: tuple, var: Variable) -> Variable:
    """``DimShuffle(order)(var)``, lifted, composed or folded as far as that goes."""
    if order == tuple(range(var.ndim)):
        return var
    if _liftable(fgraph, var):
        producer = var.owner
        return producer.op(*(_shuffled(fgraph, order, i) for i in producer.inputs))
    if var.owner is not None and isinstance(var.owner.op, DimShuffle):
        return _shuffled(fgraph, _compose(var.owner.op.new_order, order), var.owner.inputs[0])
    result = DimShuffle(order)(var)
    if isinstance(var, Constant):
        folded = fold_constants(fgraph, result.owner)
        return result if folded is None else folded[0]
    return result
