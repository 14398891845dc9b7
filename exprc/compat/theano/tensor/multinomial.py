"""Multinomial samples built from uniform ones (shared by ``RandomStreams.multinomial`` and
``MRG_RandomStreams.multinomial``/``choice``): inverse-CDF sampling over the last axis of
``pvals``, written with exprc's tensor API."""

from __future__ import annotations

from typing import Any

import exprc.tensor as T
from exprc.tensor.variable import TensorVariable

__all__ = ["categorical_from_uniform", "multinomial_from_uniform"]


def categorical_from_uniform(u: TensorVariable, pvals: TensorVariable) -> TensorVariable:
    """Category indices (int64) for uniform samples ``u`` of shape ``lead + batch``, with
    ``pvals`` of shape ``batch + (k,)`` (rows need not be normalised)."""
    cdf = T.cumsum(pvals, axis=-1)
    total = T.sum(pvals, axis=-1, keepdims=True)
    lead = u.ndim - (pvals.ndim - 1)
    for _ in range(lead):
        cdf = T.shape_padleft(cdf)
        total = T.shape_padleft(total)
    below = T.lt(cdf, T.shape_padright(u) * total)
    index = T.sum(below, axis=-1, dtype="int64")
    return T.minimum(index, T.cast(pvals.shape[-1] - 1, "int64"))


def multinomial_from_uniform(streams: Any, batch: Any, batch_ndim: int, n: int,
                             pvals: TensorVariable, dtype: str) -> TensorVariable:
    """Counts (shape ``batch + (k,)``) of ``n`` categorical draws per row of ``pvals``."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise TypeError(f"multinomial: n must be a positive Python int, got {n!r}")
    if isinstance(batch, tuple):
        size: Any = (n, *batch)
    else:
        size = T.concatenate([T.constant([n], dtype="int64"), T.cast(batch, "int64")])
    u = streams.uniform(size=size, ndim=None if isinstance(batch, tuple) else batch_ndim + 1,
                        dtype=pvals.dtype if pvals.dtype.startswith("float") else None)
    index = categorical_from_uniform(u, pvals)
    k = T.arange(pvals.shape[-1], dtype="int64")
    one_hot = T.eq(T.shape_padright(index), k)
    return T.cast(T.sum(one_hot, axis=0, dtype="int64"), dtype)
