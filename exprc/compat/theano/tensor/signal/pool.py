"""``theano.tensor.signal.pool``: ``pool_2d`` and ``pool_3d`` with Theano 1.0's arguments and
defaults."""

from __future__ import annotations

import warnings
from typing import Any

from exprc.nn.extensions import pool_3d as _pool_3d
from exprc.tensor.signal.pool import MODES, Pool
from exprc.tensor.signal.pool import pool_2d as _pool_2d

__all__ = ["MODES", "Pool", "pool_2d", "pool_3d"]


def _renamed(new: Any, old: Any, new_name: str, old_name: str, default: Any = None) -> Any:
    if old is not None:
        if new is not None:
            raise ValueError(f"pool_2d: give {new_name} or its deprecated name {old_name}, "
                             "not both")
        warnings.warn(f"pool_2d: the parameter {old_name!r} is deprecated; use {new_name!r}",
                      DeprecationWarning, stacklevel=3)
        return old
    return default if new is None else new


def pool_2d(input: Any, ws: Any = None, ignore_border: bool | None = None, stride: Any = None,
            pad: Any = None, mode: str = "max", ds: Any = None, st: Any = None,
            padding: Any = None):
    """Pool the last two axes of ``input`` with windows of ``ws`` (Theano 1.0's signature).

    ``ds``, ``st`` and ``padding`` are Theano's deprecated names of ``ws``, ``stride`` and
    ``pad``. As in Theano 1.0, ``ignore_border`` left out warns and means False (exprc's own
    :func:`exprc.tensor.signal.pool.pool_2d` defaults to True).
    """
    ws = _renamed(ws, ds, "ws", "ds")
    stride = _renamed(stride, st, "stride", "st")
    pad = _renamed(pad, padding, "pad", "padding", default=(0, 0))
    if ws is None:
        raise ValueError("pool_2d: ws (the window size) is required")
    if ignore_border is None:
        warnings.warn("pool_2d() will have the parameter ignore_border default value changed "
                      "to True (currently False). To have consistent behavior with all "
                      "Theano version, explicitly add the parameter ignore_border=True. On "
                      "the GPU, using ignore_border=True is needed to use cuDNN.",
                      stacklevel=2)
        ignore_border = False
    return _pool_2d(input, ws=tuple(ws), ignore_border=ignore_border,
                    stride=None if stride is None else tuple(stride), pad=tuple(pad),
                    mode=mode)


def pool_3d(input: Any, ws: Any = None, ignore_border: bool | None = None, stride: Any = None,
            pad: Any = (0, 0, 0), mode: str = "max"):
    """Pool the last three axes of ``input`` with windows of ``ws`` (Theano 1.0's
    ``pool_3d``); ``ignore_border`` left out warns and means False, as in Theano 1.0."""
    if ws is None:
        raise ValueError("pool_3d: ws (the window size) is required")
    if ignore_border is None:
        warnings.warn("pool_3d() will have the parameter ignore_border default value changed "
                      "to True (currently False). To have consistent behavior with all "
                      "Theano version, explicitly add the parameter ignore_border=True.",
                      stacklevel=2)
        ignore_border = False
    return _pool_3d(input, ws=ws, ignore_border=ignore_border, stride=stride, pad=pad,
                    mode=mode)
