"""Adversarial checks of the CUDA backend (emulated device) against NumPy: the corners that
review found wrong, each kept as a regression test. Every function groups several checks, since
each compile of a CUDA program costs a C++ build in the emulator."""

from __future__ import annotations

import numpy as np
import pytest

import exprc.tensor as T
from exprc.errors import ExprcShapeError
from exprc.link.cuda.ops import elemwise as cuda_elemwise
from exprc.link.cuda.program import Run
from exprc.tensor.composite import Composite
from exprc.tensor.scalar import SCALAR_OPS
from tests.cuda_harness import cuda_function, have_compilers

pytestmark = pytest.mark.skipif(not have_compilers(), reason="no C++ compiler for the emulator")

RNG = np.random.default_rng(2024)


def _places(f) -> dict[str, str]:
    return {what.split(": ", 1)[1]: where for what, where in f.placement()}


def test_rank_above_the_loop_struct_reduces_copies_and_reshapes():
    # A rank-10 array reversed on every axis and sliced: no two axes merge, so a reduction's
    # kept or reduced axes, or a copy's loop, exceed the kernels' 8-axis loop structs. These
    # used to fail at run time ("a reduction over more than 8 non-contiguous axes", a NumPy
    # broadcast error from the copy) where NumPy has an answer.
    x = T.tensor("float64", shape=(None,) * 10, name="x")
    v = x[::-1, ::-1, ::-1, ::-1, ::-1, ::-1, ::-1, ::-1, ::-1, ::-1]
    y = v.dimshuffle(*reversed(range(10)))
    outs = [y.sum(axis=0), y.sum(), y.max(axis=(1, 2, 3, 4, 5, 6, 7, 8, 9)),
            T.argmax(y, axis=0), T.argmin(y, axis=(0, 1, 2, 3, 4, 5, 6, 7, 8)),
            y.sum(axis=(1, 3, 5, 7, 9)), y.reshape((32, 32)),
            T.alloc(y[0, :, :, :, :, :, :, :, :, :1], *([2] * 10))]
    f = cuda_function([x], outs)
    assert _places(f)["Reduce{add, axis=(0,), dtype=float64}"] == "cuda"
    xv = RNG.standard_normal((2,) * 10)
    xv.flat[77] = 9.0  # a unique maximum: argmax has one answer
    yv = xv[(slice(None, None, -1),) * 10].transpose(*reversed(range(10)))
    want = [yv.sum(axis=0), yv.sum(), yv.max(axis=(1, 2, 3, 4, 5, 6, 7, 8, 9)),
            yv.argmax(axis=0), np.moveaxis(yv, 9, 0).reshape(2, -1).argmin(axis=1),
            yv.sum(axis=(1, 3, 5, 7, 9)), yv.reshape(32, 32),
            np.broadcast_to(yv[0, ..., :1], (2,) * 10)]
    for got, expected in zip(f(xv), want):
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_32_bit_strided_loop_leaves_room_for_the_grid_stride(monkeypatch):
    # The 32-bit strided kernel's counter steps past `total` by the launch's thread count
    # before the loop ends: an int32 overflow (undefined, in practice a wrap to negative
    # indices) for totals within one grid of 2**31. With the limit lowered to 300, a strided
    # loop of 100 elements (launched as one block of 256 threads) must take the 64-bit kernel.
    launched: list[str] = []
    original = Run.launch_elements

    def spy(self, name, elements, args):
        launched.append(name)
        return original(self, name, elements, args)

    x = T.matrix("x")
    f = cuda_function([x], x.T[::-1] * 2.0)
    monkeypatch.setattr(cuda_elemwise, "_INT32_LIMIT", 300)
    monkeypatch.setattr(Run, "launch_elements", spy)
    xv = RNG.standard_normal((10, 10))
    np.testing.assert_array_equal(f(xv), xv.T[::-1] * 2.0)
    assert any(name.endswith("_strided64") for name in launched), launched
    assert not any(name.endswith("_strided32") for name in launched), launched


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_zero_alpha_products_keep_nan_and_alloc_errors_match_the_reference():
    # cuBLAS reads neither operand when alpha is 0; NumPy's 0 * product is NaN wherever the
    # product is NaN or infinite (and so are the reference's and the C backend's results).
    x, y, z = T.matrix("x"), T.matrix("y"), T.matrix("z")
    a, v, w = T.scalar("a"), T.vector("v"), T.vector("w")
    n = T.lscalar("n")
    f = cuda_function([x, y, z, a, v, w, n],
                      [z + a * T.dot(x, y), z - a * T.dot(y, x), w + a * T.dot(x, v),
                       z + a * T.outer(v, w), T.alloc(w, n, 3)])
    assert {where for what, where in f.placement()
            if "Gemm" in what or "Gemv" in what or "Ger" in what} == {"cuda"}
    xv = np.ones((3, 3))
    xv[0, 0], xv[1, 1] = np.nan, np.inf
    yv, zv, wv = np.ones((3, 3)), RNG.standard_normal((3, 3)), RNG.standard_normal(3)
    vv = np.array([np.nan, 1.0, 1.0])
    with np.errstate(invalid="ignore"):
        for alpha in (0.0, 0.5):
            got = f(xv, yv, zv, np.float64(alpha), vv, wv, np.int64(2))
            want = [zv + alpha * (xv @ yv), zv - alpha * (yv @ xv), wv + alpha * (xv @ vv),
                    zv + alpha * np.outer(vv, wv), np.broadcast_to(wv, (2, 3))]
            for g, e in zip(got, want):
                np.testing.assert_array_equal(g, e)
    # A negative size: the reference's error type (ExprcShapeError) and message.
    with pytest.raises(ExprcShapeError, match="negative size in the target shape"):
        f(xv, yv, zv, np.float64(1.0), vv, wv, np.int64(-2))


def test_single_input_composite_with_a_constant_output_has_its_static_shape():
    # A Composite output that reads no input has shape (1, ..., 1) (its type says so); the
    # kernel fills the loop's whole shape, so the output must be a corner of it, for one input
    # as for several.
    x = T.matrix("x")
    op = Composite(1, [(SCALAR_OPS["exp"], (("c", "float64", "2.0"),)),
                       (SCALAR_OPS["add"], (("i", 0), ("c", "float64", "1.0")))], [0, 1])
    constant, shifted = op(x)
    assert constant.type.shape == (1, 1)
    f = cuda_function([x], [constant, shifted])
    assert _places(f)[str(op)] == "cuda"
    xv = RNG.standard_normal((3, 4))
    got = f(xv)
    assert got[0].shape == (1, 1)
    np.testing.assert_allclose(got[0], np.full((1, 1), np.exp(2.0)), rtol=1e-15)
    np.testing.assert_allclose(got[1], xv + 1.0, rtol=1e-15)
