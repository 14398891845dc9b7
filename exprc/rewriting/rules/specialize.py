"""Specialization: general ops replaced by cheaper special cases (``x ** 2 -> sqr(x)``,
reductions over nothing or over filled arrays), run after stabilization.

As in canonicalization, every replacement has the dtype and shape of what it replaces, and the
values up to rounding, special values included: ``x ** -0.5`` is ``inf`` at -0.0 and ``0`` at
-inf, where ``1 / sqrt(x)`` gives ``-inf`` and NaN, so its square root is taken of a guarded
argument unless ``config.fast_math``. Moving a constant factor out of a float sum changes
where the sum overflows, so that also waits for ``config.fast_math``; and no rewrite drops an
op that would raise (a reduction of an Alloc whose size may be negative stays).
"""

from __future__ import annotations

import math

import numpy as np

from exprc.configuration import config
from exprc.graph.ir import Constant, Variable
from exprc.rewriting.engine import node_rule, rule
from exprc.rewriting.patterns import Const, Elem, Node, Var, constant_value
from exprc.rewriting.rules.canonicalize import (
    conform,
    filled_constant,
    may_enlarge,
    scalar_constant,
)
from exprc.rewriting.shape_rules.sizes import known_nonnegative
from exprc.tensor.basic import Alloc, Join, alloc
from exprc.tensor.composite import Composite
from exprc.tensor.elemwise import DimShuffle, Elemwise
from exprc.tensor.math import abs_, cast, eq, isinf, mul, or_, reciprocal, sqr, sqrt, switch
from exprc.tensor.reduction import Reduce
from exprc.tensor.shape import Shape, static_int_values
from exprc.tensor.subtensor import IncSubtensor, Subtensor
from exprc.tensor.type import FLOAT_DTYPES
from exprc.tensor.variable import constant

SPEC = "specialize"

x, y = Var("x"), Var("y")


def _keep_x(x, c, out):
    return not may_enlarge(c, x)


# --------------------------------------------------------------------------- powers
def _root_argument(x: Variable) -> Variable:
    """``x`` with -inf and -0.0 replaced by their absolute values, so that ``1 / sqrt`` of it
    equals ``x ** -0.5`` at those points too (``inf`` at -0.0, ``0`` at -inf)."""
    if config.fast_math:
        return x
    return switch(or_(isinf(x), eq(x, 0)), abs_(x), x)


rule(SPEC, "pow_two", Elem("pow", x, Const(2, "c"), out="out"),
     lambda x, c, out: sqr(cast(x, out.dtype)), when=_keep_x)
# NumPy computes x ** 0.5 as sqrt(x) (so (-inf) ** 0.5 is NaN there, unlike C's pow).
rule(SPEC, "pow_half", Elem("pow", x, Const(0.5, "c"), out="out"),
     lambda x, c, out: sqrt(cast(x, out.dtype)), when=_keep_x)
rule(SPEC, "pow_minus_half", Elem("pow", x, Const(-0.5, "c"), out="out"),
     lambda x, c, out: reciprocal(sqrt(_root_argument(cast(x, out.dtype)))), when=_keep_x)
# NumPy refuses integers to negative integer powers; only float powers are specialized.
rule(SPEC, "pow_minus_one", Elem("pow", x, Const(-1, "c"), out="out"),
     lambda x, c, out: reciprocal(cast(x, out.dtype)),
     when=lambda x, c, out: _keep_x(x, c, out) and out.dtype in FLOAT_DTYPES)
# x ** 0 is 1 for every x, NaN and 0 included.
rule(SPEC, "pow_zero", Elem("pow", x, Const(0, "c"), out="out"),
     lambda x, c, out: conform(filled_constant(1, x, out.dtype), out, c))
rule(SPEC, "mul_self", Elem("mul", x, x), lambda x: sqr(x))
rule(SPEC, "neg_times_neg", Elem("mul", Elem("neg", x), Elem("neg", y)),
     lambda x, y: mul(x, y))


def _exact_reciprocal(c: Variable, out: Variable) -> np.ndarray | None:
    """``1 / c`` in ``out``'s dtype when ``c`` is a single power of two whose reciprocal is
    exact, else None."""
    value = scalar_constant(c)
    if value is None or out.dtype not in FLOAT_DTYPES:
        return None
    value = value.astype(out.dtype)
    with np.errstate(all="ignore"):
        inverse = np.asarray(1, dtype=out.dtype) / value
    if not np.isfinite(inverse) or np.abs(np.frexp(value)[0]) != 0.5 or inverse * value != 1:
        return None
    return inverse


# Division by a power of two is multiplication by its reciprocal, bit for bit.
rule(SPEC, "div_by_power_of_two", Elem("true_div", x, Var("c"), out="out"),
     lambda x, c, out: mul(cast(x, out.dtype), constant(_exact_reciprocal(c, out),
                                                       dtype=out.dtype, ndim=out.ndim)),
     when=lambda x, c, out: _exact_reciprocal(c, out) is not None)


# --------------------------------------------------------------------------- reductions
def _is_sum(op) -> bool:
    return op.name == "add"


def _scaled_sum(x, c, prod, out):
    # Integers wrap, so the product moves out exactly; for floats, scaling after summing
    # overflows elsewhere (sum([1e308, -1e308] * 2.0) is NaN, sum(...) * 2.0 is 0).
    return scalar_constant(c) is not None and prod.dtype == out.dtype \
        and (out.dtype not in FLOAT_DTYPES or config.fast_math)


rule(SPEC, "sum_of_scaled",
     Node(Reduce, Elem("mul", x, Var("c"), out="prod"), out="out", scalar_op=_is_sum),
     lambda x, c, prod, out: mul(out.owner.op(x), constant(scalar_constant(c),
                                                           dtype=out.dtype, ndim=out.ndim)),
     when=_scaled_sum)


@node_rule(SPEC, "reduce_unit_axes", tracks=[Reduce])
def reduce_unit_axes(fgraph, node):
    """A reduction over axes of static size 1 only drops them (after the cast to the
    accumulator dtype); over no axes at all it is that cast."""
    op, (x,) = node.op, node.inputs
    unit = [a for a in op.axis if x.type.shape[a] == 1]
    if not unit and op.axis:
        return None
    dropped = DimShuffle([d for d in range(x.ndim) if d not in unit])(x) if unit else x
    rest = [a - sum(u < a for u in unit) for a in op.axis if a not in unit]
    result = cast(dropped, op.dtype)
    if rest:
        result = Reduce(op.scalar_op, rest, op.dtype)(result)
    return [result]


def _shape_entries(vector: Variable) -> list:
    """Each entry of an integer vector of static length: an int where known, else a 0-d
    variable for it (read through stacks and shapes without indexing where possible)."""
    node = vector.owner
    if node is not None and isinstance(node.op, Join) and node.op.axis == 0 \
            and None not in [i.type.shape[0] for i in node.inputs]:
        return [e for part in node.inputs for e in _shape_entries(part)]
    if node is not None and isinstance(node.op, DimShuffle) and node.op.new_order == ("x",):
        scalar = node.inputs[0]
        return [int(scalar.data) if isinstance(scalar, Constant) else scalar]
    if node is not None and isinstance(node.op, Shape):
        return [s if s is not None else vector[k]
                for k, s in enumerate(node.inputs[0].type.shape)]
    return [s if s is not None else vector[k] for k, s in enumerate(static_int_values(vector))]


def _count_entries(w: Variable) -> list | None:
    """The factors of ``prod(w)`` for a vector ``w`` built as the reduction API builds element
    counts: ``switch(mask, shape, 1)`` with a constant mask, or a shape vector."""
    node = w.owner
    if node is None or w.type.shape[0] is None:
        return None
    if isinstance(node.op, Elemwise) and node.op.scalar_op.name == "switch":
        mask, chosen, other = node.inputs
        mask_data, other_data = (np.asarray(v.data) if isinstance(v, Constant) else None
                                 for v in (mask, other))
        if mask_data is None or other_data is None or other_data.size != 1 \
                or mask_data.shape != (w.type.shape[0],) or chosen.type.shape != w.type.shape:
            return None
        entries = _shape_entries(chosen)
        return [e if m else int(other_data.reshape(())) for e, m in zip(entries, mask_data)]
    if isinstance(node.op, (Join, Shape)):
        entries = _shape_entries(w)
        return entries if any(isinstance(e, int) for e in entries) else None
    return None


@node_rule(SPEC, "element_count", tracks=[Reduce])
def element_count(fgraph, node):
    """``prod(switch(mask, shape(x), 1))`` (the element count ``mean`` and ``var`` divide by)
    as the product of the selected sizes, the statically known ones folded into a constant."""
    op, (w,) = node.op, node.inputs
    if op.scalar_op.name != "mul" or op.axis != (0,) or w.ndim != 1 \
            or op.dtype in FLOAT_DTYPES or w.dtype not in ("int64", op.dtype):
        return None
    entries = _count_entries(w)
    if entries is None:
        return None
    known = math.prod(e for e in entries if isinstance(e, int))
    result = None if known == 1 else constant(known, dtype=op.dtype)
    for e in (cast(e, op.dtype) for e in entries if not isinstance(e, int)):
        result = e if result is None else mul(e, result)
    return [constant(1, dtype=op.dtype) if result is None else result]


def _reduce_alloc_parts(node):
    """For ``Reduce(alloc(v, shape))`` with ``v`` of size 1 along every reduced axis: ``v``
    without those axes, the sizes of the reduced axes and the variables for the kept ones."""
    op = node.op
    producer = node.inputs[0].owner
    if producer is None or not isinstance(producer.op, Alloc):
        return None
    value, shape_vec = producer.inputs
    if any(value.type.shape[a] != 1 for a in op.axis):
        return None
    entries = _shape_entries(shape_vec)
    reduced = [entries[a] for a in op.axis]
    kept = [e for d, e in enumerate(entries) if d not in op.axis]
    if isinstance(value, Constant):  # folded here: this pass has no constant folding
        squeezed = constant(np.squeeze(value.data, axis=op.axis), dtype=value.dtype)
    else:
        squeezed = DimShuffle([d for d in range(value.ndim) if d not in op.axis])(value)
    return squeezed, reduced, kept


@node_rule(SPEC, "reduce_of_alloc", tracks=[Reduce])
def reduce_of_alloc(fgraph, node):
    """Summing a filled array is multiplying the fill value by the element count; its max,
    min, all or any (over a provably non-empty region) is the value itself."""
    op = node.op
    parts = _reduce_alloc_parts(node)
    if parts is None or op.scalar_op.name == "mul":  # v ** n rounds differently: left alone
        return None
    value, reduced, kept = parts
    name = op.scalar_op.name
    # The Alloc this removes raises for a negative size; the product would not.
    if not all(isinstance(s, int) or known_nonnegative(s) for s in reduced):
        return None
    # n * v is the sum of n copies of v, also for n = 0 unless v may be inf or NaN (then
    # n * v is NaN, not 0); max, min, all and any give v over a non-empty region only.
    nonempty = all(isinstance(s, int) and s > 0 for s in reduced)
    if not nonempty and (name != "add" or (op.dtype in FLOAT_DTYPES
                                           and not _finite_constant(value))):
        return None
    value = cast(value, op.dtype)
    if name == "add":
        for size in reduced:
            value = mul(value, _count(size, op.dtype, value.ndim))
    out = node.outputs[0]
    if kept and (None in out.type.shape or value.type.shape != out.type.shape):
        value = alloc(value, *kept)
    return [value]


def _same_shape_chain(var: Variable) -> list[Variable]:
    """``var`` and the variables it provably has the shape of: through elementwise nodes with
    one input of its rank that is not a single broadcast element (``sgn(W)``, ``W * 2`` have
    ``W``'s shape)."""
    chain = [var]
    while var.owner is not None and isinstance(var.owner.op, Elemwise | Composite):
        full = [u for u in var.owner.inputs if any(n != 1 for n in u.type.shape)
                or not isinstance(u, Constant)]
        if len(full) != 1 or full[0].ndim != var.ndim:
            break
        var = full[0]
        chain.append(var)
    return chain


def _is_size_of(entry, var: Variable, axis: int) -> bool:
    """Whether a shape entry (an int, or a 0-d variable as :func:`_shape_entries` gives) is
    provably ``var``'s size along ``axis``: its static size, or the size of ``var`` or of a
    variable of the same shape (:func:`_same_shape_chain`) read through ``Shape``."""
    if isinstance(entry, int):
        return var.type.shape[axis] == entry
    node = entry.owner
    if node is None or not isinstance(node.op, Subtensor) or node.op.idx_list != (axis,):
        return False
    source = node.inputs[0].owner
    return (source is not None and isinstance(source.op, Shape)
            and any(source.inputs[0] is v for v in _same_shape_chain(var)))


@node_rule(SPEC, "elemwise_of_alloc", tracks=[Elemwise])
def elemwise_of_alloc(fgraph, node):
    """An elementwise node reading ``alloc(v, shape)`` beside another input that provably has
    that shape reads ``v`` itself, which the node broadcasts: no array of copies is made (the
    gradient of a sum is such a fill, and a weight decay term's elementwise gradient read two
    of them per weight matrix). A value that does not broadcast to the shape fails in the
    elementwise node instead of in the Alloc."""
    inputs = list(node.inputs)
    for k, var in enumerate(node.inputs):
        producer = var.owner
        if producer is None or not isinstance(producer.op, Alloc):
            continue
        value, shape_vec = producer.inputs
        entries = _shape_entries(shape_vec)
        if len(entries) != var.ndim or value.ndim != var.ndim:
            continue
        if any(other is not var and not (other.owner is not None
                                         and isinstance(other.owner.op, Alloc))
               and other.ndim == var.ndim
               and all(_is_size_of(e, other, d) for d, e in enumerate(entries))
               for other in node.inputs):
            inputs[k] = value
    if inputs == list(node.inputs):
        return None
    outputs = node.op(*inputs)
    outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
    if [o.type for o in outputs] != [o.type for o in node.outputs]:
        return None  # the node would lose a static size the Alloc gave it
    return list(outputs)


@node_rule(SPEC, "elemwise_into_alloc", tracks=[Elemwise])
def elemwise_into_alloc(fgraph, node):
    """``f(alloc(v, shape), c)`` with ``c`` constants of one element is ``alloc(f(v, c),
    shape)``: the function runs on the value rather than on every copy of it, and the fill
    can then vanish into the elementwise node that reads it (``elemwise_of_alloc``)."""
    fills = [v for v in node.inputs if v.owner is not None and isinstance(v.owner.op, Alloc)]
    if len(fills) != 1 or len(node.outputs) != 1:
        return None
    fill = fills[0]
    if not all(isinstance(v, Constant) and all(n == 1 for n in v.type.shape)
               for v in node.inputs if v is not fill):
        return None
    value, shape_vec = fill.owner.inputs
    if value.ndim != fill.ndim:
        return None
    inner = node.op(*[value if v is fill else v for v in node.inputs])
    result = Alloc()(inner, shape_vec)
    return [result] if result.type == node.outputs[0].type else None


def _count(size, dtype: str, ndim: int) -> Variable:
    """The element count ``size`` (an int or a 0-d integer variable) in ``dtype``, wrapped as
    an integer accumulator of that dtype wraps (200 copies of 3 sum to 88 in int8)."""
    if isinstance(size, Variable):
        return cast(size, dtype)
    return constant(np.array(size, dtype="int64").astype(dtype), dtype=dtype, ndim=ndim)


def _finite_constant(var: Variable) -> bool:
    data = constant_value(var)
    return data is not None and bool(np.all(np.isfinite(data)))


def _is_zeros(var: Variable) -> bool:
    """Whether ``var`` is all zeros: an Alloc or fill of the constant 0."""
    node = var.owner
    if node is None:
        return False
    if isinstance(node.op, Alloc):
        value = constant_value(node.inputs[0])
    elif isinstance(node.op, Elemwise) and node.op.scalar_op.name == "second":
        value = constant_value(node.inputs[1])
    else:
        return False
    return value is not None and not np.any(value)


def _increments(var: Variable):
    """``(Z, [increment nodes, first to last])`` when ``var`` is increments of slices of an
    array of zeros ``Z``; else None."""
    incs = []
    while var.owner is not None and isinstance(var.owner.op, IncSubtensor) \
            and not var.owner.op.set_instead_of_inc:
        incs.append(var.owner)
        var = var.owner.inputs[0]
    return (var, incs[::-1]) if incs and _is_zeros(var) else None


@node_rule(SPEC, "add_of_increments_into_zeros", ["add"])
def add_of_increments_into_zeros(fgraph, node):
    """``inc(Z, a, i) + inc(Z, b, j)`` over one array of zeros ``Z`` (the gradients of slices
    of one value, summed) becomes ``inc(inc(Z, a, i), b, j)``: one array, written in place
    once the in-place pass runs, instead of one per slice and the sums of them all."""
    by_base: dict = {}
    for v in node.inputs:
        chain = _increments(v)
        if chain is not None:
            by_base.setdefault(chain[0], []).append((v, chain[1]))
    for base, group in by_base.items():
        if len(group) < 2 or base.type != node.outputs[0].type:
            continue
        chained = group[0][0]
        for _, incs in group[1:]:
            for inc in incs:
                chained = IncSubtensor(inc.op.idx_list)(chained, inc.inputs[1], *inc.inputs[2:])
        group = [v for v, _ in group]
        rest = [v for v in node.inputs if not any(v is g for g in group)]
        result = chained if not rest else Elemwise(node.op.scalar_op)(chained, *rest)
        if result.type != node.outputs[0].type:
            continue
        return [result]
    return None
