"""Convolution: ``T.nnet.conv2d`` (NCHW) and its gradients, with Theano's semantics.

Three ops carry the whole family, and each one's gradient is made of the three:

- :class:`Conv2d` (``input``, ``filters``) -> output;
- :class:`Conv2dGradInputs` (``filters``, ``output_grad``, ``input_size``) -> the gradient
  w.r.t. the input, also the transposed convolution :func:`conv2d_transpose`;
- :class:`Conv2dGradWeights` (``input``, ``output_grad``, ``filter_size``) -> the gradient
  w.r.t. the filters.

They share their parameters (border mode, strides, filter flip, dilation, groups), so the
gradient ops are exact adjoints of the forward op: ``<conv2d(x, w), y> ==
<x, grad_inputs(w, y)> == <w, grad_weights(x, y)>``. The two sizes that the gradients cannot
recover from the output gradient (with a stride, several input sizes give one output size)
are passed as int64 vectors of two entries (rows, columns).

Along one axis, with filter size ``k``, dilation ``d``, padding ``p`` and stride ``s``, the
dilated filter spans ``dk = (k - 1) * d + 1`` and the output has
``(size + 2 * p - dk) // s + 1`` entries; ``'half'`` pads ``dk // 2`` and ``'full'`` pads
``dk - 1`` on each side, as Theano does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from exprc.configuration import config
from exprc.errors import ExprcShapeError, ExprcTypeError, build_error
from exprc.graph.ir import Apply, Op
from exprc.tensor.basic import stack
from exprc.tensor.math import cast
from exprc.tensor.params import choice_param, int_param
from exprc.tensor.scalar import upcast
from exprc.tensor.shape import specify_shape, static_int_values
from exprc.tensor.signal.pool import MAX_GEOMETRY, int_pair
from exprc.tensor.sizes import Size, add, floordiv, mul, sub
from exprc.tensor.type import FLOAT_DTYPES, INTEGER_DTYPES, TensorType
from exprc.tensor.variable import as_tensor_variable

__all__ = ["Conv2d", "Conv2dGradInputs", "Conv2dGradWeights", "conv2d", "conv2d_transpose",
           "conv_output_size"]

_BORDER_NAMES = ("valid", "full", "half")


def _pair(value: Any, what: str, minimum: int) -> tuple[int, int]:
    """``value`` (an int, or a pair of ints) as a pair checked by :func:`int_pair`."""
    items = value if isinstance(value, (tuple, list, np.ndarray)) else (value, value)
    return int_pair("conv2d", what, items, minimum)


def _border_mode(value: Any) -> str | tuple[int, int]:
    if isinstance(value, str):
        if value not in _BORDER_NAMES:
            raise ExprcTypeError(f"conv2d: border_mode must be one of {_BORDER_NAMES}, an int "
                                 f"or a pair of ints, got {value!r}")
        return choice_param("conv2d", "border_mode", value, _BORDER_NAMES)
    pads = _pair(value, "border_mode (padding)", 0)
    return "valid" if pads == (0, 0) else pads


def dilated_size(k: Size, dilation: int) -> Size:
    """The span of a filter of ``k`` taps spread ``dilation`` apart: ``(k - 1) * d + 1``."""
    if dilation == 1:
        return k  # as an expression, k - 1 + 1 would stay in the graph
    return add(mul(sub(k, 1), dilation), 1)


def conv_output_size(size: Size, k: Size, pad: str | int, stride: int, dilation: int) -> Size:
    """The output size along one axis: ``(size + 2 * pad - span) // stride + 1``.

    Parameters
    ----------
    size, k : int, None or int64 scalar tensor
        The input's and the filter's sizes along the axis: known, unknown, or expressions
        (see :mod:`exprc.tensor.sizes`).
    pad : str or int
        ``'valid'``, ``'full'``, ``'half'`` or a number of padded entries per side.
    stride, dilation : int

    Returns
    -------
    int, None or int64 scalar tensor
        None when ``size`` or ``k`` is unknown; an expression when either is one. An int may be
        < 1 when the filter does not fit in the padded input; callers report it.
    """
    span = dilated_size(k, dilation)
    padded = add(size, mul(_span_padding(pad, span), 2))
    return add(floordiv(sub(padded, span), stride), 1)


def axis_padding(pad: str | int, k: Size, dilation: int) -> Size:
    """The number of entries padded on each side along one axis."""
    return _span_padding(pad, dilated_size(k, dilation))


def _span_padding(pad: str | int, span: Size) -> Size:
    """The padding per side of a border mode, for a dilated filter spanning ``span``."""
    if pad == "valid":
        return 0
    if pad == "full":
        return sub(span, 1)
    if pad == "half":
        return floordiv(span, 2)
    return int(pad)


class _ConvOp(Op):
    """The parameters shared by the three convolution ops, and their checks."""

    abstract = True
    __props__ = ("border_mode", "subsample", "filter_flip", "filter_dilation", "num_groups")
    _DEFAULTS = ("valid", (1, 1), True, (1, 1), 1)

    def __init__(self, border_mode: Any = "valid", subsample: Any = (1, 1),
                 filter_flip: bool = True, filter_dilation: Any = (1, 1), num_groups: int = 1):
        self.border_mode = _border_mode(border_mode)
        self.subsample = _pair(subsample, "subsample", 1)
        self.filter_flip = bool(filter_flip)
        self.filter_dilation = _pair(filter_dilation, "filter_dilation", 1)
        if isinstance(num_groups, (bool, np.bool_)) or not isinstance(
                num_groups, (int, np.integer)) or not 1 <= num_groups <= MAX_GEOMETRY:
            raise ExprcTypeError(f"conv2d: num_groups must be an int in [1, 2**31 - 1], got "
                                 f"{num_groups!r}")
        self.num_groups = int_param("conv2d", "num_groups", num_groups)

    def __str__(self) -> str:
        # Only the parameters that differ from Theano's defaults, so messages stay short.
        args = ", ".join(f"{p}={getattr(self, p)!r}" for p, d in zip(self.__props__,
                                                                     self._DEFAULTS)
                         if getattr(self, p) != d)
        return f"{type(self).__name__}{{{args}}}" if args else type(self).__name__

    __repr__ = __str__

    def axis_pad(self, axis: int) -> str | int:
        """The border mode along spatial ``axis`` (0: rows, 1: columns)."""
        mode = self.border_mode
        return mode if isinstance(mode, str) else mode[axis]

    def pads(self, kernel: Sequence[int]) -> tuple[int, int]:
        """Entries padded on each side of the rows and columns for a ``kernel`` (kh, kw)."""
        return tuple(axis_padding(self.axis_pad(a), kernel[a], self.filter_dilation[a])
                     for a in range(2))

    def output_sizes(self, image: Sequence, kernel: Sequence) -> list[Size]:
        """The output's (rows, cols) for an input of (rows, cols) and a kernel of (kh, kw),
        each an int, None or an int64 scalar expression (see :func:`conv_output_size`)."""
        return [conv_output_size(image[a], kernel[a], self.axis_pad(a), self.subsample[a],
                                 self.filter_dilation[a]) for a in range(2)]

    def input_channels(self, group_channels: Size) -> Size:
        """The input's channels, from the filters' channels per group."""
        return mul(group_channels, self.num_groups)

    def group_channels(self, channels: Size) -> Size:
        """The filters' channels per group, from the input's channels."""
        return floordiv(channels, self.num_groups)

    # ------------------------------------------------------------------ checks
    def _float4(self, var: Any, what: str, dtype: str | None = None):
        var = as_tensor_variable(var)
        if var.ndim != 4:
            raise build_error(ExprcShapeError, self, f"{what} {var} must be 4-d, got "
                              f"{var.type} of rank {var.ndim}")
        if var.dtype not in FLOAT_DTYPES:
            raise build_error(ExprcTypeError, self, f"{what} {var} must be float32 or float64, "
                              f"got {var.type}; cast it first")
        if dtype is not None and var.dtype != dtype:
            raise build_error(ExprcTypeError, self, f"{what} {var} of type {var.type} must "
                              f"have the dtype {dtype} of the other operand")
        return var

    def _size_vector(self, value: Any, what: str):
        var = as_tensor_variable(value)
        if var.dtype not in INTEGER_DTYPES or var.ndim != 1 or var.type.shape[0] not in (2,
                                                                                       None):
            raise build_error(ExprcTypeError, self, f"{what} must be an integer vector of 2 "
                              f"entries (rows, cols), got {var} of type {var.type}")
        if var.type.shape[0] is None:
            var = specify_shape(var, (2,))
        return cast(var, "int64") if var.dtype != "int64" else var

    def _grad_operands(self, operand: Any, what: str, output_grad: Any, size: Any,
                       size_what: str) -> tuple:
        """A gradient op's inputs: ``operand`` (the filters or the input) and the output
        gradient as 4-d tensors of the operand's float dtype, and ``size`` as an int64
        2-vector."""
        operand = self._float4(operand, what)
        output_grad = self._float4(output_grad, "output gradient", operand.dtype)
        return operand, output_grad, self._size_vector(size, size_what)

    def _check_channels(self, channels, filters) -> None:
        """Input channels against the filters' (out_channels, in_channels / groups)."""
        g = self.num_groups
        out_ch, group_ch = filters[0], filters[1]
        if channels is not None and channels % g:
            raise build_error(ExprcShapeError, self, f"{channels} input channels do not "
                              f"split into {g} groups")
        if out_ch is not None and out_ch % g:
            raise build_error(ExprcShapeError, self, f"{out_ch} filters (output channels) do "
                              f"not split into {g} groups")
        if None not in (channels, group_ch) and channels != group_ch * g:
            raise build_error(ExprcShapeError, self, f"the input has {channels} channels but "
                              f"the filters of shape {_fmt(filters)} expect {group_ch} per "
                              f"group x {g} group(s) = {group_ch * g}")

    def _check_fits(self, image, kernel, out) -> None:
        """The filter must have taps, and its dilated span fit in the padded input (known sizes
        only). Without taps the span is < 1: every executor refuses it (C and REFERENCE)."""
        for a, name in enumerate(("rows", "cols")):
            if isinstance(kernel[a], (int, np.integer)) and kernel[a] < 1:
                raise build_error(ExprcShapeError, self, f"empty filters of {kernel[a]} {name}: "
                                  f"a filter needs at least one row and one column")
            if out[a] is not None and out[a] < 1:
                raise build_error(ExprcShapeError, self, f"the filter ({kernel[a]} {name}, "
                                  f"dilation {self.filter_dilation[a]}) is larger than the "
                                  f"padded input ({image[a]} {name} + 2 x "
                                  f"{self.pads(kernel)[a]} padding)")


def _fmt(shape: Sequence) -> str:
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"


class Conv2d(_ConvOp):
    """A 2-d convolution of a batch of images (N, C, H, W) with filters
    (O, C / num_groups, kh, kw), giving (N, O, oh, ow). See :func:`conv2d`."""

    def make_node(self, image: Any, filters: Any) -> Apply:
        image = self._float4(image, "input")
        filters = self._float4(filters, "filters", image.dtype)
        ishape, fshape = image.type.shape, filters.type.shape
        self._check_channels(ishape[1], fshape)
        out = self.output_sizes(ishape[2:], fshape[2:])
        self._check_fits(ishape[2:], fshape[2:], out)
        out_type = TensorType(image.dtype, shape=(ishape[0], fshape[0], *out))
        return Apply(self, [image, filters], [out_type()])


class Conv2dGradInputs(_ConvOp):
    """The gradient of :class:`Conv2d` w.r.t. its input, from the filters (O, C / g, kh, kw),
    the output gradient (N, O, oh, ow) and the input's (H, W): (N, C, H, W). Also the
    transposed convolution (see :func:`conv2d_transpose`)."""

    def make_node(self, filters: Any, output_grad: Any, input_size: Any) -> Apply:
        filters, output_grad, input_size = self._grad_operands(
            filters, "filters", output_grad, input_size, "the input size")
        fshape, gshape = filters.type.shape, output_grad.type.shape
        if None not in (fshape[0], gshape[1]) and fshape[0] != gshape[1]:
            raise build_error(ExprcShapeError, self, f"the output gradient of shape "
                              f"{_fmt(gshape)} has {gshape[1]} channels but the filters of "
                              f"shape {_fmt(fshape)} make {fshape[0]}")
        self._check_channels(None, fshape)
        image = static_int_values(input_size)
        _check_output_size(self, image, fshape[2:], gshape)
        channels = self.input_channels(fshape[1])
        out_type = TensorType(filters.dtype, shape=(gshape[0], channels, *image))
        return Apply(self, [filters, output_grad, input_size], [out_type()])


class Conv2dGradWeights(_ConvOp):
    """The gradient of :class:`Conv2d` w.r.t. its filters, from the input (N, C, H, W), the
    output gradient (N, O, oh, ow) and the filters' (kh, kw): (O, C / g, kh, kw)."""

    def make_node(self, image: Any, output_grad: Any, filter_size: Any) -> Apply:
        image, output_grad, filter_size = self._grad_operands(
            image, "input", output_grad, filter_size, "the filter size")
        ishape, gshape = image.type.shape, output_grad.type.shape
        if None not in (ishape[0], gshape[0]) and ishape[0] != gshape[0]:
            raise build_error(ExprcShapeError, self, f"the input of shape {_fmt(ishape)} and "
                              f"the output gradient of shape {_fmt(gshape)} differ in batch "
                              f"size")
        kernel = static_int_values(filter_size)
        group_ch = self.group_channels(ishape[1])
        self._check_channels(ishape[1], (gshape[1], group_ch))
        _check_output_size(self, ishape[2:], kernel, gshape)
        out_type = TensorType(image.dtype, shape=(gshape[1], group_ch, *kernel))
        return Apply(self, [image, output_grad, filter_size], [out_type()])


def _check_output_size(op: _ConvOp, image, kernel, gshape) -> None:
    """The output gradient's (oh, ow) against those of the forward convolution."""
    out = op.output_sizes(image, kernel)
    op._check_fits(image, kernel, out)
    for a in range(2):
        if None not in (out[a], gshape[2 + a]) and out[a] != gshape[2 + a]:
            raise build_error(ExprcShapeError, op, f"the output gradient of shape "
                              f"{_fmt(gshape)} does not match the convolution of an input of "
                              f"{_fmt(image)} with a filter of {_fmt(kernel)}, which gives "
                              f"{_fmt(out)}")


# ---------------------------------------------------------------------- user-facing functions
def _float_pair(image: Any, filters: Any):
    """Both operands as tensors of their common float dtype (integers become floatX)."""
    image, filters = as_tensor_variable(image), as_tensor_variable(filters)
    dtypes = [v.dtype if v.dtype in FLOAT_DTYPES else config.floatX for v in (image, filters)]
    dtype = upcast(*dtypes)
    return (cast(image, dtype) if image.dtype != dtype else image,
            cast(filters, dtype) if filters.dtype != dtype else filters)


def _hinted(var, hint: Sequence | None, what: str):
    """``var`` with the static sizes of ``hint`` (a tuple with None allowed) added, after
    checking them against what ``var``'s type already knows."""
    if hint is None:
        return var
    hint = tuple(hint)
    if len(hint) != var.ndim:
        raise build_error(ExprcShapeError, "conv2d", f"{what} {hint} has {len(hint)} entries, "
                          f"but {var} of type {var.type} has rank {var.ndim}")
    merged = []
    for axis, (have, want) in enumerate(zip(var.type.shape, hint)):
        if want is not None and not isinstance(want, (int, np.integer)):
            want = None  # a symbolic size states nothing at graph-building time
        if None not in (have, want) and have != want:
            raise build_error(ExprcShapeError, "conv2d", f"{what} {hint} says size {want} on "
                              f"axis {axis}, but {var} of type {var.type} has {have}")
        merged.append(have if want is None else int(want))
    return specify_shape(var, tuple(merged))


def conv2d(input: Any, filters: Any, input_shape: Sequence | None = None,
           filter_shape: Sequence | None = None, border_mode: Any = "valid",
           subsample: Any = (1, 1), filter_flip: bool = True, filter_dilation: Any = (1, 1),
           num_groups: int = 1):
    """2-d convolution of a batch of multi-channel images (Theano's ``T.nnet.conv2d``).

    Parameters
    ----------
    input : tensor-like
        4-d float tensor (batch, channels, rows, cols).
    filters : tensor-like
        4-d float tensor (out_channels, channels / num_groups, filter rows, filter cols),
        with at least one filter row and column (filters without taps are an error).
    input_shape, filter_shape : tuple, optional
        Sizes known in advance (None for unknown entries). They are checked against the static
        shapes of ``input`` and ``filters`` (and at run time) and give the output's static
        shape.
    border_mode : {'valid', 'full', 'half'}, int or (int, int)
        ``'valid'``: no padding; ``'full'``: every partial overlap (pad the dilated filter size
        minus 1); ``'half'``: pad half the dilated filter size (the output keeps the input's
        size for odd filters and stride 1); an int or a pair: zero padding of rows and cols.
    subsample : (int, int)
        Strides.
    filter_flip : bool
        True (Theano's default) flips the filters: a true convolution. False computes the
        cross-correlation that most other libraries call convolution.
    filter_dilation : (int, int)
        Spacing between filter taps.
    num_groups : int
        Splits the input channels and the filters into groups convolved separately.

    Returns
    -------
    TensorVariable
        (batch, out_channels, out rows, out cols), where each output size is
        ``(size + 2 * pad - ((k - 1) * dilation + 1)) // stride + 1``.

    Examples
    --------
    >>> import numpy as np, exprc.tensor as T
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = np.ones((1, 1, 3, 3))
    >>> T.nnet.conv2d(x, w).eval()[0, 0]
    array([[45., 54.],
           [81., 90.]])
    """
    input, filters = _float_pair(input, filters)
    input = _hinted(input, input_shape, "input_shape")
    filters = _hinted(filters, filter_shape, "filter_shape")
    return Conv2d(border_mode, subsample, filter_flip, filter_dilation, num_groups)(input,
                                                                                   filters)


def conv2d_transpose(input: Any, filters: Any, output_shape: Sequence,
                     filter_shape: Sequence | None = None, border_mode: Any = "valid",
                     input_dilation: Any = (1, 1), filter_flip: bool = True,
                     filter_dilation: Any = (1, 1), num_groups: int = 1):
    """The transposed convolution ("deconvolution"): the gradient of :func:`conv2d` w.r.t.
    its input, as Theano's ``T.nnet.conv2d_transpose`` (same argument order).

    Parameters
    ----------
    input : tensor-like
        4-d float tensor (batch, out_channels, rows, cols): plays the role of conv2d's output.
    filters : tensor-like
        4-d float tensor (out_channels, channels / num_groups, filter rows, filter cols), as
        for the conv2d being transposed.
    output_shape : sequence of 4 entries
        The result's shape (batch, channels, rows, cols); ints or symbolic scalars. Only rows
        and cols are needed (a stride makes them ambiguous); known ints among the others are
        checked.
    filter_shape : tuple, optional
        Sizes of ``filters`` known in advance, as in :func:`conv2d`.
    border_mode, filter_flip, filter_dilation, num_groups
        As in :func:`conv2d`.
    input_dilation : (int, int)
        The strides of the conv2d being transposed (the spacing of ``input``'s entries in the
        result).

    Returns
    -------
    TensorVariable
        (batch, channels, rows, cols).
    """
    input, filters = _float_pair(input, filters)
    filters = _hinted(filters, filter_shape, "filter_shape")
    if len(output_shape) != 4:
        raise build_error(ExprcShapeError, "conv2d_transpose", f"output_shape must have 4 "
                          f"entries (batch, channels, rows, cols), got {output_shape!r}")
    size = output_shape[2:]
    if all(isinstance(s, (int, np.integer)) for s in size):
        size = np.asarray(size, dtype="int64")
    else:
        size = stack([cast(as_tensor_variable(s), "int64") for s in size])
    op = Conv2dGradInputs(border_mode, input_dilation, filter_flip, filter_dilation,
                          num_groups)
    out = op(filters, input, size)
    known = [s if isinstance(s, (int, np.integer)) else None for s in output_shape[:2]]
    return _hinted(out, (*known, None, None), "output_shape")
