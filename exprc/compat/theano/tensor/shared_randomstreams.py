"""``theano.tensor.shared_randomstreams.RandomStreams``: exprc's
:class:`~exprc.tensor.shared_randomstreams.RandomStreams` with Theano's extra arguments and
``multinomial``.

The numbers differ from Theano's (exprc uses a counter-based Philox generator, not NumPy's
Mersenne Twister), and samples have no ``.rng`` attribute: reseed with ``srng.seed(n)``.
"""

from __future__ import annotations

from typing import Any

from exprc.compat.theano.tensor.multinomial import multinomial_from_uniform
from exprc.tensor.shared_randomstreams import RandomStreams as _RandomStreams
from exprc.tensor.variable import TensorVariable, as_tensor_variable

__all__ = ["RandomStreams"]


class RandomStreams(_RandomStreams):
    """Symbolic random streams (Theano's ``shared_randomstreams.RandomStreams``)."""

    def binomial(self, size: Any = None, n: Any = 1, p: Any = 0.5, ndim: int | None = None,
                 dtype: str = "int64", prob: Any = None) -> TensorVariable:
        """Binomial counts; ``prob`` is Theano's deprecated name of ``p``."""
        if prob is not None:
            p = prob
        return super().binomial(size=size, n=n, p=p, ndim=ndim, dtype=dtype)

    def multinomial(self, size: Any = None, n: int = 1, pvals: Any = (0.5, 0.5),
                    ndim: int | None = None, dtype: str = "int64") -> TensorVariable:
        """Counts of ``n`` draws among ``len(pvals)`` categories: a sample of shape
        ``size + (k,)`` for a vector ``pvals``, or of ``pvals``' shape for ``size=None``.
        ``n`` is a Python int."""
        pvals = as_tensor_variable(pvals)
        if pvals.ndim == 0:
            raise TypeError("RandomStreams.multinomial: pvals must be a vector or a matrix")
        if size is None:
            batch: Any = pvals.shape[:-1]
            batch_ndim = pvals.ndim - 1
        else:
            batch = tuple(size) if not isinstance(size, TensorVariable) else size
            batch_ndim = len(batch) if ndim is None else ndim
        return multinomial_from_uniform(self, batch, batch_ndim, n, pvals, dtype)
