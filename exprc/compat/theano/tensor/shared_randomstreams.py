"""``theano.tensor.shared_randomstreams.RandomStreams``: exprc's
:class:`~exprc.tensor.shared_randomstreams.RandomStreams` with Theano's extra arguments and
``multinomial``.

The numbers differ from Theano's (exprc uses a counter-based Philox generator, not NumPy's
Mersenne Twister). As in Theano, each sample has an ``.rng``, its generator state, which
programs reseed or copy the NumPy ``RandomState`` way::

    rng = rv.rng.get_value(borrow=True)   # a GeneratorState
    rng.seed(89234)                        # or rng.set_state(saved), saved = rng.get_state()
    rv.rng.set_value(rng, borrow=True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exprc.compat.theano.tensor.multinomial import multinomial_from_uniform
from exprc.tensor.random import initial_state
from exprc.tensor.shared_randomstreams import RandomStreams as _RandomStreams
from exprc.tensor.shared_randomstreams import _check_seed
from exprc.tensor.variable import TensorVariable, as_tensor_variable

__all__ = ["GeneratorState", "RandomStreams", "StreamState"]


class GeneratorState:
    """The value behind a sample's ``.rng``: one stream's Philox state (key and counter), with
    the methods Theano programs call on NumPy's ``RandomState`` there."""

    def __init__(self, words: Any, stream: int):
        self.words = np.array(words, dtype=np.uint32)
        self.stream = stream

    def seed(self, seed: int) -> None:
        """Restart this stream as a generator seeded with ``seed`` would start it."""
        self.words = initial_state(_check_seed(seed), self.stream)

    def get_state(self) -> np.ndarray:
        """A copy of the state, for :meth:`set_state`."""
        return self.words.copy()

    def set_state(self, state: Any) -> None:
        """Go back to a state returned by :meth:`get_state`."""
        words = np.asarray(state)
        if words.shape != self.words.shape or words.dtype.kind not in "iu":
            raise ValueError(f"set_state: expected a state of {self.words.shape[0]} unsigned "
                             f"words from get_state(), got {words!r}")
        self.words = words.astype(np.uint32)


class StreamState:
    """A sample's ``.rng`` (Theano: the shared variable holding its ``RandomState``): the
    shared state of its stream, read and written as a :class:`GeneratorState`."""

    def __init__(self, state: Any, stream: int):
        self.shared = state
        self.stream = stream

    def get_value(self, borrow: bool = False) -> GeneratorState:
        return GeneratorState(self.shared.get_value(), self.stream)

    def set_value(self, value: Any, borrow: bool = False) -> None:
        words = value.words if isinstance(value, GeneratorState) else value
        self.shared.set_value(np.asarray(words, dtype=np.uint32))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.shared, name)  # name, default_update, type, ...


class RandomStreams(_RandomStreams):
    """Symbolic random streams (Theano's ``shared_randomstreams.RandomStreams``)."""

    def gen(self, op: Any, size: Any, *params: Any) -> TensorVariable:
        sample = super().gen(op, size, *params)
        state, _ = self.state_updates[-1]
        sample.rng = StreamState(state, len(self.state_updates) - 1)
        return sample

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
