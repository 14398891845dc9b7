"""Edges of the C backend's fast paths, each against NumPy or the reference executor.

The vectorized paths have tails and blocks whose boundaries a registry case of one shape may
miss: bool masks read as bytes, operands repeated along the inner axis (copied into a buffer
per tile, by item size), 2x2 max pooling on rows of 4, 8 and 12 windows (blocks of 8 and 4
windows and a scalar tail), and convolutions over several chunks of images with padding,
strides and dilation.
"""

from __future__ import annotations

import numpy as np
import pytest

import exprc
import exprc.tensor as T
from exprc.tensor.nnet import conv2d
from exprc.tensor.signal.pool import pool_2d

RNG = np.random.default_rng(11)


def _both(inputs, outputs, values):
    """The outputs of the compiled function and of the reference executor."""
    fast = exprc.function(inputs, outputs)(*values)
    slow = exprc.function(inputs, outputs, mode="REFERENCE")(*values)
    return fast, slow


@pytest.mark.parametrize("n", [1, 7, 37, 64, 131])
def test_switch_on_bool_masks_holding_any_nonzero_byte(n):
    """NumPy's bools are bytes; a byte other than 0 and 1 (a view of uint8 data) is true."""
    raw = RNG.integers(0, 4, n).astype(np.uint8) * np.uint8(85)  # 0, 85, 170, 255
    mask = raw.view(np.bool_)
    m = T.vector("m", dtype="bool")
    g = T.vector("g", dtype="float32")
    values = RNG.standard_normal(n).astype("float32")
    got = exprc.function([m, g], T.switch(m, g, 0))(mask, values)
    np.testing.assert_array_equal(got, np.where(raw != 0, values, np.float32(0)))


@pytest.mark.parametrize("dtype", ["int8", "int16", "float32", "float64"])
def test_operand_repeated_along_the_inner_axis(dtype):
    """``x + b[:, None]``: ``b`` repeats along the inner axis, for every item size."""
    x = T.matrix("x", dtype=dtype)
    b = T.vector("b", dtype=dtype)
    xv = RNG.integers(-50, 50, (9, 301)).astype(dtype)
    bv = RNG.integers(-50, 50, 9).astype(dtype)
    got = exprc.function([x, b], x * 2 + b.dimshuffle(0, "x"))(xv, bv)
    np.testing.assert_array_equal(got, xv * 2 + bv[:, None])


@pytest.mark.parametrize("width", [8, 16, 24, 26])
def test_max_pool_rows_of_several_block_lengths_with_nans_and_ties(width):
    x = T.tensor4("x", dtype="float32")
    value = RNG.integers(-3, 3, (2, 3, 6, width)).astype("float32")  # many ties
    value[0, 1, 2, 5] = np.nan
    value[1, 2, 0, :3] = np.inf
    pooled = pool_2d(x, ws=(2, 2), ignore_border=True)
    weights = T.constant(RNG.standard_normal((2, 3, 3, width // 2)).astype("float32"))
    grad = exprc.grad((pooled * weights).sum(), x)
    fast, slow = _both([x], [pooled, grad], [value])
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("border_mode, subsample, dilation", [
    ("valid", (1, 1), (1, 1)),
    ((2, 1), (2, 2), (1, 1)),
    ("half", (1, 2), (2, 2)),
    ("full", (1, 1), (1, 1)),
])
def test_convolution_over_many_images_and_its_gradients(border_mode, subsample, dilation):
    x = T.tensor4("x", dtype="float64")
    w = T.tensor4("w", dtype="float64")
    xv = RNG.standard_normal((37, 3, 11, 9))
    wv = RNG.standard_normal((4, 3, 3, 3))
    y = conv2d(x, w, border_mode=border_mode, subsample=subsample, filter_dilation=dilation)
    cost = (y * y).sum()
    fast, slow = _both([x, w], [y, *exprc.grad(cost, [x, w])], [xv, wv])
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
