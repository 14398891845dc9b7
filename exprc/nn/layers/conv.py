"""Convolution layers, on a common :class:`BaseConvLayer`: :class:`Conv1DLayer`,
:class:`Conv2DLayer`, :class:`Conv3DLayer`, the transposed convolutions
:class:`TransposedConv1DLayer`, :class:`TransposedConv2DLayer` and
:class:`TransposedConv3DLayer` (``Deconv1DLayer``, ``Deconv2DLayer`` and ``Deconv3DLayer`` are
the same classes), and :class:`DilatedConv2DLayer`.

The 2-d layers use ``T.nnet.conv2d`` and ``T.nnet.conv2d_transpose``. exprc has no 1-d or 3-d
convolution op: those layers use the exact compositions of 2-d convolutions in
:mod:`exprc.nn.extensions`.

>>> from exprc.nn.layers import InputLayer, Conv3DLayer, TransposedConv2DLayer
>>> Conv3DLayer(InputLayer((None, 1, 8, 28, 28)), 4, 3, pad='same').output_shape
(None, 4, 8, 28, 28)
>>> TransposedConv2DLayer(InputLayer((None, 4, 14, 14)), 1, 3, stride=2).output_shape
(None, 1, 29, 29)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import exprc.tensor as T
from exprc.nn import init, nonlinearities
from exprc.nn.extensions import conv1d, conv3d, conv_transpose1d, conv_transpose3d
from exprc.nn.layers.base import Layer
from exprc.nn.utils import as_tuple

__all__ = [
    "BaseConvLayer",
    "Conv1DLayer",
    "Conv2DLayer",
    "Conv3DLayer",
    "Deconv1DLayer",
    "Deconv2DLayer",
    "Deconv3DLayer",
    "DilatedConv2DLayer",
    "TransposedConv1DLayer",
    "TransposedConv2DLayer",
    "TransposedConv3DLayer",
    "conv_input_length",
    "conv_output_length",
]

_INT = (int, np.integer)


def _padding(pad: Any, filter_size: int) -> int:
    """The zeros added on each side for ``pad`` ('valid', 'full', 'same' or an int)."""
    if pad == "valid":
        return 0
    if pad == "full":
        return filter_size - 1
    if pad == "same":
        return filter_size // 2
    if isinstance(pad, _INT):
        return int(pad)
    raise ValueError(f"Invalid pad: {pad!r}")


def conv_output_length(input_length: int | None, filter_size: int, stride: int,
                       pad: Any = 0) -> int | None:
    """The output size of a convolution along one axis (None when the input's is unknown).

    Parameters
    ----------
    input_length : int or None
    filter_size, stride : int
    pad : int, 'valid', 'full' or 'same'
        Zeros added on each side; 'valid' is 0, 'full' is ``filter_size - 1`` and 'same'
        keeps the size (for odd filter sizes).

    Examples
    --------
    >>> conv_output_length(28, 5, 1, 'valid'), conv_output_length(28, 5, 2, 'same')
    (24, 14)
    """
    if input_length is None:
        return None
    if pad == "same":
        output_length = input_length
    else:
        output_length = input_length + 2 * _padding(pad, filter_size) - filter_size + 1
    return (output_length + stride - 1) // stride


def conv_input_length(output_length: Any, filter_size: int, stride: int, pad: Any = 0) -> Any:
    """The smallest input size a convolution maps to ``output_length`` along one axis: the
    output size of the transposed convolution.

    A strided convolution maps up to ``stride - 1`` larger inputs to the same size.
    ``output_length`` may be None (the result is None) or a symbolic scalar.

    Examples
    --------
    >>> conv_input_length(14, 3, 2, 'valid'), conv_input_length(14, 3, 1, 'same')
    (29, 14)
    """
    if output_length is None:
        return None
    return (output_length - 1) * stride - 2 * _padding(pad, filter_size) + filter_size


def _normalise_pad(pad: Any, filter_size: tuple, n: int) -> Any:
    if pad == "valid":
        return (0,) * n
    if isinstance(pad, str):
        if pad not in ("full", "same"):
            raise ValueError(f"Invalid pad: {pad!r} (an int, {n} ints, 'valid', 'full' or "
                             f"'same')")
        if pad == "same" and any(s % 2 == 0 for s in filter_size):
            raise NotImplementedError("`same` padding requires odd filter size.")
        return pad
    pads = as_tuple(pad, n, _INT)
    if any(p < 0 for p in pads):
        raise ValueError(f"Invalid pad: {pad!r} (paddings must be >= 0)")
    return tuple(int(p) for p in pads)


def _positive_ints(value: Any, n: int, what: str) -> tuple:
    values = as_tuple(value, n, _INT)
    if any(v < 1 for v in values):
        raise ValueError(f"{what} must be >= 1, got {value!r}")
    return tuple(int(v) for v in values)


class BaseConvLayer(Layer):
    """An ``n``-d convolution of ``(batch, channels, <n spatial axes>)``, plus a bias, through
    a nonlinearity; subclasses implement :meth:`convolve`.

    Parameters
    ----------
    incoming : Layer or tuple
        Its output has ``n + 2`` axes; the number of channels must be known.
    num_filters : int
        The number of filters (output channels).
    filter_size, stride : int or tuple of n ints
    pad : int, tuple of n ints, 'valid', 'full' or 'same'
        Zeros added on both sides of each spatial axis: 'valid' is 0, 'full' is
        ``filter_size - 1`` (every partial overlap) and 'same' is ``filter_size // 2`` (the
        size is kept at stride 1; odd filter sizes only).
    untie_biases : bool
        One bias per filter and output position (``b`` of shape ``(num_filters,) +
        output_shape[2:]``) rather than one per filter.
    W : initializer, array or expression
        Filters ``(num_filters, channels / num_groups) + filter_size``.
    b : initializer, array, expression or None
        The biases (not regularizable), or None for none.
    nonlinearity : callable or None
        Default rectify; None means linear.
    flip_filters : bool
        True flips the filters (a true convolution), False computes a correlation.
    num_groups : int
        Splits the channels and the filters into groups that do not mix; both numbers must be
        multiples of it.
    n : int, optional
        The number of spatial axes (default: the input's rank minus 2).
    """

    #: The attribute holding the normalized ``pad`` argument (``crop`` for transposes).
    _padding_name = "pad"

    def __init__(self, incoming: Any, num_filters: int, filter_size: Any, stride: Any = 1,
                 pad: Any = 0, untie_biases: bool = False,
                 W: Any = init.GlorotUniform(),  # noqa: B008
                 b: Any = init.Constant(0.),  # noqa: B008
                 nonlinearity: Callable | None = nonlinearities.rectify,
                 flip_filters: bool = True, num_groups: int = 1, n: int | None = None,
                 **kwargs):
        super().__init__(incoming, **kwargs)
        self.nonlinearity = nonlinearities.identity if nonlinearity is None else nonlinearity
        if n is None:
            n = len(self.input_shape) - 2
        if n < 1 or n != len(self.input_shape) - 2:
            raise ValueError(f"Tried to create a {n}D convolution layer with input shape "
                             f"{self.input_shape}. Expected {n + 2} input dimensions "
                             f"(batchsize, channels, {n} spatial dimensions).")
        self.n = n
        if not isinstance(num_filters, _INT) or num_filters < 1:
            raise ValueError(f"num_filters must be a positive int, got {num_filters!r}")
        self.num_filters = int(num_filters)
        self.filter_size = _positive_ints(filter_size, n, "filter_size")
        self.stride = _positive_ints(stride, n, "stride")
        self.flip_filters = flip_filters
        self.untie_biases = untie_biases
        setattr(self, self._padding_name, _normalise_pad(pad, self.filter_size, n))
        channels = self.input_shape[1]
        if channels is None:
            raise ValueError(f"{type(self).__name__} needs the number of input channels "
                             f"known, got input shape {self.input_shape}")
        if not isinstance(num_groups, _INT) or num_groups < 1:
            raise ValueError(f"num_groups must be a positive int, got {num_groups!r}")
        if channels % num_groups or self.num_filters % num_groups:
            raise ValueError(f"num_groups={num_groups} must divide both the number of input "
                             f"channels ({channels}) and num_filters ({self.num_filters})")
        self.num_groups = int(num_groups)
        sizes = self.output_shape[2:]
        if any(s is not None and s < 1 for s in sizes):
            raise ValueError(f"{type(self).__name__}: filters of {self.filter_size} do not fit "
                             f"an input of {self.input_shape} (output sizes {sizes})")
        self.W = self.add_param(W, self.get_W_shape(), name="W")
        if b is None:
            self.b = None
        else:
            shape = (self.num_filters,) + (tuple(sizes) if untie_biases else ())
            self.b = self.add_param(b, shape, name="b", regularizable=False)

    def get_W_shape(self) -> tuple:
        """The shape of the filters ``W``."""
        return (self.num_filters, self.input_shape[1] // self.num_groups) + self.filter_size

    def get_output_shape_for(self, input_shape):
        pad = self.pad if isinstance(self.pad, tuple) else (self.pad,) * self.n
        return (input_shape[0], self.num_filters) + tuple(
            conv_output_length(size, f, s, p)
            for size, f, s, p in zip(input_shape[2:], self.filter_size, self.stride, pad))

    def convolve(self, input: T.TensorVariable, **kwargs) -> T.TensorVariable:
        """The convolution of ``input`` with ``W`` (no bias, no nonlinearity)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement convolve(); use "
                                  f"a subclass such as Conv2DLayer")

    def get_output_for(self, input, **kwargs):
        conved = self.convolve(input, **kwargs)
        if self.b is None:
            activation = conved
        elif self.untie_biases:
            activation = conved + T.shape_padleft(self.b, 1)
        else:
            activation = conved + self.b.dimshuffle(("x", 0) + ("x",) * self.n)
        return self.nonlinearity(activation)


class _ForwardConvLayer(BaseConvLayer):
    """A convolution computed by a Theano-style ``convolution`` function."""

    def __init__(self, incoming, num_filters, filter_size, stride, pad, untie_biases, W, b,
                 nonlinearity, flip_filters, num_groups, convolution, n, default, **kwargs):
        super().__init__(incoming, num_filters, filter_size, stride, pad, untie_biases, W, b,
                         nonlinearity, flip_filters, num_groups, n=n, **kwargs)
        self.convolution = default if convolution is None else convolution

    def convolve(self, input, **kwargs):
        border_mode = "half" if self.pad == "same" else self.pad
        extra = {"num_groups": self.num_groups} if self.num_groups > 1 else {}
        # The batch size is left free: a network accepts batches of any size.
        return self.convolution(input, self.W, (None,) + tuple(self.input_shape[1:]),
                                self.get_W_shape(), subsample=self.stride,
                                border_mode=border_mode, filter_flip=self.flip_filters, **extra)


class Conv1DLayer(_ForwardConvLayer):
    """1D convolution of ``(batch, channels, length)``; see :class:`BaseConvLayer`.

    ``convolution`` (default :func:`exprc.nn.extensions.conv1d`) is called as Lasagne's
    ``conv1d_mc0``.
    """

    def __init__(self, incoming: Any, num_filters: int, filter_size: Any, stride: Any = 1,
                 pad: Any = 0, untie_biases: bool = False,
                 W: Any = init.GlorotUniform(),  # noqa: B008
                 b: Any = init.Constant(0.),  # noqa: B008
                 nonlinearity: Callable | None = nonlinearities.rectify,
                 flip_filters: bool = True, num_groups: int = 1,
                 convolution: Callable | None = conv1d, **kwargs):
        super().__init__(incoming, num_filters, filter_size, stride, pad, untie_biases, W, b,
                         nonlinearity, flip_filters, num_groups, convolution, 1, conv1d,
                         **kwargs)


class Conv2DLayer(_ForwardConvLayer):
    """2D convolution of ``(batch, channels, rows, columns)``; see :class:`BaseConvLayer`.

    ``convolution`` has the signature of ``T.nnet.conv2d`` (the default).

    Examples
    --------
    >>> from exprc.nn.layers import InputLayer, Conv2DLayer
    >>> Conv2DLayer(InputLayer((None, 1, 28, 28)), 20, 5).output_shape
    (None, 20, 24, 24)
    """

    def __init__(self, incoming: Any, num_filters: int, filter_size: Any, stride: Any = (1, 1),
                 pad: Any = 0, untie_biases: bool = False,
                 W: Any = init.GlorotUniform(),  # noqa: B008
                 b: Any = init.Constant(0.),  # noqa: B008
                 nonlinearity: Callable | None = nonlinearities.rectify,
                 flip_filters: bool = True, num_groups: int = 1,
                 convolution: Callable | None = T.nnet.conv2d, **kwargs):
        super().__init__(incoming, num_filters, filter_size, stride, pad, untie_biases, W, b,
                         nonlinearity, flip_filters, num_groups, convolution, 2,
                         T.nnet.conv2d, **kwargs)


class Conv3DLayer(_ForwardConvLayer):
    """3D convolution of ``(batch, channels, depth, rows, columns)``; see
    :class:`BaseConvLayer`.

    ``convolution`` has the signature of Theano's ``T.nnet.conv3d``; the default,
    :func:`exprc.nn.extensions.conv3d`, sums 2-d convolutions over the filters' depth taps.
    """

    def __init__(self, incoming: Any, num_filters: int, filter_size: Any,
                 stride: Any = (1, 1, 1), pad: Any = 0, untie_biases: bool = False,
                 W: Any = init.GlorotUniform(),  # noqa: B008
                 b: Any = init.Constant(0.),  # noqa: B008
                 nonlinearity: Callable | None = nonlinearities.rectify,
                 flip_filters: bool = True, num_groups: int = 1,
                 convolution: Callable | None = conv3d, **kwargs):
        super().__init__(incoming, num_filters, filter_size, stride, pad, untie_biases, W, b,
                         nonlinearity, flip_filters, num_groups, convolution, 3, conv3d,
                         **kwargs)


# ------------------------------------------------------------------ transposed convolutions
def _output_size(output_size: Any, n: int) -> tuple | None:
    """``output_size`` as n entries (ints or symbolic scalars), or None."""
    if output_size is None:
        return None
    if isinstance(output_size, T.TensorVariable):
        if output_size.ndim == 0:
            return (output_size,) * n
        if output_size.ndim != 1:
            raise ValueError(f"a symbolic output_size must be a vector of {n} sizes, got "
                             f"{output_size}")
        return tuple(output_size[a] for a in range(n))
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (
        output_size,) * n
    if len(sizes) != n:
        raise ValueError(f"output_size must have {n} entries, got {output_size!r}")
    for s in sizes:
        if isinstance(s, _INT):
            if s < 1:
                raise ValueError(f"output_size must be positive, got {output_size!r}")
        elif not (isinstance(s, T.TensorVariable) and s.ndim == 0):
            raise ValueError(f"output_size entries must be ints or symbolic scalars, got "
                             f"{output_size!r}")
    return tuple(int(s) if isinstance(s, _INT) else s for s in sizes)


class _TransposedConvLayer(BaseConvLayer):
    """The backward pass of a convolution w.r.t. its input (a transposed convolution)."""

    _padding_name = "crop"

    def __init__(self, incoming, num_filters, filter_size, stride, crop, untie_biases, W, b,
                 nonlinearity, flip_filters, output_size, n, transpose, **kwargs):
        # Set before the base class asks for the output shape (for untied biases).
        self.output_size = _output_size(output_size, n)
        self._transpose = transpose
        super().__init__(incoming, num_filters, filter_size, stride, crop, untie_biases, W, b,
                         nonlinearity, flip_filters, 1, n=n, **kwargs)
        self._check_output_size()

    def _crops(self) -> tuple:
        return self.crop if isinstance(self.crop, tuple) else (self.crop,) * self.n

    def _check_output_size(self) -> None:
        if self.output_size is None:
            return
        for size, f, s, c, given in zip(self.input_shape[2:], self.filter_size, self.stride,
                                        self._crops(), self.output_size):
            if isinstance(given, _INT) and size is not None and conv_output_length(
                    given, f, s, c) != size:
                raise ValueError(f"output_size={self.output_size} is not a size the "
                                 f"convolution being transposed maps to the input's "
                                 f"{self.input_shape[2:]}")

    def get_W_shape(self) -> tuple:
        """The shape of ``W``: ``(input channels, num_filters) + filter_size`` (swapped
        compared to a forward convolution, so the layers can share weights)."""
        return (self.input_shape[1], self.num_filters) + self.filter_size

    def get_output_shape_for(self, input_shape):
        if self.output_size is not None:
            return (input_shape[0], self.num_filters) + tuple(
                s if isinstance(s, _INT) else None for s in self.output_size)
        return (input_shape[0], self.num_filters) + tuple(
            conv_input_length(size, f, s, c)
            for size, f, s, c in zip(input_shape[2:], self.filter_size, self.stride,
                                     self._crops()))

    def convolve(self, input, **kwargs):
        crops = self._crops()
        sizes = list(self.output_size or self.output_shape[2:])
        for a, size in enumerate(sizes):
            if size is None:
                sizes[a] = conv_input_length(input.shape[2 + a], self.filter_size[a],
                                             self.stride[a], crops[a])
        border_mode = "half" if self.crop == "same" else self.crop
        return self._transpose(input, self.W, (None, None) + tuple(sizes), self.get_W_shape(),
                               border_mode, self.stride, not self.flip_filters)


_TRANSPOSED_DOC = """{n}D transposed convolution (the backward pass of a convolution w.r.t. its
    input, also called fractionally-strided convolution or deconvolution).

    It dilates the input by ``stride`` (``stride - 1`` zeros between entries), pads it with
    ``filter_size - 1 - crop`` zeros and correlates it with the filters; {how}.

    Parameters
    ----------
    incoming, num_filters, filter_size, untie_biases, b, nonlinearity
        As for :class:`BaseConvLayer`.
    stride : int or tuple of {n} ints
        The dilation of the input: larger strides give larger outputs.
    crop : int, tuple of {n} ints, 'valid', 'full' or 'same'
        The counterpart of a convolution's ``pad``: 0 ('valid') gives the full transposed
        convolution, 'full' crops ``filter_size - 1`` and 'same' ``filter_size // 2``.
    W : initializer, array or expression
        Shape ``(input channels, num_filters) + filter_size``: the first two sizes are
        swapped compared to a forward convolution, so a transposed layer can share the
        weights of the convolution it inverts.
    flip_filters : bool
        Default False: a correlation, the transpose of a convolution with
        ``flip_filters=True``.
    output_size : int, tuple of ints or symbolic, optional
        Which of the output sizes a strided convolution could have come from; by default the
        smallest.
    """


class TransposedConv1DLayer(_TransposedConvLayer):
    __doc__ = _TRANSPOSED_DOC.format(n=1, how="computed by :func:`exprc.nn.extensions."
                                               "conv_transpose1d`")

    def __init__(self, incoming: Any, num_filters: int, filter_size: Any, stride: Any = 1,
                 crop: Any = 0, untie_biases: bool = False,
                 W: Any = init.GlorotUniform(),  # noqa: B008
                 b: Any = init.Constant(0.),  # noqa: B008
                 nonlinearity: Callable | None = nonlinearities.rectify,
                 flip_filters: bool = False, output_size: Any = None, **kwargs):
        super().__init__(incoming, num_filters, filter_size, stride, crop, untie_biases, W, b,
                         nonlinearity, flip_filters, output_size, 1, conv_transpose1d,
                         **kwargs)


class TransposedConv2DLayer(_TransposedConvLayer):
    __doc__ = _TRANSPOSED_DOC.format(n=2, how="computed by ``T.nnet.conv2d_transpose``")

    def __init__(self, incoming: Any, num_filters: int, filter_size: Any,
                 stride: Any = (1, 1), crop: Any = 0, untie_biases: bool = False,
                 W: Any = init.GlorotUniform(),  # noqa: B008
                 b: Any = init.Constant(0.),  # noqa: B008
                 nonlinearity: Callable | None = nonlinearities.rectify,
                 flip_filters: bool = False, output_size: Any = None, **kwargs):
        super().__init__(incoming, num_filters, filter_size, stride, crop, untie_biases, W, b,
                         nonlinearity, flip_filters, output_size, 2, T.nnet.conv2d_transpose,
                         **kwargs)


class TransposedConv3DLayer(_TransposedConvLayer):
    __doc__ = _TRANSPOSED_DOC.format(n=3, how="computed by :func:`exprc.nn.extensions."
                                               "conv_transpose3d`")

    def __init__(self, incoming: Any, num_filters: int, filter_size: Any,
                 stride: Any = (1, 1, 1), crop: Any = 0, untie_biases: bool = False,
                 W: Any = init.GlorotUniform(),  # noqa: B008
                 b: Any = init.Constant(0.),  # noqa: B008
                 nonlinearity: Callable | None = nonlinearities.rectify,
                 flip_filters: bool = False, output_size: Any = None, **kwargs):
        super().__init__(incoming, num_filters, filter_size, stride, crop, untie_biases, W, b,
                         nonlinearity, flip_filters, output_size, 3, conv_transpose3d,
                         **kwargs)


Deconv1DLayer = TransposedConv1DLayer
Deconv2DLayer = TransposedConv2DLayer
Deconv3DLayer = TransposedConv3DLayer


class DilatedConv2DLayer(BaseConvLayer):
    """2D convolution with dilated filters (``dilation - 1`` zeros between taps), at stride 1.

    Parameters
    ----------
    incoming, num_filters, filter_size, untie_biases, b, nonlinearity
        As for :class:`BaseConvLayer`.
    dilation : int or (int, int)
    pad : int, (int, int), 'valid', 'full' or 'same'
        As for :class:`BaseConvLayer`, for the dilated filter size ``(filter_size - 1) *
        dilation + 1``. Lasagne accepts only 0 ('valid'); exprc accepts all of them.
    W : initializer, array or expression
        Shape ``(input channels, num_filters) + filter_size``, as for a transposed
        convolution.
    flip_filters : bool
        Default False (a correlation). Lasagne accepts only False; exprc accepts True too.
    """

    def __init__(self, incoming: Any, num_filters: int, filter_size: Any,
                 dilation: Any = (1, 1), pad: Any = 0, untie_biases: bool = False,
                 W: Any = init.GlorotUniform(),  # noqa: B008
                 b: Any = init.Constant(0.),  # noqa: B008
                 nonlinearity: Callable | None = nonlinearities.rectify,
                 flip_filters: bool = False, **kwargs):
        self.dilation = _positive_ints(dilation, 2, "dilation")
        super().__init__(incoming, num_filters, filter_size, 1, pad, untie_biases, W, b,
                         nonlinearity, flip_filters, 1, n=2, **kwargs)
        del self.stride   # always 1: a dilated convolution has no stride argument

    def get_W_shape(self) -> tuple:
        """``(input channels, num_filters) + filter_size``."""
        return (self.input_shape[1], self.num_filters) + self.filter_size

    def get_output_shape_for(self, input_shape):
        pad = self.pad if isinstance(self.pad, tuple) else (self.pad,) * 2
        return (input_shape[0], self.num_filters) + tuple(
            conv_output_length(size, (f - 1) * d + 1, 1, p)
            for size, f, d, p in zip(input_shape[2:], self.filter_size, self.dilation, pad))

    def convolve(self, input, **kwargs):
        border_mode = "half" if self.pad == "same" else self.pad
        filters = self.W.dimshuffle(1, 0, 2, 3)
        return T.nnet.conv2d(input, filters, (None,) + tuple(self.input_shape[1:]),
                             (self.num_filters, self.input_shape[1]) + self.filter_size,
                             border_mode, (1, 1), self.flip_filters, self.dilation)
