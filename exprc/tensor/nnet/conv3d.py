"""3-d convolution (Theano's ``T.nnet.conv3d``), built from the 2-d convolution.

A 3-d convolution is a sum over the filters' depth taps of 2-d convolutions: tap ``t`` of
every filter meets the depth slices ``z * stride + t * dilation`` of the (depth-padded) input,
and those slices, moved into the batch axis, go through one :func:`exprc.tensor.nnet.conv2d`
each. So the result, and its gradients, are exactly those of the 2-d op; the filters' depth
must be known when the graph is built (it sets the number of taps).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from exprc.errors import ExprcShapeError, ExprcTypeError, ExprcValueError, build_error
from exprc.tensor.basic import zeros
from exprc.tensor.nnet.conv import _float_pair, _hinted, conv2d
from exprc.tensor.shape import reshape
from exprc.tensor.subtensor import set_subtensor

__all__ = ["conv3d"]


def _triple(value: Any, what: str) -> tuple[int, int, int]:
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,) * 3
    if len(values) != 3 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                   for v in values):
        raise build_error(ExprcTypeError, "conv3d", f"{what} must be three positive ints, got "
                          f"{value!r}")
    if min(values) < 1:  # the right kind, a wrong value (as conv2d reports it)
        raise build_error(ExprcValueError, "conv3d", f"{what} must be three positive ints, "
                          f"got {value!r}")
    return tuple(int(v) for v in values)


def _depth_padding(border_mode: Any, span: int):
    """The depth padding and the (rows, cols) border mode for the 2-d convolutions."""
    if border_mode in ("valid", "full", "half"):
        return {"valid": 0, "full": span - 1, "half": span // 2}[border_mode], border_mode
    pads = tuple(border_mode) if isinstance(border_mode, (list, tuple)) else (border_mode,) * 3
    if len(pads) != 3 or not all(isinstance(p, (int, np.integer)) and not isinstance(p, bool)
                                 and p >= 0 for p in pads):
        # An unknown mode name or a negative pad is a wrong value, not a wrong kind.
        raise build_error(ExprcValueError, "conv3d", f"border_mode must be 'valid', 'full', "
                          f"'half', a non-negative int or three of them, got {border_mode!r}")
    return int(pads[0]), (int(pads[1]), int(pads[2]))


def conv3d(input: Any, filters: Any, input_shape: Sequence | None = None,
           filter_shape: Sequence | None = None, border_mode: Any = "valid",
           subsample: Any = (1, 1, 1), filter_flip: bool = True,
           filter_dilation: Any = (1, 1, 1), num_groups: int = 1):
    """3-d convolution of a batch of multi-channel volumes (Theano 1.0's ``conv3d``).

    Parameters
    ----------
    input : tensor-like
        5-d float tensor (batch, channels, depth, rows, cols).
    filters : tensor-like
        5-d float tensor (out_channels, channels, filter depth, rows, cols); the filter depth
        must be known (from its type or ``filter_shape``).
    input_shape, filter_shape : tuple, optional
        Sizes known in advance (None for unknown entries), checked as in ``conv2d``.
    border_mode : {'valid', 'full', 'half'}, int or three ints
        The padding of depth, rows and cols, as in ``conv2d``.
    subsample : three ints
        Strides.
    filter_flip : bool
        True flips the filters along all three axes (a true convolution); False computes the
        cross-correlation.
    filter_dilation : three ints
        Spacing between filter taps.
    num_groups : int
        Grouped convolution: the channels split into this many groups, each convolved with
        its share of the filters (filters then have ``channels / num_groups`` channels).

    Returns
    -------
    TensorVariable
        (batch, out_channels, out depth, out rows, out cols), each output size
        ``(size + 2 * pad - ((k - 1) * dilation + 1)) // stride + 1``.
    """
    input, filters = _float_pair(input, filters)
    for var, what in ((input, "input"), (filters, "filters")):
        if var.ndim != 5:
            raise build_error(ExprcShapeError, "conv3d", f"{what} must be a 5-d tensor, got "
                              f"{var} of type {var.type}")
    input = _hinted(input, input_shape, "input_shape")
    filters = _hinted(filters, filter_shape, "filter_shape")
    depth = filters.type.shape[2]
    if depth is None:
        raise build_error(ExprcShapeError, "conv3d", "the filters' depth must be known when "
                          "the graph is built: give filter_shape, or filters of a static "
                          "shape")
    strides, dilations = _triple(subsample, "subsample"), _triple(filter_dilation,
                                                                  "filter_dilation")
    pad, plane_mode = _depth_padding(border_mode, (depth - 1) * dilations[0] + 1)
    n, channels = input.shape[0], input.shape[1]
    size, rows, cols = input.shape[2], input.shape[3], input.shape[4]
    if pad:
        canvas = zeros((n, channels, size + 2 * pad, rows, cols), dtype=input.dtype)
        input = set_subtensor(canvas[:, :, pad:pad + size], input)
        size = size + 2 * pad
    out_depth = (size - (depth - 1) * dilations[0] - 1) // strides[0] + 1
    total = None
    for tap in range(depth):
        start = tap * dilations[0]
        slab = input[:, :, start:start + (out_depth - 1) * strides[0] + 1:strides[0]]
        planes = reshape(slab.dimshuffle(0, 2, 1, 3, 4), (-1, channels, rows, cols))
        kernel = filters[:, :, depth - 1 - tap if filter_flip else tap]
        out = conv2d(planes, kernel, border_mode=plane_mode, subsample=strides[1:],
                     filter_flip=filter_flip, filter_dilation=dilations[1:],
                     num_groups=num_groups)
        total = out if total is None else total + out
    out = reshape(total, (n, out_depth, filters.shape[0], total.shape[2], total.shape[3]))
    return out.dimshuffle(0, 2, 1, 3, 4)
