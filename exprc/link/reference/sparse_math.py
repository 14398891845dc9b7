"""Reference implementations of the ``sparse_math`` family, with SciPy.

Sparse matrices never broadcast: operands of an elementwise op must have the same shape, and a
mismatch (as a wrong inner size of a product) is an error naming the op and both shapes.
"""

from __future__ import annotations

import numpy as np

from exprc.errors import ExprcShapeError
from exprc.link.reference.sparse import entries, stored
from exprc.link.reference.table import REFERENCE
from exprc.tensor.sparse_math import (
    AddSD,
    AddSS,
    Dot,
    MulSD,
    MulSS,
    Scale,
    SpSum,
    StructuredDot,
    StructuredDotGrad,
    TrueDot,
)
from exprc.tensor.sparse_type import as_matrix, is_sparse_value, matrix_class


def _same_shape(node, x, y) -> None:
    if tuple(x.shape) != tuple(y.shape):
        raise ExprcShapeError(f"{node.op}: x has shape {tuple(x.shape)} and y "
                              f"{tuple(y.shape)}; sparse matrices do not broadcast")


def _inner(node, x, y) -> None:
    inner_x = x.shape[-1]
    inner_y = y.shape[0]
    if inner_x != inner_y:
        raise ExprcShapeError(f"{node.op}: shapes {tuple(x.shape)} and {tuple(y.shape)} are "
                              f"not aligned: {inner_x} (last axis of x) != {inner_y} (first "
                              "axis of y)")


def _dense(value, dtype: str) -> np.ndarray:
    """A product's result (ndarray, np.matrix or sparse) as an ndarray of ``dtype``."""
    if is_sparse_value(value):
        value = value.toarray()
    return np.asarray(value, dtype=dtype)


def with_pattern(x, data: np.ndarray, format: str, dtype: str):
    """A ``format`` matrix with the stored entries of ``x`` (their positions, in order) and the
    values ``data``; its index arrays are copies (the result is no view of ``x``)."""
    n = stored(x)
    return matrix_class(format)((data.astype(dtype, copy=False), x.indices[:n].copy(),
                                 x.indptr.copy()), shape=x.shape)


@REFERENCE.register(AddSS)
def add_ss(node, x, y):
    _same_shape(node, x, y)
    out = node.outputs[0].type
    return [as_matrix(x + y, out.format, out.dtype)]


@REFERENCE.register(AddSD)
def add_sd(node, x, y):
    _same_shape(node, x, y)
    return [np.asarray(x + y, dtype=node.outputs[0].dtype)]


@REFERENCE.register(MulSS)
def mul_ss(node, x, y):
    _same_shape(node, x, y)
    out = node.outputs[0].type
    return [as_matrix(x.multiply(y), out.format, out.dtype)]


@REFERENCE.register(MulSD)
def mul_sd(node, x, y):
    # Only the stored entries of x are multiplied: the product is zero everywhere else, even
    # where y holds an infinity or a NaN.
    out = node.outputs[0].type
    if y.ndim == 0:
        factors = y
    else:
        _same_shape(node, x, y)
        rows, cols = entries(x.indices, x.indptr, x.format)
        factors = y[rows, cols]
    data = x.data[:stored(x)] * factors
    return [with_pattern(x, np.asarray(data), out.format, out.dtype)]


@REFERENCE.register(Dot)
def dot(node, x, y):
    _inner(node, x, y)
    return [_dense(x @ y, node.outputs[0].dtype)]


@REFERENCE.register(StructuredDot)
def structured_dot(node, a, b):
    _inner(node, a, b)
    out = node.outputs[0].type
    if is_sparse_value(b):
        return [as_matrix(a @ b, out.format, out.dtype)]
    return [_dense(a @ b, out.dtype)]


@REFERENCE.register(StructuredDotGrad)
def structured_dot_grad(node, a, b, g):
    if b.shape[0] != a.shape[1] or g.shape != (a.shape[0], b.shape[1]):
        raise ExprcShapeError(f"{node.op}: a of shape {a.shape}, b of shape {b.shape} and g of "
                              f"shape {g.shape} do not fit g = a . b")
    rows, cols = entries(a.indices, a.indptr, a.format)
    out = node.outputs[0].type
    if is_sparse_value(g) or is_sparse_value(b):
        # The sparse one picks its rows; multiply elementwise and sum each row.
        g_rows = g.tocsr()[rows] if is_sparse_value(g) else g[rows]
        b_rows = b.tocsr()[cols] if is_sparse_value(b) else b[cols]
        left, right = (g_rows, b_rows) if is_sparse_value(g) else (b_rows, g_rows)
        values = np.asarray(left.multiply(right).sum(axis=1)).reshape(-1)
    else:
        values = np.einsum("ij,ij->i", g[rows], b[cols])
    return [with_pattern(a, values, out.format, out.dtype)]


@REFERENCE.register(TrueDot)
def true_dot(node, x, y):
    _inner(node, x, y)
    out = node.outputs[0].type
    product = x @ y
    if not is_sparse_value(product):
        product = matrix_class(out.format)(np.asarray(product))
    return [as_matrix(product, out.format, out.dtype)]


@REFERENCE.register(SpSum)
def sp_sum(node, x):
    dtype = node.outputs[0].dtype
    if node.op.axis is None:
        return [np.asarray(np.sum(x.data[:stored(x)], dtype=dtype))]
    return [np.asarray(x.sum(axis=node.op.axis, dtype=dtype)).reshape(-1)]


@REFERENCE.register(Scale)
def scale(node, x, s):
    axis = node.op.axis
    if len(s) != x.shape[axis]:
        what = "rows" if axis == 0 else "columns"
        raise ExprcShapeError(f"{node.op}: s has {len(s)} entries but x of shape {x.shape} "
                              f"has {x.shape[axis]} {what}")
    rows, cols = entries(x.indices, x.indptr, x.format)
    factors = s[rows] if axis == 0 else s[cols]
    out = node.outputs[0].type
    return [with_pattern(x, x.data[:stored(x)] * factors, out.format, out.dtype)]
