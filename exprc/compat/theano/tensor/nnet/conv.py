"""``theano.tensor.nnet.conv``: the old ``conv2d(input, filters, image_shape, filter_shape,
border_mode, subsample)`` (a true convolution, 'valid' or 'full')."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exprc.tensor.nnet.conv import conv2d as _conv2d

__all__ = ["conv2d"]


def conv2d(input: Any, filters: Any, image_shape: Sequence | None = None,
           filter_shape: Sequence | None = None, border_mode: str = "valid",
           subsample: Any = (1, 1), **kargs: Any):
    """Theano's legacy ``conv.conv2d``; the tuning arguments (``unroll_batch``, ``imshp``,
    ...) are accepted and ignored."""
    if border_mode not in ("valid", "full"):
        raise ValueError(f"conv.conv2d: border_mode must be 'valid' or 'full', got "
                         f"{border_mode!r}")
    return _conv2d(input, filters, input_shape=image_shape, filter_shape=filter_shape,
                   border_mode=border_mode, subsample=subsample, filter_flip=True)
