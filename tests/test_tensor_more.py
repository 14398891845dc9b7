"""The special functions, the array functions built from other ops (arraytools, selection),
searchsorted, and the Theano ``nnet`` additions (softmax with bias, hierarchical softmax,
neighbours, conv3d): accuracy, API and errors. The forward values of every op and function on
both backends are checked against NumPy by the registry (tests/registry); this module checks
what the registry does not: accuracy over whole domains, identities, and the errors naming
the culprit on each backend.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcError, ExprcShapeError, ExprcTypeError, NullGradError
from exprc.gradient import verify_grad
from tests.registry.cases_elemwise import _digamma, _erfcinv, _erfinv, _trigamma

MODES = ["REFERENCE", "FAST_RUN"]


def _eval(out, inputs, values, mode="FAST_RUN"):
    return exprc.function(inputs, out, mode=mode, on_unused_input="ignore")(*values)


# --------------------------------------------------------------------------- special functions
def _unary(fn, values, mode="FAST_RUN"):
    x = T.dvector("x")
    return exprc.function([x], fn(x), mode=mode)(np.asarray(values, dtype="float64"))


def _relative_error(got, want, floor=0.0):
    return np.max(np.abs(got - want) / np.maximum(np.abs(want), floor))


@pytest.fixture(scope="module")
def domain():
    rng = np.random.default_rng(0)
    positive = np.concatenate([rng.uniform(1e-3, 3.0, 400), rng.uniform(3.0, 60.0, 200),
                               10.0 ** rng.uniform(2, 15, 100)])
    negative = np.floor(rng.uniform(-30, 0, 300)) + rng.uniform(0.05, 0.95, 300)
    return positive, negative


def test_psi_is_accurate_over_its_domain(domain):
    positive, negative = domain
    want = np.array([_digamma(v) for v in positive])
    assert _relative_error(_unary(T.psi, positive), want) < 1e-13
    # Near the negative roots only the absolute error can be small: scale by the cotangent term.
    got = _unary(T.psi, negative)
    want = np.array([_digamma(v) for v in negative])
    scale = np.maximum(1.0, np.abs(np.pi / np.tan(np.pi * negative)))
    assert np.max(np.abs(got - want) / scale) < 1e-13


def test_psi_keeps_its_relative_accuracy_at_its_positive_root():
    root = 1.4616321449683623  # psi(root) = 0; psi'(root) = 0.9676722...
    x = root + np.array([-1e-3, -1e-6, 1e-9, 1e-6, 1e-3])
    got = _unary(T.psi, x)
    # psi(root + d) = 0.96767224544762 d - 0.44276316898359 d^2 + 0.2584997609557 d^3 - ...
    d = x - root
    want = d * (0.9676722454476212 + d * (-0.4427631689835921 + d * 0.258499760955651))
    assert _relative_error(got, want) < 1e-6  # d itself carries the rounding of x


def test_tri_gamma_is_accurate_over_its_domain(domain):
    positive, negative = domain
    for values in (positive, negative):
        want = np.array([_trigamma(v) for v in values])
        assert _relative_error(_unary(T.tri_gamma, values), want) < 1e-13


def test_erfinv_and_erfcinv_are_accurate_into_the_tails():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-1, 1, 500), 1 - 10.0 ** rng.uniform(-15, -1, 100)])
    got = _unary(T.erfinv, x)
    want = np.array([_erfinv(v) if v < 0.999 else _erfcinv(1.0 - v) for v in x])
    assert _relative_error(got, want, 1e-300) < 1e-13
    y = np.concatenate([10.0 ** rng.uniform(-300, 0, 300), rng.uniform(0, 2, 300)])
    got = _unary(T.erfcinv, y)
    want = np.array([_erfcinv(v) if v < 1.99 else -_erfcinv(2.0 - v) for v in y])
    assert _relative_error(got, want, 1e-300) < 1e-13


@pytest.mark.parametrize("mode", MODES)
def test_special_function_identities(mode):
    rng = np.random.default_rng(2)
    x = rng.uniform(0.1, 20.0, 200)
    gamma, gammaln = _unary(T.gamma, x, mode), _unary(T.gammaln, x, mode)
    np.testing.assert_allclose(_unary(T.gamma, x + 1, mode), x * gamma, rtol=1e-13)
    np.testing.assert_allclose(np.exp(gammaln), gamma, rtol=1e-12)
    np.testing.assert_allclose(_unary(T.psi, x + 1, mode) - _unary(T.psi, x, mode), 1 / x,
                               rtol=1e-12, atol=1e-15)
    r = rng.uniform(0.05, 0.95, 100)  # reflection: psi1(1 - r) + psi1(r) = pi^2 / sin^2(pi r)
    np.testing.assert_allclose(_unary(T.tri_gamma, 1 - r, mode) + _unary(T.tri_gamma, r, mode),
                               (np.pi / np.sin(np.pi * r)) ** 2, rtol=1e-13)
    u = rng.uniform(-0.999, 0.999, 200)
    erf = np.vectorize(math.erf)
    np.testing.assert_allclose(erf(_unary(T.erfinv, u, mode)), u, rtol=1e-14, atol=1e-16)
    v = 10.0 ** rng.uniform(-200, 0.3, 200)
    erfc = np.vectorize(math.erfc)
    np.testing.assert_allclose(erfc(_unary(T.erfcinv, v, mode)), v, rtol=1e-12)


def test_special_functions_dtypes():
    i8, f32 = T.bvector("i8"), T.fvector("f32")
    for fn in (T.gamma, T.gammaln, T.psi, T.tri_gamma, T.erfinv, T.erfcinv):
        assert fn(i8).dtype == "float32" and fn(f32).dtype == "float32"
        assert fn(T.lvector()).dtype == "float64"
    x = np.array([0.3, 1.7, 4.2], dtype="float32")
    got = _eval(T.psi(f32), [f32], [x])
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.float32([_digamma(float(v)) for v in x]))


def test_tri_gamma_gradient_is_undefined_with_a_reason():
    x = T.dscalar("x")
    with pytest.raises(NullGradError, match="tetragamma"):
        exprc.grad(T.tri_gamma(x), x)
    # One order lower is fine: d/dx psi = tri_gamma.
    verify_grad(lambda v: T.psi(v) * T.gammaln(v), [np.array([0.7, 2.5])],
                rng=np.random.default_rng(3))


# --------------------------------------------------------------------------- searchsorted
@pytest.mark.parametrize("mode", MODES)
def test_searchsorted_sorter_out_of_range_is_an_error(mode):
    x, v, s = T.dvector("x"), T.dvector("v"), T.lvector("s")
    f = exprc.function([x, v, s], T.searchsorted(x, v, sorter=s), mode=mode)
    np.testing.assert_array_equal(f([3.0, 1.0, 2.0], [2.5], [1, 2, 0]), [2])
    with pytest.raises(ExprcShapeError, match="sorter"):
        f([3.0, 1.0, 2.0], [2.5], [1, 5, 0])
    with pytest.raises(ExprcShapeError, match="sorter"):
        f([3.0, 1.0, 2.0], [2.5], [1, 0])


def test_searchsorted_build_errors():
    with pytest.raises(ExprcShapeError, match="SearchSorted.*vector"):
        T.searchsorted(T.dmatrix(), 1.0)
    with pytest.raises(ExprcTypeError, match="sorter must be an integer vector"):
        T.searchsorted(T.dvector(), 1.0, sorter=T.dvector())
    with pytest.raises(ExprcTypeError, match="side"):
        T.searchsorted(T.dvector(), 1.0, side="middle")
    assert T.extra_ops.searchsorted is T.searchsorted
    assert T.dvector().searchsorted(T.dmatrix()).type.shape == (None, None)


# --------------------------------------------------------------------------- run-time checks
CHECKED = {
    "bincount": (lambda x: T.bincount(x), [1, -1, 2], "bincount: x holds negative values"),
    "unravel_index": (lambda x: T.unravel_index(x, (2, 3))[0], [1, 6], "unravel_index"),
    "ravel_multi_index": (lambda x: T.ravel_multi_index((x, x), (3, 3)), [0, 3],
                          "ravel_multi_index"),
    "choose": (lambda x: T.choose(x, [[1, 2, 3], [4, 5, 6]]), [0, 2, 1], "choose"),
    "choose/negative": (lambda x: T.choose(x, [[1, 2, 3], [4, 5, 6]]), [0, -1, 1], "choose"),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(CHECKED))
def test_data_errors_name_the_function(name, mode):
    build, bad, message = CHECKED[name]
    x = T.lvector("x")
    f = exprc.function([x], build(x), mode=mode)
    with pytest.raises(ExprcShapeError, match=message):
        f(np.array(bad))


@pytest.mark.parametrize("mode", MODES)
def test_runtime_checks_of_shapes(mode):
    dims = T.lscalar("n")
    idx = T.lvector("i")
    f = exprc.function([idx, dims], T.unravel_index(idx, (dims, 2))[1], mode=mode)
    np.testing.assert_array_equal(f([3, 0], 2), [1, 0])
    with pytest.raises(ExprcShapeError, match="negative"):
        f([0], -2)
    a = T.dtensor3("a")
    g = exprc.function([a], T.fill_diagonal(a, 1.0), mode=mode)
    assert g(np.zeros((2, 2, 2)))[1, 1, 1] == 1.0
    with pytest.raises(ExprcShapeError, match="fill_diagonal"):
        g(np.zeros((2, 3, 2)))


def test_build_errors_name_the_function():
    m, v, i = T.dmatrix("m"), T.dvector("v"), T.lvector("i")
    cases = [
        (lambda: T.tril(v), ExprcShapeError, "tril"),
        (lambda: T.diag(T.dtensor3()), ExprcShapeError, "diag"),
        (lambda: T.diagonal(m, 0, 1, -1), ExprcShapeError, "diagonal"),
        (lambda: T.roll(m, (1, 2, 3), axis=(0, 1)), ExprcShapeError, "roll"),
        (lambda: T.mgrid[0:3, 5], ExprcTypeError, "mgrid"),
        (lambda: T.choose(v, [v]), ExprcTypeError, "choose"),
        (lambda: T.choose(i, [v], out=v), ExprcTypeError, "choose"),
        (lambda: T.choose(i, [v], mode="fold"), ExprcTypeError, "choose"),
        (lambda: T.bincount(v), ExprcTypeError, "bincount"),
        (lambda: T.bincount(T.vector(dtype="uint64")), ExprcTypeError, "bincount"),
        (lambda: T.bincount(i, weights=m), ExprcShapeError, "bincount"),
        (lambda: T.unique(v, axis=0), ExprcTypeError, "unique"),
        (lambda: T.unravel_index(i, (2, -3)), ExprcShapeError, "unravel_index"),
        (lambda: T.unravel_index(v, (2, 3)), ExprcTypeError, "unravel_index"),
        (lambda: T.ravel_multi_index((i,), (2, 3)), ExprcShapeError, "ravel_multi_index"),
        (lambda: T.ravel_multi_index((i, i), (2, 3), mode="bounce"), ExprcTypeError,
         "ravel_multi_index"),
        (lambda: T.ravel_multi_index((i, i), (2, 3), order="K"), ExprcTypeError,
         "ravel_multi_index"),
        (lambda: T.fill_diagonal(v, 1.0), ExprcShapeError, "fill_diagonal"),
        (lambda: T.fill_diagonal(T.lmatrix(), 1.5), ExprcTypeError, "fill_diagonal"),
        (lambda: T.fill_diagonal(T.imatrix(), T.dscalar()), ExprcTypeError, "fill_diagonal"),
        (lambda: T.fill_diagonal(T.tensor("float64", shape=(2, 3, 2)), 1.0), ExprcShapeError,
         "fill_diagonal"),
        (lambda: T.fill_diagonal_offset(T.dtensor3(), 1.0, 1), ExprcShapeError,
         "fill_diagonal_offset"),
        (lambda: T.fill_diagonal_offset(m, 1.0, 0.5), ExprcTypeError, "fill_diagonal_offset"),
        (lambda: T.nonzero(T.dscalar()), ExprcShapeError, "nonzero"),
        (lambda: T.compress(m, m), ExprcShapeError, "compress"),
        (lambda: T.inverse_permutation(v), ExprcTypeError, "inverse_permutation"),
        (lambda: T.largest(), ExprcTypeError, "largest"),
    ]
    for build, error, name in cases:
        with pytest.raises(error, match=name):
            build()


# --------------------------------------------------------------------------- API details
def test_tri_and_isclose_defaults():
    assert T.tri(3).dtype == exprc.config.floatX
    a = T.dvector("a")
    np.testing.assert_array_equal(
        _eval(T.isclose(a, [np.inf, -np.inf, np.nan, 1.0], equal_nan=True), [a],
              [[np.inf, np.inf, np.nan, 1.0 + 1e-6]]),
        [True, False, True, True])
    assert T.allclose(a, a).type.shape == ()


def test_static_shapes_are_kept():
    assert T.diag(T.tensor("float64", shape=(3,)), -2).type.shape == (5, 5)
    assert T.diagonal(T.tensor("float64", shape=(3, 5)), 1).type.shape == (3,)
    assert T.roll(T.tensor("float64", shape=(4, 2)), 3, axis=0).type.shape == (4, 2)
    assert T.tril(T.tensor("float64", shape=(2, 3))).type.shape == (2, 3)
    nz = T.nonzero(T.dtensor3(), return_matrix=True)
    assert nz.type.shape == (3, None) and nz.dtype == "int64"


def test_methods_and_unique_outputs():
    x = T.dmatrix("x")
    values = np.array([[0.0, 2.0], [2.0, 5.0]])
    rows, cols = x.nonzero()
    assert [list(_eval(c, [x], [values])) for c in (rows, cols)] == [[0, 1, 1], [1, 0, 1]]
    np.testing.assert_array_equal(_eval(x.nonzero_values(), [x], [values]), [2.0, 2.0, 5.0])
    np.testing.assert_array_equal(_eval(x.diagonal(), [x], [values]), [0.0, 5.0])
    assert _eval(x.ptp(), [x], [values]) == 5.0
    assert isinstance(T.unique(x, return_index=True), tuple)
    inverse = T.unique(x, return_inverse=True)[1]
    assert inverse.ndim == 2  # NumPy 2: the inverse has the input's shape


def test_roll_grid_and_bartlett_with_symbolic_arguments():
    x, s, n = T.dvector("x"), T.lscalar("s"), T.lscalar("n")
    f = exprc.function([x, s], T.roll(x, s))
    for shift in (-7, -1, 0, 2, 9):
        np.testing.assert_array_equal(f(np.arange(5.0), shift), np.roll(np.arange(5.0), shift))
    np.testing.assert_array_equal(f(np.zeros(0), 3), np.zeros(0))
    grids = exprc.function([n], T.mgrid[0:n, 0:2])(3)
    np.testing.assert_array_equal(np.array(grids), np.mgrid[0:3, 0:2])
    window = exprc.function([n], T.bartlett(n))
    for m in (-2, 0, 1, 2, 7):
        np.testing.assert_allclose(window(m), np.bartlett(m))


@pytest.mark.parametrize("mode", MODES)
def test_bincount_gradient_and_choose_gradients(mode):
    x = T.lvector("x")
    w = T.dvector("w")
    g = exprc.function([x, w], exprc.grad(T.sum(T.bincount(x, w) ** 2), w), mode=mode)
    xs, ws = np.array([0, 2, 2, 1]), np.array([1.0, 2.0, 3.0, 4.0])
    counts = np.bincount(xs, ws)
    np.testing.assert_allclose(g(xs, ws), 2 * counts[xs])
    verify_grad(lambda a, b: T.choose(np.array([[0, 1], [1, 0]]), [a, b]),
                [np.ones((2, 2)), np.zeros((2,))], rng=np.random.default_rng(4))


# --------------------------------------------------------------------------- nnet
def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_softmax_with_bias_and_crossentropy_tuples():
    rng = np.random.default_rng(5)
    xv, bv, yv = rng.normal(size=(4, 3)), rng.normal(size=3), np.array([0, 2, 1, 2], "int32")
    x, b, y = T.dmatrix("x"), T.dvector("b"), T.ivector("y")
    sm = _softmax(xv + bv)
    nll = -np.log(sm[np.arange(4), yv])
    np.testing.assert_allclose(_eval(T.nnet.softmax_with_bias(x, b), [x, b], [xv, bv]), sm)
    got = _eval(list(T.nnet.crossentropy_softmax_1hot_with_bias(x, b, y)), [x, b, y],
                [xv, bv, yv])
    np.testing.assert_allclose(got[0], nll)
    np.testing.assert_allclose(got[1], sm)
    nll0, sm0 = _eval(list(T.nnet.crossentropy_softmax_1hot(x, y)), [x, y], [xv, yv])
    np.testing.assert_allclose(sm0, _softmax(xv))
    np.testing.assert_allclose(nll0, -np.log(_softmax(xv)[np.arange(4), yv]))
    am = T.nnet.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)[2]
    assert am.dtype == "int32"
    np.testing.assert_array_equal(_eval(am, [x, b, y], [xv, bv, yv]), np.argmax(xv + bv, 1))
    with pytest.raises(ExprcShapeError, match="softmax_with_bias"):
        T.nnet.softmax_with_bias(x, x)


def test_h_softmax_against_numpy_and_its_gradient():
    rng = np.random.default_rng(6)
    n, d, classes, per, outputs = 5, 4, 3, 3, 8
    xv = rng.normal(size=(n, d))
    w1, b1 = rng.normal(size=(d, classes)), rng.normal(size=classes)
    w2, b2 = rng.normal(size=(classes, d, per)), rng.normal(size=(classes, per))
    target = np.array([0, 7, 4, 3, 5])
    class_probs = _softmax(xv @ w1 + b1)
    inner = np.stack([_softmax(xv @ w2[c] + b2[c]) for c in range(classes)], axis=1)
    want = (class_probs[:, :, None] * inner).reshape(n, classes * per)[:, :outputs]
    full = T.nnet.h_softmax(xv, n, outputs, classes, per, w1, b1, w2, b2).eval()
    np.testing.assert_allclose(full, want, rtol=1e-12)
    picked = T.nnet.h_softmax(xv, n, outputs, classes, per, w1, b1, w2, b2, target).eval()
    np.testing.assert_allclose(picked, want[np.arange(n), target], rtol=1e-12)
    verify_grad(lambda a, b: T.nnet.h_softmax(xv, n, outputs, classes, per, a, b1, b, b2,
                                              target),
                [w1, w2], rng=np.random.default_rng(7))
    with pytest.raises(ExprcShapeError, match="h_softmax"):
        T.nnet.h_softmax(xv, n, 20, classes, per, w1, b1, w2, b2)


def _neibs_reference(x, shape, step, mode):
    c, d = shape
    if mode in ("half", "full"):
        pad = [(0, 0), (0, 0)] + [(k // 2,) * 2 if mode == "half" else (k - 1,) * 2
                                  for k in shape]
        x = np.pad(x, pad)
    height, width = x.shape[2:]
    if mode == "wrap_centered":
        counts = (-(-height // step[0]), -(-width // step[1]))
    else:
        counts = ((height - c) // step[0] + 1, (width - d) // step[1] + 1)
    rows = []
    for image in x.reshape(-1, height, width):
        for a in range(counts[0]):
            for b in range(counts[1]):
                r = a * step[0] + np.arange(c)
                q = b * step[1] + np.arange(d)
                if mode == "wrap_centered":
                    r, q = (r - c // 2) % height, (q - d // 2) % width
                rows.append(image[np.ix_(r, q)].ravel())
    return np.array(rows)


NEIBS = [((2, 3), None, "valid"), ((2, 2), (1, 2), "ignore_borders"), ((3, 3), (1, 1),
         "wrap_centered"), ((3, 2), (2, 1), "half"), ((2, 3), (1, 2), "full")]


@pytest.mark.parametrize("mode", MODES)
def test_images2neibs_modes(mode):
    x = np.random.default_rng(8).normal(size=(2, 2, 4, 6))
    images = T.dtensor4("images")
    for shape, step, neibs_mode in NEIBS:
        out = T.nnet.images2neibs(images, shape, step, mode=neibs_mode)
        got = _eval(out, [images], [x], mode)
        np.testing.assert_array_equal(got, _neibs_reference(x, shape, step or shape,
                                                            neibs_mode))


def test_neighbours_gradients_and_inverse():
    x = np.random.default_rng(9).normal(size=(1, 2, 4, 5))
    for shape, step, neibs_mode in NEIBS[1:3]:
        verify_grad(lambda v, s=shape, t=step, m=neibs_mode: T.nnet.images2neibs(v, s, t, m),
                    [x], rng=np.random.default_rng(10))
    images = T.dtensor4("images")
    neibs = T.nnet.images2neibs(images, (2, 2), mode="ignore_borders")
    back = T.nnet.neibs2images(neibs, (2, 2), images.shape, mode="ignore_borders")
    want = x.copy()
    want[:, :, :, 4:] = 0
    np.testing.assert_array_equal(_eval(back, [images], [x]), want)
    verify_grad(lambda n: T.nnet.neibs2images(n, (2, 1), (1, 2, 4, 5)),
                [np.random.default_rng(11).normal(size=(20, 2))],
                rng=np.random.default_rng(12))


def test_neighbours_errors():
    images = T.dtensor4("images")
    with pytest.raises(ExprcTypeError, match="images2neibs"):
        T.nnet.images2neibs(images, (2, 2), mode="reflect")
    with pytest.raises(ExprcShapeError, match="wrap_centered"):
        T.nnet.images2neibs(images, (2, 3), mode="wrap_centered")
    with pytest.raises(ExprcShapeError, match="tile"):
        T.nnet.images2neibs(T.tensor("float64", shape=(1, 1, 5, 4)), (2, 2))
    with pytest.raises(ExprcTypeError, match="neib_shape"):
        T.nnet.images2neibs(images, 2)
    f = exprc.function([images], T.nnet.images2neibs(images, (2, 2)))
    with pytest.raises(ExprcShapeError, match="images2neibs"):
        f(np.zeros((1, 1, 5, 4)))
    with pytest.raises(ExprcTypeError, match="neibs2images"):
        T.nnet.neibs2images(T.dmatrix(), (2, 2), (1, 1, 4, 4), mode="half")


def _conv3d_reference(x, w, pads, strides, flip):
    if flip:
        w = w[:, :, ::-1, ::-1, ::-1]
    x = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pads])
    k = w.shape[2:]
    out = [(s - kk) // st + 1 for s, kk, st in zip(x.shape[2:], k, strides)]
    y = np.zeros((x.shape[0], w.shape[0], *out))
    for a in range(out[0]):
        for b in range(out[1]):
            for c in range(out[2]):
                patch = x[:, :, a * strides[0]:a * strides[0] + k[0],
                          b * strides[1]:b * strides[1] + k[1],
                          c * strides[2]:c * strides[2] + k[2]]
                y[:, :, a, b, c] = np.einsum("ncdhw,ocdhw->no", patch, w)
    return y


def test_conv3d_against_numpy_and_its_gradient():
    rng = np.random.default_rng(13)
    x, w = rng.normal(size=(2, 2, 5, 4, 4)), rng.normal(size=(3, 2, 3, 2, 2))
    volumes, filters = T.dtensor5("volumes"), T.tensor("float64", shape=(None,) * 5)
    for border, pads, strides, flip in [("valid", (0, 0, 0), (1, 1, 1), True),
                                        ("full", (2, 1, 1), (2, 1, 2), False),
                                        ((1, 0, 1), (1, 0, 1), (1, 2, 1), True)]:
        out = T.nnet.conv3d(volumes, filters, filter_shape=w.shape, border_mode=border,
                            subsample=strides, filter_flip=flip)
        np.testing.assert_allclose(_eval(out, [volumes, filters], [x, w]),
                                   _conv3d_reference(x, w, pads, strides, flip), rtol=1e-12)
    verify_grad(lambda a, b: T.nnet.conv3d(a, b, filter_shape=(2, 1, 2, 2, 2),
                                           subsample=(2, 1, 1)),
                [x[:1, :1], w[:2, :1, :2]], rng=np.random.default_rng(14))
    with pytest.raises(ExprcShapeError, match="depth"):
        T.nnet.conv3d(volumes, filters)
    with pytest.raises(ExprcError, match="conv3d"):
        T.nnet.conv3d(volumes, filters, filter_shape=w.shape, border_mode="same")
