"""Numerical stability ("stabilize"): replace expressions that overflow, underflow or lose
precision by equal ones that do not.

Elementwise rules: ``log(1 + x) -> log1p(x)``, ``exp(x) - 1 -> expm1(x)``,
``log(sigmoid(x)) -> -softplus(-x)``, ``log(1 - sigmoid(x)) -> -softplus(x)``, and
``log(sum(exp(x)))`` shifted by the maximum (logsumexp).

Softmax rules: a softmax written by hand (``exp(x) / sum(exp(x), keepdims=True)``, optionally
with the maximum subtracted first) becomes the ``Softmax`` op; ``log(softmax)`` becomes
``LogSoftmax``; ``logsoftmax(z)[arange(n), y]`` becomes the fused crossentropy op (of the first
``n`` rows, or of ``y`` broadcast to ``n`` labels, as indexing does).

Gradients are taken before rewriting, so the gradient graph reads the same subexpressions and
has its own unstable patterns; three rules cover them. ``sigmoid_grad_cancel`` turns the
sigmoid gradient fed by the gradient of a log, ``(h/s + k/(1-s)) * s * (1-s)`` with
``s = sigmoid(x)``, into ``h * sigmoid(-x) + k * s`` (the gradients of ``log(sigmoid(x))``,
``log(1 - sigmoid(x))`` and the binary crossentropy of a sigmoid, finite where ``s`` or
``1 - s`` underflows). ``softmax_grad_of_log`` turns the softmax
gradient fed by the gradient of a log, ``(g/p - sum(g/p * p)) * p`` with ``p = softmax(z)``,
into ``g - sum(g) * p`` (no division by a probability that may be 0).
``softmax_grad_by_hand`` recognises the gradient walk's result for a hand-written softmax,
``(gp/s + second(e, rowsum(-gp*p/s))) * e`` with ``e = exp(a)`` and ``s = sum(e)`` (which
overflow), and replaces it by the gradient of the ``Softmax`` op, ``(gp - rowsum(gp*p)) * p``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from exprc.graph.ir import Variable
from exprc.graph.traversal import equal_computations
from exprc.rewriting.engine import node_rule, rule
from exprc.rewriting.patterns import Const, Elem, Node, Var, constant_value
from exprc.rewriting.shape_rules import reads_shape_of, shape_of
from exprc.tensor import math as M
from exprc.tensor.basic import ARange, alloc, join
from exprc.tensor.elemwise import DimShuffle, Elemwise, SumToShape
from exprc.tensor.nnet.softmax import (
    CrossentropySoftmaxIntLabels,
    LogSoftmax,
    Softmax,
    logsoftmax_grad,
    softmax_grad,
)
from exprc.tensor.reduction import Reduce, keep_dims
from exprc.tensor.shape import Shape
from exprc.tensor.subtensor import ARRAY, AdvancedIncSubtensor, AdvancedSubtensor
from exprc.tensor.type import FLOAT_DTYPES
from exprc.tensor.variable import constant

#: How deep the shape-provenance walk of :func:`shape_root` looks; it bounds the cost per node.
MAX_SHAPE_DEPTH = 12


def _is_float(v: Variable) -> bool:
    return v.dtype in FLOAT_DTYPES


def _cannot_enlarge(c: Variable, out: Variable) -> bool:
    """Whether the operand ``c`` of ``out``'s Elemwise has size 1 on every axis, so dropping it
    cannot shrink ``out``'s shape."""
    return all(s == 1 for s in c.type.shape) and c.ndim <= out.ndim


# --------------------------------------------------------------------------- elementwise
rule("stabilize", "log1p", Elem("log", Elem("add", Const(1, "one"), Var("x"), out="sum")),
     lambda one, x, sum: M.log1p(x),
     when=lambda one, x, sum: _is_float(x) and _cannot_enlarge(one, sum))

rule("stabilize", "expm1", Elem("sub", Elem("exp", Var("x"), out="e"), Const(1, "one")),
     lambda x, e, one: M.expm1(x), when=lambda x, e, one: _cannot_enlarge(one, e))

rule("stabilize", "log_sigmoid", Elem("log", Elem("sigmoid", Var("x"))),
     lambda x: M.neg(M.softplus(M.neg(x))), when=lambda x: _is_float(x))

rule("stabilize", "log_one_minus_sigmoid",
     Elem("log", Elem("sub", Const(1, "one"), Elem("sigmoid", Var("x"), out="s"))),
     lambda one, x, s: M.neg(M.softplus(x)),
     when=lambda one, x, s: _is_float(x) and _cannot_enlarge(one, s))

rule("stabilize", "cancel_double_neg", Elem("neg", Elem("neg", Var("x"))), lambda x: x)


def _is_one(v: Variable, like: Variable) -> bool:
    """Whether ``v`` is a constant 1 (every element) that cannot enlarge ``like``'s shape."""
    value = constant_value(v)
    return value is not None and bool(np.all(value == 1)) and _cannot_enlarge(v, like)


def _one_plus_exp(v: Variable) -> Variable | None:
    """The ``exp(e)`` node of ``v = 1 + exp(e)``, else None."""
    if _elem_name(v) != "add" or len(v.owner.inputs) != 2:
        return None
    a, b = v.owner.inputs
    if _is_one(b, v):
        a, b = b, a
    return b if _is_one(a, v) and _elem_name(b) == "exp" else None


@node_rule("stabilize", "exp_over_one_plus_exp", tracks=["true_div", "mul"])
def exp_over_one_plus_exp(fgraph, node):
    """``exp(e) * h / (1 + exp(e))`` -> ``h * sigmoid(e)``, the ``exp(e)`` being a factor of
    the numerator or of a product holding the quotient: the derivative of a logistic function
    written out (``1 / (1 + exp(-x))``) has this form. It overflows to inf / inf where
    ``sigmoid`` is exact, and as ``sigmoid`` it meets the gradient rules below."""
    out = node.outputs[0]
    if not _is_float(out):
        return None
    if _elem_name(out) == "true_div":
        product, quotient = _factors(node.inputs[0]), None
        numerator, denominator = node.inputs
        candidates = [(denominator, None)]
    else:
        product = _factors(out)
        candidates = [(f.owner.inputs[1], f) for f in product if _elem_name(f) == "true_div"]
    for denominator, quotient in candidates:
        e = _one_plus_exp(denominator)
        if e is None or not any(f is e for f in product):
            continue
        rest = _without(product, e) if quotient is None else \
            _without(product, e, quotient) + _factors(quotient.owner.inputs[0])
        if any(f.dtype != out.dtype for f in rest):
            continue
        value = M.sigmoid(e.owner.inputs[0])
        for f in rest:
            value = M.mul(f, value)
        if value.type.shape == out.type.shape and value.dtype == out.dtype:
            return [value]
    return None


@node_rule("stabilize", "sigmoid_by_hand", tracks=["true_div", "reciprocal"])
def sigmoid_by_hand(fgraph, node):
    """``1 / (1 + exp(e))`` (or ``reciprocal``) -> ``sigmoid(-e)``: the logistic function
    written out, as tutorials write it. Written out, ``1 - p`` rounds to 0 once ``-e`` passes
    ~37 and ``log(1 - p)`` is -inf; as ``sigmoid`` the log rules above make it a softplus, and
    the gradient rules keep its derivative finite."""
    if _elem_name(node.outputs[0]) == "true_div":
        one, denominator = node.inputs
        if not _is_one(one, node.outputs[0]):
            return None
    else:
        denominator = node.inputs[0]
    if _elem_name(denominator) != "add" or len(denominator.owner.inputs) != 2:
        return None
    a, b = denominator.owner.inputs
    if _is_one(b, denominator):
        a, b = b, a
    if not _is_one(a, denominator) or _elem_name(b) != "exp" or not _is_float(b):
        return None
    exponent = b.owner.inputs[0]
    if exponent.type.shape != node.outputs[0].type.shape or exponent.dtype != b.dtype:
        return None
    argument = (exponent.owner.inputs[0] if _elem_name(exponent) == "neg"
                else M.neg(exponent))
    return [M.sigmoid(argument)]


def _keepdims_of(ds: DimShuffle, axes: tuple, ndim: int) -> bool:
    """Whether ``ds`` puts the reduced ``axes`` back as size-1 axes of a rank-``ndim`` tensor."""
    kept = iter(range(ndim - len(axes)))
    return ds.new_order == tuple("x" if d in axes else next(kept) for d in range(ndim))


@node_rule("stabilize", "logsumexp", tracks=["log"])
def logsumexp(fgraph, node):
    """``log(sum(exp(x), axes))`` -> ``m + log(sum(exp(x - m), axes))``, ``m = max(x, axes)``
    (``m`` taken as 0 where it is infinite, so rows of -inf give -inf, not NaN).

    ``x`` is first cast to the float dtype of ``exp(x)`` (integers would wrap in ``x - m``,
    booleans have no subtraction), and ``m`` is the maximum of ``x`` padded with -inf along
    the reduced axes that may be empty, where ``max`` has no value but the sum is 0.
    """
    total = node.inputs[0]
    ds = None
    if total.owner is not None and isinstance(total.owner.op, DimShuffle):
        ds, total = total.owner.op, total.owner.inputs[0]
    red = total.owner
    if red is None or not isinstance(red.op, Reduce) or red.op.scalar_op.name != "add":
        return None
    e = red.inputs[0]
    if e.owner is None or not isinstance(e.owner.op, Elemwise) \
            or e.owner.op.scalar_op.name != "exp" or red.op.dtype != e.dtype \
            or not _is_float(e):
        return None
    x, axes = M.cast(e.owner.inputs[0], e.dtype), red.op.axis
    if ds is not None and not _keepdims_of(ds, axes, x.ndim):
        return None
    m = Reduce("maximum", axes, x.dtype)(_padded_with_minus_inf(x, axes))
    m = M.switch(M.isinf(m), constant(0, dtype=x.dtype), m)
    shifted = M.exp(M.sub(x, keep_dims(m, axes, x.ndim)))
    out = M.add(m, M.log(Reduce("add", axes, x.dtype)(shifted)))
    return [ds(out) if ds is not None else out]


def _padded_with_minus_inf(x: Variable, axes: tuple) -> Variable:
    """``x`` with one slice of -inf joined along each of ``axes`` whose static size is not
    known to be positive, so that its maximum over ``axes`` always exists and is ``x``'s
    wherever ``x`` has elements (the copy is the price of not knowing the sizes)."""
    for axis in axes:
        if x.type.shape[axis] is not None and x.type.shape[axis] > 0:
            continue
        sizes = [1 if d == axis else (s if s is not None else x.shape[d])
                 for d, s in enumerate(x.type.shape)]
        x = join(axis, x, alloc(constant(-np.inf, dtype=x.dtype), *sizes))
    return x


# --------------------------------------------------------------------------- softmax
def _single_axis_sum(e: Variable, s: Variable) -> int | None:
    """The axis ``a`` when ``s`` is ``sum(e, axis=a, keepdims=True)``, else None."""
    if s.owner is None or not isinstance(s.owner.op, DimShuffle):
        return None
    red = s.owner.inputs[0].owner
    if red is None or not isinstance(red.op, Reduce) or red.op.scalar_op.name != "add" \
            or red.inputs[0] is not e or len(red.op.axis) != 1 or red.op.dtype != e.dtype:
        return None
    return red.op.axis[0] if _keepdims_of(s.owner.op, red.op.axis, e.ndim) else None


# The shift by the maximum stays inside the Softmax: where that maximum is +inf, the hand-written
# form is NaN across the row, which Softmax of the unshifted values would not be.
rule("stabilize", "softmax_by_hand",
     Elem("true_div", Elem("exp", Var("a"), out="e"), Var("s")),
     lambda a, e, s: Softmax(_single_axis_sum(e, s))(a),
     when=lambda a, e, s: _is_float(a) and _single_axis_sum(e, s) is not None)

rule("stabilize", "log_softmax", Elem("log", Node(Softmax, Var("x"), out="sm")),
     lambda x, sm: LogSoftmax(sm.owner.op.axis)(x))


def _is_length(size: Variable, v: Variable) -> bool:
    """Whether the 0-d ``size`` provably equals ``v.shape[0]``: a constant equal to the static
    size, ``v.shape[0]`` itself, or the size shape inference gives for it (what the shape pass
    puts in place of ``v.shape[0]``)."""
    value = constant_value(size)
    if value is not None:
        return value.ndim == 0 and int(value) == v.type.shape[0]
    return reads_shape_of(size, v) or equal_computations([size], [shape_of(v)[0]])


def _crossentropy(z: Variable, stop: Variable, y: Variable) -> Variable:
    """``-logsoftmax(z)[arange(stop), y]`` as the fused op, for ``stop`` provably the number of
    rows of ``z`` or of labels ``y``.

    The fused op takes one label per row. Indexing takes rows ``0 .. stop - 1`` and broadcasts
    a single label over them: with ``stop`` the number of labels, the rows are ``z[:stop]``
    (more labels than rows fails in both); with ``stop`` the number of rows, the labels are
    ``y`` broadcast to that length (any other length fails in both).
    """
    if not _is_length(stop, y):
        y = alloc(y, stop)
    elif not _is_length(stop, z):
        z = z[:stop]
    return M.neg(CrossentropySoftmaxIntLabels()(z, y))


rule("stabilize", "crossentropy_softmax_int_labels",
     Node(AdvancedSubtensor, Node(LogSoftmax, Var("z"), axis=lambda a: a in (1, -1)),
          Node(ARange, Const(0), Var("stop"), Const(1)), Var("y"), idx_list=(ARRAY, ARRAY)),
     _crossentropy,
     when=lambda z, stop, y: z.ndim == 2 and y.ndim == 1 and stop.ndim == 0
     and (_is_length(stop, z) or _is_length(stop, y)))


# --------------------------------------------------------------------------- gradients
def shape_root(v: Variable, depth: int = 0) -> Variable:
    """A variable that provably has ``v``'s run-time shape (``v`` itself when none is found).

    Looks through ops whose output has the shape of one input: unary normalisations,
    increments into a tensor, ``SumToShape`` to a tensor's shape, and Elemwise ops whose
    other inputs have size 1 everywhere or the same root.
    """
    node = v.owner
    if node is None or depth > MAX_SHAPE_DEPTH:
        return v
    op = node.op
    if isinstance(op, (Softmax, LogSoftmax, AdvancedIncSubtensor)):
        return shape_root(node.inputs[0], depth + 1)
    if isinstance(op, SumToShape):
        target = node.inputs[1].owner
        if target is not None and isinstance(target.op, Shape):
            return shape_root(target.inputs[0], depth + 1)
        return v
    if isinstance(op, Elemwise):
        roots = {shape_root(i, depth + 1) for i in node.inputs
                 if not all(s == 1 for s in i.type.shape)}
        return roots.pop() if len(roots) == 1 else v
    return v


def _times_p(gp: Variable, p: Variable) -> Variable | None:
    """``gp * p`` without dividing by ``p`` when ``gp`` is ``g / p`` (possibly summed to
    ``p``'s shape), shaped like ``p``; None otherwise."""
    summed = None
    node = gp.owner
    if node is not None and isinstance(node.op, SumToShape):
        target = node.inputs[1].owner
        if target is None or not isinstance(target.op, Shape) or target.inputs[0] is not p:
            return None
        summed, node = node, node.inputs[0].owner
    if node is None or not isinstance(node.op, Elemwise) \
            or node.op.scalar_op.name != "true_div" or node.inputs[1] is not p:
        return None
    g = node.inputs[0]
    if summed is not None:
        return SumToShape(p.type.shape)(g, summed.inputs[1])
    if g.dtype != p.dtype:
        return None
    # ``g / p`` has the broadcast shape of both; ``g`` alone only when it provably has p's.
    return g if shape_root(g) is shape_root(p) else M.fill(p, g)


def _softmax_axis(p: Variable) -> int | None:
    if p.owner is None or not isinstance(p.owner.op, Softmax):
        return None
    return p.owner.op.axis % p.ndim


def _grad_of_log_matches(gp, p, ds, red) -> bool:
    axis = _softmax_axis(p)
    return (axis is not None and red.op.axis == (axis,) and red.op.scalar_op.name == "add"
            and red.op.dtype == p.dtype and _keepdims_of(ds.op, (axis,), p.ndim)
            and _times_p(gp, p) is not None)


rule("stabilize", "softmax_grad_of_log",
     Elem("mul", Elem("sub", Var("gp"), Node(DimShuffle, Node(
         Reduce, Elem("mul", Var("gp"), Var("p")), out="red"), out="ds")), Var("p")),
     lambda gp, p, ds, red: logsoftmax_grad(_times_p(gp, p), p, _softmax_axis(p)),
     when=lambda gp, p, ds, red: _grad_of_log_matches(gp, p, ds.owner, red.owner))


def _softmax_in_graph(fgraph, a: Variable, axis: int) -> Variable:
    """The ``Softmax`` of ``a`` already in the graph, or a new one."""
    for client in fgraph.client_nodes(a):
        if isinstance(client.op, Softmax) and client.op.axis % a.ndim == axis:
            return client.outputs[0]
    return Softmax(axis)(a)


def _is_softmax_of(p: Variable, e: Variable, s: Variable, axis: int) -> bool:
    """Whether ``p`` is ``e / s`` or the ``Softmax`` that replaced it."""
    if p.owner is None:
        return False
    if isinstance(p.owner.op, Softmax):
        return p.owner.op.axis % p.ndim == axis and p.owner.inputs[0] is e.owner.inputs[0]
    return isinstance(p.owner.op, Elemwise) and p.owner.op.scalar_op.name == "true_div" \
        and p.owner.inputs == [e, s]


def _row_sum_operand(t: Variable, axis: int) -> Variable | None:
    """``v`` when ``t`` is ``v`` summed over ``axis`` keeping it (a ``SumToShape`` whose static
    shape is 1 on ``axis``, or a keepdims ``Reduce``), possibly behind a DimShuffle that drops
    and re-inserts that size-1 axis; else None."""
    node = t.owner
    if node is not None and isinstance(node.op, DimShuffle) and \
            node.op.new_order == tuple("x" if d == axis else d for d in range(t.ndim)):
        node = node.inputs[0].owner
    if node is None:
        return None
    if isinstance(node.op, SumToShape) and node.op.static_shape[axis] == 1:
        return node.inputs[0]
    if isinstance(node.op, DimShuffle) and _keepdims_of(node.op, (axis,), t.ndim):
        red = node.inputs[0].owner
        if red is not None and isinstance(red.op, Reduce) and red.op.axis == (axis,) \
                and red.op.scalar_op.name == "add":
            return red.inputs[0]
    return None


#: ``gp / s + second(e, rowsum(-(gp * p) / s))``: what the gradient walk sends into ``e`` from
#: ``p = e / s`` (up to the shape plumbing :func:`_row_sum_operand` looks through).
_HAND_GRAD = Elem("add", Elem("true_div", Var("gp"), Var("s")),
                  Elem("second", Var("e"), Var("t")))
_GP_TIMES_P = [Elem("mul", Var("p"), Elem("neg", Var("gp"))),
               Elem("neg", Elem("mul", Var("p"), Var("gp")))]


@node_rule("stabilize", "softmax_grad_by_hand", tracks=["mul"])
def softmax_grad_by_hand(fgraph, node):
    """``(gp/s + second(e, rowsum(-gp*p/s))) * e`` with ``e = exp(a)``, ``s = sum(e, axis,
    keepdims)`` and ``p = e/s``: the gradient the walk builds through a hand-written softmax,
    which overflows with ``e``. It equals ``(gp - rowsum(gp * p)) * p``, the gradient of the
    ``Softmax`` op."""
    if len(node.inputs) != 2:
        return None
    for e, rest in (node.inputs, node.inputs[::-1]):
        if e.owner is None or not isinstance(e.owner.op, Elemwise) \
                or e.owner.op.scalar_op.name != "exp" or not _is_float(e):
            continue
        bound = _HAND_GRAD.match(rest, {"e": e})
        axis = None if bound is None else _single_axis_sum(e, bound["s"])
        if axis is None:
            continue
        v = _row_sum_operand(bound["t"], axis)
        inner = None if v is None or v.owner is None else v.owner
        if inner is None or not isinstance(inner.op, Elemwise) \
                or inner.op.scalar_op.name != "true_div" or inner.inputs[1] is not bound["s"]:
            continue
        for pattern in _GP_TIMES_P:
            found = pattern.match(inner.inputs[0], bound)
            if found is not None and _is_softmax_of(found["p"], e, found["s"], axis):
                p = _softmax_in_graph(fgraph, e.owner.inputs[0], axis)
                return [softmax_grad(found["gp"], p, axis)]
    return None


# --------------------------------------------------------------------------- sigmoid gradients
#: How many nested ``mul`` nodes :func:`sigmoid_grad_cancel` looks through for the factors
#: ``s`` and ``1 - s``, and how many ``add``/``sub``/``neg`` nodes for the terms of the
#: gradient they multiply; both bound the cost per node.
MAX_FACTOR_DEPTH = 3
MAX_TERM_DEPTH = 8


def _elem_name(v: Variable) -> str | None:
    node = v.owner
    return node.op.scalar_op.name if node is not None and isinstance(node.op, Elemwise) else None


def _factors(v: Variable, depth: int = 0) -> list[Variable]:
    """The operands of the product tree of ``mul`` nodes rooted at ``v``."""
    if depth > MAX_FACTOR_DEPTH or _elem_name(v) != "mul":
        return [v]
    return [f for i in v.owner.inputs for f in _factors(i, depth + 1)]


def _terms(v: Variable, sign: int = 1, depth: int = 0) -> list[tuple[int, Variable]]:
    """``v`` as a signed sum ``sum(sign * term)`` through ``add``, ``sub`` and ``neg``."""
    name = _elem_name(v) if depth <= MAX_TERM_DEPTH else None
    if name == "add":
        return [t for i in v.owner.inputs for t in _terms(i, sign, depth + 1)]
    if name == "sub":
        a, b = v.owner.inputs
        return _terms(a, sign, depth + 1) + _terms(b, -sign, depth + 1)
    if name == "neg":
        return _terms(v.owner.inputs[0], -sign, depth + 1)
    return [(sign, v)]


_ONE_MINUS = Elem("sub", Const(1, "one"), Var("s"))


def _one_minus(u: Variable) -> Variable | None:
    """``s`` when ``u`` is ``1 - s`` (whose constant 1 cannot enlarge the shape)."""
    bound = _ONE_MINUS.match(u, {})
    return bound["s"] if bound is not None and _cannot_enlarge(bound["one"], u) else None


def _peeled(v: Variable) -> tuple[int, Variable]:
    """``v`` as ``sign * core`` through nested ``neg`` nodes."""
    sign = 1
    while _elem_name(v) == "neg":
        sign, v = -sign, v.owner.inputs[0]
    return sign, v


def _complements(u: Variable, s: Variable) -> bool:
    """Whether ``u`` is ``1 - s``, or ``u = sigmoid(a)`` and ``s = sigmoid(b)`` with ``a`` and
    ``b`` negations of each other (``sigmoid(-x) = 1 - sigmoid(x)``)."""
    if _one_minus(u) is s:
        return True
    if _elem_name(u) != "sigmoid" or _elem_name(s) != "sigmoid":
        return False
    sign_u, core_u = _peeled(u.owner.inputs[0])
    sign_s, core_s = _peeled(s.owner.inputs[0])
    return core_u is core_s and sign_u != sign_s


def _sigmoid_pairs(factors: list[Variable]) -> Iterator[tuple[Variable, Variable]]:
    """Each ``(s, u)`` among ``factors`` with ``s = sigmoid(x)`` for a float ``x`` and ``u``
    its complement, ``1 - s`` or ``sigmoid(-x)`` (two sigmoids pair both ways)."""
    for u in factors:
        for s in factors:
            if s is not u and _elem_name(s) == "sigmoid" and _is_float(s.owner.inputs[0]) \
                    and _complements(u, s):
                yield s, u


def _divided_by(term: Variable, s: Variable, u: Variable) -> tuple[Variable, str] | None:
    """``(h, 's')`` when ``term`` is ``h / s`` or ``h / (1 - u)``, ``(h, 'u')`` when it is
    ``h / u`` or ``h / (1 - s)`` (``u`` complements ``s``)."""
    if _elem_name(term) != "true_div":
        return None
    h, d = term.owner.inputs
    if d is s or _one_minus(d) is u:
        return h, "s"
    if d is u or _one_minus(d) is s:
        return h, "u"
    return None


def _without(factors: list[Variable], *drop: Variable) -> list[Variable]:
    """``factors`` with one occurrence of each of ``drop`` removed."""
    rest = list(factors)
    for d in drop:
        rest.pop(next(i for i, f in enumerate(rest) if f is d))
    return rest


def _cancelled(terms, s: Variable, u: Variable) -> Variable:
    """``sum(sign * term) * s * u`` with each division by ``s`` or ``u`` cancelled:
    ``h / s * s * u = h * sigmoid(-x)`` and ``h / u * s * u = h * s`` (``u = 1 - s`` is
    ``sigmoid(-x)``, which keeps its precision where ``s`` rounds to 1)."""
    x = s.owner.inputs[0]
    total = None
    for sign, term in terms:
        found = _divided_by(term, s, u)
        if found is None:
            value = M.mul(M.mul(term, s), u)
        else:
            h, by = found
            value = M.mul(h, M.sigmoid(M.neg(x)) if by == "s" else s)
        if total is None:
            total = value if sign > 0 else M.neg(value)
        else:
            total = M.add(total, value) if sign > 0 else M.sub(total, value)
    return total


@node_rule("stabilize", "sigmoid_grad_cancel", tracks=["mul"])
def sigmoid_grad_cancel(fgraph, node):
    """``g * s * (1 - s)`` with ``s = sigmoid(x)``, where ``g`` is a sum of terms ``h / s`` or
    ``h / (1 - s)``: what the gradient walk builds for ``log(sigmoid(x))``,
    ``log(1 - sigmoid(x))`` and ``binary_crossentropy(sigmoid(x), t)``. Where ``s`` or
    ``1 - s`` rounds to 0 (``x`` below -745 in float64, -104 in float32, or large and
    positive), the divisions give inf or NaN although the gradient, ``1 - s`` for
    ``log(sigmoid(x))``, is finite; cancelling them (see :func:`_cancelled`) gives it.
    """
    out = node.outputs[0]
    factors = _factors(out)
    if len(factors) < 3 or not _is_float(out) or any(f.dtype != out.dtype for f in factors):
        return None
    for s, u in _sigmoid_pairs(factors):
        rest = _without(factors, s, u)
        for k, g in enumerate(rest):
            terms = _terms(g)
            if all(_divided_by(t, s, u) is None for _, t in terms) \
                    or any(t.dtype != out.dtype for _, t in terms):
                continue
            value = _cancelled(terms, s, u)
            for other in rest[:k] + rest[k + 1:]:
                value = M.mul(other, value)
            return [value]
    return None
