"""The ``blas`` pass: sums of a scaled product and a scaled term become one BLAS op.

``a * dot(x, y) + b * z`` (matrices) becomes ``Gemm(z, a, x, y, b)``; the same with a
matrix-vector or vector-matrix product becomes ``Gemv``, and with an outer product
``x[:, None] * y[None, :]`` becomes ``Ger``. Subtraction flips the sign of a scale, ``-t``
counts as ``-1 * t``, and the scales may be missing (1). ``z`` may broadcast, so
``dot(x, W) + b`` with a bias vector ``b`` becomes ``Gemm(b[None, :], 1, x, W, 1)``.

What makes the rewrite exact and cheap:

- a scale is a tensor with one element by its static shape (all sizes 1), so it cannot
  enlarge the product; ``z`` and the product broadcast in the BLAS op exactly as they did in
  the sum, so static and run-time shapes are unchanged;
- the product, the sum and every scale have one float dtype, and the product's inputs have it
  too (no promotion is hidden in the BLAS op); a scale of another dtype is cast, which is what
  the multiplication did;
- the product and the scaled terms built on it are read only by the sum, so the product is
  not computed twice;
- with one scale on each side the BLAS op computes ``b * z + a * P`` in the original order
  of operations (bit-identical on the reference executor); two or more scales on one side are
  multiplied together first, which may change the last bit, and a vector-matrix product
  ``dot(v, A)`` becomes ``Gemv`` of ``A.T``, whose sums may round differently.

These rules need the graph (who else reads the product) and combine several term shapes, so
they are node rules over ``add`` and ``sub`` rather than one pattern per combination.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import exprc.tensor.math as M
from exprc.graph.fgraph import FunctionGraph
from exprc.graph.ir import Constant, Variable
from exprc.rewriting.engine import node_rule
from exprc.tensor.blas import Gemm, Gemv, Ger
from exprc.tensor.elemwise import DimShuffle, Elemwise
from exprc.tensor.linalg import Dot
from exprc.tensor.type import FLOAT_DTYPES
from exprc.tensor.variable import constant

#: How many scale factors and negations are looked through on each side of the sum.
MAX_SCALE_DEPTH = 4


@dataclass
class Term:
    """An operand of the sum seen as ``(-1 if negative) * prod(factors) * core``."""

    core: Variable
    factors: list[Variable] = field(default_factory=list)
    negative: bool = False
    private: bool = True  # every variable from the operand down to the core has one reader


def _one_element(var: Variable) -> bool:
    return all(s == 1 for s in var.type.shape)


def product_of(var: Variable):
    """``(op class, x, y)`` when ``var`` is a float product a BLAS op computes, else None."""
    node = var.owner
    if node is None or var.dtype not in FLOAT_DTYPES:
        return None
    if type(node.op) is Dot:
        a, b = node.inputs
        if a.dtype != var.dtype or b.dtype != var.dtype:
            return None
        if a.ndim == 2:
            return (Gemm if b.ndim == 2 else Gemv), a, b
        if b.ndim == 2:
            return Gemv, DimShuffle((1, 0))(b), a
        return None
    if type(node.op) is Elemwise and node.op.scalar_op.name == "mul":
        vectors = dict(_outer_factor(v) for v in node.inputs)
        if set(vectors) == {"column", "row"} and all(
                v.dtype == var.dtype for v in vectors.values()):
            return Ger, vectors["column"], vectors["row"]
    return None


def _outer_factor(var: Variable) -> tuple[str | None, Variable]:
    """``("column", x)`` for ``x[:, None]``, ``("row", x)`` for ``x[None, :]``."""
    node = var.owner
    if node is not None and isinstance(node.op, DimShuffle) and node.inputs[0].ndim == 1:
        kind = {(0, "x"): "column", ("x", 0): "row"}.get(node.op.new_order)
        return kind, node.inputs[0]
    return None, var


def split_term(fgraph: FunctionGraph, var: Variable) -> Term:
    """``var`` as a :class:`Term`, looking through scalings and negations."""
    term = Term(var)
    for _ in range(MAX_SCALE_DEPTH):
        node = term.core.owner
        if node is None or type(node.op) is not Elemwise or product_of(term.core):
            break
        name = node.op.scalar_op.name
        if name == "neg":
            inner = node.inputs[0]
            term.negative = not term.negative
        elif name == "mul":
            a, b = node.inputs
            if _one_element(a) and (product_of(b) or not _one_element(b)):
                term.factors.append(a)
                inner = b
            elif _one_element(b):
                term.factors.append(b)
                inner = a
            else:
                break
        else:
            break
        term.private = term.private and len(fgraph.clients[term.core]) == 1
        term.core = inner
    term.private = term.private and len(fgraph.clients[term.core]) == 1
    return term


def scale(factors: list[Variable], negative: bool, dtype: str) -> Variable:
    """The 0-d product of ``factors`` (each with one element), negated if asked, in
    ``dtype``."""
    scalars = [M.cast(_as_0d(f), dtype) for f in factors]
    if all(isinstance(s, Constant) for s in scalars):
        value = np.array(-1 if negative else 1, dtype=dtype)
        for s in scalars:
            value = value * s.data
        return constant(value, dtype=dtype)
    result = scalars[0]
    for s in scalars[1:]:
        result = M.mul(result, s)
    return M.neg(result) if negative else result


def _as_0d(var: Variable) -> Variable:
    if var.ndim == 0:
        return var
    node = var.owner
    if node is not None and isinstance(node.op, DimShuffle) and node.inputs[0].ndim == 0:
        return node.inputs[0]
    if isinstance(var, Constant):
        return constant(var.data.reshape(()), dtype=var.dtype)
    return DimShuffle(())(var)


def _blas_sum(fgraph: FunctionGraph, node, subtract: bool):
    """The BLAS op equal to ``node`` (``l + r`` or ``l - r``), or None."""
    out = node.outputs[0]
    if out.dtype not in FLOAT_DTYPES:
        return None
    for p_index in (0, 1):
        term = split_term(fgraph, node.inputs[p_index])
        found = product_of(term.core) if term.private else None
        if found is None or term.core.dtype != out.dtype:
            continue
        op_class, x, y = found
        z_term = split_term(fgraph, node.inputs[1 - p_index])
        if not z_term.private or z_term.core.dtype != out.dtype:
            z_term = Term(node.inputs[1 - p_index])
        if z_term.core.dtype != out.dtype:
            return None
        alpha = scale(term.factors, term.negative ^ (subtract and p_index == 1), out.dtype)
        beta = scale(z_term.factors, z_term.negative ^ (subtract and p_index == 0), out.dtype)
        return [op_class()(z_term.core, alpha, x, y, beta)]
    return None


@node_rule("blas", "blas_add", tracks=["add"])
def blas_add(fgraph, node):
    """``a * P + b * z`` into ``Gemm``, ``Gemv`` or ``Ger``."""
    return _blas_sum(fgraph, node, subtract=False)


@node_rule("blas", "blas_sub", tracks=["sub"])
def blas_sub(fgraph, node):
    """``b * z - a * P`` and ``a * P - b * z`` into ``Gemm``, ``Gemv`` or ``Ger``."""
    return _blas_sum(fgraph, node, subtract=True)
