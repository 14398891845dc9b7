"""The CUDA rules of convolution (conv2d and its gradients) on the emulated device.

Forward values are checked against the direct loops of ``tests/registry/cases_conv.py``
(written from the definition, independently of exprc); gradients against the same loops and
against the reference executor running the same graph. Each test compiles one function for
many configurations, to keep the emulator's builds few.
"""

from __future__ import annotations

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.errors import ExprcShapeError
from exprc.link.cuda.ops import conv as cuda_conv
from exprc.tensor.nnet.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights
from tests.cuda_harness import cuda_function, have_compilers
from tests.registry.cases_conv import np_conv2d, np_conv2d_grad_inputs, np_conv2d_grad_weights

pytestmark = pytest.mark.skipif(not have_compilers(), reason="no C++ compiler")

# name -> (input shape, filter shape, conv2d parameters)
CONFIGS = {
    "valid": ((2, 3, 6, 5), (4, 3, 3, 2), {}),
    "full": ((2, 3, 6, 5), (4, 3, 3, 2), {"border_mode": "full"}),
    "half_stride": ((3, 3, 7, 6), (4, 3, 3, 3), {"border_mode": "half", "subsample": (2, 2)}),
    "pad_pair": ((2, 3, 6, 5), (4, 3, 3, 2), {"border_mode": (2, 1)}),
    "stride": ((2, 3, 7, 6), (4, 3, 3, 2), {"subsample": (2, 3)}),
    "dilation_full": ((2, 3, 6, 5), (4, 3, 2, 2),
                      {"border_mode": "full", "filter_dilation": (2, 1), "subsample": (1, 2)}),
    "groups": ((2, 4, 6, 5), (6, 2, 3, 2), {"num_groups": 2, "border_mode": "half"}),
    # More groups than images: the products are batched over the groups.
    "depthwise_no_flip": ((1, 3, 6, 5), (3, 1, 3, 3), {"num_groups": 3, "filter_flip": False}),
    "no_flip": ((2, 3, 6, 5), (4, 3, 3, 2),
                {"filter_flip": False, "border_mode": (1, 2), "subsample": (2, 1),
                 "filter_dilation": (1, 2)}),
    "1x1": ((2, 3, 6, 5), (4, 3, 1, 1), {}),
    "1x1_stride": ((2, 3, 6, 5), (4, 3, 1, 1), {"subsample": (2, 2)}),
    "batch1": ((1, 2, 5, 5), (3, 2, 5, 5), {}),
}
TOL = {"float64": {"rtol": 1e-10, "atol": 1e-10}, "float32": {"rtol": 1e-4, "atol": 1e-4}}


def _placed(f, op_types) -> None:
    """Every node of the given op types runs on the device."""
    nodes = f.program.nodes
    places = f.program.places
    found = [place for node, place in zip(nodes, places) if isinstance(node.op, op_types)]
    assert found and all(place == "cuda" for place in found), f.placement()


def _sample(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def _forward_and_gradients(names, dtype):
    """One function: for each config, conv2d(x, w) and the gradients of sum(conv2d * gy)
    w.r.t. x and w; with the NumPy loops' values."""
    rng = np.random.default_rng(7)
    inputs, outputs, values, expected = [], [], [], []
    for name in names:
        x_shape, w_shape, params = CONFIGS[name]
        x, w = T.tensor4(f"x_{name}", dtype=dtype), T.tensor4(f"w_{name}", dtype=dtype)
        gy = T.tensor4(f"gy_{name}", dtype=dtype)
        y = T.nnet.conv2d(x, w, **params)
        gx, gw = exprc.grad((y * gy).sum(), [x, w])
        xv, wv = _sample(rng, x_shape, dtype), _sample(rng, w_shape, dtype)
        yv = np_conv2d(xv.astype("float64"), wv.astype("float64"), **params)
        gyv = _sample(rng, yv.shape, dtype)
        inputs += [x, w, gy]
        values += [xv, wv, gyv]
        outputs += [y, gx, gw]
        expected += [yv,
                     np_conv2d_grad_inputs(wv.astype("float64"), gyv.astype("float64"),
                                           x_shape[2:], x_shape[1], **params),
                     np_conv2d_grad_weights(xv.astype("float64"), gyv.astype("float64"),
                                            w_shape[2:], **params)]
    return inputs, outputs, values, expected


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_conv2d_and_gradients_match_numpy_loops(dtype):
    names = list(CONFIGS) if dtype == "float64" else ["valid", "half_stride", "groups", "1x1"]
    inputs, outputs, values, expected = _forward_and_gradients(names, dtype)
    f = cuda_function(inputs, outputs)
    _placed(f, (Conv2d, Conv2dGradInputs, Conv2dGradWeights))
    got = f(*values)
    for k, (g, e) in enumerate(zip(got, expected)):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, e, **TOL[dtype],
                                   err_msg=f"{names[k // 3]} output {k % 3}")
    # The same graph on the reference executor agrees too.
    ref = exprc.function(inputs, outputs, mode="REFERENCE")(*values)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, **TOL[dtype])


def test_chunks_split_products_and_64_bit_indexing(monkeypatch):
    """Tiny column budgets split the batch into chunks of one or two images (the filter
    gradient then accumulates over chunks); products batched two at most split cuBLAS calls;
    a zero 32-bit limit takes the 64-bit kernels."""
    names = ["half_stride", "groups", "depthwise_no_flip", "1x1", "stride"]
    inputs, outputs, values, expected = _forward_and_gradients(names, "float64")
    f = cuda_function(inputs, outputs)
    settings = [(1, 63 * 1024, 2**31 - 1), (cuda_conv.COLS_BYTES, 2, 2**31 - 1),
                (2 * 27 * 12 * 8, 63 * 1024, 0)]
    for budget, batch, limit in settings:
        monkeypatch.setattr(cuda_conv, "COLS_BYTES", budget)
        monkeypatch.setattr(cuda_conv, "_MAX_BATCH", batch)
        monkeypatch.setattr(cuda_conv, "INDEX32_LIMIT", limit)
        for g, e in zip(f(*values), expected):
            np.testing.assert_allclose(g, e, **TOL["float64"])


def test_non_contiguous_operands():
    """Transposed views (DimShuffle on the device) as the input, filters and output gradient."""
    rng = np.random.default_rng(3)
    x, w, gy = T.tensor4("x"), T.tensor4("w"), T.tensor4("gy")
    params = {"border_mode": "half", "subsample": (1, 2)}
    xt, wt = x.dimshuffle(0, 1, 3, 2), w.dimshuffle(1, 0, 2, 3)
    y = T.nnet.conv2d(xt, wt, **params)
    gyt = gy.dimshuffle(0, 1, 3, 2)
    gx, gw = exprc.grad((y * gyt).sum(), [x, w])
    f = cuda_function([x, w, gy], [y, gx, gw])
    xv, wv = rng.standard_normal((2, 3, 5, 6)), rng.standard_normal((3, 4, 3, 3))
    xtv, wtv = xv.transpose(0, 1, 3, 2), wv.transpose(1, 0, 2, 3)
    yv = np_conv2d(xtv, wtv, **params)
    gyv = rng.standard_normal(yv.shape).transpose(0, 1, 3, 2).copy()
    gytv = gyv.transpose(0, 1, 3, 2)
    got = f(xv, wv, gyv)
    np.testing.assert_allclose(got[0], yv, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(
        got[1], np_conv2d_grad_inputs(wtv, gytv, (6, 5), 3, **params).transpose(0, 1, 3, 2),
        rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(
        got[2], np_conv2d_grad_weights(xtv, gytv, (3, 3), **params).transpose(1, 0, 2, 3),
        rtol=1e-10, atol=1e-10)


def test_empty_batches_channels_and_filters():
    x, w, gy = T.tensor4("x"), T.tensor4("w"), T.tensor4("gy")
    y = T.nnet.conv2d(x, w, border_mode="half")
    gx = Conv2dGradInputs(border_mode="half")(w, gy, x.shape[2:])
    gw = Conv2dGradWeights(border_mode="half")(x, gy, w.shape[2:])
    f = cuda_function([x, w, gy], [y, gx, gw])
    _placed(f, (Conv2d, Conv2dGradInputs, Conv2dGradWeights))
    cases = [((0, 2, 4, 4), (3, 2, 3, 3)),   # no images: empty outputs, zero filter gradient
             ((2, 0, 4, 4), (3, 0, 3, 3)),   # no channels: zero outputs
             ((2, 2, 4, 4), (0, 2, 3, 3))]   # no filters: zero input gradient
    rng = np.random.default_rng(0)
    for x_shape, w_shape in cases:
        xv, wv = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
        gyv = rng.standard_normal((x_shape[0], w_shape[0], 4, 4))
        got = f(xv, wv, gyv)
        assert got[0].shape == (x_shape[0], w_shape[0], 4, 4)
        np.testing.assert_array_equal(got[0], np.zeros(got[0].shape))
        np.testing.assert_array_equal(got[1], np.zeros(x_shape))
        np.testing.assert_array_equal(got[2], np.zeros(w_shape))


def test_shape_errors_name_the_op():
    x, w, gy = T.tensor4("x"), T.tensor4("w"), T.tensor4("gy")
    f = cuda_function([x, w], T.nnet.conv2d(x, w))
    with pytest.raises(ExprcShapeError, match="Conv2d.*3 channels does not match"):
        f(np.zeros((1, 3, 5, 5)), np.zeros((2, 2, 3, 3)))
    with pytest.raises(ExprcShapeError, match="Conv2d.*larger than the input"):
        f(np.zeros((1, 2, 2, 5)), np.zeros((2, 2, 3, 3)))
    g = cuda_function([x, gy], Conv2dGradWeights()(x, gy, np.array([3, 3])))
    with pytest.raises(ExprcShapeError, match="Conv2dGradWeights.*differ in batch size"):
        g(np.zeros((2, 1, 5, 5)), np.zeros((1, 1, 3, 3)))
    with pytest.raises(ExprcShapeError, match="Conv2dGradWeights.*does not match"):
        g(np.zeros((2, 1, 5, 5)), np.zeros((2, 1, 2, 3)))
    h = cuda_function([w, gy], Conv2dGradInputs()(w, gy, np.array([5, 5])))
    with pytest.raises(ExprcShapeError, match="Conv2dGradInputs.*does not match filters"):
        h(np.zeros((2, 1, 3, 3)), np.zeros((1, 3, 3, 3)))
