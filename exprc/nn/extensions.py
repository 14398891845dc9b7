"""Tensor functions the layers need beyond :mod:`exprc.tensor` (Lasagne's
``lasagne.theano_extensions``): padding with a constant, 1-d and 3-d convolutions and their
transposes, 1-d and 3-d pooling.

exprc has 2-d convolution and 2-d pooling ops. Each function here is an exact composition of
those ops with indexing and reshapes, so it has gradients and runs on every backend without an
op of its own:

- a 1-d operation is the 2-d one over a trailing axis of size 1;
- a 3-d convolution sums, over the filters' depth taps, 2-d convolutions: tap ``t`` convolves
  the depth slices ``t, t + stride, ...`` (folded into the batch, all at once) with the
  filters' depth slice ``t``;
- a 3-d transposed convolution (the gradient of a 3-d convolution w.r.t. its input) scatters,
  for each depth tap, the 2-d transposed convolutions of the input's depth slices back to the
  slices that tap read;
- 3-d pooling pools rows and columns, then the depth: the windows are boxes, so the maximum
  and the sum separate, and so do both averages, whose divisors are products of the
  per-axis counts.

>>> import numpy as np
>>> from exprc.nn.extensions import conv3d
>>> x = np.ones((1, 1, 3, 4, 4))
>>> conv3d(x, np.ones((1, 1, 2, 3, 3))).eval().shape
(1, 1, 2, 2, 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import exprc.tensor as T
from exprc.tensor.nnet.conv3d import conv3d  # one implementation, re-exported here
from exprc.tensor.signal.pool import pool_2d

__all__ = [
    "conv1d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose3d",
    "pad",
    "pool_1d",
    "pool_3d",
]

_INT = (int, np.integer)


def _is_int(value: Any) -> bool:
    return isinstance(value, _INT) and not isinstance(value, (bool, np.bool_))


def _ints(value: Any, n: int, what: str, where: str, minimum: int) -> tuple:
    """``value`` (an int or a sequence of ``n`` ints, each >= ``minimum``) as an n-tuple."""
    items = tuple(value) if isinstance(value, (tuple, list, np.ndarray)) else (value,) * n
    if len(items) != n or not all(_is_int(v) and v >= minimum for v in items):
        raise ValueError(f"{where}: {what} must be an int >= {minimum} or {n} of them, got "
                         f"{value!r}")
    return tuple(int(v) for v in items)


def _border(border_mode: Any, n: int, where: str) -> str | tuple:
    """A border mode: 'valid', 'full', 'half', or n paddings (ints)."""
    if isinstance(border_mode, str):
        if border_mode not in ("valid", "full", "half"):
            raise ValueError(f"{where}: border_mode must be 'valid', 'full', 'half', an int or "
                             f"{n} ints, got {border_mode!r}")
        return border_mode
    return _ints(border_mode, n, "border_mode (padding)", where, 0)


def _tensor(x: Any, ndim: int, what: str, where: str):
    x = T.as_tensor_variable(x)
    if x.ndim != ndim:
        raise ValueError(f"{where}: {what} must be {ndim}-d, got {x} of type {x.type}")
    return x


def _static_size(var: Any, hint: Sequence | None, axis: int, what: str, where: str) -> int:
    """A size the composition loops over: from the shape hint or the variable's type."""
    size = hint[axis] if hint is not None else None
    if size is None:
        size = var.type.shape[axis]
    if not _is_int(size) or size < 1:
        raise ValueError(f"{where}: the {what} must be known when the graph is built (give "
                         f"filter_shape); got {var} of type {var.type}")
    return int(size)


# ----------------------------------------------------------------------------- padding
def pad_widths(width: Any, n_axes: int) -> list[tuple]:
    """``width`` as one ``(before, after)`` pair per padded axis (see :func:`pad`).

    An int pads every axis by it on both sides; a sequence gives each axis an int (both sides)
    or a pair. A sequence shorter than ``n_axes`` leaves the last axes unpadded.
    """
    if _is_int(width):
        widths = [(width, width)] * n_axes
    else:
        widths = []
        for w in width:
            if isinstance(w, (tuple, list)):
                if len(w) != 2:
                    raise ValueError(f"a padding width must be an int or a pair of ints, got "
                                     f"{w!r}")
                widths.append(tuple(w))
            else:
                widths.append((w, w))
    if len(widths) > n_axes:
        raise ValueError(f"got {len(widths)} padding widths {width!r} for {n_axes} padded "
                         f"axes")
    for pair in widths:
        for w in pair:
            if _is_int(w):
                if w < 0:
                    raise ValueError(f"padding widths must be >= 0, got {width!r}")
            elif not (isinstance(w, T.TensorVariable) and w.ndim == 0):
                raise ValueError(f"padding widths must be ints (or symbolic scalars), got "
                                 f"{width!r}")
    return widths


def pad(x: Any, width: Any, val: Any = 0, batch_ndim: int = 1):
    """``x`` padded with ``val`` on each axis after the first ``batch_ndim``.

    Parameters
    ----------
    x : tensor-like
    width : int, or sequence of int or (int, int)
        Entries added before and after each padded axis (see :func:`pad_widths`).
    val : number or symbolic scalar
        The padding value.
    batch_ndim : int
        The leading axes left as they are.

    Examples
    --------
    >>> import numpy as np
    >>> pad(np.ones((1, 2)), [(1, 2)], val=7).eval()
    array([[7., 1., 1., 7., 7.]])
    """
    x = T.as_tensor_variable(x)
    widths = pad_widths(width, x.ndim - batch_ndim)
    if all(_is_int(w) and w == 0 for pair in widths for w in pair):
        return x
    shape, region = [], []
    for axis in range(x.ndim):
        k = axis - batch_ndim
        if k < 0 or k >= len(widths):
            shape.append(x.shape[axis])
            region.append(slice(None))
            continue
        before, after = widths[k]
        shape.append(x.shape[axis] + before + after)
        if _is_int(after):
            region.append(slice(before, -after if after else None))
        else:
            region.append(slice(before, before + x.shape[axis]))
    padded = T.alloc(T.cast(val, x.dtype), *shape)
    return T.set_subtensor(padded[tuple(region)], x)


# --------------------------------------------------------------------- 1-d convolutions
def _hint(shape: Sequence | None, extra: tuple) -> tuple | None:
    return None if shape is None else tuple(shape) + extra


def conv1d(input: Any, filters: Any, input_shape: Sequence | None = None,
           filter_shape: Sequence | None = None, border_mode: Any = "valid",
           subsample: Any = (1,), filter_flip: bool = True, num_groups: int = 1):
    """1-d convolution of ``(batch, channels, length)`` with ``(filters, channels / groups,
    size)``: :func:`exprc.tensor.nnet.conv2d` over a trailing axis of size 1.

    The arguments are those of ``conv2d`` (and of Lasagne's ``conv1d_mc0``), with one entry
    per tuple (an int is accepted too).
    """
    where = "conv1d"
    input = _tensor(input, 3, "input", where)
    filters = _tensor(filters, 3, "filters", where)
    (stride,) = _ints(subsample, 1, "subsample", where, 1)
    border = _border(border_mode, 1, where)
    # 'full' and 'half' pad nothing along the extra axis: its filter size is 1.
    border = border if isinstance(border, str) else (border[0], 0)
    out = T.nnet.conv2d(T.shape_padright(input, 1), T.shape_padright(filters, 1),
                        _hint(input_shape, (1,)), _hint(filter_shape, (1,)), border,
                        (stride, 1), filter_flip, num_groups=num_groups)
    return out[:, :, :, 0]


def conv_transpose1d(input: Any, filters: Any, output_shape: Sequence,
                     filter_shape: Sequence | None = None, border_mode: Any = "valid",
                     input_dilation: Any = (1,), filter_flip: bool = True):
    """The gradient of :func:`conv1d` w.r.t. its input, as ``conv2d_transpose`` in 1-d.

    ``output_shape`` is the result's ``(batch, channels, length)`` (only the length is needed;
    an int or a symbolic scalar); ``filters`` are those of the convolution being transposed.
    """
    where = "conv_transpose1d"
    input = _tensor(input, 3, "input", where)
    filters = _tensor(filters, 3, "filters", where)
    (dilation,) = _ints(input_dilation, 1, "input_dilation", where, 1)
    border = _border(border_mode, 1, where)
    border = border if isinstance(border, str) else (border[0], 0)
    out = T.nnet.conv2d_transpose(T.shape_padright(input, 1), T.shape_padright(filters, 1),
                                  (None, None, output_shape[2], 1), _hint(filter_shape, (1,)),
                                  border, (dilation, 1), filter_flip)
    return out[:, :, :, 0]


# --------------------------------------------------------------------- 3-d convolutions
def _depth_geometry(border: str | tuple, taps: int, dilation: int) -> tuple[int, Any]:
    """The depth padding per side, and the 2-d border mode for rows and columns."""
    span = (taps - 1) * dilation + 1
    if isinstance(border, str):
        depth = {"valid": 0, "full": span - 1, "half": span // 2}[border]
        return depth, border
    return border[0], border[1:]


def conv_transpose3d(input: Any, filters: Any, output_shape: Sequence,
                     filter_shape: Sequence | None = None, border_mode: Any = "valid",
                     input_dilation: Any = (1, 1, 1), filter_flip: bool = True,
                     filter_dilation: Any = (1, 1, 1)):
    """The gradient of :func:`conv3d` w.r.t. its input (a 3-d transposed convolution).

    Parameters
    ----------
    input : tensor-like
        5-d ``(batch, channels, depth, rows, cols)``: plays the role of conv3d's output.
    filters : tensor-like
        5-d, those of the conv3d being transposed: ``(input channels, output channels, depth,
        rows, cols)``; the depth must be known when the graph is built.
    output_shape : sequence of 5 entries
        The result's shape; its depth, rows and cols (ints or symbolic scalars) are needed.
    filter_shape : tuple, optional
    border_mode, filter_flip, filter_dilation
        Those of the conv3d being transposed.
    input_dilation : (int, int, int)
        The strides of the conv3d being transposed.
    """
    where = "conv_transpose3d"
    input = _tensor(input, 5, "input", where)
    filters = _tensor(filters, 5, "filters", where)
    if len(output_shape) != 5:
        raise ValueError(f"{where}: output_shape must have 5 entries, got {output_shape!r}")
    stride = _ints(input_dilation, 3, "input_dilation", where, 1)
    dilation = _ints(filter_dilation, 3, "filter_dilation", where, 1)
    taps = _static_size(filters, filter_shape, 2, "filters' depth", where)
    depth_pad, border2d = _depth_geometry(_border(border_mode, 3, where), taps, dilation[0])
    depth = output_shape[2]
    if _is_int(depth) and _is_int(input.type.shape[2]):
        span = (taps - 1) * dilation[0] + 1
        expected = (depth + 2 * depth_pad - span) // stride[0] + 1
        if expected != input.type.shape[2]:
            raise ValueError(f"{where}: a convolution of depth {depth} gives depth {expected}, "
                             f"but the input has depth {input.type.shape[2]}")
    # Every depth slice of every example, as one batch of images for the 2-d transpose.
    ys = input.dimshuffle(0, 2, 1, 3, 4)
    ys = ys.reshape((-1, input.shape[1], input.shape[3], input.shape[4]))
    filter_hint = None if filter_shape is None else tuple(filter_shape[:2]) + tuple(
        filter_shape[3:])
    out_channels = filters.shape[1]
    padded = T.zeros((input.shape[0], out_channels, depth + 2 * depth_pad, output_shape[3],
                      output_shape[4]), dtype=input.dtype)
    for t in range(taps):
        kernel = filters[:, :, taps - 1 - t] if filter_flip else filters[:, :, t]
        part = T.nnet.conv2d_transpose(ys, kernel, (None, None) + tuple(output_shape[3:]),
                                       filter_hint, border2d, stride[1:], filter_flip,
                                       dilation[1:])
        part = part.reshape((input.shape[0], input.shape[2], part.shape[1], part.shape[2],
                             part.shape[3])).dimshuffle(0, 2, 1, 3, 4)
        # The depth slices tap t read in the forward convolution.
        start = t * dilation[0]
        stop = start + (input.shape[2] - 1) * stride[0] + 1
        padded = T.inc_subtensor(padded[:, :, start:stop:stride[0]], part)
    if _is_int(depth_pad) and depth_pad == 0:
        return padded
    return padded[:, :, depth_pad:depth_pad + depth]


# ------------------------------------------------------------------------------ pooling
def pool_1d(input: Any, ws: Any, ignore_border: bool = True, stride: Any = None,
            pad: Any = 0, mode: str = "max"):
    """Pool the last axis of ``input`` (rank >= 2): :func:`pool_2d` with windows ``(ws, 1)``.

    ``ws``, ``stride`` and ``pad`` are ints (or 1-tuples); the other arguments are those of
    ``pool_2d``.
    """
    where = "pool_1d"
    (size,) = _ints(ws, 1, "ws", where, 1)
    (step,) = (size,) if stride is None else _ints(stride, 1, "stride", where, 1)
    (padding,) = _ints(pad, 1, "pad", where, 0)
    x = T.shape_padright(T.as_tensor_variable(input), 1)
    out = pool_2d(x, ws=(size, 1), ignore_border=ignore_border, stride=(step, 1),
                  pad=(padding, 0), mode=mode)
    return out[..., 0]


def pool_3d(input: Any, ws: Any, ignore_border: bool = True, stride: Any = None,
            pad: Any = (0, 0, 0), mode: str = "max"):
    """Pool the last three axes of ``input`` (rank >= 3) with windows of ``ws`` (Theano's
    ``pool_3d``): :func:`pool_2d` over rows and columns, then over the depth.

    ``ws``, ``stride`` (default ``ws``) and ``pad`` are 3-tuples (or ints); ``ignore_border``
    and ``mode`` are those of ``pool_2d``.
    """
    where = "pool_3d"
    x = T.as_tensor_variable(input)
    if x.ndim < 3:
        raise ValueError(f"{where}: input must have 3 or more axes, got {x} of type {x.type}")
    size = _ints(ws, 3, "ws", where, 1)
    step = size if stride is None else _ints(stride, 3, "stride", where, 1)
    padding = _ints(pad, 3, "pad", where, 0)
    planes = pool_2d(x, ws=size[1:], ignore_border=ignore_border, stride=step[1:],
                     pad=padding[1:], mode=mode)
    lead = [planes.shape[a] for a in range(x.ndim - 2)]   # ..., depth
    rows, cols = planes.shape[x.ndim - 2], planes.shape[x.ndim - 1]
    flat = planes.reshape(tuple(lead) + (rows * cols,))
    pooled = pool_2d(flat, ws=(size[0], 1), ignore_border=ignore_border, stride=(step[0], 1),
                     pad=(padding[0], 0), mode=mode)
    out_shape = tuple(lead[:-1]) + (pooled.shape[x.ndim - 3], rows, cols)
    return pooled.reshape(out_shape)
