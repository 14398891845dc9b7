"""Sparse matrices: Theano's ``theano.sparse`` on exprc.

>>> import numpy as np, scipy.sparse as sp, exprc, exprc.tensor as T
>>> from exprc import sparse
>>> x = sparse.csr_matrix('x', dtype='float64')
>>> W = T.dmatrix('W')
>>> f = exprc.function([x, W], sparse.dot(x, W))
>>> f(sp.csr_matrix(np.eye(2)), np.array([[1.0, 2.0], [3.0, 4.0]]))
array([[1., 2.],
       [3., 4.]])

A sparse variable is a 2-d matrix in ``csr`` or ``csc`` format whose values are
``scipy.sparse`` matrices (:class:`SparseType`). The operations are those of Theano: conversions
(``dense_from_sparse``, ``csr_from_dense``), the compressed arrays (``csm_properties``, ``CSR``,
``CSC``), arithmetic (``add``, ``sub``, ``mul``, ``neg``), products (``dot``, ``structured_dot``,
``true_dot``), reductions and scaling (``sp_sum``, ``row_scale``, ``col_scale``), the
structured elementwise functions (``structured_exp``, ``sqrt``, ...) and stacking. A function
whose graph holds sparse values runs on the reference executor (NumPy and SciPy), whatever its
mode. See ``docs/sparse.md``.
"""

from exprc.sparse.verify import verify_grad_sparse
from exprc.tensor.sparse import *
from exprc.tensor.sparse import __all__ as _basic_names
from exprc.tensor.sparse import bcast, dcast, fcast, icast, lcast, wcast
from exprc.tensor.sparse_math import *
from exprc.tensor.sparse_math import __all__ as _math_names
from exprc.tensor.sparse_type import (
    FORMATS,
    SparseConstant,
    SparseSharedVariable,
    SparseType,
    SparseVariable,
    all_dtypes,
    as_sparse_or_tensor_variable,
    as_sparse_variable,
    constant,
    csc_dmatrix,
    csc_fmatrix,
    csc_matrix,
    csr_dmatrix,
    csr_fmatrix,
    csr_matrix,
    matrix,
)
from exprc.tensor.sparse_type import sparse_shared as shared
from exprc.tensor.subtensor import AdvancedSubtensor

#: The formats of sparse variables (Theano's ``sparse_formats``).
sparse_formats = list(FORMATS)


def sparse_grad(var):
    """Theano's ``sparse_grad(W[idx])``: ``var``, a selection of rows of a matrix by an
    integer vector, whose gradient w.r.t. the matrix Theano stored as a sparse matrix.

    exprc returns ``var`` unchanged: the gradient has the same values, as a dense matrix, which
    every update expression (``W - lr * g``) accepts.
    """
    node = getattr(var, "owner", None)
    if node is None or not isinstance(node.op, AdvancedSubtensor):
        raise TypeError(f"sparse_grad needs a selection of rows by an integer vector "
                        f"(W[idx]), got {var}")
    return var


__all__ = [
    *_basic_names, *_math_names, "FORMATS", "SparseConstant", "SparseSharedVariable",
    "SparseType", "SparseVariable", "all_dtypes", "as_sparse_or_tensor_variable",
    "as_sparse_variable", "bcast", "constant", "csc_dmatrix", "csc_fmatrix", "csc_matrix",
    "csr_dmatrix", "csr_fmatrix", "csr_matrix", "dcast", "fcast", "icast", "lcast", "matrix",
    "shared", "sparse_formats", "sparse_grad", "verify_grad_sparse", "wcast",
]
