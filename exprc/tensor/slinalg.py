"""Matrix functions after ``scipy.linalg`` (Theano's ``theano.tensor.slinalg``).

Ops: :class:`Cholesky`, :class:`Solve` (a general, symmetric or triangular system),
:class:`SolveTriangular`, :class:`CholeskySolve`, :class:`Eigvalsh` (also the generalized
problem ``a v = w b v``) and :class:`Expm`; each is a LAPACK call in the C backend (``potrf``,
``gesv``/``sysv``/``trtrs``, ``potrs``, ``syevd``/``sygvd``; Padé approximation with scaling
and squaring for ``expm``). Their operands are matrices (and vectors for right-hand sides), as
in Theano; float32 operands give float32 results, integer and boolean ones float64.

A routine that reads one triangle of a matrix (``cholesky``, a symmetric ``solve``,
``eigvalsh``) ignores the other, and its gradient is that of the function it computes: zero on
the triangle it does not read.

>>> import exprc.tensor as T
>>> from exprc.tensor.slinalg import cholesky, solve
>>> a, b = T.matrix('a'), T.vector('b')
>>> cholesky(a).type, solve(a, b).type
(TensorType(float64, (?, ?)), TensorType(float64, (?,)))
"""

from __future__ import annotations

from typing import Any

from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.graph.ir import Apply, Op
from exprc.tensor.elemwise import DimShuffle
from exprc.tensor.math import mul
from exprc.tensor.nlinalg import as_dtype, flag_param, linalg_dtype, matrix_operand, square_size
from exprc.tensor.params import choice_param
from exprc.tensor.shape import reshape
from exprc.tensor.type import TensorType
from exprc.tensor.variable import TensorVariable, as_tensor_variable

__all__ = [
    "CholeskySolve", "Cholesky", "Eigvalsh", "Expm", "Solve", "SolveTriangular", "cho_solve",
    "cholesky", "eigvalsh", "expm", "kron", "solve", "solve_lower_triangular",
    "solve_symmetric", "solve_triangular", "solve_upper_triangular",
]

#: The structures :class:`Solve` takes for its matrix (Theano's names).
MATRIX_STRUCTURES = ("general", "symmetric", "lower_triangular", "upper_triangular")


def _system(op: Any, a: Any, b: Any, a_name: str = "a") -> tuple:
    """The square matrix ``a`` and right-hand side ``b`` (vector or matrix) of a linear system,
    checked and converted to their common float dtype."""
    a = matrix_operand(op, a, a_name, square=True)
    b = matrix_operand(op, b, "b", ndims=(1, 2))
    dtype = linalg_dtype(a.dtype, b.dtype)
    n, rows = square_size(a), b.type.shape[0]
    if n is not None and rows is not None and n != rows:
        raise build_error(ExprcShapeError, op, f"{a_name} = {a} is {n} x {n} but b = {b} has "
                          f"{rows} rows")
    return as_dtype(a, dtype), as_dtype(b, dtype)


def _solution(a: TensorVariable, b: TensorVariable) -> TensorVariable:
    """The output of ``a x = b``: ``b``'s shape, the row count known from either operand."""
    rows = b.type.shape[0] if b.type.shape[0] is not None else square_size(a)
    return TensorType(b.dtype, shape=(rows,) + b.type.shape[1:])()


# ---------------------------------------------------------------------- ops
class Cholesky(Op):
    """The Cholesky factor of a symmetric positive definite matrix: lower triangular ``L``
    with ``L @ L.T == x`` (``lower=True``, reading the lower triangle of ``x``), or upper
    triangular ``U`` with ``U.T @ U == x`` (reading the upper one).

    ``on_error='raise'`` makes a matrix that is not positive definite an error naming the
    leading minor that is not; ``'nan'`` gives a matrix of NaNs instead.
    """

    __props__ = ("lower", "on_error")

    def __init__(self, lower: bool = True, on_error: str = "raise"):
        self.lower = flag_param("Cholesky", "lower", lower)
        self.on_error = choice_param("Cholesky", "on_error", on_error, ("raise", "nan"))

    def make_node(self, x: Any) -> Apply:
        x = matrix_operand(self, x, "x", square=True)
        x = as_dtype(x, linalg_dtype(x.dtype))
        n = square_size(x)
        return Apply(self, [x], [TensorType(x.dtype, shape=(n, n))()])


class Solve(Op):
    """The solution ``x`` of ``a @ x = b``, ``b`` a vector or a matrix, by the structure of
    ``a``:

    - ``'general'``: LU factorisation with partial pivoting (LAPACK ``gesv``);
    - ``'symmetric'``: a symmetric indefinite factorisation (``sysv``) reading the lower
      (``lower=True``) or upper triangle of ``a``;
    - ``'lower_triangular'``, ``'upper_triangular'``: substitution (``trtrs``) reading that
      triangle; ``lower`` is then ignored.

    A singular ``a`` is an error at run time.
    """

    __props__ = ("A_structure", "lower")

    def __init__(self, A_structure: str = "general", lower: bool = False):
        self.A_structure = choice_param("Solve", "A_structure", A_structure,
                                        MATRIX_STRUCTURES)
        self.lower = flag_param("Solve", "lower", lower)

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = _system(self, a, b, "A")
        return Apply(self, [a, b], [_solution(a, b)])


#: ``trans`` of :func:`solve_triangular`: SciPy's spellings and the one each means here.
_TRANS = {0: "N", 1: "T", 2: "T", "N": "N", "T": "T", "C": "T"}


class SolveTriangular(Op):
    """The solution ``x`` of ``a @ x = b`` (``trans='N'``) or ``a.T @ x = b`` (``'T'``) for a
    triangular ``a``, of which only the lower (``lower=True``) or upper triangle is read, and
    with ``unit_diagonal`` not even its diagonal (taken as ones). LAPACK ``trtrs``."""

    __props__ = ("lower", "trans", "unit_diagonal")

    def __init__(self, lower: bool = False, trans: Any = "N", unit_diagonal: bool = False):
        self.lower = flag_param("SolveTriangular", "lower", lower)
        if isinstance(trans, (bool, float)) or trans not in _TRANS:
            raise build_error(ExprcTypeError, "SolveTriangular", "trans must be 0, 1, 2, 'N', "
                              f"'T' or 'C', got {type(trans).__name__} {trans!r}")
        # 'C' (the conjugate transpose) is the transpose: exprc's tensors are real.
        self.trans = _TRANS[trans]
        self.unit_diagonal = flag_param("SolveTriangular", "unit_diagonal", unit_diagonal)

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = _system(self, a, b)
        return Apply(self, [a, b], [_solution(a, b)])


class CholeskySolve(Op):
    """The solution ``x`` of ``(c @ c.T) @ x = b`` for a lower triangular Cholesky factor ``c``
    (``lower=True``), or of ``(c.T @ c) @ x = b`` for an upper one (SciPy's ``cho_solve``);
    only that triangle of ``c`` is read (LAPACK ``potrs``)."""

    __props__ = ("lower",)

    def __init__(self, lower: bool = True):
        self.lower = flag_param("CholeskySolve", "lower", lower)

    def make_node(self, c: Any, b: Any) -> Apply:
        c, b = _system(self, c, b, "c")
        return Apply(self, [c, b], [_solution(c, b)])


class Eigvalsh(Op):
    """The eigenvalues, in ascending order, of a symmetric matrix ``a`` (one input; LAPACK
    ``syevd``) or of the generalized problem ``a v = w b v`` with ``b`` symmetric positive
    definite (two inputs; ``sygvd``). Only the lower (``lower=True``) or upper triangle of each
    matrix is read."""

    __props__ = ("lower",)

    def __init__(self, lower: bool = True):
        self.lower = flag_param("Eigvalsh", "lower", lower)

    def make_node(self, a: Any, b: Any = None) -> Apply:
        a = matrix_operand(self, a, "a", square=True)
        if b is None:
            a = as_dtype(a, linalg_dtype(a.dtype))
            return Apply(self, [a], [TensorType(a.dtype, shape=(square_size(a),))()])
        b = matrix_operand(self, b, "b", square=True)
        n, nb = square_size(a), square_size(b)
        if n is not None and nb is not None and n != nb:
            raise build_error(ExprcShapeError, self, f"a = {a} is {n} x {n} but b = {b} is "
                              f"{nb} x {nb}")
        dtype = linalg_dtype(a.dtype, b.dtype)
        a, b = as_dtype(a, dtype), as_dtype(b, dtype)
        return Apply(self, [a, b], [TensorType(dtype, shape=(n if n is not None else nb,))()])


class Expm(Op):
    """The matrix exponential of a square matrix, by Padé approximation with scaling and
    squaring (Higham, 2005), computed in float64 whatever the dtype."""

    def make_node(self, x: Any) -> Apply:
        x = matrix_operand(self, x, "A", square=True)
        x = as_dtype(x, linalg_dtype(x.dtype))
        n = square_size(x)
        return Apply(self, [x], [TensorType(x.dtype, shape=(n, n))()])


# ---------------------------------------------------------------------- functions
def cholesky(x: Any, lower: bool = True, on_error: str = "raise") -> TensorVariable:
    """The Cholesky factor of the symmetric positive definite matrix ``x``.

    Parameters
    ----------
    x : matrix-like
    lower : bool
        Return lower triangular ``L`` (``L @ L.T == x``), reading the lower triangle of ``x``;
        else upper triangular ``U`` (``U.T @ U == x``), reading the upper one.
    on_error : {'raise', 'nan'}
        What a matrix that is not positive definite gives: an error, or a matrix of NaNs.

    Returns
    -------
    TensorVariable

    Examples
    --------
    >>> import numpy as np, exprc, exprc.tensor as T
    >>> x = T.matrix('x')
    >>> exprc.function([x], cholesky(x))(np.array([[4.0, 2.0], [2.0, 5.0]]))
    array([[2., 0.],
           [1., 2.]])
    """
    return Cholesky(lower, on_error)(x)


def solve(a: Any, b: Any, A_structure: str = "general",
          lower: bool = False) -> TensorVariable:
    """The solution ``x`` of ``a @ x = b``.

    Parameters
    ----------
    a : matrix-like
        Square.
    b : vector- or matrix-like
        As many rows as ``a``.
    A_structure : {'general', 'symmetric', 'lower_triangular', 'upper_triangular'}
        What is known of ``a`` (see :class:`Solve`).
    lower : bool
        For ``'symmetric'``: read the lower triangle of ``a`` rather than the upper.

    Returns
    -------
    TensorVariable
        Of ``b``'s shape.
    """
    return Solve(A_structure, lower)(a, b)


def solve_lower_triangular(a: Any, b: Any) -> TensorVariable:
    """:func:`solve` for a lower triangular ``a`` (only its lower triangle is read)."""
    return Solve("lower_triangular", True)(a, b)


def solve_upper_triangular(a: Any, b: Any) -> TensorVariable:
    """:func:`solve` for an upper triangular ``a`` (only its upper triangle is read)."""
    return Solve("upper_triangular", False)(a, b)


def solve_symmetric(a: Any, b: Any) -> TensorVariable:
    """:func:`solve` for a symmetric ``a`` (only its upper triangle is read)."""
    return Solve("symmetric", False)(a, b)


def solve_triangular(a: Any, b: Any, trans: Any = 0, lower: bool = False,
                     unit_diagonal: bool = False) -> TensorVariable:
    """The solution ``x`` of ``a @ x = b`` for a triangular ``a`` (SciPy's
    ``solve_triangular``).

    Parameters
    ----------
    a : matrix-like
        Square; only the triangle named by ``lower`` is read.
    b : vector- or matrix-like
    trans : {0, 1, 2, 'N', 'T', 'C'}
        Solve ``a @ x = b`` (0, ``'N'``) or ``a.T @ x = b`` (the others).
    lower : bool
    unit_diagonal : bool
        Take the diagonal of ``a`` as ones without reading it.

    Returns
    -------
    TensorVariable
        Of ``b``'s shape.
    """
    return SolveTriangular(lower, trans, unit_diagonal)(a, b)


def cho_solve(c_and_lower: Any, b: Any) -> TensorVariable:
    """The solution ``x`` of ``a @ x = b`` given the Cholesky factor ``c`` of ``a`` (SciPy's
    ``cho_solve``).

    Parameters
    ----------
    c_and_lower : tuple
        ``(c, lower)``: the factor, as :func:`cholesky` returns it, and whether it is lower
        triangular.
    b : vector- or matrix-like

    Returns
    -------
    TensorVariable
    """
    try:
        c, lower = c_and_lower
    except (TypeError, ValueError):
        raise build_error(ExprcTypeError, "cho_solve", "c_and_lower must be a pair (c, lower), "
                          f"got {type(c_and_lower).__name__}") from None
    return CholeskySolve(lower)(c, b)


def eigvalsh(a: Any, b: Any = None, lower: bool = True) -> TensorVariable:
    """The eigenvalues (ascending) of the symmetric matrix ``a``, or of the generalized problem
    ``a v = w b v``.

    Parameters
    ----------
    a : matrix-like
    b : matrix-like or None
        Symmetric positive definite, for the generalized problem.
    lower : bool
        Read the lower triangle of each matrix, else the upper one.

    Returns
    -------
    TensorVariable
        A vector.
    """
    op = Eigvalsh(lower)
    return op(a) if b is None else op(a, b)


def expm(A: Any) -> TensorVariable:
    """The matrix exponential of the square matrix ``A``.

    Parameters
    ----------
    A : matrix-like

    Returns
    -------
    TensorVariable
    """
    return Expm()(A)


def kron(a: Any, b: Any) -> TensorVariable:
    """The Kronecker product of ``a`` and ``b`` (NumPy's ``kron``): the blocks
    ``a[i, j] * b`` side by side, for operands of any rank (the lower rank is padded with
    leading axes of size 1).

    Parameters
    ----------
    a, b : tensor-like

    Returns
    -------
    TensorVariable
        Of rank ``max(a.ndim, b.ndim)``, each size the product of the operands' sizes.

    Examples
    --------
    >>> import numpy as np, exprc, exprc.tensor as T
    >>> a, b = T.matrix('a'), T.matrix('b')
    >>> exprc.function([a, b], kron(a, b))(np.eye(2), np.ones((1, 2)))
    array([[1., 1., 0., 0.],
           [0., 0., 1., 1.]])
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    ndim = max(a.ndim, b.ndim)
    a = DimShuffle(["x"] * (ndim - a.ndim) + list(range(a.ndim)))(a)
    b = DimShuffle(["x"] * (ndim - b.ndim) + list(range(b.ndim)))(b)
    # out[i * b.shape[d] + j] = a[i] * b[j] along each axis d: interleave the axes, multiply
    # with broadcasting, and merge each pair.
    spread_a = DimShuffle([p for d in range(ndim) for p in (d, "x")])(a)
    spread_b = DimShuffle([p for d in range(ndim) for p in ("x", d)])(b)
    sizes = [a.shape[d] * b.shape[d] for d in range(ndim)]
    return reshape(mul(spread_a, spread_b), sizes, ndim=ndim)
