"""Reference rules of convolution (conv2d and its gradients).

Each op is a loop over the filter's taps: tap (a, b) meets the strided window of the padded
input starting at (a * dilation_h, b * dilation_w), and one ``np.einsum`` per tap contracts
the channels of each group. With ``filter_flip``, the filters are reversed along both spatial
axes first (and the gradient w.r.t. the filters reversed back), so the loops only ever
cross-correlate.

A filter without taps (0 rows or 0 columns) is an error in every op, as in the C kernels: its
dilated span ``(k - 1) * d + 1`` would be < 1, which no border mode gives a meaning to. Filters
with no output or input channels are fine (an empty output, or zeros).
"""

from __future__ import annotations

import numpy as np

from exprc.errors import ExprcShapeError
from exprc.link.reference.table import REFERENCE
from exprc.tensor.nnet.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights


def _by(pair) -> str:
    """(rows, cols) as "rows x cols", as the C kernels' messages show them."""
    return f"{pair[0]} x {pair[1]}"


def _check_taps(op, filters_shape) -> None:
    """A filter must have at least one row and one column of taps."""
    if min(filters_shape[2:]) < 1:
        raise ExprcShapeError(f"{op}: empty filters of shape {tuple(filters_shape)}: a filter "
                              f"needs at least one row and one column")


def _geometry(op, image_hw, kernel_hw, output_hw=None):
    """Paddings, output sizes and the window slices of each tap; checks that the filter fits
    and, when given, that ``output_hw`` is what the convolution gives."""
    pads = op.pads(kernel_hw)
    out = op.output_sizes(image_hw, kernel_hw)
    if min(out) < 1:
        raise ExprcShapeError(f"{op}: the filter of {_by(kernel_hw)} (dilation "
                              f"{_by(op.filter_dilation)}) is larger than the input of "
                              f"{_by(image_hw)} padded by {_by(pads)}")
    if output_hw is not None and tuple(output_hw) != tuple(out):
        raise ExprcShapeError(f"{op}: the output gradient of {tuple(output_hw)} rows and cols "
                              f"does not match the convolution of an input of "
                              f"{tuple(image_hw)} with a filter of {tuple(kernel_hw)}, which "
                              f"gives {tuple(out)}")
    return pads, out


def _windows(op, kernel_hw, out):
    """For each tap (a, b): the slices of the padded input it meets."""
    (sh, sw), (dh, dw) = op.subsample, op.filter_dilation
    for a in range(kernel_hw[0]):
        for b in range(kernel_hw[1]):
            yield a, b, (slice(a * dh, a * dh + sh * (out[0] - 1) + 1, sh),
                         slice(b * dw, b * dw + sw * (out[1] - 1) + 1, sw))


def _grouped(x: np.ndarray, groups: int) -> np.ndarray:
    """(N, C, ...) as (N, groups, C / groups, ...)."""
    return x.reshape(x.shape[0], groups, x.shape[1] // groups, *x.shape[2:])


def _sizes(op, size: np.ndarray, what: str) -> tuple[int, int]:
    """The (rows, cols) given to a gradient op, which must not be negative."""
    sizes = tuple(int(s) for s in size)
    if min(sizes) < 0:
        raise ExprcShapeError(f"{op}: negative {what} size {sizes}")
    return sizes


def _check_channels(op, channels: int, filters_shape) -> None:
    g = op.num_groups
    if channels % g or filters_shape[0] % g or channels != filters_shape[1] * g:
        raise ExprcShapeError(f"{op}: an input of {channels} channels does not match filters "
                              f"of shape {tuple(filters_shape)} in {g} group(s)")


def _filters(op, w: np.ndarray) -> np.ndarray:
    """The filters as cross-correlated: reversed along both spatial axes when flipped."""
    return w[:, :, ::-1, ::-1] if op.filter_flip else w


def _grouped_filters(op, w: np.ndarray) -> np.ndarray:
    """(O, C / g, kh, kw) as (g, O / g, C / g, kh, kw), flipped when the op flips."""
    g = op.num_groups
    return _filters(op, w).reshape(g, w.shape[0] // g, *w.shape[1:])


@REFERENCE.register(Conv2d)
def conv2d(node, x, w):
    op, g = node.op, node.op.num_groups
    _check_channels(op, x.shape[1], w.shape)
    _check_taps(op, w.shape)
    pads, out = _geometry(op, x.shape[2:], w.shape[2:])
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0],) * 2, (pads[1],) * 2))
    wg = _grouped_filters(op, w)
    y = np.zeros((x.shape[0], g, w.shape[0] // g, *out), dtype=x.dtype)
    for a, b, window in _windows(op, w.shape[2:], out):
        y += np.einsum("ngchw,goc->ngohw", _grouped(xp[:, :, window[0], window[1]], g),
                       wg[:, :, :, a, b])
    return [y.reshape(x.shape[0], w.shape[0], *out)]


@REFERENCE.register(Conv2dGradInputs)
def conv2d_grad_inputs(node, w, gy, size):
    op, g = node.op, node.op.num_groups
    image_hw = _sizes(op, size, "input")
    if gy.shape[1] != w.shape[0]:
        raise ExprcShapeError(f"{op}: the output gradient of shape {gy.shape} does not match "
                              f"filters of shape {w.shape}")
    _check_channels(op, w.shape[1] * g, w.shape)
    _check_taps(op, w.shape)
    pads, out = _geometry(op, image_hw, w.shape[2:], gy.shape[2:])
    n, c = gy.shape[0], w.shape[1] * g
    gxp = np.zeros((n, c, image_hw[0] + 2 * pads[0], image_hw[1] + 2 * pads[1]), gy.dtype)
    wg = _grouped_filters(op, w)
    gyg = _grouped(gy, g)
    for a, b, window in _windows(op, w.shape[2:], out):
        gxp[:, :, window[0], window[1]] += np.einsum(
            "ngohw,goc->ngchw", gyg, wg[:, :, :, a, b]).reshape(n, c, *out)
    return [gxp[:, :, pads[0]:pads[0] + image_hw[0], pads[1]:pads[1] + image_hw[1]].copy()]


@REFERENCE.register(Conv2dGradWeights)
def conv2d_grad_weights(node, x, gy, size):
    op, g = node.op, node.op.num_groups
    kernel_hw = _sizes(op, size, "filter")
    if gy.shape[0] != x.shape[0]:
        raise ExprcShapeError(f"{op}: the input of shape {x.shape} and the output gradient of "
                              f"shape {gy.shape} differ in batch size")
    _check_channels(op, x.shape[1], (gy.shape[1], x.shape[1] // g))
    _check_taps(op, (gy.shape[1], x.shape[1] // g, *kernel_hw))
    pads, out = _geometry(op, x.shape[2:], kernel_hw, gy.shape[2:])
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0],) * 2, (pads[1],) * 2))
    gyg = _grouped(gy, g)
    gw = np.zeros((g, gy.shape[1] // g, x.shape[1] // g, *kernel_hw), dtype=x.dtype)
    for a, b, window in _windows(op, kernel_hw, out):
        gw[:, :, :, a, b] = np.einsum("ngohw,ngchw->goc", gyg,
                                      _grouped(xp[:, :, window[0], window[1]], g))
    gw = gw.reshape(gy.shape[1], x.shape[1] // g, *kernel_hw)
    return [np.ascontiguousarray(_filters(op, gw))]
