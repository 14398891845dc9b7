"""Sparse matrices, the ``sparse`` family: conversions to and from dense matrices, the compressed
arrays (``csm_properties``, ``CSR``/``CSC``), casts, transposes, stacking, cleaning, and the
*structured* elementwise functions.

The types and variables are in :mod:`exprc.tensor.sparse_type`, sums and products in
:mod:`exprc.tensor.sparse_math`; :mod:`exprc.sparse` gathers the public names (Theano's
``theano.sparse``).

A structured function applies to the stored entries only (the ``data`` array), so the result
keeps the input's sparsity pattern: ``structured_exp(x)`` is ``exp`` of the stored entries and
0 elsewhere, not ``exp(x)``. These functions are built from ``csm_properties`` and ``CSM``
around a dense elementwise op, so their gradients are *structured* too: only the stored
entries get one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.graph.ir import Apply, Op, Variable
from exprc.tensor import math as tm
from exprc.tensor.params import choice_param, dtype_param
from exprc.tensor.sparse_type import (
    FORMATS,
    SPARSE_DTYPES,
    SparseType,
    SparseVariable,
    as_sparse_variable,
)
from exprc.tensor.type import INTEGER_DTYPES, TensorType
from exprc.tensor.variable import as_tensor_variable, constant

__all__ = [
    "CSC", "CSM", "CSMGrad", "CSMProperties", "CSR", "Cast", "DenseFromSparse",
    "EnsureSortedIndices", "HStack", "Neg", "Remove0", "SparseFromDense", "Transpose", "VStack",
    "abs_", "arcsin", "arcsinh", "arctan", "arctanh", "cast", "ceil", "clean", "csc_from_dense",
    "csm_data", "csm_indices", "csm_indptr", "csm_properties", "csm_shape", "csr_from_dense",
    "deg2rad", "dense_from_sparse", "ensure_sorted_indices", "expm1", "floor", "hstack",
    "log1p", "neg", "rad2deg", "remove0", "rint", "sgn", "sin", "sinh", "sp_ones_like",
    "sp_zeros_like", "sparse_shape", "sqr", "sqrt", "structured_add", "structured_exp",
    "structured_log", "structured_maximum", "structured_minimum", "structured_pow",
    "structured_sigmoid", "tan", "tanh", "transpose", "trunc", "vstack",
]


def sparse_input(op: Any, x: Any, what: str = "x") -> SparseVariable:
    """``x`` as a sparse variable, or a build error naming ``op`` and ``what``."""
    try:
        return as_sparse_variable(x)
    except ExprcTypeError as exc:
        raise build_error(ExprcTypeError, op, f"{what}: {exc}") from None


def dense_input(op: Any, x: Any, what: str, ndims: tuple = (2,)) -> Variable:
    """``x`` as a tensor variable of one of the ranks ``ndims``, or a build error."""
    if isinstance(x, SparseVariable):
        raise build_error(ExprcTypeError, op, f"{what} must be dense, got the sparse {x} of "
                          f"type {x.type}")
    try:
        x = as_tensor_variable(x)
    except ExprcTypeError as exc:
        raise build_error(ExprcTypeError, op, f"{what}: {exc}") from None
    if x.ndim not in ndims:
        ranks = " or ".join(map(str, ndims))
        raise build_error(ExprcTypeError, op, f"{what} must be {ranks}-d, got {x} of type "
                          f"{x.type}")
    return x


def _sparse_dtype(op: Any, dtype: str, what: str) -> str:
    if dtype not in SPARSE_DTYPES:
        raise build_error(ExprcTypeError, op, f"{what} has dtype {dtype}, which sparse "
                          f"matrices do not have; cast it first (supported: "
                          f"{', '.join(SPARSE_DTYPES)})")
    return dtype


# --------------------------------------------------------------------------- conversions
class DenseFromSparse(Op):
    """The dense matrix of a sparse one.

    ``structured=True`` (the default, as in Theano) makes the gradient structured: only the
    stored entries of the sparse input get one. ``False`` gives the full gradient, as a sparse
    matrix of the input's format.
    """

    __props__ = ("structured",)
    unconditional_shape = True

    def __init__(self, structured: bool = True):
        self.structured = bool(structured)

    def make_node(self, x: Any) -> Apply:
        x = sparse_input(self, x)
        return Apply(self, [x], [TensorType(x.dtype, shape=(None, None))()])


class SparseFromDense(Op):
    """The sparse matrix (of ``format``) holding the nonzero entries of a dense matrix."""

    __props__ = ("format",)
    unconditional_shape = True

    def __init__(self, format: str):
        self.format = choice_param("SparseFromDense", "format", format, FORMATS)

    def make_node(self, x: Any) -> Apply:
        x = dense_input(self, x, "x")
        _sparse_dtype(self, x.dtype, f"x ({x})")
        return Apply(self, [x], [SparseType(self.format, x.dtype)()])


dense_from_sparse = DenseFromSparse()
csr_from_dense = SparseFromDense("csr")
csc_from_dense = SparseFromDense("csc")


# --------------------------------------------------------------------------- compressed arrays
class CSMProperties(Op):
    """The arrays of a compressed sparse matrix: ``data`` (the stored entries), ``indices``,
    ``indptr`` (int32) and ``shape`` (an int32 vector of length 2).

    The first three are views of the matrix's own arrays.
    """

    __props__ = ()
    view_map = {0: [0], 1: [0], 2: [0]}

    def make_node(self, x: Any) -> Apply:
        x = sparse_input(self, x)
        return Apply(self, [x], [TensorType(x.dtype, shape=(None,))(),
                                 TensorType("int32", shape=(None,))(),
                                 TensorType("int32", shape=(None,))(),
                                 TensorType("int32", shape=(2,))()])


class CSM(Op):
    """A sparse matrix of ``format`` made of its arrays ``data``, ``indices``, ``indptr`` and
    ``shape`` (checked at run time: consistent lengths, ordered ``indptr``, indices in range).

    In csr format row ``i`` holds the entries ``data[indptr[i]:indptr[i+1]]`` at the columns
    ``indices[indptr[i]:indptr[i+1]]``; in csc format the same with rows and columns swapped.
    The result shares ``data`` with the input (no copy).
    """

    __props__ = ("format",)
    view_map = {0: [0, 1, 2]}

    def __init__(self, format: str):
        self.format = choice_param("CSM", "format", format, FORMATS)

    def make_node(self, data: Any, indices: Any, indptr: Any, shape: Any) -> Apply:
        data = dense_input(self, data, "data", (1,))
        _sparse_dtype(self, data.dtype, f"data ({data})")
        parts = [data]
        for what, value in (("indices", indices), ("indptr", indptr), ("shape", shape)):
            var = dense_input(self, value, what, (1,))
            if var.dtype not in INTEGER_DTYPES:
                raise build_error(ExprcTypeError, self, f"{what} must be an integer vector, "
                                  f"got {var} of type {var.type}")
            parts.append(var)
        if parts[3].type.shape[0] not in (None, 2):
            raise build_error(ExprcShapeError, self, f"shape must have 2 entries, got "
                              f"{parts[3]} of type {parts[3].type}")
        return Apply(self, parts, [SparseType(self.format, data.dtype)()])


class CSMGrad(Op):
    """The entries of ``g`` (a dense or sparse matrix) at the positions of a sparse matrix of
    ``format`` given by ``indices``, ``indptr`` and ``shape``: the gradient of :class:`CSM`
    with respect to ``data``, one value per stored entry, in the stored order."""

    __props__ = ("format",)

    def __init__(self, format: str):
        self.format = choice_param("CSMGrad", "format", format, FORMATS)

    def make_node(self, indices: Any, indptr: Any, shape: Any, g: Any) -> Apply:
        parts = [dense_input(self, v, what, (1,))
                 for what, v in (("indices", indices), ("indptr", indptr), ("shape", shape))]
        if not isinstance(g, SparseVariable):
            g = dense_input(self, g, "g")
        return Apply(self, [*parts, g], [TensorType(g.dtype, shape=(None,))()])


csm_properties = CSMProperties()
CSR = CSM("csr")
CSC = CSM("csc")


def csm_data(x: Any):
    """The stored entries of the sparse matrix ``x`` (a dense vector)."""
    return csm_properties(x)[0]


def csm_indices(x: Any):
    """The ``indices`` array of the sparse matrix ``x`` (int32)."""
    return csm_properties(x)[1]


def csm_indptr(x: Any):
    """The ``indptr`` array of the sparse matrix ``x`` (int32)."""
    return csm_properties(x)[2]


def csm_shape(x: Any):
    """The shape of the sparse matrix ``x`` as an int32 vector of length 2."""
    return csm_properties(x)[3]


def sparse_shape(x: Any):
    """The shape of the sparse matrix ``x`` as an int64 vector (what ``x.shape`` gives)."""
    return tm.cast(csm_shape(x), "int64")


def sp_ones_like(x: Any):
    """A sparse matrix with the pattern of ``x`` and every stored entry 1."""
    x = as_sparse_variable(x)
    data, indices, indptr, shape = csm_properties(x)
    return CSM(x.format)(tm.fill(data, constant(1, dtype=x.dtype)), indices, indptr, shape)


def sp_zeros_like(x: Any):
    """A sparse matrix of the shape, format and dtype of ``x`` with no stored entry."""
    x = as_sparse_variable(x)
    _, _, indptr, shape = csm_properties(x)
    return CSM(x.format)(constant(np.zeros(0, dtype=x.dtype)),
                         constant(np.zeros(0, dtype="int32")),
                         tm.fill(indptr, constant(0, dtype="int32")), shape)


# --------------------------------------------------------------------------- one matrix
class _Unary(Op):
    """An op of one sparse matrix giving a sparse matrix of the same type."""

    __props__ = ()
    unconditional_shape = True
    abstract = True

    def make_node(self, x: Any) -> Apply:
        x = sparse_input(self, x)
        return Apply(self, [x], [x.type()])


class Cast(Op):
    """The sparse matrix with its entries cast to ``dtype``."""

    __props__ = ("dtype",)
    unconditional_shape = True

    def __init__(self, dtype: Any):
        self.dtype = dtype_param("Cast", "dtype", dtype, SPARSE_DTYPES)

    def make_node(self, x: Any) -> Apply:
        x = sparse_input(self, x)
        return Apply(self, [x], [SparseType(x.format, self.dtype)()])


class Transpose(Op):
    """The transpose, in the other format (a csr matrix's transpose is csc, sharing its
    arrays)."""

    __props__ = ()
    unconditional_shape = True
    view_map = {0: [0]}

    def make_node(self, x: Any) -> Apply:
        x = sparse_input(self, x)
        other = "csc" if x.format == "csr" else "csr"
        return Apply(self, [x], [SparseType(other, x.dtype)()])


class Neg(_Unary):
    """``-x``."""


class Remove0(_Unary):
    """The sparse matrix without its explicitly stored zeros."""


class EnsureSortedIndices(_Unary):
    """The sparse matrix with the indices of each row (csr) or column (csc) sorted."""


def cast(x: Any, dtype: Any):
    """``x`` (sparse) with its entries cast to ``dtype``."""
    return Cast(dtype)(x)


bcast, wcast, icast, lcast = Cast("int8"), Cast("int16"), Cast("int32"), Cast("int64")
fcast, dcast = Cast("float32"), Cast("float64")
transpose = Transpose()
neg = Neg()
remove0 = Remove0()
ensure_sorted_indices = EnsureSortedIndices()


def clean(x: Any):
    """``x`` without explicit zeros and with sorted indices."""
    return ensure_sorted_indices(remove0(x))


# --------------------------------------------------------------------------- stacking
class HStack(Op):
    """Sparse matrices side by side (same number of rows), as a ``format`` matrix of
    ``dtype``."""

    __props__ = ("format", "dtype")

    def __init__(self, format: str | None = None, dtype: Any = None):
        self.format = choice_param(type(self).__name__, "format", format or "csc", FORMATS)
        self.dtype = dtype_param(type(self).__name__, "dtype", dtype, SPARSE_DTYPES)

    def make_node(self, *blocks: Any) -> Apply:
        if not blocks:
            raise build_error(ExprcTypeError, self, "needs at least one matrix")
        blocks = [sparse_input(self, b, f"block {k}") for k, b in enumerate(blocks)]
        return Apply(self, blocks, [SparseType(self.format, self.dtype)()])


class VStack(HStack):
    """Sparse matrices one above the other (same number of columns), as a ``format`` matrix
    of ``dtype``."""


def _stack(op_class: type, blocks: Any, format: str | None, dtype: Any):
    blocks = [as_sparse_variable(b) for b in blocks]
    if dtype is None and blocks:
        dtype = np.result_type(*[b.dtype for b in blocks]).name
    return op_class(format, dtype)(*blocks)


def hstack(blocks: Any, format: str | None = None, dtype: Any = None):
    """Stack sparse matrices horizontally (column-wise), like ``scipy.sparse.hstack``.

    Parameters
    ----------
    blocks : sequence of sparse variables
        With equal numbers of rows.
    format : {'csc', 'csr'}, optional
        Of the result (default csc, as in Theano).
    dtype : str, optional
        Of the result (default: the promotion of the blocks' dtypes).
    """
    return _stack(HStack, blocks, format, dtype)


def vstack(blocks: Any, format: str | None = None, dtype: Any = None):
    """Stack sparse matrices vertically (row-wise), like ``scipy.sparse.vstack``; the
    parameters are those of :func:`hstack`."""
    return _stack(VStack, blocks, format, dtype)


# --------------------------------------------------------------------------- structured functions
def _structured(name: str, function: Any, doc: str, extra: tuple = ()):
    """A structured function: ``function`` applied to the stored entries of ``x``."""

    def apply(x: Any, *args: Any):
        if len(args) != len(extra):
            raise ExprcTypeError(f"{name}() takes {1 + len(extra)} argument(s), got "
                                 f"{1 + len(args)}")
        x = as_sparse_variable(x)
        for what, arg in zip(extra, args):
            if isinstance(arg, SparseVariable) or as_tensor_variable(arg).ndim != 0:
                raise build_error(ExprcTypeError, name, f"{what} must be a scalar, got {arg}")
        data, indices, indptr, shape = csm_properties(x)
        return CSM(x.format)(function(data, *args), indices, indptr, shape)

    params = "".join(f"{what} : scalar\n" for what in extra)
    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = (f"Structured {doc}: applied to the stored entries of the sparse matrix "
                     f"``x`` only, keeping its pattern.\n\nParameters\n----------\n"
                     f"x : sparse variable\n{params}")
    return apply


structured_sigmoid = _structured("structured_sigmoid", tm.sigmoid, "sigmoid")
structured_exp = _structured("structured_exp", tm.exp, "exponential")
structured_log = _structured("structured_log", tm.log, "natural logarithm")
structured_pow = _structured("structured_pow", tm.pow, "power ``x ** y``", ("y",))
structured_minimum = _structured("structured_minimum", tm.minimum, "minimum with ``y``",
                                 ("y",))
structured_maximum = _structured("structured_maximum", tm.maximum, "maximum with ``y``",
                                 ("y",))
structured_add = _structured("structured_add", tm.add, "addition of ``y``", ("y",))
# The functions that map 0 to 0: structured and elementwise agree.
sin = _structured("sin", tm.sin, "sine")
tan = _structured("tan", tm.tan, "tangent")
arcsin = _structured("arcsin", tm.arcsin, "inverse sine")
arctan = _structured("arctan", tm.arctan, "inverse tangent")
sinh = _structured("sinh", tm.sinh, "hyperbolic sine")
arcsinh = _structured("arcsinh", tm.arcsinh, "inverse hyperbolic sine")
tanh = _structured("tanh", tm.tanh, "hyperbolic tangent")
arctanh = _structured("arctanh", tm.arctanh, "inverse hyperbolic tangent")
rint = _structured("rint", lambda a: tm.round(a, "half_to_even"), "rounding half to even")
sgn = _structured("sgn", tm.sgn, "sign")
ceil = _structured("ceil", tm.ceil, "ceiling")
floor = _structured("floor", tm.floor, "floor")
trunc = _structured("trunc", tm.trunc, "truncation toward zero")
log1p = _structured("log1p", tm.log1p, "``log(1 + x)``")
expm1 = _structured("expm1", tm.expm1, "``exp(x) - 1``")
deg2rad = _structured("deg2rad", tm.deg2rad, "conversion from degrees to radians")
rad2deg = _structured("rad2deg", tm.rad2deg, "conversion from radians to degrees")
sqr = _structured("sqr", tm.sqr, "square")
sqrt = _structured("sqrt", tm.sqrt, "square root")
abs_ = _structured("abs_", tm.abs, "absolute value")
