"""Sparse matrices: ``SparseType``, its variables, constants and shared variables.

A sparse variable is a symbolic 2-d matrix in a compressed format, ``'csr'`` (rows) or
``'csc'`` (columns), whose run-time value is a ``scipy.sparse`` matrix of that format, as in
Theano's ``theano.sparse``. The operations on them are the ``sparse`` and ``sparse_math`` op
families (:mod:`exprc.tensor.sparse`, :mod:`exprc.tensor.sparse_math`); the public names are
gathered in :mod:`exprc.sparse`.

SciPy is needed only once sparse *values* appear (a value passed to a function, a constant, a
shared variable): building graphs does not import it, and neither does ``import exprc``.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from exprc.configuration import config
from exprc.errors import ExprcError, ExprcTypeError
from exprc.graph.ir import Apply, Constant, Type, Variable
from exprc.tensor.sharedvar import SharedValue, SharedVariable, is_sparse_value
from exprc.tensor.type import SUPPORTED_DTYPES, canonical_dtype

__all__ = [
    "FORMATS", "SPARSE_DTYPES", "SparseConstant", "SparseSharedVariable", "SparseType",
    "SparseVariable", "as_sparse_or_tensor_variable", "as_sparse_variable", "constant",
    "csc_matrix", "csr_matrix", "holds_sparse", "is_sparse_value", "matching_sparse", "matrix",
    "sparse_shared",
]

#: The compressed formats a sparse variable may have.
FORMATS = ("csr", "csc")
#: The dtypes of sparse matrices: exprc's numeric dtypes (not bool, as in Theano).
SPARSE_DTYPES = tuple(d for d in SUPPORTED_DTYPES if d != "bool")


def scipy_sparse():
    """The ``scipy.sparse`` module, imported on first use (a clear error without SciPy)."""
    try:
        import scipy.sparse
    except ImportError:
        raise ExprcError("sparse matrix values need SciPy: pip install scipy (or the 'sparse' "
                         "extra of exprc)") from None
    return scipy.sparse


def _describe(value: Any) -> str:
    if is_sparse_value(value):
        return (f"a scipy.sparse {type(value).__name__} of dtype "
                f"{value.dtype.name} and shape {value.shape}")
    if isinstance(value, np.ndarray):
        return f"a dense ndarray of dtype {value.dtype.name} and shape {value.shape}"
    return f"a {type(value).__name__}"


class SparseType(Type):
    """The type of a sparse matrix variable: a format and a dtype (always 2-d).

    Parameters
    ----------
    format : {'csr', 'csc'}
        Compressed sparse rows or columns; the run-time value is a ``scipy.sparse``
        ``csr_matrix`` or ``csc_matrix``.
    dtype : str or numpy dtype
        Element type; ``'floatX'`` or None means ``exprc.config.floatX``.

    Examples
    --------
    >>> SparseType('csr', 'float32')
    SparseType(csr, float32)
    >>> SparseType('csc', 'float64')('x').format
    'csc'
    """

    #: Sparse matrices are matrices.
    ndim = 2
    #: Sizes are never known statically (a sparse matrix is not broadcast).
    shape = (None, None)

    def __init__(self, format: str, dtype: Any = None):
        if format not in FORMATS:
            raise ExprcTypeError(f"sparse format must be one of {FORMATS}, got {format!r}")
        self.format = format
        self.dtype = canonical_dtype(dtype)
        if self.dtype not in SPARSE_DTYPES:
            raise ExprcTypeError(f"sparse matrices cannot have dtype {self.dtype}; supported: "
                                 f"{', '.join(SPARSE_DTYPES)}")

    @property
    def broadcastable(self) -> tuple[bool, bool]:
        return (False, False)

    def filter(self, value: Any, strict: bool = False, allow_downcast: bool | None = None,
               what: str = "value") -> Any:
        """Check ``value`` against this type and return it as a ``scipy.sparse`` matrix of
        this format and dtype.

        Parameters
        ----------
        value : scipy.sparse matrix or array
            Of this format (a matrix of the other format, or a dense array, is refused with
            the conversion to write).
        strict : bool
            Require a ``scipy.sparse`` matrix of exactly this format and dtype.
        allow_downcast : bool or None
            True: cast to this dtype even when precision is lost. Otherwise only lossless
            casts (the rule of tensors; a sparse value is never a Python float).
        what : str
            How to name the value in error messages (``"input 'x' (argument 0)"``).
        """
        if not is_sparse_value(value):
            hint = (f"; convert it with scipy.sparse.{self.format}_matrix(value)"
                    if isinstance(value, (np.ndarray, list, tuple)) else "")
            raise ExprcTypeError(f"{what} must be a scipy.sparse {self.format} matrix for "
                                 f"{self}, got {_describe(value)}{hint}")
        if value.format != self.format or value.ndim != 2:
            raise ExprcTypeError(f"{what} must be a scipy.sparse {self.format} matrix for "
                                 f"{self}, got {_describe(value)}; convert it with "
                                 f"value.to{self.format}()")
        exact = isinstance(value, matrix_class(self.format)) and value.dtype.name == self.dtype
        if exact:
            return value
        if strict:
            raise ExprcTypeError(f"{what} must be a scipy.sparse {self.format}_matrix of dtype "
                                 f"{self.dtype} (strict), got {_describe(value)}")
        if value.dtype.name != self.dtype:
            value = self._cast(value, allow_downcast, what)
        return matrix_class(self.format)(value)

    def _cast(self, value: Any, allow_downcast: bool | None, what: str) -> Any:
        if value.dtype.kind not in "biuf":
            raise ExprcTypeError(f"{what} must be numeric, got {_describe(value)}")
        target = np.dtype(self.dtype)
        if np.can_cast(value.dtype, target, "safe") or allow_downcast:
            if value.dtype.kind == "f" and target.kind in "iu" and not allow_downcast:
                raise ExprcTypeError(f"{what} has float dtype {value.dtype}; {self} needs "
                                     f"{self.dtype}")
            return value.astype(target)
        raise ExprcTypeError(
            f"{what} has dtype {value.dtype.name} but {self} needs {self.dtype}; converting "
            f"would lose precision. Cast it first (x.astype('{self.dtype}')) or compile with "
            "allow_input_downcast=True")

    def is_valid_value(self, value: Any) -> bool:
        """Whether ``value`` is exactly what a variable of this type holds at run time."""
        return (isinstance(value, matrix_class(self.format))
                and value.dtype.name == self.dtype)

    def value_signature(self, data: Any) -> tuple:
        """A hashable digest of the sparse matrix ``data`` (for merging equal constants)."""
        digest = hashlib.sha1()
        for part in (data.data, data.indices, data.indptr):
            digest.update(np.ascontiguousarray(part).tobytes())
            digest.update(b"|")
        return (data.shape, digest.hexdigest())

    def value_str(self, data: Any) -> str:
        return f"<{self.format} {self.dtype} constant of shape {data.shape}, {data.nnz} stored>"

    def make_variable(self, name: str | None = None) -> SparseVariable:
        return SparseVariable(self, name=name)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, SparseType) and self.format == other.format
                and self.dtype == other.dtype)

    def __hash__(self) -> int:
        return hash((SparseType, self.format, self.dtype))

    def __repr__(self) -> str:
        return f"SparseType({self.format}, {self.dtype})"

    __str__ = __repr__


def matrix_class(format: str) -> type:
    """The scipy.sparse matrix class of ``format`` (``csr_matrix`` or ``csc_matrix``)."""
    return getattr(scipy_sparse(), f"{format}_matrix")


def as_matrix(value: Any, format: str, dtype: str) -> Any:
    """``value`` (a scipy.sparse matrix or array) as a ``<format>_matrix`` of ``dtype``: what
    the reference rules return, so that every result has exactly its variable's type."""
    if value.format != format:
        value = value.asformat(format)
    if value.dtype.name != dtype:
        value = value.astype(dtype)
    cls = matrix_class(format)
    return value if isinstance(value, cls) else cls(value)


def _api():
    # The op modules import this one, so they are looked up at call time.
    from exprc.tensor import sparse, sparse_math

    return sparse, sparse_math


class SparseVariable(Variable):
    """A symbolic sparse matrix; its operators and methods dispatch to the sparse ops.

    ``x + y``, ``x - y`` and ``-x`` with a sparse or dense ``y`` give :func:`~exprc.sparse.add`,
    :func:`~exprc.sparse.sub` and :func:`~exprc.sparse.neg`; ``x * y`` is the elementwise
    :func:`~exprc.sparse.mul` (a sparse result). ``x.T`` is the transpose (of the other
    format), ``x.toarray()`` the dense matrix and ``x.shape`` the int64 shape vector.
    """

    # NumPy must not treat a symbolic variable as an array operand: ``ndarray * x`` defers to
    # ``x.__rmul__``.
    __array_ufunc__ = None

    @property
    def format(self) -> str:
        return self.type.format

    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def ndim(self) -> int:
        return 2

    @property
    def broadcastable(self) -> tuple[bool, bool]:
        return (False, False)

    @property
    def shape(self):
        """The run-time shape, as a symbolic int64 vector of length 2."""
        return _api()[0].sparse_shape(self)

    @property
    def size(self):
        """The number of stored entries (explicit zeros included), as in Theano."""
        return _api()[0].csm_data(self).shape[0]

    @property
    def T(self):
        return _api()[0].transpose(self)

    def toarray(self):
        """The dense matrix (``dense_from_sparse``)."""
        return _api()[0].dense_from_sparse(self)

    def astype(self, dtype: Any):
        return _api()[0].cast(self, dtype)

    def zeros_like(self):
        return _api()[0].sp_zeros_like(self)

    def __add__(self, other): return _api()[1].add(self, other)
    def __radd__(self, other): return _api()[1].add(other, self)
    def __sub__(self, other): return _api()[1].sub(self, other)
    def __rsub__(self, other): return _api()[1].sub(other, self)
    def __mul__(self, other): return _api()[1].mul(self, other)
    def __rmul__(self, other): return _api()[1].mul(other, self)
    def __neg__(self): return _api()[0].neg(self)

    # Theano's pseudo-operators, read by ``theano.dot``.
    def __dot__(self, other): return _api()[1].structured_dot(self, other)
    def __rdot__(self, other): return _api()[1].structured_dot(other, self)

    # Variables hash and compare by identity (they key dicts of givens and updates).
    __eq__ = Variable.__eq__
    __hash__ = Variable.__hash__

    def __bool__(self):
        if config.variable_truth == "theano":
            return True  # Theano's rule, as for tensors (sparse results are no comparisons)
        raise ExprcTypeError(
            f"the truth value of the symbolic sparse matrix {self} is unknown until the graph "
            "runs")

    def __len__(self):
        raise ExprcTypeError(f"len() of symbolic sparse matrix {self} is unknown; use "
                             f"{self}.shape[0]")

    def __iter__(self):
        raise ExprcTypeError(f"cannot iterate over the symbolic sparse matrix {self}")


class SparseConstant(Constant, SparseVariable):
    """A sparse matrix fixed when the graph is built (its arrays are read-only)."""

    def __init__(self, type: SparseType, data: Any, name: str | None = None):
        Constant.__init__(self, type, data, name=name)
        _freeze(self.data)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        _freeze(self.data)


def _freeze(matrix: Any) -> None:
    for part in (matrix.data, matrix.indices, matrix.indptr):
        part.setflags(write=False)


def constant(value: Any, name: str | None = None) -> SparseConstant:
    """A sparse constant holding a copy of the ``scipy.sparse`` matrix ``value`` (csr or csc;
    other formats are converted to csr)."""
    if not is_sparse_value(value):
        raise ExprcTypeError(f"a sparse constant needs a scipy.sparse matrix, got "
                             f"{_describe(value)}")
    format = value.format if value.format in FORMATS else "csr"
    copy = as_matrix(value, format, value.dtype.name).copy()
    return SparseConstant(SparseType(format, copy.dtype), copy, name=name)


def as_sparse_variable(x: Any, name: str | None = None) -> SparseVariable:
    """``x`` as a sparse variable: sparse variables pass through, ``scipy.sparse`` matrices
    become constants, anything else is an error."""
    if isinstance(x, Apply):
        if len(x.outputs) != 1:
            raise ExprcTypeError(f"{x.op} has {len(x.outputs)} outputs; pass one of them")
        x = x.outputs[0]
    if isinstance(x, SparseVariable):
        return x
    if isinstance(x, Variable):
        raise ExprcTypeError(f"{x} of type {x.type} is not a sparse variable; convert a dense "
                             "matrix with csr_from_dense or csc_from_dense")
    if is_sparse_value(x):
        return constant(x, name=name)
    raise ExprcTypeError(f"cannot convert {_describe(x)} to a sparse variable")


def as_sparse_or_tensor_variable(x: Any, name: str | None = None):
    """``x`` as a sparse variable if it is one (or a ``scipy.sparse`` matrix), else as a
    tensor variable."""
    if isinstance(x, SparseVariable) or is_sparse_value(x):
        return as_sparse_variable(x, name)
    from exprc.tensor.variable import as_tensor_variable

    return as_tensor_variable(x, name=name)


def matrix(format: str, name: str | None = None, dtype: Any = None) -> SparseVariable:
    """A new symbolic sparse matrix of ``format`` ('csr' or 'csc') and ``dtype`` (default
    ``exprc.config.floatX``)."""
    return SparseType(format, dtype)(name)


def csr_matrix(name: str | None = None, dtype: Any = None) -> SparseVariable:
    """A new symbolic csr (compressed sparse rows) matrix; dtype defaults to floatX.

    >>> csr_matrix('x', dtype='float32').type
    SparseType(csr, float32)
    """
    return matrix("csr", name, dtype)


def csc_matrix(name: str | None = None, dtype: Any = None) -> SparseVariable:
    """A new symbolic csc (compressed sparse columns) matrix; dtype defaults to floatX."""
    return matrix("csc", name, dtype)


class SparseSharedVariable(SharedValue, SparseVariable):
    """A shared variable holding a ``scipy.sparse`` matrix (made by ``exprc.shared`` from one).

    It is a :class:`~exprc.tensor.sharedvar.SharedVariable` (registered as one), so functions
    read it, update it and lock it as any shared variable; its value is checked against its
    type (format and dtype) whenever it is set, and ``get_value`` returns a copy of the
    ``scipy.sparse`` matrix unless ``borrow=True``.
    """


SharedVariable.register(SparseSharedVariable)


def sparse_shared(value: Any, name: str | None = None, strict: bool = False,
                  allow_downcast: bool | None = None, borrow: bool = False,
                  format: str | None = None) -> SparseSharedVariable:
    """A shared variable holding the ``scipy.sparse`` matrix ``value``.

    Parameters
    ----------
    value : scipy.sparse matrix
        Its format (or ``format``) and dtype fix the variable's type.
    name : str, optional
    strict : bool
        Require a ``csr_matrix`` or ``csc_matrix`` (no conversion of the value).
    allow_downcast : bool, optional
        Let ``set_value`` cast values that lose precision.
    borrow : bool
        Store ``value`` itself rather than a copy.
    format : {'csr', 'csc'}, optional
        Store the value in this format (default: the value's own, or csr for other formats).
    """
    if not is_sparse_value(value):
        raise ExprcTypeError(f"a sparse shared variable needs a scipy.sparse matrix, got "
                             f"{_describe(value)}")
    if format is None:
        format = value.format if value.format in FORMATS else "csr"
    var_type = SparseType(format, value.dtype)
    if strict:
        var_type.filter(value, strict=True, what="shared(strict=True) value")
    elif value.format != format:
        value = value.asformat(format)
    return SparseSharedVariable(var_type, value, name=name, allow_downcast=allow_downcast,
                                borrow=borrow)


# Theano's names for the float types of each format.
csc_dmatrix = SparseType("csc", "float64")
csr_dmatrix = SparseType("csr", "float64")
csc_fmatrix = SparseType("csc", "float32")
csr_fmatrix = SparseType("csr", "float32")

#: The dtypes a sparse matrix may have (Theano's ``sparse.all_dtypes``).
all_dtypes = set(SPARSE_DTYPES)


def holds_sparse(variables: Any) -> bool:
    """Whether any of ``variables`` is a sparse matrix."""
    return any(isinstance(v.type, SparseType) for v in variables)


def matching_sparse(target: SparseVariable, expr: Any, what: str) -> SparseVariable:
    """``expr`` as a sparse variable of exactly ``target``'s type (an update or a givens
    replacement of the sparse ``target``), or an error naming both."""
    try:
        expr = as_sparse_variable(expr)
    except ExprcTypeError as exc:
        raise ExprcTypeError(f"{what} for {target} of type {target.type}: {exc}") from None
    if expr.type != target.type:
        hint = (f" (cast it: expr.astype('{target.dtype}'))" if expr.format == target.format
                else "")
        raise ExprcTypeError(f"{what} for {target} of type {target.type} has type "
                             f"{expr.type}{hint}")
    return expr
