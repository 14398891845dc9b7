"""Registry cases of the nlinalg family (inverse, pseudo-inverse, determinant, eigenproblems,
SVD, QR, least squares) and of the functions built from them.

Where a factorisation is unique only up to signs (eigenvectors, singular vectors), both the
graph and the NumPy reference normalise each vector so that its largest entry is positive;
where it is not unique at all (the extra columns of a full SVD), they compare what is (the
product with the input, orthogonality).
"""

import numpy as np

import exprc.tensor as T
from exprc.tensor import nlinalg
from tests.registry import Arg, Case, add


def conditioned(n):
    """A generator of well conditioned ``n x n`` matrices (random plus a large diagonal)."""
    return lambda rng: rng.uniform(-1, 1, (n, n)) + 4 * np.eye(n)


def real_spectrum(n):
    """A generator of ``n x n`` matrices with distinct real eigenvalues, not symmetric."""
    def gen(rng):
        p = rng.uniform(-1, 1, (n, n)) + 3 * np.eye(n)
        return p @ np.diag(np.arange(1.0, n + 1) * rng.choice([-1, 1], n)) @ np.linalg.inv(p)
    return gen


def _signs_np(v):
    """Each column of ``v`` times the sign of its largest entry in absolute value."""
    pick = np.argmax(np.abs(v), axis=0)
    return v * np.sign(v[pick, np.arange(v.shape[1])])


def _signs(v):
    """:func:`_signs_np` in exprc."""
    pick = T.argmax(abs(v), axis=0)
    return v * T.sgn(v[pick, T.arange(v.shape[1])]).dimshuffle("x", 0)


# ----------------------------------------------------------------------- inverse, det
add(
    Case("matrix_inverse", nlinalg.matrix_inverse, np.linalg.inv,
         [Arg(gen=conditioned(4), shape=(4, 4))]),
    Case("matrix_inverse/static", nlinalg.matrix_inverse, np.linalg.inv,
         [Arg(gen=conditioned(3), shape=(3, 3), static=(3, None))]),
    Case("matrix_inverse/float32", nlinalg.matrix_inverse,
         lambda a: np.linalg.inv(a.astype("float64")).astype("float32"),
         [Arg(gen=conditioned(5), shape=(5, 5), dtype="float32")],
         grad="float32 forward case", rtol=1e-5, atol=1e-6),
    Case("matrix_inverse/int32", nlinalg.matrix_inverse, lambda a: np.linalg.inv(a * 1.0),
         [Arg(gen=lambda rng: np.array([[2, 1], [1, 3]]), shape=(2, 2), dtype="int32")],
         grad="integer input"),
    Case("matrix_inverse/empty", nlinalg.matrix_inverse, lambda a: np.zeros((0, 0)),
         [Arg((0, 0))], grad="empty input"),
    Case("det", nlinalg.det, np.linalg.det, [Arg((4, 4))]),
    Case("det/1x1", nlinalg.det, lambda a: a[0, 0], [Arg((1, 1))]),
    Case("det/singular", nlinalg.det, lambda a: np.float64(0.0),
         [Arg(gen=lambda rng: np.array([[1.0, 2.0], [2.0, 4.0]]), shape=(2, 2))],
         grad="singular input: the gradient needs the inverse"),
    Case("det/empty", nlinalg.det, lambda a: np.float64(1.0), [Arg((0, 0))],
         grad="empty input"),
    Case("det/float32", nlinalg.det, lambda a: np.float32(np.linalg.det(a.astype("float64"))),
         [Arg((3, 3), "float32")], grad="float32 forward case", rtol=1e-5, atol=1e-6),
)

for _label, _shape in [("square", (4, 4)), ("tall", (5, 3)), ("wide", (3, 5))]:
    add(Case(f"pinv/{_label}", nlinalg.pinv, np.linalg.pinv, [Arg(_shape)]))
add(
    Case("pinv/rank_deficient", nlinalg.pinv, np.linalg.pinv,
         [Arg(gen=lambda rng: np.outer(rng.uniform(1, 2, 4), rng.uniform(1, 2, 3)),
              shape=(4, 3))], grad="rank-deficient input (the rank would change)"),
    Case("pinv/float32", nlinalg.pinv,
         lambda a: np.linalg.pinv(a.astype("float64")).astype("float32"),
         [Arg((4, 3), "float32")], grad="float32 forward case", rtol=1e-4, atol=1e-5),
    Case("pinv/empty", nlinalg.pinv, lambda a: np.zeros((3, 0)), [Arg((0, 3))],
         grad="empty input"),
)

# ----------------------------------------------------------------------- eigenproblems
def _eig_build(x):
    w, v = nlinalg.eig(x)
    order = T.argsort(w)
    return [w[order], _signs(v[:, order])]


def _eig_reference(x):
    w, v = np.linalg.eig(x)
    order = np.argsort(w.real)
    return [w.real[order], _signs_np(v.real[:, order])]


add(
    Case("eig", _eig_build, _eig_reference, [Arg(gen=real_spectrum(4), shape=(4, 4))],
         grad="eig has no gradient", rtol=1e-6, atol=1e-9),
    Case("eig/symmetric", _eig_build, lambda x: _eig_reference(x),
         [Arg(gen=lambda rng: (lambda m: m + m.T)(rng.uniform(-1, 1, (4, 4))), shape=(4, 4))],
         grad="eig has no gradient", rtol=1e-6, atol=1e-9),
    Case("eig/float32", _eig_build,
         lambda x: [r.astype("float32") for r in _eig_reference(x.astype("float64"))],
         [Arg(gen=real_spectrum(3), shape=(3, 3), dtype="float32")],
         grad="eig has no gradient", rtol=1e-3, atol=1e-4),
    Case("eig/empty", lambda x: nlinalg.eig(x), lambda x: [np.zeros(0), np.zeros((0, 0))],
         [Arg((0, 0))], grad="eig has no gradient"),
)


def _sym_np(a, lower):
    t = np.tril(a) if lower else np.triu(a)
    return t + (np.tril(a, -1) if lower else np.triu(a, 1)).T


for _uplo in ("L", "U"):
    def _eigh_reference(a, uplo=_uplo):
        w, v = np.linalg.eigh(_sym_np(a, uplo == "L"))
        return [w, _signs_np(v)]

    add(
        Case(f"eigh/{_uplo}", lambda a, uplo=_uplo: (lambda wv: [wv[0], _signs(wv[1])])(
            nlinalg.eigh(a, uplo)), _eigh_reference, [Arg((4, 4))], grad="two outputs"),
        Case(f"eigh/{_uplo}/values", lambda a, uplo=_uplo: nlinalg.eigh(a, uplo)[0],
             lambda a, uplo=_uplo: _eigh_reference(a, uplo)[0], [Arg((4, 4))]),
        Case(f"eigh/{_uplo}/vectors", lambda a, uplo=_uplo: _signs(nlinalg.eigh(a, uplo)[1]),
             lambda a, uplo=_uplo: _eigh_reference(a, uplo)[1], [Arg((4, 4))]),
        Case(f"eigh/{_uplo}/both",
             lambda a, uplo=_uplo: (lambda wv: wv[0].dimshuffle("x", 0) * _signs(wv[1]))(
                 nlinalg.eigh(a, uplo)),
             lambda a, uplo=_uplo: (lambda wv: wv[0][None, :] * wv[1])(
                 _eigh_reference(a, uplo)), [Arg((3, 3))]),
    )
add(Case("eigh/float32", lambda a: nlinalg.eigh(a)[0],
         lambda a: np.linalg.eigvalsh(_sym_np(a.astype("float64"), True)).astype("float32"),
         [Arg((5, 5), "float32")], grad="float32 forward case", rtol=1e-4, atol=1e-5))


# ----------------------------------------------------------------------- SVD
def _svd_checks(build_full):
    """What a full or reduced SVD fixes: the singular values, the first k singular vectors (up
    to a sign shared by the pair), and the orthogonality of u and v."""
    def build(x):
        u, s, vt = nlinalg.svd(x, full_matrices=build_full)
        k = s.shape[0]
        signs = T.sgn(T.sum(u[:, :k], axis=0) + 1e-300)
        return [s, u[:, :k] * signs.dimshuffle("x", 0), vt[:k] * signs.dimshuffle(0, "x"),
                T.dot(u.T, u), T.dot(vt, vt.T)]
    return build


def _svd_reference(full):
    def reference(x):
        u, s, vt = np.linalg.svd(x, full_matrices=full)
        k = s.shape[0]
        signs = np.sign(u[:, :k].sum(axis=0) + 1e-300)
        return [s, u[:, :k] * signs, vt[:k] * signs[:, None], np.eye(u.shape[1]),
                np.eye(vt.shape[0])]
    return reference


for _label, _shape in [("square", (4, 4)), ("tall", (5, 3)), ("wide", (3, 5))]:
    add(
        Case(f"svd/{_label}/values", lambda x: nlinalg.svd(x, compute_uv=False),
             lambda x: np.linalg.svd(x, compute_uv=False), [Arg(_shape)]),
        Case(f"svd/{_label}/full", _svd_checks(True), _svd_reference(True), [Arg(_shape)],
             grad="checks on the factors", atol=1e-12),
        Case(f"svd/{_label}/reduced", _svd_checks(False), _svd_reference(False), [Arg(_shape)],
             grad="checks on the factors", atol=1e-12),
    )
add(
    Case("svd/values_of_full", lambda x: nlinalg.svd(x)[1],
         lambda x: np.linalg.svd(x, compute_uv=False), [Arg((4, 3))]),
    Case("svd/float32", lambda x: nlinalg.svd(x, compute_uv=False),
         lambda x: np.linalg.svd(x.astype("float64"), compute_uv=False).astype("float32"),
         [Arg((4, 6), "float32")], grad="float32 forward case", rtol=1e-5, atol=1e-6),
    Case("svd/empty", lambda x: nlinalg.svd(x), lambda x: list(np.linalg.svd(x)),
         [Arg((0, 3))], grad="empty input"),
    Case("svd/empty_reduced", lambda x: nlinalg.svd(x, full_matrices=False),
         lambda x: list(np.linalg.svd(x, full_matrices=False)), [Arg((2, 0))],
         grad="empty input"),
)

# ----------------------------------------------------------------------- QR
for _label, _shape in [("square", (4, 4)), ("tall", (5, 3)), ("wide", (3, 5))]:
    add(
        Case(f"qr/reduced/{_label}", nlinalg.qr, lambda x: list(np.linalg.qr(x)),
             [Arg(_shape)], grad="two outputs"),
        Case(f"qr/reduced/{_label}/q", lambda x: nlinalg.qr(x)[0],
             lambda x: np.linalg.qr(x)[0], [Arg(_shape)]),
        Case(f"qr/reduced/{_label}/r", lambda x: nlinalg.qr(x)[1],
             lambda x: np.linalg.qr(x)[1], [Arg(_shape)]),
        Case(f"qr/reduced/{_label}/both", lambda x: T.dot(nlinalg.qr(x)[0].T, x) +
             nlinalg.qr(x)[1] ** 2, lambda x: (lambda q, r: q.T @ x + r ** 2)(*np.linalg.qr(x)),
             [Arg(_shape)]),
        Case(f"qr/complete/{_label}", lambda x: nlinalg.qr(x, "complete"),
             lambda x: list(np.linalg.qr(x, "complete")), [Arg(_shape)], grad="two outputs"),
        Case(f"qr/r/{_label}", lambda x: nlinalg.qr(x, "r"), lambda x: np.linalg.qr(x, "r"),
             [Arg(_shape)]),
    )
add(
    Case("qr/complete/wide/static_q", lambda x: nlinalg.qr(x, "complete")[0],
         lambda x: np.linalg.qr(x, "complete")[0], [Arg((3, 5), static=(3, 5))],
         grad="verify_grad drops static shapes (tests/test_nlinalg.py checks this gradient)"),
    Case("qr/complete/tall/r", lambda x: nlinalg.qr(x, "complete")[1],
         lambda x: np.linalg.qr(x, "complete")[1], [Arg((5, 3))]),
    Case("qr/float32", nlinalg.qr, lambda x: [r.astype("float32") for r in
                                               np.linalg.qr(x.astype("float64"))],
         [Arg((4, 3), "float32")], grad="float32 forward case", rtol=1e-4, atol=1e-5),
    Case("qr/empty", nlinalg.qr, lambda x: list(np.linalg.qr(x)), [Arg((3, 0))],
         grad="empty input"),
    Case("qr/complete/empty", lambda x: nlinalg.qr(x, "complete"),
         lambda x: list(np.linalg.qr(x, "complete")), [Arg((3, 0))], grad="empty input"),
)


# ----------------------------------------------------------------------- least squares
def _lstsq_reference(rcond=None):
    def reference(a, b):
        x, residuals, rank, s = np.linalg.lstsq(
            a, b, rcond=np.finfo(a.dtype).eps * max(a.shape) if rcond is None else rcond)
        return [x, residuals, np.int64(rank), s]
    return reference


for _label, _a, _b in [("tall/vector", (6, 3), (6,)), ("tall/matrix", (6, 3), (6, 2)),
                       ("wide", (3, 5), (3, 2)), ("square", (3, 3), (3,))]:
    add(Case(f"lstsq/{_label}", nlinalg.lstsq, _lstsq_reference(), [Arg(_a), Arg(_b)],
             grad="lstsq has no gradient", atol=1e-10))
add(
    Case("lstsq/rank_deficient", nlinalg.lstsq, _lstsq_reference(),
         [Arg(gen=lambda rng: np.outer(rng.uniform(1, 2, 5), rng.uniform(1, 2, 3)),
              shape=(5, 3)), Arg((5, 2))], grad="lstsq has no gradient", atol=1e-10),
    Case("lstsq/rcond", lambda a, b: nlinalg.lstsq(a, b, rcond=0.5), _lstsq_reference(0.5),
         [Arg(gen=lambda rng: np.diag([1.0, 0.1, 2.0]), shape=(3, 3)), Arg((3,))],
         grad="lstsq has no gradient", atol=1e-12),
    Case("lstsq/float32", nlinalg.lstsq,
         lambda a, b: [r.astype(t) for r, t in zip(
             _lstsq_reference()(a.astype("float64"), b.astype("float64")),
             ["float32", "float32", "int64", "float32"])],
         [Arg((5, 3), "float32"), Arg((5,), "float32")], grad="lstsq has no gradient",
         rtol=1e-4, atol=1e-5),
    Case("lstsq/no_columns", nlinalg.lstsq, _lstsq_reference(), [Arg((4, 3)), Arg((4, 0))],
         grad="lstsq has no gradient"),
)

# ----------------------------------------------------------------------- composed functions
add(
    Case("trace", nlinalg.trace, np.trace, [Arg((4, 4))]),
    Case("trace/wide", nlinalg.trace, np.trace, [Arg((2, 5))]),
    Case("diag/of_matrix", nlinalg.diag, np.diag, [Arg((3, 4))]),
    Case("diag/of_vector", nlinalg.diag, np.diag, [Arg((3,))]),
    Case("extract_diag/tall", nlinalg.extract_diag, np.diagonal, [Arg((4, 2))]),
    Case("alloc_diag", nlinalg.alloc_diag, np.diag, [Arg((4,))]),
    Case("alloc_diag/int32", nlinalg.alloc_diag, np.diag, [Arg((3,), "int32", -5, 5)],
         grad="integer input"),
    Case("matrix_dot", nlinalg.matrix_dot, lambda a, b, c: a @ b @ c,
         [Arg((2, 3)), Arg((3, 4)), Arg((4,))]),
)
for _n in (0, 1, 2, 3, 6, -1, -3):
    add(Case(f"matrix_power/{_n}", lambda m, n=_n: nlinalg.matrix_power(m, n),
             lambda m, n=_n: np.linalg.matrix_power(m, n),
             [Arg(gen=conditioned(3), shape=(3, 3))], grad=True if _n else "constant output",
             rtol=1e-9))

for _ord in (None, 2, 1, 3, 0.5, np.inf, -np.inf, 0):
    add(Case(f"norm/vector/ord={_ord}", lambda x, o=_ord: nlinalg.norm(x, o),
             lambda x, o=_ord: np.linalg.norm(x, o),
             [Arg(gen=lambda rng: rng.uniform(0.5, 2, 5) * rng.choice([-1, 1], 5), shape=(5,))],
             grad="piecewise constant" if _ord == 0 else True))
for _ord in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
    add(Case(f"norm/matrix/ord={_ord}", lambda x, o=_ord: nlinalg.norm(x, o),
             lambda x, o=_ord: np.linalg.norm(x, o), [Arg((4, 3))]))

add(
    Case("tensorinv", lambda a: nlinalg.tensorinv(a, 2),
         lambda a: np.linalg.tensorinv(a, 2),
         [Arg(gen=lambda rng: (rng.uniform(-1, 1, (6, 6)) + 4 * np.eye(6)).reshape(2, 3, 6),
              shape=(2, 3, 6))]),
    Case("tensorinv/ind=1", lambda a: nlinalg.tensorinv(a, 1),
         lambda a: np.linalg.tensorinv(a, 1),
         [Arg(gen=lambda rng: (rng.uniform(-1, 1, (4, 4)) + 4 * np.eye(4)).reshape(4, 2, 2),
              shape=(4, 2, 2))]),
    Case("tensorsolve", nlinalg.tensorsolve, np.linalg.tensorsolve,
         [Arg(gen=lambda rng: (rng.uniform(-1, 1, (6, 6)) + 4 * np.eye(6)).reshape(2, 3, 6),
              shape=(2, 3, 6)), Arg((2, 3))]),
    Case("tensorsolve/axes", lambda a, b: nlinalg.tensorsolve(a, b, axes=(0,)),
         lambda a, b: np.linalg.tensorsolve(a, b, axes=(0,)),
         [Arg(gen=lambda rng: (rng.uniform(-1, 1, (4, 4)) + 4 * np.eye(4)).reshape(4, 2, 2),
              shape=(4, 2, 2)), Arg((2, 2))]),
)
