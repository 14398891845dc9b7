"""Sparse matrices in the gradient walk (:mod:`exprc.gradient.walk`).

The gradient w.r.t. a sparse variable is sparse where the op's rule is structured (only the
stored entries get one) and may be dense where it is regular, as in Theano; so a variable's
gradient contributions may mix both kinds, and their sum is sparse only when all of them are.
A rule may also give a sparse gradient for a dense variable (``true_dot`` with
``grad_preserves_dense=False``): a graph input keeps it (``grad`` returns it), a computed
variable gets it as a dense matrix, since the rule of the op computing it expects one.
"""

from __future__ import annotations

from exprc.errors import ExprcError
from exprc.tensor import math as tm
from exprc.tensor.sparse import DenseFromSparse, cast, sp_zeros_like
from exprc.tensor.sparse_math import add
from exprc.tensor.sparse_type import SparseVariable

#: Gradients become dense matrices by the regular conversion (see
#: :data:`exprc.gradient.rules.sparse.to_dense`).
to_dense = DenseFromSparse(structured=False)


def involves_sparse(*variables) -> bool:
    """Whether any of ``variables`` is sparse."""
    return any(isinstance(v, SparseVariable) for v in variables)


def total(a, b):
    """The sum of two gradient contributions, one at least sparse: sparse when both are,
    else dense (not ``add``'s structured sum of a sparse and a dense matrix: a gradient graph
    must not depend on which entries of a gradient happen to be stored)."""
    if isinstance(a, SparseVariable) and isinstance(b, SparseVariable):
        return add(a, b)
    return tm.add(as_dense(a), as_dense(b))


def as_dense(g):
    return to_dense(g) if isinstance(g, SparseVariable) else g


def conform(node, inp, g):
    """The gradient ``g`` (sparse or dense) of ``inp`` checked and cast to ``inp``'s dtype."""
    if g.ndim != inp.ndim:
        raise ExprcError(f"internal error: gradient rule of {node.op} gave a {g.ndim}-d "
                         f"gradient for the {inp.ndim}-d input {inp}")
    if isinstance(g, SparseVariable) and not isinstance(inp, SparseVariable) \
            and inp.owner is not None:
        g = to_dense(g)
    if g.dtype == inp.dtype:
        return g
    return cast(g, inp.dtype) if isinstance(g, SparseVariable) else tm.cast(g, inp.dtype)


def zeros(w):
    """The gradient of a sparse ``w`` the cost does not depend on: no stored entry."""
    return sp_zeros_like(w)
