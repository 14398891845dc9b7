"""The CUDA rules of pooling (pool_2d in every mode and its gradients) on the emulated device.

Values are checked against the direct loops of ``tests/registry/cases_pool.py`` (written from
Theano's rules, independently of exprc) and against the reference executor running the same
graph. Each test compiles one function for many geometries, to keep the emulator's builds few.
"""

from __future__ import annotations

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcShapeError
from exprc.link.cuda.ops import pool as cuda_pool
from exprc.tensor.signal.pool import (
    MODES,
    AveragePoolGrad,
    MaxPoolGrad,
    MaxPoolGradGrad,
    Pool,
    pool_2d,
)
from tests.cuda_harness import cuda_function, have_compilers
from tests.registry.cases_pool import (
    np_average_pool_grad,
    np_max_pool_grad,
    np_max_pool_grad_grad,
    np_pool_2d,
)

pytestmark = pytest.mark.skipif(not have_compilers(), reason="no C++ compiler")

# name -> pool_2d's geometry (ws, ignore_border, stride, pad)
GEOMETRIES = {
    "lenet": {"ws": (2, 2), "ignore_border": True, "stride": None, "pad": (0, 0)},
    "overlap_pad": {"ws": (3, 2), "ignore_border": True, "stride": (1, 2), "pad": (1, 1)},
    "apart": {"ws": (2, 3), "ignore_border": True, "stride": (3, 4), "pad": (0, 0)},
    "partial": {"ws": (3, 2), "ignore_border": False, "stride": (2, 1), "pad": (0, 0)},
    "partial_apart": {"ws": (2, 2), "ignore_border": False, "stride": (3, 3), "pad": (0, 0)},
}
TOL = {"float64": {"rtol": 1e-12, "atol": 1e-12}, "float32": {"rtol": 1e-5, "atol": 1e-6}}


def _placed(f, op_types) -> None:
    """Every node of the given op types runs on the device."""
    found = [place for node, place in zip(f.program.nodes, f.program.places)
             if isinstance(node.op, op_types)]
    assert found and all(place == "cuda" for place in found), f.placement()


def _ties(rng, shape, dtype):
    """Small integers: windows often hold their maximum several times (first-max rule)."""
    return rng.integers(-3, 3, size=shape).astype(dtype)


def _all_ops(x, gz_of, dtype, shape):
    """For every geometry and mode: pool_2d, and the gradient ops on their own (with gz and
    the values of the max gradient's gradient as inputs); the NumPy loops' values of each."""
    rng = np.random.default_rng(5)
    xv = _ties(rng, shape, dtype)
    inputs, values, outputs, expected = [x], [xv], [], []
    for name, geo in GEOMETRIES.items():
        for mode in MODES:
            outputs.append(pool_2d(x, mode=mode, **geo))
            expected.append(np_pool_2d(xv, mode=mode, **geo))
        pooled = np_pool_2d(xv, **geo).shape
        gz = gz_of(f"gz_{name}")
        gzv = rng.standard_normal(pooled).astype(dtype)
        v = gz_of(f"v_{name}")
        vv = rng.standard_normal(shape).astype(dtype)
        inputs += [gz, v]
        values += [gzv, vv]
        outputs.append(MaxPoolGrad(**geo)(x, gz))
        expected.append(np_max_pool_grad(xv, gzv, **geo))
        outputs.append(MaxPoolGradGrad(**geo)(x, v))
        expected.append(np_max_pool_grad_grad(xv, vv, **geo))
        for mode in MODES[1:]:
            outputs.append(AveragePoolGrad(mode=mode, **geo)(x, gz))
            expected.append(np_average_pool_grad(xv, gzv, mode=mode, **geo))
    return inputs, values, outputs, expected


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_op_and_geometry_matches_numpy_loops(dtype):
    x = T.tensor4("x", dtype=dtype)
    inputs, values, outputs, expected = _all_ops(
        x, lambda name: T.tensor4(name, dtype=dtype), dtype, (2, 3, 7, 6))
    f = cuda_function(inputs, outputs)
    _placed(f, (Pool, MaxPoolGrad, AveragePoolGrad, MaxPoolGradGrad))
    got = f(*values)
    for k, (g, e) in enumerate(zip(got, expected)):
        assert g.dtype == dtype and g.shape == e.shape, k
        np.testing.assert_allclose(g, e, **TOL[dtype], err_msg=f"output {k}")
    ref = exprc.function(inputs, outputs, mode="REFERENCE")(*values)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, **TOL[dtype])


def test_64_bit_indexing_and_other_ranks(monkeypatch):
    """The 64-bit kernels (a zero 32-bit limit), on a rank-3 input."""
    x = T.tensor3("x")
    inputs, values, outputs, expected = _all_ops(x, T.tensor3, "float64", (3, 5, 7))
    f = cuda_function(inputs, outputs)
    monkeypatch.setattr(cuda_pool, "INDEX32_LIMIT", 0)
    for g, e in zip(f(*values), expected):
        np.testing.assert_allclose(g, e, **TOL["float64"])


def test_gradients_of_pool_2d_match_the_reference_mode():
    """exprc.grad through pool_2d (MaxPoolGrad, AveragePoolGrad) and through the max
    gradient itself (MaxPoolGradGrad), against the same graph on the reference executor."""
    x = T.tensor4("x")
    geo = GEOMETRIES["overlap_pad"]
    cost = sum((pool_2d(x, mode=m, **geo) ** 2).sum() for m in MODES)
    gx = exprc.grad(cost, x)
    ggx = exprc.grad((exprc.grad((pool_2d(x, **geo) ** 2).sum(), x) ** 2).sum(), x)
    f = cuda_function([x], [gx, ggx])
    _placed(f, (MaxPoolGrad, AveragePoolGrad, MaxPoolGradGrad))
    xv = np.random.default_rng(1).permutation(2 * 3 * 6 * 5).reshape(2, 3, 6, 5) / 10.0
    ref = exprc.function([x], [gx, ggx], mode="REFERENCE")(xv)
    for g, r in zip(f(xv), ref):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)


def test_nan_is_the_first_maximum():
    x, gz = T.matrix("x"), T.matrix("gz")
    geo = {"ws": (2, 2), "stride": (1, 1)}
    f = cuda_function([x, gz], [pool_2d(x, **geo), MaxPoolGrad(**geo)(x, gz),
                                MaxPoolGradGrad(**geo)(x, x + 1)])
    xv = np.array([[1.0, np.nan, 5.0], [7.0, np.nan, 2.0]])
    gzv = np.array([[10.0, 20.0]])
    pooled, grad, gradgrad = f(xv, gzv)
    np.testing.assert_array_equal(pooled, [[np.nan, np.nan]])
    # Both windows' gradients go to the first NaN, at (0, 1).
    np.testing.assert_array_equal(grad, [[0.0, 30.0, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(gradgrad, [[np.nan, np.nan]])


def test_non_contiguous_inputs():
    """Transposed last axes (read through their strides) and swapped leading axes (which do
    not merge into one stride: copied)."""
    x, gz = T.tensor4("x"), T.tensor4("gz")
    geo = GEOMETRIES["overlap_pad"]
    xt = x.dimshuffle(1, 0, 3, 2)
    gzt = gz.dimshuffle(1, 0, 3, 2)
    outs = [pool_2d(xt, mode=m, **geo) for m in MODES]
    outs += [MaxPoolGrad(**geo)(xt, gzt), AveragePoolGrad(mode="average_inc_pad", **geo)(xt, gzt),
             MaxPoolGradGrad(**geo)(xt, xt * 3)]
    f = cuda_function([x, gz], outs)
    rng = np.random.default_rng(2)
    xv = _ties(rng, (3, 2, 5, 6), "float64")
    xtv = xv.transpose(1, 0, 3, 2)
    pooled = np_pool_2d(xtv, **geo).shape
    gzv = rng.standard_normal(pooled).transpose(1, 0, 3, 2).copy()
    gztv = gzv.transpose(1, 0, 3, 2)
    expected = [np_pool_2d(xtv, mode=m, **geo) for m in MODES]
    expected += [np_max_pool_grad(xtv, gztv, **geo),
                 np_average_pool_grad(xtv, gztv, mode="average_inc_pad", **geo),
                 np_max_pool_grad_grad(xtv, xtv * 3, **geo)]
    for g, e in zip(f(xv, gzv), expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


def test_empty_inputs_and_windows():
    x, gz = T.tensor3("x"), T.tensor3("gz")
    padded = {"ws": (2, 2), "pad": (1, 1)}
    outs = [pool_2d(x, mode="average_inc_pad", **padded), pool_2d(x, (3, 3), mode="max"),
            MaxPoolGrad(**padded)(x, gz), AveragePoolGrad(mode="sum", **padded)(x, gz)]
    f = cuda_function([x, gz], outs)
    rng = np.random.default_rng(4)
    for shape in [(2, 0, 4),   # an empty axis with padding: windows entirely in padding give 0
                  (0, 3, 3),   # no planes at all
                  (1, 2, 2)]:  # windows larger than the input: no output
        xv = rng.standard_normal(shape)
        gzv = rng.standard_normal(np_pool_2d(xv, **padded).shape)
        expected = [np_pool_2d(xv, mode="average_inc_pad", **padded),
                    np_pool_2d(xv, (3, 3), mode="max"), np_max_pool_grad(xv, gzv, **padded),
                    np_average_pool_grad(xv, gzv, mode="sum", **padded)]
        for g, e in zip(f(xv, gzv), expected):
            assert g.shape == e.shape
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


def test_shape_errors_name_the_op():
    x, gz = T.matrix("x"), T.matrix("gz")
    f = cuda_function([x, gz], MaxPoolGrad((2, 2))(x, gz))
    with pytest.raises(ExprcShapeError, match="MaxPoolGrad.*output gradient has shape"):
        f(np.zeros((4, 4)), np.zeros((3, 2)))
    g = cuda_function([x, gz], AveragePoolGrad((2, 2), mode="sum")(x, gz))
    with pytest.raises(ExprcShapeError, match="AveragePoolGrad.*output gradient has shape"):
        g(np.zeros((4, 4)), np.zeros((2, 3)))
    h = cuda_function([x, gz], MaxPoolGradGrad((2, 2))(x, gz))
    with pytest.raises(ExprcShapeError, match="MaxPoolGradGrad.*values of shape"):
        h(np.zeros((4, 4)), np.zeros((4, 3)))
