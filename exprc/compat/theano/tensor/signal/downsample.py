"""``theano.tensor.signal.downsample``: the pre-0.9 name ``max_pool_2d``."""

from __future__ import annotations

from typing import Any

from exprc.compat.theano.tensor.signal.pool import pool_2d

__all__ = ["max_pool_2d"]


def max_pool_2d(input: Any, ds: Any, ignore_border: bool | None = None, st: Any = None,
                padding: Any = (0, 0), mode: str = "max"):
    """Theano's old ``downsample.max_pool_2d``: :func:`pool_2d` with ``ds``, ``st`` and
    ``padding``."""
    return pool_2d(input, ws=ds, ignore_border=ignore_border, stride=st, pad=padding,
                   mode=mode)
