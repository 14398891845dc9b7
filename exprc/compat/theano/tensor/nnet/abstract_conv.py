"""``theano.tensor.nnet.abstract_conv``: Theano 1.0's ``conv2d`` (``T.nnet.conv2d``), its
gradients ``conv2d_grad_wrt_inputs`` and ``conv2d_grad_wrt_weights``, the callable classes
``AbstractConv2d``, ``AbstractConv2d_gradInputs`` and ``AbstractConv2d_gradWeights`` with
Theano's constructor arguments, and ``conv3d`` (exprc's, built from the 2-d convolution)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from exprc.tensor.basic import stack
from exprc.tensor.math import cast
from exprc.tensor.nnet.conv import Conv2dGradInputs, Conv2dGradWeights, conv2d_transpose
from exprc.tensor.nnet.conv import conv2d as _conv2d
from exprc.tensor.nnet.conv3d import conv3d
from exprc.tensor.variable import as_tensor_variable

__all__ = ["AbstractConv2d", "AbstractConv2d_gradInputs", "AbstractConv2d_gradWeights",
           "conv2d", "conv2d_grad_wrt_inputs", "conv2d_grad_wrt_weights", "conv2d_transpose",
           "conv3d"]


def conv2d(input: Any, filters: Any, input_shape: Sequence | None = None,
           filter_shape: Sequence | None = None, border_mode: Any = "valid",
           subsample: Any = (1, 1), filter_flip: bool = True,
           image_shape: Sequence | None = None, filter_dilation: Any = (1, 1),
           num_groups: int = 1, unshared: bool = False, **kwargs: Any):
    """2-d convolution of ``input`` (batch, channels, rows, cols) with ``filters`` (out
    channels, channels, rows, cols), Theano 1.0's signature over
    :func:`exprc.tensor.nnet.conv2d`.

    ``image_shape`` is Theano's deprecated name of ``input_shape``. ``unshared=True`` is not
    supported. Other keyword arguments (the old ``conv.conv2d``'s) are ignored with a warning,
    as in Theano.
    """
    if unshared:
        raise NotImplementedError("conv2d(unshared=True) is not supported by exprc")
    if "imshp_logical" in kwargs or "kshp_logical" in kwargs:
        raise ValueError("Keyword arguments 'imshp_logical' and 'kshp_logical' for conv2d "
                         "are not supported anymore (and have not been a reliable way to "
                         "perform upsampling). That feature is still available by calling "
                         "conv2d_transpose.")
    if kwargs:
        warnings.warn(f"{sorted(kwargs)} are now deprecated in `tensor.nnet.abstract_conv."
                      "conv2d` interface and will be ignored.", stacklevel=2)
    if image_shape is not None:
        if input_shape is not None:
            raise ValueError("conv2d: give input_shape or image_shape, not both")
        input_shape = image_shape
    return _conv2d(input, filters, input_shape=input_shape, filter_shape=filter_shape,
                   border_mode=border_mode, subsample=subsample, filter_flip=filter_flip,
                   filter_dilation=filter_dilation, num_groups=num_groups)


def _size_vector(sizes: Sequence, what: str):
    """The last two entries of ``sizes`` (ints or symbolic scalars) as an int64 vector."""
    if sizes is None or len(sizes) < 2:
        raise ValueError(f"{what} must give the two image sizes (rows, cols), got {sizes!r}")
    rows, cols = sizes[-2], sizes[-1]
    if all(isinstance(s, (int, np.integer)) for s in (rows, cols)):
        return np.asarray([rows, cols], dtype="int64")
    return stack([cast(as_tensor_variable(s), "int64") for s in (rows, cols)])


def _unshared(unshared: bool) -> None:
    if unshared:
        raise NotImplementedError("unshared convolutions (unshared=True) are not supported by "
                                  "exprc")


class AbstractConv2d:
    """Theano's ``AbstractConv2d(imshp, kshp, border_mode, subsample, filter_flip,
    filter_dilation, num_groups, unshared)``, called as ``op(img, kern)``."""

    def __init__(self, imshp: Sequence | None = None, kshp: Sequence | None = None,
                 border_mode: Any = "valid", subsample: Any = (1, 1),
                 filter_flip: bool = True, filter_dilation: Any = (1, 1), num_groups: int = 1,
                 unshared: bool = False):
        _unshared(unshared)
        self.imshp, self.kshp = imshp, kshp
        self.border_mode, self.subsample = border_mode, subsample
        self.filter_flip, self.filter_dilation = filter_flip, filter_dilation
        self.num_groups = num_groups

    def _params(self) -> tuple:
        return (self.border_mode, self.subsample, self.filter_flip, self.filter_dilation,
                self.num_groups)

    def __call__(self, img: Any, kern: Any):
        return _conv2d(img, kern, input_shape=self.imshp, filter_shape=self.kshp,
                       border_mode=self.border_mode, subsample=self.subsample,
                       filter_flip=self.filter_flip, filter_dilation=self.filter_dilation,
                       num_groups=self.num_groups)


class AbstractConv2d_gradInputs(AbstractConv2d):
    """The gradient of :class:`AbstractConv2d` w.r.t. its input, called as
    ``op(kern, topgrad, shape)`` with ``shape`` the input's (rows, cols) (taken from
    ``imshp`` when omitted)."""

    def __call__(self, kern: Any, topgrad: Any, shape: Sequence | None = None):
        size = _size_vector(shape if shape is not None else self.imshp, "shape")
        return Conv2dGradInputs(*self._params())(kern, topgrad, size)


class AbstractConv2d_gradWeights(AbstractConv2d):
    """The gradient of :class:`AbstractConv2d` w.r.t. its filters, called as
    ``op(img, topgrad, shape)`` with ``shape`` the filters' (rows, cols) (taken from
    ``kshp`` when omitted)."""

    def __call__(self, img: Any, topgrad: Any, shape: Sequence | None = None):
        size = _size_vector(shape if shape is not None else self.kshp, "shape")
        return Conv2dGradWeights(*self._params())(img, topgrad, size)


def conv2d_grad_wrt_inputs(output_grad: Any, filters: Any, input_shape: Sequence,
                           filter_shape: Sequence | None = None, border_mode: Any = "valid",
                           subsample: Any = (1, 1), filter_flip: bool = True,
                           filter_dilation: Any = (1, 1), num_groups: int = 1,
                           unshared: bool = False):
    """The gradient of ``conv2d`` w.r.t. its input, given the output gradient, the filters and
    the input's shape (4 entries; ints or symbolic scalars), with Theano 1.0's signature."""
    _unshared(unshared)
    return conv2d_transpose(output_grad, filters, input_shape, filter_shape=filter_shape,
                            border_mode=border_mode, input_dilation=subsample,
                            filter_flip=filter_flip, filter_dilation=filter_dilation,
                            num_groups=num_groups)


def conv2d_grad_wrt_weights(input: Any, output_grad: Any, filter_shape: Sequence,
                            input_shape: Sequence | None = None, border_mode: Any = "valid",
                            subsample: Any = (1, 1), filter_flip: bool = True,
                            filter_dilation: Any = (1, 1), num_groups: int = 1,
                            unshared: bool = False):
    """The gradient of ``conv2d`` w.r.t. its filters, given the input, the output gradient and
    the filters' shape (4 entries; its last two are needed), with Theano 1.0's signature."""
    op = AbstractConv2d_gradWeights(input_shape, filter_shape, border_mode, subsample,
                                    filter_flip, filter_dilation, num_groups, unshared)
    return op(input, output_grad, filter_shape)
