"""Matrix functions after ``numpy.linalg`` (Theano's ``theano.tensor.nlinalg``).

The factorisations and the functions that need one are ops of their own, each a LAPACK call
in the C backend: :class:`MatrixInverse`, :class:`MatrixPinv`, :class:`Det`, :class:`Eig`,
:class:`Eigh`, :class:`SVD`, :class:`QR` and :class:`Lstsq`. Everything else is built from them
and from the rest of the tensor API: ``trace``, ``diag``, ``matrix_dot``, ``matrix_power``,
``norm``, ``tensorinv`` and ``tensorsolve``.

The operands are matrices (Theano's ops were 2-d only). As in NumPy, float32 operands give
float32 results and integer or boolean operands are converted to float64. Each op checks at
graph-building time what the static shapes tell (a matrix known not to be square) and at run
time the rest, with errors naming the op; a singular matrix, or one holding NaN or infinity
where an iterative routine would not converge on it, is a ``ValueError``.

>>> import exprc.tensor as T
>>> from exprc.tensor.nlinalg import det, matrix_inverse
>>> x = T.matrix('x')
>>> det(x).type, matrix_inverse(x).type
(TensorType(float64, ()), TensorType(float64, (?, ?)))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.graph.ir import Apply, Op
from exprc.tensor import math as tm
from exprc.tensor import sizes
from exprc.tensor.basic import arange, eye, zeros
from exprc.tensor.elemwise import DimShuffle
from exprc.tensor.linalg import dot
from exprc.tensor.params import choice_param, float_param, int_param, int_tuple
from exprc.tensor.reduction import max as tmax
from exprc.tensor.reduction import min as tmin
from exprc.tensor.reduction import sum as tsum
from exprc.tensor.scalar import upcast
from exprc.tensor.shape import reshape
from exprc.tensor.subtensor import set_subtensor
from exprc.tensor.type import FLOAT_DTYPES, TensorType
from exprc.tensor.variable import TensorVariable, as_tensor_variable

__all__ = [
    "QR", "SVD", "Det", "Eig", "Eigh", "Lstsq", "MatrixInverse", "MatrixPinv", "alloc_diag",
    "det", "diag", "eig", "eigh", "extract_diag", "lstsq", "matrix_dot", "matrix_inverse",
    "matrix_power", "norm", "pinv", "qr", "svd", "tensorinv", "tensorsolve", "trace",
]

#: The relative cutoff under which :func:`pinv` treats singular values as zero (NumPy's).
PINV_RCOND = 1e-15


# ---------------------------------------------------------------------- operands
def linalg_dtype(*dtypes: str) -> str:
    """The dtype of a linear-algebra result on operands of ``dtypes``: their NumPy promotion
    when it is a float dtype, else float64 (as ``numpy.linalg`` does)."""
    dtype = upcast(*dtypes)
    return dtype if dtype in FLOAT_DTYPES else "float64"


def matrix_operand(op: Any, x: Any, name: str, ndims: tuple = (2,),
                   square: bool = False) -> TensorVariable:
    """``x`` as a tensor of one of the ranks ``ndims``, checked: a build error naming ``op``
    and the input ``name`` for another rank, or (with ``square``) for a matrix whose static
    sizes differ."""
    x = as_tensor_variable(x)
    if x.ndim not in ndims:
        what = " or ".join({1: "a vector", 2: "a matrix"}.get(d, f"{d}-d") for d in ndims)
        raise build_error(ExprcTypeError, op, f"input {name} = {x} of type {x.type} must be "
                          f"{what}, got a {x.ndim}-d tensor")
    if square:
        rows, cols = x.type.shape
        if rows is not None and cols is not None and rows != cols:
            raise build_error(ExprcShapeError, op, f"input {name} = {x} must be a square "
                              f"matrix, got static shape ({rows}, {cols})")
    return x


def flag_param(owner: str, name: str, value: Any) -> bool:
    """A bool parameter: ``True``/``False`` (or NumPy's bools, or the ints 0 and 1)."""
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, (int, np.integer))
                                               and value in (0, 1)):
        return bool(value)
    raise build_error(ExprcTypeError, owner, f"{name} must be True or False, got "
                      f"{type(value).__name__} {value!r}")


def as_dtype(x: TensorVariable, dtype: str) -> TensorVariable:
    """``x`` converted to ``dtype`` (itself when it has it)."""
    return x if x.dtype == dtype else tm.cast(x, dtype)


def square_size(x: TensorVariable) -> int | None:
    """The static size of the square matrix ``x``, if either axis knows it."""
    rows, cols = x.type.shape
    return rows if rows is not None else cols


def _unary_square(op: Any, x: Any) -> TensorVariable:
    x = matrix_operand(op, x, "x", square=True)
    return as_dtype(x, linalg_dtype(x.dtype))


# ---------------------------------------------------------------------- ops
class MatrixInverse(Op):
    """The inverse of a square matrix (LU factorisation, LAPACK ``gesv`` on the identity); a
    singular matrix is an error."""

    def make_node(self, x: Any) -> Apply:
        x = _unary_square(self, x)
        n = square_size(x)
        return Apply(self, [x], [TensorType(x.dtype, shape=(n, n))()])


class MatrixPinv(Op):
    """The Moore-Penrose pseudo-inverse of an ``(m, n)`` matrix, an ``(n, m)`` matrix, from its
    singular value decomposition; singular values below ``1e-15`` times the largest count as
    zero (NumPy's default)."""

    def make_node(self, x: Any) -> Apply:
        x = matrix_operand(self, x, "x")
        x = as_dtype(x, linalg_dtype(x.dtype))
        rows, cols = x.type.shape
        return Apply(self, [x], [TensorType(x.dtype, shape=(cols, rows))()])


class Det(Op):
    """The determinant of a square matrix (LU factorisation): a 0-d tensor; 1 for a 0 x 0
    matrix, 0 for a singular one."""

    def make_node(self, x: Any) -> Apply:
        x = _unary_square(self, x)
        return Apply(self, [x], [TensorType(x.dtype, shape=())()])


class Eig(Op):
    """Eigenvalues ``w`` and right eigenvectors (the columns of ``v``, each of unit norm) of a
    square matrix (LAPACK ``geev``).

    exprc has no complex dtypes, so both outputs are real: a matrix with a complex eigenvalue
    is an error at run time (use :class:`Eigh` for symmetric matrices).
    """

    def make_node(self, x: Any) -> Apply:
        x = _unary_square(self, x)
        n = square_size(x)
        return Apply(self, [x], [TensorType(x.dtype, shape=(n,))(),
                                 TensorType(x.dtype, shape=(n, n))()])


class Eigh(Op):
    """Eigenvalues (ascending) and orthonormal eigenvectors (the columns of ``v``) of a
    symmetric matrix, of which only the lower (``UPLO='L'``) or upper (``'U'``) triangle is
    read (LAPACK ``syevd``)."""

    __props__ = ("UPLO",)

    def __init__(self, UPLO: str = "L"):
        self.UPLO = choice_param("Eigh", "UPLO", UPLO, ("L", "U"))

    def make_node(self, x: Any) -> Apply:
        x = _unary_square(self, x)
        n = square_size(x)
        return Apply(self, [x], [TensorType(x.dtype, shape=(n,))(),
                                 TensorType(x.dtype, shape=(n, n))()])


class SVD(Op):
    """The singular value decomposition ``x = u @ diag(s) @ v`` of an ``(m, n)`` matrix (LAPACK
    ``gesdd``), with ``k = min(m, n)`` singular values in descending order.

    Outputs ``(u, s, v)``: ``u`` is ``(m, m)`` and ``v`` ``(n, n)`` with ``full_matrices``,
    else ``(m, k)`` and ``(k, n)``; only ``s`` without ``compute_uv``. ``v`` holds the right
    singular vectors as rows (NumPy's ``vh``).
    """

    __props__ = ("full_matrices", "compute_uv")

    def __init__(self, full_matrices: bool = True, compute_uv: bool = True):
        self.full_matrices = flag_param("SVD", "full_matrices", full_matrices)
        self.compute_uv = flag_param("SVD", "compute_uv", compute_uv)

    def make_node(self, x: Any) -> Apply:
        x = matrix_operand(self, x, "x")
        x = as_dtype(x, linalg_dtype(x.dtype))
        m, n = x.type.shape
        k = sizes.minimum(m, n)
        s = TensorType(x.dtype, shape=(k,))()
        if not self.compute_uv:
            return Apply(self, [x], [s])
        u_cols, v_rows = (m, n) if self.full_matrices else (k, k)
        return Apply(self, [x], [TensorType(x.dtype, shape=(m, u_cols))(), s,
                                 TensorType(x.dtype, shape=(v_rows, n))()])


#: The modes of :func:`qr` and what each returns.
QR_MODES = ("reduced", "complete", "r")


class QR(Op):
    """The QR factorisation ``x = q @ r`` of an ``(m, n)`` matrix (LAPACK ``geqrf`` and
    ``orgqr``), ``q`` with orthonormal columns and ``r`` upper triangular, ``k = min(m, n)``.

    ``mode='reduced'``: ``q`` ``(m, k)`` and ``r`` ``(k, n)``; ``'complete'``: ``q`` ``(m, m)``
    and ``r`` ``(m, n)``; ``'r'``: ``r`` ``(k, n)`` alone. The signs are LAPACK's, as in NumPy.
    """

    __props__ = ("mode",)

    def __init__(self, mode: str = "reduced"):
        self.mode = choice_param("QR", "mode", mode, QR_MODES)

    def make_node(self, x: Any) -> Apply:
        x = matrix_operand(self, x, "x")
        x = as_dtype(x, linalg_dtype(x.dtype))
        m, n = x.type.shape
        k = m if self.mode == "complete" else sizes.minimum(m, n)
        r = TensorType(x.dtype, shape=(k, n))()
        if self.mode == "r":
            return Apply(self, [x], [r])
        return Apply(self, [x], [TensorType(x.dtype, shape=(m, k))(), r])


class Lstsq(Op):
    """The least-squares solution of ``a @ x = b`` (LAPACK ``gelsd``), as
    ``numpy.linalg.lstsq``: outputs the solution ``x`` (``(n,)`` or ``(n, K)`` like ``b``), the
    sums of squared residuals (``(K,)``, or ``(1,)`` for a vector ``b``; empty when ``a``'s
    rank is below ``n`` or ``m <= n``), the rank of ``a`` (int64, 0-d) and its singular values.

    Singular values below ``rcond`` times the largest count as zero; ``None`` means the
    machine epsilon of the dtype times ``max(m, n)`` (NumPy's default), a negative value the
    machine epsilon (LAPACK's).
    """

    __props__ = ("rcond",)

    def __init__(self, rcond: float | None = None):
        self.rcond = float_param("Lstsq", "rcond", rcond, optional=True)
        if self.rcond is not None and not np.isfinite(self.rcond):
            raise build_error(ExprcTypeError, "Lstsq", f"rcond must be finite, got {rcond!r}")

    def make_node(self, a: Any, b: Any) -> Apply:
        a = matrix_operand(self, a, "a")
        b = matrix_operand(self, b, "b", ndims=(1, 2))
        dtype = linalg_dtype(a.dtype, b.dtype)
        a, b = as_dtype(a, dtype), as_dtype(b, dtype)
        (m, n), bm = a.type.shape, b.type.shape[0]
        if m is not None and bm is not None and m != bm:
            raise build_error(ExprcShapeError, self, f"a = {a} has {m} rows but b = {b} has "
                              f"{bm}")
        x_shape = (n,) + b.type.shape[1:]
        return Apply(self, [a, b], [TensorType(dtype, shape=x_shape)(),
                                    TensorType(dtype, shape=(None,))(),
                                    TensorType("int64", shape=())(),
                                    TensorType(dtype, shape=(sizes.minimum(m, n),))()])


# ---------------------------------------------------------------------- functions
def matrix_inverse(x: Any) -> TensorVariable:
    """The inverse of the square matrix ``x``.

    Parameters
    ----------
    x : matrix-like

    Returns
    -------
    TensorVariable
        A matrix with ``dot(x, inverse)`` the identity; a singular ``x`` is an error at run
        time.
    """
    return MatrixInverse()(x)


def pinv(x: Any) -> TensorVariable:
    """The Moore-Penrose pseudo-inverse of the ``(m, n)`` matrix ``x``, an ``(n, m)`` matrix.

    Parameters
    ----------
    x : matrix-like

    Returns
    -------
    TensorVariable
    """
    return MatrixPinv()(x)


def det(x: Any) -> TensorVariable:
    """The determinant of the square matrix ``x`` (a 0-d tensor).

    Parameters
    ----------
    x : matrix-like

    Returns
    -------
    TensorVariable
    """
    return Det()(x)


def eig(x: Any) -> list:
    """Eigenvalues and right eigenvectors of the square matrix ``x``, which must have real
    eigenvalues (exprc has no complex dtypes).

    Parameters
    ----------
    x : matrix-like

    Returns
    -------
    list of TensorVariable
        ``[w, v]``: ``x @ v[:, i] = w[i] * v[:, i]``, each column of unit norm.
    """
    return Eig()(x)


def eigh(a: Any, UPLO: str = "L") -> list:
    """Eigenvalues and eigenvectors of the symmetric matrix ``a``.

    Parameters
    ----------
    a : matrix-like
    UPLO : {'L', 'U'}
        The triangle of ``a`` that is read; the other is ignored.

    Returns
    -------
    list of TensorVariable
        ``[w, v]``: eigenvalues in ascending order and orthonormal eigenvectors as the columns
        of ``v``.

    Examples
    --------
    >>> import exprc.tensor as T
    >>> w, v = eigh(T.matrix('a'))
    >>> w.type, v.type
    (TensorType(float64, (?,)), TensorType(float64, (?, ?)))
    """
    return Eigh(UPLO)(a)


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True):
    """The singular value decomposition of the matrix ``a``.

    Parameters
    ----------
    a : matrix-like
        Of shape ``(m, n)``; ``k = min(m, n)``.
    full_matrices : bool
        Square ``u`` ``(m, m)`` and ``v`` ``(n, n)``, else ``(m, k)`` and ``(k, n)``.
    compute_uv : bool
        Return ``[u, s, v]``, else the singular values ``s`` alone.

    Returns
    -------
    list of TensorVariable or TensorVariable
        ``a = u @ diag(s) @ v`` (``v`` holding the right singular vectors as rows, NumPy's
        ``vh``), singular values in descending order.
    """
    return SVD(full_matrices, compute_uv)(a)


def qr(a: Any, mode: str = "reduced"):
    """The QR factorisation of the matrix ``a``.

    Parameters
    ----------
    a : matrix-like
        Of shape ``(m, n)``; ``k = min(m, n)``.
    mode : {'reduced', 'complete', 'r'}
        ``'reduced'``: ``[q, r]`` of shapes ``(m, k)``, ``(k, n)``; ``'complete'``: ``(m,
        m)``, ``(m, n)``; ``'r'``: ``r`` alone, ``(k, n)``.

    Returns
    -------
    list of TensorVariable or TensorVariable
    """
    return QR(mode)(a)


def lstsq(a: Any, b: Any, rcond: float | None = None) -> list:
    """The least-squares solution of ``a @ x = b``, as ``numpy.linalg.lstsq``.

    Parameters
    ----------
    a : matrix-like
        ``(m, n)``.
    b : vector- or matrix-like
        ``(m,)`` or ``(m, K)``.
    rcond : float or None
        Relative cutoff for small singular values of ``a``; None: the dtype's machine epsilon
        times ``max(m, n)``.

    Returns
    -------
    list of TensorVariable
        ``[x, residuals, rank, s]`` (see :class:`Lstsq`).
    """
    return Lstsq(rcond)(a, b)


def matrix_dot(*args: Any) -> TensorVariable:
    """The product ``args[0] @ args[1] @ ...`` of several matrices, left to right.

    Parameters
    ----------
    *args : matrix- or vector-like
        At least one.

    Returns
    -------
    TensorVariable
    """
    if not args:
        raise build_error(ExprcTypeError, "matrix_dot", "needs at least one operand")
    result = as_tensor_variable(args[0])
    for a in args[1:]:
        result = dot(result, a)
    return result


def _diagonal_index(x: TensorVariable) -> TensorVariable:
    """``arange(min(rows, cols))`` of the matrix ``x``: the positions of its diagonal."""
    rows, cols = x.shape[0], x.shape[1]
    return arange(tm.minimum(rows, cols))


def extract_diag(x: Any) -> TensorVariable:
    """The main diagonal of the matrix ``x``, ``min(rows, cols)`` entries.

    Parameters
    ----------
    x : matrix-like

    Returns
    -------
    TensorVariable
        A vector of ``x``'s dtype.
    """
    x = matrix_operand("extract_diag", x, "x")
    i = _diagonal_index(x)
    return x[i, i]


def alloc_diag(x: Any) -> TensorVariable:
    """The square matrix with the vector ``x`` on its diagonal and zeros elsewhere.

    Parameters
    ----------
    x : vector-like

    Returns
    -------
    TensorVariable
        ``(n, n)`` of ``x``'s dtype.
    """
    x = matrix_operand("alloc_diag", x, "x", ndims=(1,))
    n = x.shape[0]
    i = arange(n)
    return set_subtensor(zeros((n, n), dtype=x.dtype)[i, i], x)


def diag(x: Any) -> TensorVariable:
    """The diagonal of a matrix, or the diagonal matrix of a vector (NumPy's ``diag`` with
    ``k=0``).

    Parameters
    ----------
    x : vector- or matrix-like

    Returns
    -------
    TensorVariable
    """
    x = matrix_operand("diag", x, "x", ndims=(1, 2))
    return alloc_diag(x) if x.ndim == 1 else extract_diag(x)


def trace(X: Any) -> TensorVariable:
    """The sum of the diagonal of the matrix ``X`` (a 0-d tensor).

    Parameters
    ----------
    X : matrix-like

    Returns
    -------
    TensorVariable
    """
    return tsum(extract_diag(X))


def matrix_power(M: Any, n: int) -> TensorVariable:
    """``M`` multiplied by itself ``n`` times (by repeated squaring), for an int ``n``.

    ``n = 0`` gives the identity and a negative ``n`` the power of the inverse, as in NumPy.

    Parameters
    ----------
    M : matrix-like
        Square.
    n : int

    Returns
    -------
    TensorVariable
    """
    n = int_param("matrix_power", "n", n)
    M = matrix_operand("matrix_power", M, "M", square=True)
    if n < 0:
        M, n = matrix_inverse(M), -n
    if n == 0:
        return eye(M.shape[0], dtype=M.dtype)
    result, square = None, M
    while True:
        if n % 2:
            result = square if result is None else dot(result, square)
        n //= 2
        if not n:
            return result
        square = dot(square, square)


def _svd_values(x: TensorVariable) -> TensorVariable:
    return SVD(full_matrices=False, compute_uv=False)(x)


def norm(x: Any, ord: Any = None) -> TensorVariable:
    """The vector or matrix norm of ``x``, as ``numpy.linalg.norm`` without ``axis``.

    Parameters
    ----------
    x : vector- or matrix-like
    ord : None, number, inf, -inf, 'fro' or 'nuc'
        Vectors: None or 2 (Euclidean), any other number ``p`` (``sum(|x|**p)**(1/p)``, with 0
        counting the non-zero entries), ``inf`` and ``-inf`` (largest, smallest ``|x|``).
        Matrices: None or ``'fro'`` (Frobenius), ``'nuc'`` (sum of the singular values),
        ``1``/``-1`` (largest/smallest column sum of ``|x|``), ``inf``/``-inf`` (rows),
        ``2``/``-2`` (largest/smallest singular value).

    Returns
    -------
    TensorVariable
        0-d.
    """
    x = matrix_operand("norm", x, "x", ndims=(1, 2))
    x = as_dtype(x, linalg_dtype(x.dtype))
    if x.ndim == 1:
        return _vector_norm(x, ord)
    return _matrix_norm(x, ord)


def _vector_norm(x: TensorVariable, ord: Any) -> TensorVariable:
    if isinstance(ord, str) or isinstance(ord, bool):
        raise build_error(ExprcTypeError, "norm", f"ord={ord!r} is not a norm of vectors")
    if ord is None or ord == 2:
        return tm.sqrt(tsum(tm.sqr(x)))
    p = float_param("norm", "ord", ord)
    if p == np.inf:
        return tmax(tm.abs(x))
    if p == -np.inf:
        return tmin(tm.abs(x))
    if p == 0:
        return tsum(tm.cast(tm.neq(x, 0), x.dtype))
    return tm.pow(tsum(tm.pow(tm.abs(x), p)), 1.0 / p)


def _matrix_norm(x: TensorVariable, ord: Any) -> TensorVariable:
    if ord is None or ord == "fro":
        return tm.sqrt(tsum(tm.sqr(x)))
    if ord == "nuc":
        return tsum(_svd_values(x))
    if isinstance(ord, str) or isinstance(ord, bool):
        raise build_error(ExprcTypeError, "norm", f"ord={ord!r} is not a norm of matrices; "
                          "use None, 'fro', 'nuc', 1, -1, 2, -2, inf or -inf")
    p = float_param("norm", "ord", ord)
    if p in (1, -1):
        sums = tsum(tm.abs(x), axis=0)
    elif p in (np.inf, -np.inf):
        sums = tsum(tm.abs(x), axis=1)
    elif p in (2, -2):
        sums = _svd_values(x)
    else:
        raise build_error(ExprcTypeError, "norm", f"ord={ord!r} is not a norm of matrices; "
                          "use None, 'fro', 'nuc', 1, -1, 2, -2, inf or -inf")
    return tmax(sums) if p > 0 else tmin(sums)


def _product(values: list):
    total = 1
    for v in values:
        total = sizes.mul(total, v)
    return total


def _dims(x: TensorVariable, axes: range) -> list:
    return [x.type.shape[d] if x.type.shape[d] is not None else x.shape[d] for d in axes]


def tensorinv(a: Any, ind: int = 2) -> TensorVariable:
    """The inverse of ``a`` for :func:`numpy.tensordot` over ``ind`` axes (NumPy's
    ``tensorinv``): ``tensordot(tensorinv(a, ind), a, ind)`` is the identity of shape
    ``a.shape[ind:] + a.shape[ind:]``.

    Parameters
    ----------
    a : tensor-like
        ``prod(a.shape[:ind])`` must equal ``prod(a.shape[ind:])``.
    ind : int
        How many leading axes the inverse operates on; positive.

    Returns
    -------
    TensorVariable
        Of shape ``a.shape[ind:] + a.shape[:ind]``.
    """
    a = as_tensor_variable(a)
    ind = int_param("tensorinv", "ind", ind)
    if not 0 < ind < a.ndim:
        raise build_error(ExprcTypeError, "tensorinv", f"ind={ind} must be between 1 and "
                          f"a.ndim - 1 = {a.ndim - 1} for a = {a} of type {a.type}")
    lead, rest = _dims(a, range(ind)), _dims(a, range(ind, a.ndim))
    inverse = matrix_inverse(reshape(a, [_product(lead), _product(rest)]))
    return reshape(inverse, rest + lead, ndim=a.ndim)


def tensorsolve(a: Any, b: Any, axes: Any = None) -> TensorVariable:
    """The ``x`` with ``tensordot(a, x, x.ndim) == b`` (NumPy's ``tensorsolve``).

    Parameters
    ----------
    a : tensor-like
        Of shape ``b.shape + Q`` with ``prod(Q) == prod(b.shape)``.
    b : tensor-like
    axes : sequence of int, optional
        Axes of ``a`` to move to the end first.

    Returns
    -------
    TensorVariable
        Of shape ``Q``.
    """
    from exprc.tensor.slinalg import solve  # slinalg builds on this module

    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if axes is not None:
        moved = [d % a.ndim for d in int_tuple("tensorsolve", "axes", axes)]
        a = DimShuffle([d for d in range(a.ndim) if d not in moved] + moved)(a)
    if not b.ndim < a.ndim:
        raise build_error(ExprcTypeError, "tensorsolve", f"a = {a} ({a.ndim}-d) must have more "
                          f"axes than b = {b} ({b.ndim}-d)")
    q = _dims(a, range(b.ndim, a.ndim))
    x = solve(reshape(a, [_product(_dims(b, range(b.ndim))), _product(q)]),
              reshape(b, [_product(_dims(b, range(b.ndim)))]))
    return reshape(x, q, ndim=len(q))
