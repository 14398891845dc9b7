"""``theano.sandbox.rng_mrg.MRG_RandomStreams`` over exprc's
:class:`~exprc.tensor.shared_randomstreams.RandomStreams`.

The interface is Theano's (``uniform``, ``normal``, ``binomial``, ``multinomial``, ``choice``,
``multinomial_wo_replacement``, ``seed``, ``updates``); the numbers are not: exprc's
generator is counter-based Philox, not Theano's MRG31k3p, so the same seed gives different
(but equally reproducible, on every backend) samples. ``nstreams`` is accepted and ignored.
"""

from __future__ import annotations

import hashlib
import numbers
from typing import Any

import exprc.tensor as T
from exprc.compat.theano.tensor.multinomial import (
    categorical_from_uniform,
    multinomial_from_uniform,
)
from exprc.configuration import config
from exprc.tensor.shared_randomstreams import RandomStreams
from exprc.tensor.variable import TensorVariable, as_tensor_variable

__all__ = ["MRG_RandomStreams"]


def _seed_of(seed: Any) -> int:
    """An int seed for exprc from Theano's int or sequence of six ints."""
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return int(seed) % (1 << 64)
    values = [int(v) for v in seed]
    digest = hashlib.sha256(repr(values).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _check_size(size: Any, method: str) -> Any:
    if size is None:
        raise ValueError(f"MRG_RandomStreams.{method}: size must be given (a tuple of ints or "
                         "symbolic scalars, or a symbolic shape vector)")
    if isinstance(size, numbers.Integral):
        return (int(size),)
    return size


class MRG_RandomStreams:
    """Theano's ``MRG_RandomStreams(seed=12345)``: symbolic random samples whose generator
    states are shared variables advanced by every call of a function that draws them.

    Parameters
    ----------
    seed : int or sequence of 6 ints
    """

    def __init__(self, seed: Any = 12345):
        self._streams = RandomStreams(_seed_of(seed))

    @property
    def state_updates(self) -> list:
        """The ``(state, new state)`` pairs of every sample drawn so far."""
        return self._streams.state_updates

    def updates(self) -> list:
        """The ``(state, new_state)`` pairs, for an explicit ``updates=``."""
        return self._streams.updates()

    def seed(self, seed: Any = None) -> None:
        """Restart every stream from ``seed`` (default: the construction seed)."""
        self._streams.seed(None if seed is None else _seed_of(seed))

    # --------------------------------------------------------------------- distributions
    def uniform(self, size: Any, low: Any = 0.0, high: Any = 1.0, ndim: int | None = None,
                dtype: str | None = None, nstreams: Any = None, **kwargs: Any
                ) -> TensorVariable:
        """Uniform floats in ``[low, high)`` of shape ``size`` (dtype default floatX)."""
        return self._streams.uniform(_check_size(size, "uniform"), low, high, ndim=ndim,
                                     dtype=dtype or config.floatX)

    def normal(self, size: Any, avg: Any = 0.0, std: Any = 1.0, ndim: int | None = None,
               dtype: str | None = None, nstreams: Any = None, truncate: bool = False,
               **kwargs: Any) -> TensorVariable:
        """Normal floats of mean ``avg`` and standard deviation ``std``.
        ``truncate=True`` is not supported."""
        if truncate:
            raise NotImplementedError("MRG_RandomStreams.normal(truncate=True) is not "
                                      "supported by exprc")
        return self._streams.normal(_check_size(size, "normal"), avg, std, ndim=ndim,
                                    dtype=dtype or config.floatX)

    def binomial(self, size: Any = None, p: Any = None, n: Any = 1, ndim: int | None = None,
                 dtype: str = "int64", nstreams: Any = None, **kwargs: Any) -> TensorVariable:
        """Counts of successes in ``n`` trials of probability ``p`` (Theano's argument order:
        ``size, p, n``); ``n=1`` gives 0/1 masks."""
        if p is None:
            raise ValueError("MRG_RandomStreams.binomial: p is required")
        return self._streams.binomial(_check_size(size, "binomial"), n=n, p=p, ndim=ndim,
                                      dtype=dtype)

    def multinomial(self, size: Any = None, n: int = 1, pvals: Any = None,
                    ndim: int | None = None, dtype: str = "int64", nstreams: Any = None,
                    **kwargs: Any) -> TensorVariable:
        """Counts of ``n`` draws for each row of the matrix ``pvals`` (rows: distributions
        over the columns), of ``pvals``' shape; ``n=1`` gives one-hot rows. ``size`` must be
        None, as in Theano."""
        if size is not None or ndim is not None:
            raise ValueError("MRG_RandomStreams.multinomial does not use size or ndim: the "
                             "sample has the shape of pvals")
        pvals = self._pvals(pvals, "multinomial")
        return multinomial_from_uniform(self._streams, pvals.shape[:-1], 1, n, pvals, dtype)

    def choice(self, size: int = 1, a: Any = None, replace: bool = True, p: Any = None,
               ndim: int | None = None, dtype: str = "int64", nstreams: Any = None,
               **kwargs: Any) -> TensorVariable:
        """For each row of the matrix ``p``, ``size`` column indices drawn with probabilities
        ``p`` (shape ``(rows, size)``); without replacement, the indices of a row differ.
        ``a`` must be None (the population is the columns of ``p``), as in Theano.

        Theano 1.0 only implemented ``replace=False``; exprc also draws with replacement.
        """
        if a is not None:
            raise TypeError("MRG_RandomStreams.choice works only with a=None (the population "
                            "is the columns of p)")
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
            raise TypeError(f"MRG_RandomStreams.choice: size must be a positive int, got "
                            f"{size!r}")
        p = self._pvals(p, "choice")
        float_dtype = p.dtype if p.dtype.startswith("float") else config.floatX
        if replace:
            u = self._streams.uniform(size=T.concatenate([T.constant([size], dtype="int64"),
                                                          T.cast(p.shape[:1], "int64")]),
                                      ndim=2, dtype=float_dtype)
            return T.cast(categorical_from_uniform(u, p).T, dtype)
        # Without replacement: the top ``size`` of log(p) + Gumbel noise (the Gumbel-top-k
        # trick) are distributed as successive draws that each exclude the earlier ones.
        u = self._streams.uniform(size=p.shape, ndim=2, dtype=float_dtype)
        tiny = 1e-20 if float_dtype == "float64" else 1e-30
        keys = T.log(p) - T.log(-T.log(u + tiny))
        return T.cast(T.argsort(-keys, axis=1)[:, :size], dtype)

    def multinomial_wo_replacement(self, size: Any = None, n: int = 1, pvals: Any = None,
                                   ndim: int | None = None, dtype: str = "int64",
                                   nstreams: Any = None, **kwargs: Any) -> TensorVariable:
        """Theano's deprecated name: ``choice(size=n, p=pvals, replace=False)``."""
        if size is not None:
            raise ValueError("multinomial_wo_replacement: size must be None (give n)")
        return self.choice(size=n, p=pvals, replace=False, dtype=dtype)

    @staticmethod
    def _pvals(pvals: Any, method: str) -> TensorVariable:
        if pvals is None:
            raise ValueError(f"MRG_RandomStreams.{method}: the probabilities are required")
        pvals = as_tensor_variable(pvals)
        if pvals.ndim != 2:
            raise TypeError(f"MRG_RandomStreams.{method}: the probabilities must be a matrix "
                            f"(one distribution per row), got {pvals.type}")
        return pvals
