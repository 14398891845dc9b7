"""``theano.tensor.nnet.abstract_conv``: Theano 1.0's ``conv2d`` (``T.nnet.conv2d``)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from exprc.tensor.nnet.conv import conv2d as _conv2d
from exprc.tensor.nnet.conv import conv2d_transpose

__all__ = ["conv2d", "conv2d_transpose"]


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
