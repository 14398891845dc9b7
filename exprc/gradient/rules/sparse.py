"""Gradient rules of the ``sparse`` family.

A gradient w.r.t. a sparse variable is a sparse matrix when the rule is *structured* (only the
stored entries get one) and may be dense when it is *regular*, as in Theano; a rule receiving
the gradient of a sparse output therefore accepts either (see :func:`any_mul` and friends).
"""

from __future__ import annotations

from exprc.gradient.table import DISCONNECTED, GRAD, ZERO
from exprc.tensor import math as tm
from exprc.tensor.basic import split
from exprc.tensor.shape import transpose as dense_transpose
from exprc.tensor.sparse import (
    CSM,
    Cast,
    CSMGrad,
    CSMProperties,
    DenseFromSparse,
    EnsureSortedIndices,
    HStack,
    Neg,
    Remove0,
    SparseFromDense,
    Transpose,
    VStack,
    csm_properties,
    neg,
    transpose,
)
from exprc.tensor.sparse_type import SparseVariable


def is_sparse(var) -> bool:
    return isinstance(var, SparseVariable)


#: Converts gradients to dense matrices. Not structured: a gradient graph must be linear in
#: the output gradients whatever their values, zeros included (second derivatives and ``Rop``
#: differentiate it w.r.t. them).
to_dense = DenseFromSparse(structured=False)


def as_dense(g):
    """A gradient as a dense matrix."""
    return to_dense(g) if is_sparse(g) else g


def pattern_of(x, g):
    """``g`` (sparse or dense) at the stored entries of the sparse ``x``: a structured
    gradient, a sparse matrix with exactly ``x``'s pattern (whatever the values of ``g``, so
    that the gradient graph stays linear in ``g``)."""
    _, indices, indptr, shape = csm_properties(x)
    picked = CSMGrad(x.format)(indices, indptr, shape, g)
    return CSM(x.format)(picked, indices, indptr, shape)


@GRAD.register(DenseFromSparse)
def dense_from_sparse_grad(node, output_grads):
    (x,), (gz,) = node.inputs, output_grads
    if node.op.structured:
        return [pattern_of(x, gz)]
    return [SparseFromDense(x.format)(gz)]


@GRAD.register(SparseFromDense)
def sparse_from_dense_grad(node, output_grads):
    return [as_dense(output_grads[0])]


@GRAD.register(CSMProperties)
def csm_properties_grad(node, output_grads):
    # Only the data carries a gradient; it lands on the stored entries, in their order.
    g_data = output_grads[0]
    if g_data is None:
        return [ZERO]
    (x,) = node.inputs
    _, indices, indptr, shape = node.outputs
    return [CSM(x.format)(g_data, indices, indptr, shape)]


@GRAD.register(CSM)
def csm_grad(node, output_grads):
    _, indices, indptr, shape = node.inputs
    g_data = CSMGrad(node.op.format)(indices, indptr, shape, output_grads[0])
    return [g_data, DISCONNECTED, DISCONNECTED, DISCONNECTED]


@GRAD.register(CSMGrad)
def csm_grad_grad(node, output_grads):
    # Linear in g: each picked entry's gradient goes back to its position.
    indices, indptr, shape, g = node.inputs
    back = CSM(node.op.format)(output_grads[0], indices, indptr, shape)
    return [DISCONNECTED, DISCONNECTED, DISCONNECTED, back if is_sparse(g) else as_dense(back)]


@GRAD.register(Cast, Remove0, EnsureSortedIndices)
def identity_grad(node, output_grads):
    # The walk casts the gradient to the input's dtype.
    return [output_grads[0]]


@GRAD.register(Transpose)
def transpose_grad(node, output_grads):
    (gz,) = output_grads
    return [transpose(gz) if is_sparse(gz) else dense_transpose(gz)]


@GRAD.register(Neg)
def neg_grad(node, output_grads):
    (gz,) = output_grads
    return [neg(gz) if is_sparse(gz) else tm.neg(gz)]


def _stack_grad(node, output_grads, axis: int):
    gz = as_dense(output_grads[0])
    sizes = [b.shape[axis] for b in node.inputs]
    parts = split(gz, sizes, len(sizes), axis=axis)
    return [SparseFromDense(b.format)(part) for b, part in zip(node.inputs, parts)]


@GRAD.register(HStack)
def hstack_grad(node, output_grads):
    return _stack_grad(node, output_grads, axis=1)


@GRAD.register(VStack)
def vstack_grad(node, output_grads):
    return _stack_grad(node, output_grads, axis=0)
