"""Reference implementations of the ``sparse`` family, with SciPy.

Every rule returns a ``scipy.sparse`` matrix of exactly its output's format and dtype (or an
ndarray for dense outputs), and none changes its inputs: SciPy methods that work in place
(``eliminate_zeros``, ``sort_indices``) run on copies.
"""

from __future__ import annotations

import numpy as np

from exprc.errors import ExprcShapeError, ExprcValueError
from exprc.link.reference.table import REFERENCE
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
)
from exprc.tensor.sparse_type import as_matrix, matrix_class, scipy_sparse

_INT32_MAX = np.iinfo("int32").max


def stored(x) -> int:
    """The number of stored entries of the compressed matrix ``x`` (``indptr[-1]``)."""
    return int(x.indptr[-1]) if len(x.indptr) else 0


def entries(indices: np.ndarray, indptr: np.ndarray, format: str) -> tuple:
    """The row and column of every stored entry of a compressed matrix, in stored order."""
    major = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    minor = np.asarray(indices[:len(major)], dtype=np.int64)
    return (major, minor) if format == "csr" else (minor, major)


def _int32(array: np.ndarray, what: str, op) -> np.ndarray:
    if array.dtype == np.int32:
        return array
    if array.size and int(array.max()) > _INT32_MAX:
        raise ExprcValueError(f"{op}: the {what} of this matrix exceed int32, which "
                              "csm_properties returns")
    return array.astype(np.int32)


@REFERENCE.register(DenseFromSparse)
def dense_from_sparse(node, x):
    return [x.toarray()]


@REFERENCE.register(SparseFromDense)
def sparse_from_dense(node, x):
    return [matrix_class(node.op.format)(x)]


@REFERENCE.register(CSMProperties)
def csm_properties(node, x):
    n = stored(x)
    shape = np.array(x.shape, dtype=np.int64)
    return [x.data[:n], _int32(x.indices[:n], "indices", node.op),
            _int32(x.indptr, "indptr", node.op), _int32(shape, "sizes", node.op)]


def check_compressed(op, format: str, data, indices, indptr, shape) -> tuple:
    """``shape`` as two ints, after checking that the arrays describe a ``format`` matrix of
    that shape (a clear error otherwise: SciPy would fail later, or read out of bounds)."""
    if len(shape) != 2 or min(int(s) for s in shape) < 0:
        raise ExprcValueError(f"{op}: shape must be two sizes >= 0, got {list(shape)}")
    shape = (int(shape[0]), int(shape[1]))
    major, minor = shape if format == "csr" else shape[::-1]
    line = "row" if format == "csr" else "column"
    if len(indptr) != major + 1:
        raise ExprcShapeError(f"{op}: indptr has {len(indptr)} entries, but a {format} matrix "
                              f"of shape {shape} needs {major + 1} (one per {line}, plus 1)")
    if len(data) != len(indices):
        raise ExprcShapeError(f"{op}: data has {len(data)} entries but indices has "
                              f"{len(indices)}; they need one per stored entry")
    if indptr[0] != 0 or indptr[-1] != len(data) or np.any(np.diff(indptr) < 0):
        raise ExprcValueError(f"{op}: indptr must start at 0, never decrease and end at the "
                              f"number of stored entries ({len(data)}); got {indptr}")
    if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= minor):
        position = "column" if format == "csr" else "row"
        raise ExprcValueError(f"{op}: indices must be {position} positions in [0, {minor}) for "
                              f"shape {shape}; got values in [{indices.min()}, {indices.max()}]")
    return shape


@REFERENCE.register(CSM)
def csm(node, data, indices, indptr, shape):
    format = node.op.format
    shape = check_compressed(node.op, format, data, indices, indptr, shape)
    return [matrix_class(format)((data, indices, indptr), shape=shape)]


@REFERENCE.register(CSMGrad)
def csm_grad(node, indices, indptr, shape, g):
    if tuple(g.shape) != tuple(int(s) for s in shape):
        raise ExprcShapeError(f"{node.op}: g has shape {g.shape}, the matrix {tuple(shape)}")
    rows, cols = entries(indices, indptr, node.op.format)
    if not len(rows):
        return [np.zeros(0, dtype=g.dtype)]
    picked = g[rows, cols]
    return [np.asarray(picked, dtype=g.dtype).reshape(-1)]


@REFERENCE.register(Cast)
def cast(node, x):
    return [as_matrix(x, x.format, node.op.dtype)]


@REFERENCE.register(Transpose)
def transpose(node, x):
    return [as_matrix(x.transpose(), node.outputs[0].type.format, x.dtype.name)]


@REFERENCE.register(Neg)
def neg(node, x):
    return [as_matrix(-x, x.format, x.dtype.name)]


@REFERENCE.register(Remove0)
def remove0(node, x):
    result = x.copy()
    result.eliminate_zeros()
    return [result]


@REFERENCE.register(EnsureSortedIndices)
def ensure_sorted_indices(node, x):
    return [x.sorted_indices()]


def _stack(node, blocks, axis: int):
    kept = 1 - axis  # the size every block must share
    for k, block in enumerate(blocks[1:], 1):
        if block.shape[kept] != blocks[0].shape[kept]:
            what = "rows" if kept == 0 else "columns"
            raise ExprcShapeError(f"{node.op}: block {k} of shape {block.shape} has "
                                  f"{block.shape[kept]} {what}, block 0 of shape "
                                  f"{blocks[0].shape} has {blocks[0].shape[kept]}")
    join = scipy_sparse().hstack if axis == 1 else scipy_sparse().vstack
    result = join(blocks, format=node.op.format, dtype=node.op.dtype)
    return [as_matrix(result, node.op.format, node.op.dtype)]


@REFERENCE.register(HStack)
def hstack(node, *blocks):
    return _stack(node, blocks, axis=1)


@REFERENCE.register(VStack)
def vstack(node, *blocks):
    return _stack(node, blocks, axis=0)
