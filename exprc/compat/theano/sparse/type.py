"""``theano.sparse.type``: ``SparseType`` (:class:`exprc.tensor.sparse_type.SparseType`)."""

from exprc.tensor.sparse_type import SparseType

__all__ = ["SparseType"]
