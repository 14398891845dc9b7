"""API and errors of ``exprc.tensor.slinalg`` (values and gradients are registry cases:
``tests/registry/cases_slinalg.py``): build-time checks, run-time errors alike on both
executors, ``on_error='nan'``, the C backend's LAPACK calls, second derivatives and the
Theano compatibility module."""

import sys

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.compat import install_theano
from exprc.errors import ExprcShapeError, ExprcTypeError
from exprc.gradient import verify_grad
from exprc.tensor import slinalg

MODES = ["REFERENCE", "FAST_RUN"]


def _run(outputs, inputs, values, mode):
    return exprc.function(inputs, outputs, mode=mode)(*values)


def test_types_and_static_shapes():
    a = T.tensor("float32", shape=(3, None))
    assert slinalg.cholesky(a).type == T.TensorType("float32", shape=(3, 3))
    assert slinalg.solve(a, T.fvector()).type == T.TensorType("float32", shape=(3,))
    assert slinalg.solve(T.imatrix(), T.fmatrix()).dtype == "float64"  # NumPy's promotion
    assert slinalg.eigvalsh(a).type == T.TensorType("float32", shape=(3,))
    assert slinalg.expm(T.lmatrix()).dtype == "float64"
    assert slinalg.cho_solve((a, True), T.fmatrix()).type.shape == (3, None)


@pytest.mark.parametrize("build, message", [
    (lambda: slinalg.cholesky(T.vector()), "must be a matrix, got a 1-d tensor"),
    (lambda: slinalg.cholesky(T.tensor3()), "must be a matrix, got a 3-d tensor"),
    (lambda: slinalg.solve(T.matrix(), T.tensor3()), "must be a vector or a matrix"),
    (lambda: slinalg.expm(T.tensor("float64", shape=(2, 3))), "must be a square matrix"),
    (lambda: slinalg.solve(T.tensor("float64", shape=(3, 3)), T.tensor("float64", shape=(2,))),
     "is 3 x 3 but b"),
    (lambda: slinalg.eigvalsh(T.tensor("float64", shape=(3, 3)),
                              T.tensor("float64", shape=(2, 2))), "but b = "),
])
def test_build_errors_name_the_culprit(build, message):
    with pytest.raises((ExprcTypeError, ExprcShapeError), match=message):
        build()


@pytest.mark.parametrize("build, message", [
    (lambda: slinalg.Solve("banded"), "A_structure must be one of"),
    (lambda: slinalg.Cholesky(on_error="ignore"), "on_error must be one of"),
    (lambda: slinalg.Cholesky(lower="yes"), "lower must be True or False"),
    (lambda: slinalg.SolveTriangular(trans="X"), "trans must be 0, 1, 2"),
    (lambda: slinalg.cho_solve(T.matrix(), T.vector()), "must be a pair"),
])
def test_bad_parameters(build, message):
    with pytest.raises(ExprcTypeError, match=message):
        build()


def test_parameters_are_normalised():
    assert slinalg.SolveTriangular(trans=2) == slinalg.SolveTriangular(trans="T")
    assert slinalg.SolveTriangular(trans="C").trans == "T"
    assert slinalg.Cholesky(lower=np.bool_(False)).lower is False
    assert str(slinalg.Solve("symmetric", True)) == "Solve{A_structure=symmetric, lower=True}"


@pytest.mark.parametrize("mode", MODES)
def test_not_positive_definite(mode):
    x = T.matrix("x")
    bad = np.diag([1.0, 2.0, -1.0, 4.0])
    with pytest.raises(ValueError, match=r"Cholesky.*not positive definite \(leading minor 3\)"):
        _run(slinalg.cholesky(x), [x], [bad], mode)
    out = _run(slinalg.cholesky(x, on_error="nan"), [x], [bad], mode)
    assert out.shape == (4, 4) and np.isnan(out).all()
    good = np.array([[4.0, 2.0], [2.0, 5.0]])
    np.testing.assert_allclose(_run(slinalg.cholesky(x, on_error="nan"), [x], [good], mode),
                               [[2.0, 0.0], [1.0, 2.0]])


@pytest.mark.parametrize("mode", MODES)
def test_run_time_shape_errors(mode):
    a, b = T.matrix("a"), T.vector("b")
    with pytest.raises(ValueError, match=r"Cholesky.*x must be a square matrix, got shape "
                                         r"\(2, 3\)"):
        _run(slinalg.cholesky(a), [a], [np.ones((2, 3))], mode)
    with pytest.raises(ValueError, match=r"a is 3 x 3 but b has 2 rows"):
        _run(slinalg.solve(a, b), [a, b], [np.eye(3), np.ones(2)], mode)
    with pytest.raises(ValueError, match=r"c must be a square matrix"):
        _run(slinalg.cho_solve((a, True), b), [a, b], [np.ones((2, 3)), np.ones(2)], mode)
    m = T.matrix("m")
    with pytest.raises(ValueError, match=r"a is 2 x 2 but b is 3 x 3"):
        _run(slinalg.eigvalsh(a, m), [a, m], [np.eye(2), np.eye(3)], mode)


@pytest.mark.parametrize("mode", MODES)
def test_singular_systems(mode):
    a, b = T.matrix("a"), T.vector("b")
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    for structure in ("general", "symmetric"):
        with pytest.raises(ValueError, match="the matrix is singular"):
            _run(slinalg.solve(a, b, A_structure=structure), [a, b],
                 [singular, np.ones(2)], mode)
    with pytest.raises(ValueError, match=r"triangular matrix is singular \(diagonal entry 2"):
        _run(slinalg.solve_lower_triangular(a, b), [a, b],
             [np.array([[1.0, 0.0], [3.0, 0.0]]), np.ones(2)], mode)
    # With a unit diagonal the zero on the diagonal is not read.
    out = _run(slinalg.solve_triangular(a, b, lower=True, unit_diagonal=True), [a, b],
               [np.array([[0.0, 0.0], [3.0, 0.0]]), np.ones(2)], mode)
    np.testing.assert_allclose(out, [1.0, -2.0])


@pytest.mark.parametrize("mode", MODES)
def test_generalized_eigvalsh_errors(mode):
    a, m = T.matrix("a"), T.matrix("m")
    with pytest.raises(ValueError, match=r"b is not positive definite \(leading minor 2\)"):
        _run(slinalg.eigvalsh(a, m), [a, m], [np.eye(2), np.diag([1.0, -1.0])], mode)
    with pytest.raises(ValueError, match="a holds NaN or infinity"):
        _run(slinalg.eigvalsh(a), [a], [np.array([[np.nan, 0.0], [0.0, 1.0]])], mode)


def test_each_triangle_alone_is_read():
    x = T.matrix("x")
    rng = np.random.default_rng(0)
    m = rng.uniform(-1, 1, (4, 4))
    spd = m @ m.T + 4 * np.eye(4)
    noisy_upper = np.tril(spd) + np.triu(rng.uniform(-9, 9, (4, 4)), 1)
    for lower, noisy in ((True, noisy_upper), (False, noisy_upper.T)):
        factor, w = exprc.function([x], [slinalg.cholesky(x, lower=lower),
                                         slinalg.eigvalsh(x, lower=lower)])(noisy)
        product = factor @ factor.T if lower else factor.T @ factor
        np.testing.assert_allclose(product, spd, rtol=1e-12)
        np.testing.assert_allclose(w, np.linalg.eigvalsh(spd), rtol=1e-12)


def test_c_backend_calls_lapack():
    x, b = T.fmatrix("x"), T.fvector("b")
    f = exprc.function([x, b], [slinalg.cholesky(x), slinalg.solve(x, b),
                                slinalg.solve_triangular(x, b), slinalg.expm(x)])
    assert f.placement().counts() == {"c": 4}
    source = f.program.source
    for name in ("exprc_cholesky_float32", "exprc_solve_float32", "exprc_expm_float32"):
        assert name in source
    spd = np.array([[4.0, 1.0], [1.0, 3.0]], dtype="float32")
    outs = f(spd, np.array([1.0, 2.0], dtype="float32"))
    assert all(o.dtype == np.float32 for o in outs)
    np.testing.assert_allclose(outs[0] @ outs[0].T, spd, rtol=1e-6)


def test_solve_with_strided_inputs():
    """Operands that are views (transposed, sliced, broadcast) reach LAPACK as copies."""
    a, b = T.matrix("a"), T.vector("b")
    rng = np.random.default_rng(1)
    m = rng.uniform(-1, 1, (4, 8)) + np.hstack([4 * np.eye(4), np.zeros((4, 4))])
    rhs = rng.uniform(-1, 1, 4)
    f = exprc.function([a, b], slinalg.solve(a[:, ::2].T, T.alloc(b[0], 4) + b))
    np.testing.assert_allclose(f(m, rhs), np.linalg.solve(m[:, ::2].T, rhs[0] + rhs))


def test_second_derivatives():
    rng = np.random.default_rng(3)
    m = rng.uniform(-1, 1, (3, 3))
    spd = m @ m.T + 3 * np.eye(3)

    def chol_grad(x):
        return exprc.grad(T.sum(slinalg.cholesky(x) ** 3), x)

    verify_grad(chol_grad, [spd], rng=np.random.default_rng(4))

    def solve_grad(a):
        return exprc.grad(T.sum(slinalg.solve(a, T.constant(np.ones(3))) ** 2), a)

    verify_grad(solve_grad, [m + 3 * np.eye(3)], rng=np.random.default_rng(5))


def test_gradient_is_zero_on_the_triangle_not_read():
    x = T.matrix("x")
    g_lower, g_upper = [exprc.function([x], exprc.grad(T.sum(slinalg.cholesky(x, lower=lo)), x))
                        for lo in (True, False)]
    spd = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
    assert np.all(np.triu(g_lower(spd), 1) == 0)
    assert np.all(np.tril(g_upper(spd), -1) == 0)


@pytest.fixture
def theano_installed():
    install_theano()
    yield
    for name in [n for n in sys.modules if n == "theano" or n.startswith("theano.")]:
        del sys.modules[name]


def test_theano_compat_imports(theano_installed):
    import theano
    from theano.tensor.slinalg import (  # noqa: F401
        Cholesky,
        Eigvalsh,
        Expm,
        Solve,
        cholesky,
        eigvalsh,
        expm,
        kron,
        solve,
        solve_lower_triangular,
        solve_symmetric,
        solve_upper_triangular,
    )

    x = theano.tensor.matrix("x")
    f = theano.function([x], cholesky(x))
    np.testing.assert_allclose(f(np.array([[4.0, 2.0], [2.0, 5.0]])), [[2, 0], [1, 2]])
    assert isinstance(Solve(A_structure="lower_triangular", lower=True), slinalg.Solve)
    assert theano.tensor.slinalg.solve is slinalg.solve
