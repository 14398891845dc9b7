"""``verify_grad_sparse``: :func:`exprc.gradient.verify_grad` for functions of sparse
matrices."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from exprc.errors import ExprcTypeError
from exprc.gradient import verify_grad
from exprc.tensor.sparse import CSM, DenseFromSparse, SparseFromDense
from exprc.tensor.sparse_type import (
    FORMATS,
    SparseVariable,
    as_sparse_or_tensor_variable,
    is_sparse_value,
)
from exprc.tensor.variable import constant


def verify_grad_sparse(op: Callable[..., Any], pt: Sequence[Any], structured: bool = False,
                       *args: Any, **kwargs: Any) -> None:
    """Check the gradient of ``op`` at ``pt`` by finite differences, sparse points included.

    Each ``scipy.sparse`` point is differentiated as a dense matrix (``structured=False``: every
    entry, stored or not, is moved, and ``op`` gets ``csr_from_dense``/``csc_from_dense`` of
    it) or through its stored values only (``structured=True``: ``op`` gets a matrix of the
    point's pattern holding the moved values). A sparse output is compared as a dense matrix.
    Structured ops need ``structured=True``: their gradient is zero off the pattern.

    Parameters
    ----------
    op : callable
        Maps symbolic inputs, one per point (sparse variables for sparse points), to one
        symbolic output.
    pt : list of scipy.sparse matrices and arrays
    structured : bool
    *args, **kwargs
        Passed to :func:`exprc.gradient.verify_grad` (``n_tests``, ``rng``, ``eps``, ...).
    """
    points, converters = [], []
    for k, value in enumerate(pt):
        if not is_sparse_value(value):
            points.append(value)
            converters.append(lambda v: v)
            continue
        if value.format not in FORMATS:
            raise ExprcTypeError(f"verify_grad_sparse: point {k} is a {value.format} matrix; "
                                 f"use one of {FORMATS}")
        if structured:
            n = int(value.indptr[-1])
            points.append(value.data[:n].copy())
            converters.append(_pattern(value, n))
        else:
            points.append(value.toarray())
            converters.append(SparseFromDense(value.format))
    output = op(*[as_sparse_or_tensor_variable(p) for p in pt])
    if isinstance(output, (list, tuple)):
        raise ExprcTypeError("verify_grad_sparse checks one output; op returned "
                             f"{len(output)}")
    to_dense = DenseFromSparse(structured) if isinstance(output, SparseVariable) else None

    def dense_op(*inputs: Any):
        result = op(*[convert(i) for i, convert in zip(inputs, converters)])
        return to_dense(result) if to_dense is not None else result

    verify_grad(dense_op, points, *args, **kwargs)


def _pattern(value: Any, n: int) -> Callable[[Any], Any]:
    """A converter from the stored values to a matrix of ``value``'s pattern."""
    indices, indptr = constant(value.indices[:n].copy()), constant(value.indptr.copy())
    shape = constant(list(value.shape), dtype="int64")
    build = CSM(value.format)
    return lambda data: build(data, indices, indptr, shape)
