"""Canonicalization: algebraic identities that make graphs smaller and put them in one form.

Every rule here gives exactly the values of what it replaces, with the same dtype and shape
(broadcasting included: a constant that could enlarge the other operand stays, or the result
is ``fill``-ed to the right shape). Two liberties are taken, as in every compiler for this
kind of code: a zero may change sign (``x + 0`` is ``x`` also for ``x = -0.0``), and folding
constants in a chain (``(x + 2) + 3 -> x + 5``) rounds once instead of twice; the folded
constant itself must be exact, so the rewritten chain gives the correctly rounded value.
Rewrites that are only right when no value is inf or NaN (``x - x -> 0`` for floats), or when
no intermediate overflows (float chains: ``(x + 1e308) - 1e308`` is inf at ``x = 1e308``),
wait for ``exprc.config.fast_math``. No rewrite turns a run-time error into a value: an
operand whose broadcast could fail is kept (see :func:`may_enlarge`).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from exprc.configuration import config
from exprc.graph.ir import Constant, Variable
from exprc.rewriting.engine import node_rule, rule
from exprc.rewriting.patterns import Const, Elem, Var, constant_value
from exprc.tensor.elemwise import Elemwise
from exprc.tensor.math import cast, fill, neg
from exprc.tensor.type import DISCRETE_DTYPES, FLOAT_DTYPES
from exprc.tensor.variable import constant

CANON = "canonicalize"

#: Largest constant (in elements) whose folding in a chain is checked for exactness.
MAX_CHAIN_CONSTANT = 64


# --------------------------------------------------------------------------- helpers
def may_enlarge(other: Variable, var: Variable) -> bool:
    """Whether broadcasting ``var`` against ``other`` could give another shape than ``var``'s,
    or fail.

    Only what static shapes prove counts: an axis is safe when ``other`` has size 1 there, or
    the same known size as ``var``. An unknown size of ``other`` is not safe even where
    ``var``'s is known: at run time it may differ, and then the broadcast is an error that
    dropping ``other`` would turn into a value.
    """
    if other.ndim > var.ndim:
        return True
    for o, v in zip(reversed(other.type.shape), reversed(var.type.shape)):
        if o == 1 or (o is not None and o == v):
            continue
        return True
    return False


def conform(value: Variable, out: Variable, *shape_sources: Variable) -> Variable:
    """``value`` with ``out``'s dtype, broadcast against each of ``shape_sources`` that could
    enlarge it (the operands a rewrite drops but whose shape the result must keep)."""
    for source in shape_sources:
        if may_enlarge(source, value):
            value = fill(source, value)
    return cast(value, out.dtype)


def is_discrete(var: Variable) -> bool:
    return var.dtype in DISCRETE_DTYPES


def scalar_constant(var: Variable) -> np.ndarray | None:
    """The value of ``var`` when it is a constant with a single element (possibly behind
    DimShuffles) and every static size 1, so it broadcasts without enlarging anything."""
    data = constant_value(var)
    if data is None or data.size != 1 or any(s != 1 for s in var.type.shape):
        return None
    return data.reshape(())


def filled_constant(value, like: Variable, dtype: str) -> Variable:
    """The constant ``value`` of ``dtype`` broadcast to ``like``'s shape, with no DimShuffle
    node (this pass does not re-visit the inside of replacements to fold it)."""
    return fill(like, constant(value, dtype=dtype, ndim=like.ndim))


def _not_enlarging(name: str):
    """A ``when`` predicate: the constant bound to ``c`` cannot enlarge the operand ``name``."""
    return lambda c, out, **bound: not may_enlarge(c, bound[name])


# --------------------------------------------------------------------------- identities
x, y = Var("x"), Var("y")
keep_x = _not_enlarging("x")

rule(CANON, "mul_by_one", Elem("mul", x, Const(1, "c"), out="out"),
     lambda x, c, out: cast(x, out.dtype), when=keep_x)
rule(CANON, "mul_by_minus_one", Elem("mul", x, Const(-1, "c"), out="out"),
     lambda x, c, out: neg(cast(x, out.dtype)),
     when=lambda x, c, out: keep_x(x=x, c=c, out=out) and out.dtype != "bool")
rule(CANON, "add_zero", Elem("add", x, Const(0, "c"), out="out"),
     lambda x, c, out: cast(x, out.dtype), when=keep_x)
rule(CANON, "sub_zero", Elem("sub", x, Const(0, "c"), out="out"),
     lambda x, c, out: cast(x, out.dtype), when=keep_x)
rule(CANON, "zero_sub", Elem("sub", Const(0, "c"), x, out="out"),
     lambda x, c, out: neg(cast(x, out.dtype)), when=keep_x)
rule(CANON, "neg_neg", Elem("neg", Elem("neg", x)), lambda x: x)
rule(CANON, "invert_invert", Elem("invert", Elem("invert", x)), lambda x: x)
rule(CANON, "div_by_one", Elem("true_div", x, Const(1, "c"), out="out"),
     lambda x, c, out: cast(x, out.dtype), when=keep_x)
# Floor division by one is the identity only for integers (floats would be floored).
rule(CANON, "int_div_by_one", Elem("int_div", x, Const(1, "c"), out="out"),
     lambda x, c, out: cast(x, out.dtype),
     when=lambda x, c, out: keep_x(x=x, c=c, out=out) and is_discrete(out))
rule(CANON, "pow_one", Elem("pow", x, Const(1, "c"), out="out"),
     lambda x, c, out: cast(x, out.dtype), when=keep_x)

# fill(a, b) broadcasts b to a's shape: nothing to do when a cannot enlarge b (the gradient
# seeds its walk with such fills).
rule(CANON, "useless_fill", Elem("second", Var("a"), x), lambda a, x: x,
     when=lambda a, x: not may_enlarge(a, x))



@node_rule(CANON, "fill_operand", tracks=[Elemwise])
def fill_operand(fgraph, node):
    """``f(a, fill(s, b))`` -> ``f(a, b)`` when the other operands already give the result
    ``s``'s shape (gradients fill values to the shape of what they flow into)."""
    if node.op.scalar_op.name == "second":
        return None
    for k, var in enumerate(node.inputs):
        filler = var.owner
        if filler is None or not isinstance(filler.op, Elemwise) \
                or filler.op.scalar_op.name != "second":
            continue
        shape_source, value = filler.inputs
        inputs = node.inputs[:k] + [value] + node.inputs[k + 1:]
        candidate = node.op(*inputs)
        if candidate.ndim == node.outputs[0].ndim and not may_enlarge(shape_source, candidate):
            return [candidate]
    return None


# 0 * x is 0 only when x is finite: always for integers, for floats only under fast_math
# (0 * inf and 0 * NaN are NaN).
rule(CANON, "mul_by_zero", Elem("mul", x, Const(0, "c"), out="out"),
     lambda x, c, out: conform(c, out, x),
     when=lambda x, c, out: is_discrete(x) or config.fast_math)
# x - x is 0 for integers; for floats inf - inf is NaN.
rule(CANON, "sub_self", Elem("sub", x, x, out="out"),
     lambda x, out: filled_constant(0, x, out.dtype),
     when=lambda x, out: is_discrete(x) or config.fast_math)
# x / x is NaN at 0 even for integers, so it is 1 only under fast_math.
rule(CANON, "div_self", Elem("true_div", x, x, out="out"),
     lambda x, out: filled_constant(1, x, out.dtype), when=lambda x, out: config.fast_math)

# log(exp(x)) is x wherever exp(x) neither overflows nor underflows (inf, -inf and NaN map to
# themselves too); where it does, the original gives +-inf and the rewrite the exact x, the
# fix the stabilize pass would make. exp(log(x)) stays: it is NaN for x < 0.
rule(CANON, "log_exp", Elem("log", Elem("exp", x), out="out"),
     lambda x, out: cast(x, out.dtype))


# --------------------------------------------------------------------------- casts
def _lossless(src: str, dst: str) -> bool:
    """Whether every value of dtype ``src`` is exactly representable in ``dst``."""
    if src == dst or src == "bool":
        return True
    if dst == "bool" or not np.can_cast(src, dst, "safe"):
        return False
    if np.dtype(src).kind in "iu" and dst in FLOAT_DTYPES:
        # NumPy calls int64 -> float64 safe, but it rounds beyond 2**53.
        return np.iinfo(src).bits - (np.dtype(src).kind == "i") <= np.finfo(dst).nmant + 1
    return True


@node_rule(CANON, "cast_chain", tracks=["cast"])
def cast_chain(fgraph, node):
    """A cast to the input's own dtype is the input; ``cast(cast(x, a), b)`` is
    ``cast(x, b)`` when every value of ``x`` survives the cast to ``a`` unchanged."""
    (inp,), out = node.inputs, node.outputs[0]
    if inp.dtype == out.dtype:
        return [inp]
    inner = inp.owner
    if inner is not None and isinstance(inner.op, Elemwise) \
            and inner.op.scalar_op.name == "cast" and _lossless(inner.inputs[0].dtype, inp.dtype):
        return [cast(inner.inputs[0], out.dtype)]
    return None


# --------------------------------------------------------------------------- switch
@node_rule(CANON, "switch_constant", tracks=["switch"])
def switch_constant(fgraph, node):
    """``switch(c, a, b)`` with ``c`` a constant that is all true (all false) is ``a``
    (``b``); ``switch(c, a, a)`` is ``a``. The result keeps the broadcast shape."""
    cond, a, b = node.inputs
    out = node.outputs[0]
    if a is b:
        return [conform(a, out, cond)]
    data = constant_value(cond)
    if data is None or data.size == 0:
        return None
    if np.all(data):
        return [conform(a, out, cond, b)]
    if not np.any(data):
        return [conform(b, out, cond, a)]
    return None


# --------------------------------------------------------------------------- chains
def _exact_fold(name: str, a: np.ndarray, b: np.ndarray, dtype: str) -> np.ndarray | None:
    """``a op b`` in ``dtype`` if it is exact (integers wrap, which is exact modular
    arithmetic), else None."""
    fn = np.add if name == "add" else np.multiply
    a, b = a.astype(dtype), b.astype(dtype)
    with np.errstate(all="ignore"):
        result = fn(a, b)
    if dtype not in FLOAT_DTYPES:
        return result
    if not np.all(np.isfinite(result)):
        return None
    pairs = np.broadcast_arrays(result, a, b)
    for r, p, q in zip(*(arr.reshape(-1) for arr in pairs)):
        fr, fp, fq = Fraction(float(r)), Fraction(float(p)), Fraction(float(q))
        if fr != (fp + fq if name == "add" else fp * fq):
            return None
    return result


def _fold_chain(name: str):
    def fold(fgraph, node):
        out = node.outputs[0]
        if out.dtype in FLOAT_DTYPES and not config.fast_math:
            # One step instead of two overflows elsewhere: at x = 2.0 ** 100,
            # (x * 2.0 ** 1000) * 2.0 ** -1000 is inf and x * 1.0 is not.
            return None
        for k in (0, 1):
            inner, outer_c = node.inputs[k], node.inputs[1 - k]
            if not isinstance(outer_c, Constant) or inner.owner is None \
                    or inner.owner.op != node.op or inner.dtype != out.dtype:
                continue
            for j in (0, 1):
                rest, inner_c = inner.owner.inputs[j], inner.owner.inputs[1 - j]
                if not isinstance(inner_c, Constant) or isinstance(rest, Constant) or \
                        inner_c.data.size + outer_c.data.size > MAX_CHAIN_CONSTANT:
                    continue
                folded = _exact_fold(name, inner_c.data, outer_c.data, out.dtype)
                if folded is not None:
                    return [node.op(rest, constant(folded, dtype=out.dtype))]
        return None

    fold.__name__ = f"fold_{name}_chain"
    fold.__doc__ = (f"``({name} x c1) {name} c2`` -> ``x {name} (c1 {name} c2)`` when the two "
                    "constants combine exactly and the chain has one dtype (a float one only "
                    "under fast_math).")
    return fold


for _name in ("add", "mul"):
    node_rule(CANON, f"{_name}_constant_chain", tracks=[_name])(_fold_chain(_name))


def _order_key(var: Variable) -> tuple:
    return (isinstance(var, Constant), int(var.auto_name[1:]))


@node_rule(CANON, "commutative_order", tracks=["add", "mul"])
def commutative_order(fgraph, node):
    """Put the operands of ``add`` and ``mul`` in one order (constants last, then by creation),
    so that ``a + b`` and ``b + a`` become the same node for the merge pass."""
    a, b = node.inputs
    if _order_key(a) <= _order_key(b):
        return None
    return [node.op(b, a)]
