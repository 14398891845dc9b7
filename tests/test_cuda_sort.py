"""The sort family on the CUDA backend (emulated device): ``Sort`` and ``ArgSort`` along every
axis of strided inputs, against NumPy's stable sort (ties in order, NaNs last, -0.0 and 0.0
equal), lanes long enough for the merge passes, ``Permute`` and its errors, and the gradient
of ``sort`` against the reference mode."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcShapeError
from exprc.tensor.sort import permute
from tests.cuda_harness import cuda_function, have_compilers

pytestmark = pytest.mark.skipif(not have_compilers(), reason="no C++ compiler for the emulator")

RNG = np.random.default_rng(11)


def _placed_on_device(f, names: tuple[str, ...]) -> None:
    places = {where for what, where in f.placement() if any(n in what for n in names)}
    assert places == {"cuda"}, f.placement()


def _with_ties_and_nans(shape, dtype) -> np.ndarray:
    """Few distinct values (many ties); for floats also NaNs, -0.0 and 0.0."""
    if dtype == "bool":
        return RNG.integers(0, 2, shape).astype(bool)
    values = RNG.integers(-4, 5, shape).astype(dtype)
    if np.dtype(dtype).kind == "f":
        flat = values.reshape(-1)
        flat[RNG.choice(flat.size, max(1, flat.size // 7), replace=False)] = np.nan
        flat[RNG.choice(flat.size, max(1, flat.size // 9), replace=False)] = -0.0
    return values


def _check(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, want.dtype,
                                                                  got.shape, want.shape)
    # Bit patterns: a sorted -0.0 must stay where the stable sort puts it.
    np.testing.assert_array_equal(got.view(np.uint8), np.ascontiguousarray(want).view(np.uint8))


@pytest.mark.parametrize("dtypes", [("float64", "int32", "bool"), ("float32", "uint8", "int64")])
def test_sort_and_argsort_along_every_axis_and_layout(dtypes):
    fd, idt, third = dtypes
    x = T.tensor3("x", dtype=fd)
    m = T.matrix("m", dtype=idt)
    b = T.matrix("b", dtype=third)
    outs = [T.sort(x, axis=0), T.sort(x, axis=1), T.sort(x, axis=2), T.argsort(x, axis=0),
            T.argsort(x, axis=2), T.sort(x.transpose(2, 0, 1), axis=1),
            T.argsort(x[::2, :, ::-1], axis=1), T.sort(x, axis=None), T.argsort(x, axis=None),
            T.sort(m, axis=0), T.argsort(m.T, axis=1), T.sort(b, axis=1), T.argsort(b, axis=0)]
    f = cuda_function([x, m, b], outs)
    _placed_on_device(f, ("Sort", "ArgSort"))
    xv = _with_ties_and_nans((5, 37, 6), fd)
    mv = _with_ties_and_nans((40, 3), idt)
    bv = _with_ties_and_nans((9, 70), third)

    def s(a, axis):
        return np.sort(a, axis=axis, kind="stable")

    def a(v, axis):
        return np.argsort(v, axis=axis, kind="stable").astype(np.int64)

    want = [s(xv, 0), s(xv, 1), s(xv, 2), a(xv, 0), a(xv, 2), s(xv.transpose(2, 0, 1), 1),
            a(xv[::2, :, ::-1], 1), s(xv, None), a(xv, None), s(mv, 0), a(mv.T, 1), s(bv, 1),
            a(bv, 0)]
    for got, expected in zip(f(xv, mv, bv), want):
        _check(got, expected)


def test_long_lanes_are_merged_in_global_memory():
    """Lanes longer than one block sorts in shared memory: segments, then merge passes (an
    odd number of segments, so that the last run of a pass has no partner)."""
    v = T.vector("v", dtype="float64")
    w = T.matrix("w", dtype="int16")
    outs = [T.sort(v), T.argsort(v), T.argsort(w, axis=1), T.sort(w.T, axis=0)]
    f = cuda_function([v, w], outs)
    _placed_on_device(f, ("Sort", "ArgSort"))
    vv = _with_ties_and_nans((2 * 4096 + 2500,), "float64")
    wv = RNG.integers(-300, 300, (2, 5000)).astype("int16")
    want = [np.sort(vv, kind="stable"), np.argsort(vv, kind="stable"),
            np.argsort(wv, axis=1, kind="stable"), np.sort(wv.T, axis=0, kind="stable")]
    for got, expected in zip(f(vv, wv), want):
        _check(got, expected.astype(got.dtype) if expected.dtype.kind == "i" and
               got.dtype == np.int64 else expected)


def test_empty_and_single_element_lanes():
    x = T.matrix("x")
    f = cuda_function([x], [T.sort(x, axis=0), T.argsort(x, axis=1)])
    for shape in [(0, 4), (3, 0), (1, 5), (5, 1)]:
        xv = RNG.standard_normal(shape).astype(x.dtype)
        got = f(xv)
        _check(got[0], np.sort(xv, axis=0))
        _check(got[1], np.argsort(xv, axis=1).astype(np.int64))


def test_permute_reorders_lanes_and_rejects_what_is_not_a_permutation():
    x = T.matrix("x", dtype="float32")
    p = T.matrix("p", dtype="int32")
    f = cuda_function([x, p], [permute(x, p, axis=1), permute(x.T, p.T, axis=0)])
    _placed_on_device(f, ("Permute",))
    xv = RNG.standard_normal((4, 6)).astype("float32")
    pv = np.argsort(RNG.standard_normal((4, 6)), axis=1).astype("int32")
    got = f(xv, pv)
    _check(got[0], np.take_along_axis(xv, pv, axis=1))
    _check(got[1], np.take_along_axis(xv.T, pv.T, axis=0))
    repeated = pv.copy()
    repeated[2, 0] = repeated[2, 1]
    with pytest.raises(ValueError, match="Permute.*not a permutation"):
        f(xv, repeated)
    out_of_range = pv.copy()
    out_of_range[3, 5] = 6
    with pytest.raises(ValueError, match="not a permutation"):
        f(xv, out_of_range)
    with pytest.raises(ExprcShapeError, match="perm of shape"):
        f(xv, pv[:, :5])


def test_gradient_of_sort_matches_the_reference():
    x = T.matrix("x")
    w = T.matrix("w")
    cost = T.sum(T.sort(x, axis=1) * w) + T.sum(T.sort(x.T, axis=1) ** 2)
    outs = exprc.grad(cost, [x])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nodes without a CUDA rule run on the CPU
        f = cuda_function([x, w], outs)
    reference = exprc.function([x, w], outs, mode="REFERENCE")
    xv = RNG.integers(-3, 4, (5, 8)).astype(x.dtype)
    wv = RNG.standard_normal((5, 8)).astype(x.dtype)
    np.testing.assert_allclose(f(xv, wv)[0], reference(xv, wv)[0], rtol=1e-6)
