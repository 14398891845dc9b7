"""Reference implementations of the slinalg family, with ``numpy.linalg`` only.

Each routine that reads one triangle of a matrix gets the symmetric (or triangular) matrix that
triangle defines; checks and messages are the C backend's.
"""

from __future__ import annotations

import numpy as np

from exprc.errors import ExprcShapeError, ExprcValueError
from exprc.link.reference.nlinalg import check_finite, check_square, singular
from exprc.link.reference.table import REFERENCE
from exprc.tensor.slinalg import Cholesky, CholeskySolve, Eigvalsh, Expm, Solve, SolveTriangular


def symmetric_from(x: np.ndarray, lower: bool) -> np.ndarray:
    """The symmetric matrix whose lower (or upper) triangle is ``x``'s."""
    half = np.tril(x) if lower else np.triu(x)
    return half + (np.tril(x, -1) if lower else np.triu(x, 1)).T


def _positive_definite_factor(x: np.ndarray):
    """The lower Cholesky factor of ``x`` (symmetric), or the 1-based order of the first
    leading minor that is not positive definite (LAPACK's report), found by bisection."""
    try:
        return np.linalg.cholesky(x), 0
    except np.linalg.LinAlgError:
        pass
    good, bad = 0, x.shape[0]  # the leading minor of order `good` factors, of `bad` not
    while bad - good > 1:
        mid = (good + bad) // 2
        try:
            np.linalg.cholesky(x[:mid, :mid])
            good = mid
        except np.linalg.LinAlgError:
            bad = mid
    return None, bad


def _not_positive_definite(node, minor: int, name: str = "") -> ExprcValueError:
    matrix = f"the matrix {name}" if name else "the matrix"
    return ExprcValueError(f"{node.op}: {matrix} is not positive definite (leading minor "
                           f"{minor})")


@REFERENCE.register(Cholesky)
def cholesky(node, x):
    check_square(node, x)
    op = node.op
    factor, minor = _positive_definite_factor(symmetric_from(x, op.lower))
    if factor is None:
        if op.on_error == "nan":
            return [np.full(x.shape, np.nan, dtype=node.outputs[0].dtype)]
        raise _not_positive_definite(node, minor)
    return [np.asarray(factor if op.lower else factor.T, dtype=node.outputs[0].dtype)]


def _check_system(node, a, b, name):
    check_square(node, a, name)
    if b.shape[0] != a.shape[0]:
        raise ExprcShapeError(f"{node.op}: {name} is {a.shape[0]} x {a.shape[1]} but b has "
                              f"{b.shape[0]} rows")


def _solve(node, a, b):
    if a.shape[0] == 0 or b.size == 0:
        return np.zeros(b.shape, dtype=node.outputs[0].dtype)
    try:
        return np.asarray(np.linalg.solve(a, b), dtype=node.outputs[0].dtype)
    except np.linalg.LinAlgError:
        raise singular(node) from None


def _triangular(node, a, b, lower, trans, unit):
    t = np.tril(a) if lower else np.triu(a)
    if unit:
        np.fill_diagonal(t, 1)
    zero = np.flatnonzero(np.diagonal(t) == 0)
    if zero.size:
        raise ExprcValueError(f"{node.op}: the triangular matrix is singular (diagonal entry "
                              f"{zero[0] + 1} is zero)")
    if trans == "T":
        t, lower = t.T, not lower
    return np.asarray(substitute(t, b, lower), dtype=node.outputs[0].dtype)


def substitute(t: np.ndarray, b: np.ndarray, lower: bool) -> np.ndarray:
    """``t^-1 b`` for the triangular ``t``, by forward (``lower``) or back substitution, as
    LAPACK's ``trtrs`` and ``potrs`` do: a zero on the diagonal gives infinities or NaNs."""
    if not lower:  # back substitution is forward substitution on the reversed system
        return substitute(t[::-1, ::-1], b[::-1], True)[::-1]
    x = np.array(b, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i in range(t.shape[0]):
            x[i] = (x[i] - t[i, :i] @ x[:i]) / t[i, i]
    return x


@REFERENCE.register(Solve)
def solve(node, a, b):
    _check_system(node, a, b, "a")
    structure = node.op.A_structure
    if structure == "general":
        return [_solve(node, a, b)]
    if structure == "symmetric":
        return [_solve(node, symmetric_from(a, node.op.lower), b)]
    return [_triangular(node, a, b, structure == "lower_triangular", "N", False)]


@REFERENCE.register(SolveTriangular)
def solve_triangular(node, a, b):
    _check_system(node, a, b, "a")
    op = node.op
    return [_triangular(node, a, b, op.lower, op.trans, op.unit_diagonal)]


@REFERENCE.register(CholeskySolve)
def cho_solve(node, c, b):
    _check_system(node, c, b, "c")
    # a = L L^T (lower) or U^T U: solve with the lower factor, then its transpose.
    factor = np.tril(c) if node.op.lower else np.triu(c).T
    x = substitute(factor.T, substitute(factor, b, True), False)
    return [np.asarray(x, dtype=node.outputs[0].dtype)]


@REFERENCE.register(Eigvalsh)
def eigvalsh(node, a, b=None):
    lower = node.op.lower
    n = check_square(node, a, "a")
    check_finite(node, a, "a")
    sym_a = symmetric_from(a, lower)
    if b is None:
        return [np.asarray(np.linalg.eigvalsh(sym_a), dtype=node.outputs[0].dtype)]
    if check_square(node, b, "b") != n:
        raise ExprcShapeError(f"{node.op}: a is {n} x {n} but b is {b.shape[0]} x "
                              f"{b.shape[1]}")
    check_finite(node, b, "b")
    factor, minor = _positive_definite_factor(symmetric_from(b, lower))
    if factor is None:
        raise _not_positive_definite(node, minor, "b")
    # a v = w b v with b = L L^T: the eigenvalues of L^-1 a L^-T.
    inner = np.linalg.solve(factor, np.linalg.solve(factor, sym_a).T)
    return [np.asarray(np.linalg.eigvalsh(inner), dtype=node.outputs[0].dtype)]


#: Padé orders and the largest 1-norm each serves in float64 (Higham 2005, table 10.2).
_PADE_THETA = ((3, 1.495585217958292e-2), (5, 2.539398330063230e-1),
               (7, 9.504178996162932e-1), (9, 2.097847961257068e0))
_THETA_13 = 5.371920351148152


def pade_coefficients(m: int) -> list[float]:
    """The coefficients ``b_0 .. b_m`` of the degree-``m`` diagonal Padé approximant of
    ``exp``: ``b_j = (2m - j)! m! / ((2m)! j! (m - j)!)``, scaled so that ``b_m = 1``."""
    from math import factorial

    raw = [factorial(2 * m - j) * factorial(m) / (factorial(2 * m) * factorial(j)
                                                 * factorial(m - j)) for j in range(m + 1)]
    return [c / raw[m] for c in raw]


def _pade(a: np.ndarray, m: int) -> np.ndarray:
    b = pade_coefficients(m)
    eye = np.eye(a.shape[0])
    a2 = a @ a
    powers = [eye, a2]
    while len(powers) <= m // 2:
        powers.append(powers[-1] @ a2)
    odd = sum(b[2 * j + 1] * powers[j] for j in range(m // 2 + 1))
    even = sum(b[2 * j] * powers[j] for j in range(m // 2 + 1))
    u = a @ odd
    return np.linalg.solve(even - u, even + u)


@REFERENCE.register(Expm)
def expm(node, x):
    check_square(node, x, "A")
    a = np.asarray(x, dtype=np.float64)
    norm = np.abs(a).sum(axis=0).max() if a.size else 0.0
    if not np.isfinite(norm):
        return [np.full(x.shape, np.nan, dtype=node.outputs[0].dtype)]
    for m, theta in _PADE_THETA:
        if norm <= theta:
            return [np.asarray(_pade(a, m), dtype=node.outputs[0].dtype)]
    s = max(0, int(np.ceil(np.log2(norm / _THETA_13))))
    r = _pade(a / 2.0 ** s, 13)
    for _ in range(s):
        r = r @ r
    return [np.asarray(r, dtype=node.outputs[0].dtype)]
