"""``theano.sparse.sharedvar``: the class of sparse shared variables and their constructor."""

from exprc.tensor.sparse_type import SparseSharedVariable as SparseTensorSharedVariable
from exprc.tensor.sparse_type import sparse_shared as sparse_constructor

__all__ = ["SparseTensorSharedVariable", "sparse_constructor"]
