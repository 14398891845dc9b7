"""API and errors of ``exprc.tensor.nlinalg`` (values and gradients are registry cases:
``tests/registry/cases_nlinalg.py``): build-time checks, run-time errors alike on both
executors, undefined gradients, the C backend's LAPACK calls, second derivatives and the
Theano compatibility module."""

import sys

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.compat import install_theano
from exprc.errors import ExprcShapeError, ExprcTypeError, NullGradError
from exprc.gradient import verify_grad
from exprc.tensor import nlinalg

MODES = ["REFERENCE", "FAST_RUN"]


def _run(outputs, inputs, values, mode):
    return exprc.function(inputs, outputs, mode=mode)(*values)


def test_types_and_static_shapes():
    x = T.tensor("float32", shape=(5, 3))
    u, s, v = nlinalg.svd(x)
    assert (u.type.shape, s.type.shape, v.type.shape) == ((5, 5), (3,), (3, 3))
    u, s, v = nlinalg.svd(x, full_matrices=False)
    assert (u.type.shape, v.type.shape) == ((5, 3), (3, 3))
    q, r = nlinalg.qr(x)
    assert (q.type.shape, r.type.shape, q.dtype) == ((5, 3), (3, 3), "float32")
    q, r = nlinalg.qr(x, "complete")
    assert (q.type.shape, r.type.shape) == ((5, 5), (5, 3))
    assert nlinalg.qr(x, "r").type.shape == (3, 3)
    assert nlinalg.pinv(x).type.shape == (3, 5)
    assert nlinalg.det(T.imatrix()).type == T.TensorType("float64", shape=())
    w, v = nlinalg.eigh(T.fmatrix())
    assert (w.dtype, v.dtype) == ("float32", "float32")
    xs, residuals, rank, sv = nlinalg.lstsq(x, T.fvector())
    assert (xs.type.shape, rank.dtype, sv.type.shape) == ((3,), "int64", (3,))


@pytest.mark.parametrize("build, message", [
    (lambda: nlinalg.matrix_inverse(T.vector()), "must be a matrix, got a 1-d tensor"),
    (lambda: nlinalg.det(T.tensor("float64", shape=(2, 3))), "must be a square matrix"),
    (lambda: nlinalg.eigh(T.matrix(), UPLO="X"), "UPLO must be one of"),
    (lambda: nlinalg.qr(T.matrix(), mode="raw"), "mode must be one of"),
    (lambda: nlinalg.lstsq(T.tensor("float64", shape=(3, 2)), T.tensor("float64", shape=(4,))),
     "has 3 rows but b"),
    (lambda: nlinalg.lstsq(T.matrix(), T.vector(), rcond=np.inf), "rcond must be finite"),
    (lambda: nlinalg.norm(T.matrix(), "inf"), "is not a norm of matrices"),
    (lambda: nlinalg.norm(T.matrix(), 3), "is not a norm of matrices"),
    (lambda: nlinalg.norm(T.vector(), "fro"), "is not a norm of vectors"),
    (lambda: nlinalg.norm(T.tensor3()), "must be a vector or a matrix"),
    (lambda: nlinalg.diag(T.tensor3()), "must be a vector or a matrix"),
    (lambda: nlinalg.matrix_power(T.matrix(), 1.5), "n must be an int"),
    (lambda: nlinalg.tensorinv(T.matrix(), ind=2), "ind=2 must be between 1"),
    (lambda: nlinalg.tensorsolve(T.matrix(), T.matrix()), "must have more axes"),
    (lambda: nlinalg.matrix_dot(), "needs at least one operand"),
])
def test_build_errors_name_the_culprit(build, message):
    with pytest.raises((ExprcTypeError, ExprcShapeError), match=message):
        build()


@pytest.mark.parametrize("mode", MODES)
def test_singular_and_non_square(mode):
    x = T.matrix("x")
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(ValueError, match=r"MatrixInverse: the matrix is singular"):
        _run(nlinalg.matrix_inverse(x), [x], [singular], mode)
    assert _run(nlinalg.det(x), [x], [singular], mode) == 0
    for build in (nlinalg.matrix_inverse, nlinalg.det, lambda v: nlinalg.eig(v)[0]):
        with pytest.raises(ValueError, match=r"x must be a square matrix, got shape \(2, 3\)"):
            _run(build(x), [x], [np.ones((2, 3))], mode)
    with pytest.raises(ValueError, match=r"Eigh\{UPLO=L\}: a must be a square matrix"):
        _run(nlinalg.eigh(x)[0], [x], [np.ones((3, 2))], mode)


@pytest.mark.parametrize("mode", MODES)
def test_values_iterations_cannot_converge_on(mode):
    x, b = T.matrix("x"), T.vector("b")
    bad = np.array([[1.0, np.inf], [0.0, 1.0]])
    for build in (lambda v: nlinalg.eigh(v)[0], lambda v: nlinalg.svd(v, compute_uv=False),
                  nlinalg.pinv, lambda v: nlinalg.eig(v)[0]):
        with pytest.raises(ValueError, match="holds NaN or infinity"):
            _run(build(x), [x], [bad], mode)
    with pytest.raises(ValueError, match="b holds NaN or infinity"):
        _run(nlinalg.lstsq(x, b)[0], [x, b], [np.eye(2), np.array([1.0, np.nan])], mode)
    with pytest.raises(ValueError, match=r"a has 2 rows but b has 3"):
        _run(nlinalg.lstsq(x, b)[0], [x, b], [np.eye(2), np.ones(3)], mode)


@pytest.mark.parametrize("mode", MODES)
def test_eig_refuses_complex_eigenvalues(mode):
    x = T.matrix("x")
    rotation = np.array([[0.0, -1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="complex eigenvalues"):
        _run(nlinalg.eig(x), [x], [rotation], mode)


@pytest.mark.parametrize("mode", MODES)
def test_empty_and_degenerate_shapes(mode):
    x = T.matrix("x")
    u, s, v = _run(nlinalg.svd(x), [x], [np.zeros((0, 3))], mode)
    assert (u.shape, s.shape) == ((0, 0), (0,))
    np.testing.assert_array_equal(v, np.eye(3))
    q, r = _run(nlinalg.qr(x, "complete"), [x], [np.zeros((2, 0))], mode)
    np.testing.assert_array_equal(q, np.eye(2))
    assert r.shape == (2, 0)
    b = T.vector("b")
    sol, residuals, rank, sv = _run(nlinalg.lstsq(x, b), [x, b], [np.zeros((3, 0)),
                                                                  np.ones(3)], mode)
    expected = np.linalg.lstsq(np.zeros((3, 0)), np.ones(3))
    assert sol.shape == (0,) and rank == 0 and sv.shape == (0,)
    np.testing.assert_allclose(residuals, expected[1])


def test_undefined_gradients_say_why():
    x = T.matrix("x")
    with pytest.raises(NullGradError, match="eigenvectors of a non-symmetric matrix"):
        exprc.grad(T.sum(nlinalg.eig(x)[0]), x)
    with pytest.raises(NullGradError, match="singular vectors"):
        exprc.grad(T.sum(nlinalg.svd(x)[0]), x)
    with pytest.raises(NullGradError, match="lstsq has no gradient"):
        exprc.grad(T.sum(nlinalg.lstsq(x, T.vector())[0]), x)
    with pytest.raises(NullGradError, match="complete QR factorisation"):
        exprc.grad(T.sum(nlinalg.qr(x, "complete")[0]), x)


def test_complete_qr_gradient_of_a_wide_matrix():
    """Complete and reduced QR coincide for a matrix with no more rows than columns: where the
    static shape shows it, the complete factorisation has the reduced one's gradient."""
    x = T.tensor("float64", shape=(3, 5))
    rng = np.random.default_rng(0)
    value = rng.uniform(-1, 1, (3, 5))
    grads = []
    for mode in ("complete", "reduced"):
        q, r = nlinalg.qr(x, mode)
        grads.append(exprc.function([x], exprc.grad(T.sum(q ** 3) + T.sum(r ** 3), x))(value))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_c_backend_calls_lapack():
    x = T.fmatrix("x")
    outputs = [nlinalg.matrix_inverse(x), nlinalg.det(x), *nlinalg.eigh(x), *nlinalg.svd(x),
               *nlinalg.qr(x), nlinalg.pinv(x)]
    f = exprc.function([x], outputs)
    assert set(f.placement().counts()) == {"c"}
    for name in ("exprc_inverse_float32", "exprc_det_float32", "exprc_eigh_float32",
                 "exprc_svd_float32", "exprc_qr_float32", "exprc_pinv_float32"):
        assert name in f.program.source
    value = np.array([[3.0, 1.0], [1.0, 2.0]], dtype="float32")
    results = f(value)
    assert all(r.dtype == np.float32 for r in results)
    np.testing.assert_allclose(results[0], np.linalg.inv(value), rtol=1e-6)


def test_matrix_functions_accept_views():
    x = T.matrix("x")
    value = np.random.default_rng(2).uniform(-1, 1, (6, 6)) + 4 * np.eye(6)
    f = exprc.function([x], [nlinalg.det(x[::2, ::-2]), nlinalg.matrix_inverse(x.T)])
    d, inv = f(value)
    np.testing.assert_allclose(d, np.linalg.det(value[::2, ::-2]), rtol=1e-12)
    np.testing.assert_allclose(inv, np.linalg.inv(value.T), rtol=1e-12)


def test_second_derivatives():
    rng = np.random.default_rng(3)
    value = rng.uniform(-1, 1, (3, 3)) + 3 * np.eye(3)
    verify_grad(lambda a: exprc.grad(nlinalg.det(a), a), [value], rng=np.random.default_rng(4))
    verify_grad(lambda a: exprc.grad(T.sum(nlinalg.eigh(a)[0] ** 3), a), [value],
                rng=np.random.default_rng(5))


def test_log_det_through_cholesky_matches_slogdet():
    """A common use: the log-determinant of a covariance matrix and its gradient."""
    from exprc.tensor import slinalg

    x = T.matrix("x")
    logdet = 2 * T.sum(T.log(nlinalg.extract_diag(slinalg.cholesky(x))))
    f = exprc.function([x], [logdet, exprc.grad(logdet, x)])
    m = np.random.default_rng(6).uniform(-1, 1, (4, 4))
    cov = m @ m.T + np.eye(4)
    value, grad = f(cov)
    np.testing.assert_allclose(value, np.linalg.slogdet(cov)[1], rtol=1e-12)
    # d logdet / dA = A^-1 for a symmetric A; the gradient lives on the lower triangle.
    inv = np.linalg.inv(cov)
    np.testing.assert_allclose(grad, np.tril(2 * inv) - np.diag(np.diag(inv)), rtol=1e-10)


@pytest.fixture
def theano_installed():
    install_theano()
    yield
    for name in [n for n in sys.modules if n == "theano" or n.startswith("theano.")]:
        del sys.modules[name]


def test_theano_compat_imports(theano_installed):
    import theano
    import theano.tensor as TT
    from theano.tensor.nlinalg import (  # noqa: F401
        SVD,
        Det,
        Eig,
        Eigh,
        MatrixInverse,
        MatrixPinv,
        QRFull,
        QRIncomplete,
        alloc_diag,
        det,
        diag,
        eig,
        eigh,
        extract_diag,
        lstsq,
        matrix_dot,
        matrix_inverse,
        matrix_power,
        norm,
        pinv,
        qr,
        svd,
        tensorinv,
        tensorsolve,
        trace,
    )

    x = TT.matrix("x")
    f = theano.function([x], [matrix_inverse(x), det(x), trace(x)])
    inv, d, t = f(np.array([[2.0, 0.0], [0.0, 4.0]]))
    np.testing.assert_allclose(inv, [[0.5, 0.0], [0.0, 0.25]])
    assert d == 8.0 and t == 6.0
    assert isinstance(QRFull("complete"), nlinalg.QR) and QRIncomplete("r").mode == "r"
    assert TT.nlinalg.QRFull is QRFull
