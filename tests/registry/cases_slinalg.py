"""Registry cases of the slinalg family (Cholesky, the solvers, eigvalsh, expm).

References use NumPy only: a routine that reads one triangle of a matrix is compared with
NumPy on the symmetric (or triangular) matrix that triangle defines, and the matrix exponential
with a Taylor series written here. Inputs that must be positive definite or well conditioned
are drawn so; the gradients are checked on the raw inputs, both triangles perturbed.
"""

import numpy as np

import exprc.tensor as T
from exprc.tensor import slinalg
from tests.registry import Arg, Case, add


def sym(a, lower=True):
    """The symmetric matrix the lower (or upper) triangle of ``a`` defines."""
    t = np.tril(a) if lower else np.triu(a)
    return t + (np.tril(a, -1) if lower else np.triu(a, 1)).T


def spd(n, shift=1.0):
    """A generator of random symmetric positive definite ``n x n`` matrices, whose upper
    triangle is noise (routines reading the lower triangle must ignore it)."""
    def gen(rng):
        m = rng.uniform(-1, 1, (n, n))
        good = m @ m.T + shift * n * np.eye(n)
        return np.tril(good) + np.triu(rng.uniform(-9, 9, (n, n)), 1)
    return gen


def spd_upper(n):
    return lambda rng: spd(n)(rng).T


def conditioned(n, cols=None):
    """A generator of well conditioned ``n x n`` matrices (random plus a large diagonal)."""
    return lambda rng: rng.uniform(-1, 1, (n, n)) + 4 * np.eye(n)


def _cholesky_lower(a):
    return np.linalg.cholesky(sym(a, True))


def _cholesky_upper(a):
    return np.linalg.cholesky(sym(a, False)).T


add(
    Case("cholesky/lower", slinalg.cholesky, _cholesky_lower, [Arg(gen=spd(4), shape=(4, 4))]),
    Case("cholesky/upper", lambda x: slinalg.cholesky(x, lower=False), _cholesky_upper,
         [Arg(gen=spd_upper(4), shape=(4, 4))]),
    Case("cholesky/static", slinalg.cholesky, _cholesky_lower,
         [Arg(gen=spd(3), shape=(3, 3), static=(3, 3))]),
    Case("cholesky/1x1", slinalg.cholesky, np.sqrt, [Arg(gen=spd(1), shape=(1, 1))]),
    Case("cholesky/float32", slinalg.cholesky,
         lambda a: _cholesky_lower(a.astype("float64")).astype("float32"),
         [Arg(gen=spd(5), shape=(5, 5), dtype="float32")], grad="float32 forward case",
         rtol=1e-4, atol=1e-5),
    Case("cholesky/int64", slinalg.cholesky,
         lambda a: np.linalg.cholesky(a.astype("float64")),
         [Arg(gen=lambda rng: np.array([[4, 2], [2, 5]]), shape=(2, 2), dtype="int64")],
         grad="integer input"),
    Case("cholesky/on_error_nan", lambda x: slinalg.cholesky(x, on_error="nan"),
         lambda a: np.full(a.shape, np.nan),
         [Arg(gen=lambda rng: np.diag([1.0, -1.0, 2.0]), shape=(3, 3))],
         grad="not positive definite: the output is NaN"),
    Case("cholesky/empty", slinalg.cholesky, lambda a: np.zeros((0, 0)), [Arg((0, 0))],
         grad="empty input"),
    Case("cholesky/of_product", lambda x: slinalg.cholesky(T.dot(x, x.T) + 3 * T.eye(3)),
         lambda x: np.linalg.cholesky(x @ x.T + 3 * np.eye(3)), [Arg((3, 3))]),
)

# ----------------------------------------------------------------------- solve
for _label, _b in [("vector", (4,)), ("matrix", (4, 3))]:
    add(
        Case(f"solve/general/{_label}", slinalg.solve, np.linalg.solve,
             [Arg(gen=conditioned(4), shape=(4, 4)), Arg(_b)]),
        Case(f"solve/symmetric_upper/{_label}",
             lambda a, b: slinalg.solve(a, b, A_structure="symmetric"),
             lambda a, b: np.linalg.solve(sym(a, False), b),
             [Arg(gen=conditioned(4), shape=(4, 4)), Arg(_b)]),
        Case(f"solve/symmetric_lower/{_label}",
             lambda a, b: slinalg.solve(a, b, A_structure="symmetric", lower=True),
             lambda a, b: np.linalg.solve(sym(a, True), b),
             [Arg(gen=conditioned(4), shape=(4, 4)), Arg(_b)]),
        Case(f"solve/lower_triangular/{_label}", slinalg.solve_lower_triangular,
             lambda a, b: np.linalg.solve(np.tril(a), b),
             [Arg(gen=conditioned(4), shape=(4, 4)), Arg(_b)]),
        Case(f"solve/upper_triangular/{_label}", slinalg.solve_upper_triangular,
             lambda a, b: np.linalg.solve(np.triu(a), b),
             [Arg(gen=conditioned(4), shape=(4, 4)), Arg(_b)]),
    )
add(
    Case("solve/symmetric_function", slinalg.solve_symmetric,
         lambda a, b: np.linalg.solve(sym(a, False), b),
         [Arg(gen=conditioned(3), shape=(3, 3)), Arg((3,))]),
    Case("solve/static", slinalg.solve, np.linalg.solve,
         [Arg(gen=conditioned(3), shape=(3, 3), static=(3, 3)), Arg((3, 2), static=(3, 2))]),
    Case("solve/float32", slinalg.solve,
         lambda a, b: np.linalg.solve(a.astype("float64"), b).astype("float32"),
         [Arg(gen=conditioned(5), shape=(5, 5), dtype="float32"), Arg((5, 2), "float32")],
         grad="float32 forward case", rtol=1e-4, atol=1e-5),
    Case("solve/float32_int", slinalg.solve,
         lambda a, b: np.linalg.solve(a.astype("float64"), b.astype("float64")),
         [Arg(gen=conditioned(3), shape=(3, 3), dtype="float32"), Arg((3,), "int32", -4, 4)],
         grad="mixed integer input", rtol=1e-5),
    Case("solve/no_columns", slinalg.solve, lambda a, b: np.zeros((3, 0)),
         [Arg(gen=conditioned(3), shape=(3, 3)), Arg((3, 0))], grad="empty input"),
    Case("solve/empty", slinalg.solve, lambda a, b: np.zeros((0,)), [Arg((0, 0)), Arg((0,))],
         grad="empty input"),
)

for _lower in (True, False):
    for _trans in (0, 1, "C"):
        for _unit in (False, True):
            _name = (f"solve_triangular/{'lower' if _lower else 'upper'}/trans={_trans}"
                     f"{'/unit' if _unit else ''}")

            def _reference(a, b, lower=_lower, trans=_trans, unit=_unit):
                t = np.tril(a) if lower else np.triu(a)
                if unit:
                    np.fill_diagonal(t, 1.0)
                return np.linalg.solve(t if trans == 0 else t.T, b)

            add(Case(_name, lambda a, b, lower=_lower, trans=_trans, unit=_unit:
                     slinalg.solve_triangular(a, b, trans=trans, lower=lower,
                                              unit_diagonal=unit),
                     _reference, [Arg(gen=conditioned(4), shape=(4, 4)),
                                  Arg((4, 2) if _unit else (4,))]))
add(Case("solve_triangular/float32", lambda a, b: slinalg.solve_triangular(a, b, lower=True),
         lambda a, b: np.linalg.solve(np.tril(a).astype("float64"), b).astype("float32"),
         [Arg(gen=conditioned(4), shape=(4, 4), dtype="float32"), Arg((4, 3), "float32")],
         grad="float32 forward case", rtol=1e-4, atol=1e-5))

# ----------------------------------------------------------------------- cho_solve
for _lower in (True, False):
    def _factor(rng, lower=_lower):
        """A Cholesky factor (a triangle with a safe diagonal) plus noise in the other
        triangle, which cho_solve must ignore."""
        t = np.tril(rng.uniform(-1, 1, (4, 4)), -1) + np.diag(rng.uniform(1, 2, 4))
        t = t + np.triu(rng.uniform(-9, 9, (4, 4)), 1)
        return t if lower else t.T

    def _cho_reference(c, b, lower=_lower):
        f = np.tril(c) if lower else np.triu(c).T
        return np.linalg.solve(f @ f.T, b)

    for _label, _b in [("vector", (4,)), ("matrix", (4, 2))]:
        add(Case(f"cho_solve/{'lower' if _lower else 'upper'}/{_label}",
                 lambda c, b, lower=_lower: slinalg.cho_solve((c, lower), b), _cho_reference,
                 [Arg(gen=_factor, shape=(4, 4)), Arg(_b)]))
add(Case("cho_solve/of_cholesky",
         lambda a, b: slinalg.cho_solve((slinalg.cholesky(a), True), b),
         lambda a, b: np.linalg.solve(sym(a, True), b), [Arg(gen=spd(4), shape=(4, 4)),
                                                        Arg((4, 3))]))

# ----------------------------------------------------------------------- eigvalsh
add(
    Case("eigvalsh/lower", slinalg.eigvalsh, lambda a: np.linalg.eigvalsh(sym(a, True)),
         [Arg((4, 4))]),
    Case("eigvalsh/upper", lambda a: slinalg.eigvalsh(a, lower=False),
         lambda a: np.linalg.eigvalsh(sym(a, False)), [Arg((4, 4))]),
    Case("eigvalsh/float32", slinalg.eigvalsh,
         lambda a: np.linalg.eigvalsh(sym(a.astype("float64"), True)).astype("float32"),
         [Arg((5, 5), "float32")], grad="float32 forward case", rtol=1e-4, atol=1e-5),
    Case("eigvalsh/empty", slinalg.eigvalsh, lambda a: np.zeros((0,)), [Arg((0, 0))],
         grad="empty input"),
)


def _generalized(a, b, lower=True):
    """The eigenvalues of a v = w b v: those of b^-1 a (real, since b is positive definite)."""
    return np.sort(np.linalg.eigvals(np.linalg.solve(sym(b, lower), sym(a, lower))).real)


add(
    Case("eigvalsh/generalized/lower", slinalg.eigvalsh, _generalized,
         [Arg((4, 4)), Arg(gen=spd(4), shape=(4, 4))], rtol=1e-6, atol=1e-10),
    Case("eigvalsh/generalized/upper", lambda a, b: slinalg.eigvalsh(a, b, lower=False),
         lambda a, b: _generalized(a, b, False),
         [Arg((4, 4)), Arg(gen=spd_upper(4), shape=(4, 4))], rtol=1e-6, atol=1e-10),
)


# ----------------------------------------------------------------------- expm
def _expm_taylor(a):
    """exp(a) by scaling, a Taylor series of 30 terms and squaring, in float64."""
    a = np.asarray(a, dtype=np.float64)
    norm = np.abs(a).sum(axis=0).max() if a.size else 0.0
    s = max(0, int(np.ceil(np.log2(norm))) + 2) if norm > 0 else 0
    scaled = a / 2.0 ** s
    total, term = np.eye(a.shape[0]), np.eye(a.shape[0])
    for k in range(1, 30):
        term = term @ scaled / k
        total = total + term
    for _ in range(s):
        total = total @ total
    return total


for _label, _scale in [("tiny", 0.005), ("small", 0.1), ("medium", 0.4), ("unit", 1.0),
                       ("large", 3.0)]:
    add(Case(f"expm/{_label}", slinalg.expm, _expm_taylor,
             [Arg((4, 4), low=-_scale, high=_scale)], rtol=1e-9, atol=1e-12))
add(
    Case("expm/float32", slinalg.expm, lambda a: _expm_taylor(a).astype("float32"),
         [Arg((3, 3), "float32", -1, 1)], grad="float32 forward case", rtol=1e-5, atol=1e-6),
    Case("expm/empty", slinalg.expm, lambda a: np.zeros((0, 0)), [Arg((0, 0))],
         grad="empty input"),
    Case("expm/nan", slinalg.expm, lambda a: np.full((2, 2), np.nan),
         [Arg(gen=lambda rng: np.array([[0.0, np.nan], [1.0, 0.0]]), shape=(2, 2))],
         grad="NaN input"),
)
