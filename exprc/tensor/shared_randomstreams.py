"""``RandomStreams``: symbolic random numbers whose generator state lives in shared variables.

Each sample made by a :class:`RandomStreams` gets its own state, a shared uint32 vector (key
and counter of the Philox4x32-10 generator, see :mod:`exprc.tensor.random`), whose
``default_update`` is the state the sampling node returns. Every function that computes the
sample therefore advances the state after each call, unless compiled with
``no_default_updates=True``. The same seed gives the same numbers in every mode and on every
backend.

Differences from Theano: the generator is counter-based rather than NumPy's Mersenne Twister
(so numbers differ from Theano's); ``size=None`` (the default) takes the broadcast shape of the
parameters, as NumPy does.

Examples
--------
>>> import exprc, exprc.tensor as T
>>> from exprc.tensor.shared_randomstreams import RandomStreams
>>> srng = RandomStreams(seed=234)
>>> f = exprc.function([], srng.uniform((2, 2)))
>>> a, b = f(), f()
>>> bool((a != b).all())
True
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from exprc.configuration import config
from exprc.errors import ExprcTypeError
from exprc.tensor.basic import stack, zeros_like
from exprc.tensor.math import add, cast
from exprc.tensor.random import (
    STATE_TYPE,
    RandomBinomial,
    RandomChoice,
    RandomIntegers,
    RandomNormal,
    RandomOp,
    RandomPermutation,
    RandomUniform,
    initial_state,
)
from exprc.tensor.shape import shape
from exprc.tensor.sharedvar import shared
from exprc.tensor.variable import TensorVariable, as_tensor_variable, constant

__all__ = ["RandomStreams"]

_SEED_LIMIT = 1 << 64


def _check_seed(seed: Any) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (numbers.Integral,)) \
            or not 0 <= int(seed) < _SEED_LIMIT:
        raise ExprcTypeError(f"RandomStreams: seed must be an integer in [0, 2**64), "
                             f"got {seed!r}")
    return int(seed)


class RandomStreams:
    """A source of symbolic random samples, each with its own shared generator state.

    Parameters
    ----------
    seed : int, optional
        In ``[0, 2**64)``. None draws one from the operating system's entropy.

    Attributes
    ----------
    state_updates : list of (SharedVariable, Variable)
        Each state made so far with the new state its sampling node computes (also the state's
        ``default_update``).
    """

    def __init__(self, seed: int | None = None):
        self.default_seed = (_check_seed(seed) if seed is not None
                             else int(np.random.SeedSequence().entropy) % _SEED_LIMIT)
        self.state_updates: list = []

    def seed(self, seed: int | None = None) -> None:
        """Restart every stream made so far (and those made later) from ``seed`` (default:
        the seed given at construction), as if the object had just been created with it."""
        if seed is not None:
            self.default_seed = _check_seed(seed)
        for k, (state, _) in enumerate(self.state_updates):
            state.set_value(initial_state(self.default_seed, k))

    def updates(self) -> list:
        """The ``(state, new_state)`` pairs of every stream, for explicit ``updates=``."""
        return list(self.state_updates)

    def gen(self, op: RandomOp, size: Any, *params: Any) -> TensorVariable:
        """Apply ``op`` to a new state (stream number ``len(state_updates)``), set the state's
        ``default_update`` and return the sample."""
        k = len(self.state_updates)
        state = shared(initial_state(self.default_seed, k), name=f"random_state_{k}",
                       shape=STATE_TYPE.shape)
        new_state, sample = op(state, size, *params)
        state.default_update = new_state
        self.state_updates.append((state, new_state))
        return sample

    # ------------------------------------------------------------------ distributions
    def uniform(self, size: Any = None, low: Any = 0.0, high: Any = 1.0, ndim: int | None = None,
                dtype: str | None = None) -> TensorVariable:
        """Uniform floats in ``[low, high)`` (``low``, ``high`` broadcast to ``size``); a call
        where ``high - low`` is negative or not finite raises a ``ValueError``.

        Parameters
        ----------
        size : int, tuple of ints and 0-d integer tensors, or integer vector (``x.shape``)
            The sample's shape; None: the broadcast shape of ``low`` and ``high``.
        low, high : tensor-like
            Bounds; gradients w.r.t. them are defined (``d/dlow = 1 - u``, ``d/dhigh = u``).
        ndim : int, optional
            The length of a symbolic ``size`` whose length is not known statically.
        dtype : str, optional
            float32 or float64; default ``exprc.config.floatX``.
        """
        dtype = dtype or config.floatX
        low, high = _param(low, dtype), _param(high, dtype)
        return self.gen(RandomUniform(dtype), _size(size, ndim, low, high), low, high)

    def normal(self, size: Any = None, avg: Any = 0.0, std: Any = 1.0, ndim: int | None = None,
               dtype: str | None = None) -> TensorVariable:
        """Normal floats of mean ``avg`` and standard deviation ``std`` (broadcast to
        ``size``; a negative ``std`` raises a ``ValueError`` when the function runs);
        gradients w.r.t. ``avg`` and ``std`` are defined. Other parameters are those of
        :meth:`uniform`."""
        dtype = dtype or config.floatX
        avg, std = _param(avg, dtype), _param(std, dtype)
        return self.gen(RandomNormal(dtype), _size(size, ndim, avg, std), avg, std)

    def binomial(self, size: Any = None, n: Any = 1, p: Any = 0.5, ndim: int | None = None,
                 dtype: str = "int64") -> TensorVariable:
        """Counts of successes in ``n`` trials of probability ``p`` (broadcast to ``size``).

        ``dtype`` may be any numeric dtype, e.g. ``x.dtype`` for a dropout mask::

            mask = srng.binomial(x.shape, p=1 - rate, dtype=x.dtype)
        """
        n, p = _param(n, "int64"), _param(p, "float64")
        return self.gen(RandomBinomial(dtype), _size(size, ndim, n, p), n, p)

    def random_integers(self, size: Any = None, low: Any = 0, high: Any = 1,
                        ndim: int | None = None, dtype: str = "int64") -> TensorVariable:
        """Integers drawn uniformly from ``[low, high]``, both ends included (Theano's
        ``random_integers``); ``low`` and ``high`` broadcast to ``size``.

        Exact over the whole int64 range (:class:`~exprc.tensor.random.RandomIntegers`,
        ``-2**63`` to ``2**63 - 1`` included); a call where some ``low > high`` raises a
        ``ValueError``. The int64 sample is cast to ``dtype``.

        Examples
        --------
        >>> import exprc
        >>> from exprc.tensor.shared_randomstreams import RandomStreams
        >>> dice = exprc.function([], RandomStreams(seed=1).random_integers((1000,), 1, 6))
        >>> sorted(set(dice().tolist()))
        [1, 2, 3, 4, 5, 6]
        """
        low, high = _param(low, "int64"), _param(high, "int64")
        sample = self.gen(RandomIntegers(), _size(size, ndim, low, high), low, high)
        return sample if dtype == "int64" else cast(sample, dtype)

    def choice(self, size: Any = None, a: Any = 2, replace: bool = True, p: Any = None,
               ndim: int | None = None, dtype: str = "int64") -> TensorVariable:
        """Samples of ``range(a)`` (``a`` an integer) or of the entries of the vector ``a``.

        Parameters
        ----------
        a : int, 0-d integer tensor or vector
            The population: ``range(a)``, or the entries of ``a`` (the sample then has
            ``a``'s dtype).
        replace : bool
            Whether an index may be drawn more than once.
        p : vector, optional
            Probabilities of the population: finite, none negative, summing to 1 (within
            ``2**-26``, as NumPy requires), checked when the function runs.
        dtype : str
            Integer dtype of the indices.
        """
        values = None
        a = as_tensor_variable(a)
        if a.ndim == 1:
            values, a = a, shape(a)[0]
        a = cast(a, "int64")
        params = [a] if p is None else [a, _param(p, "float64")]
        op = RandomChoice(replace, p is not None, dtype)
        index = self.gen(op, _size(size, ndim), *params)
        return index if values is None else values[index]

    def permutation(self, size: Any = None, n: Any = 1, ndim: int | None = None,
                    dtype: str = "int64") -> TensorVariable:
        """Permutations of ``range(n)``, one for each element of ``size``: the sample has
        shape ``size + (n,)`` (``size=None``: one permutation)."""
        n = _param(n, "int64")
        return self.gen(RandomPermutation(dtype), _size(size, ndim), n)


def _param(value: Any, dtype: str) -> TensorVariable:
    """A distribution parameter in the op's dtype (Python numbers become constants of it)."""
    if isinstance(value, numbers.Number) and not isinstance(value, TensorVariable):
        return constant(value, dtype=dtype)
    return cast(as_tensor_variable(value), dtype)


def _size(size: Any, ndim: int | None, *params: TensorVariable) -> Any:
    """The size argument as the ops take it: None becomes the broadcast shape of ``params``
    (``()`` for scalars); a vector of unknown length is split into ``ndim`` entries."""
    if size is None:
        if all(p.ndim == 0 for p in params):
            return ()
        return shape(add(*[zeros_like(p, "int8") for p in params]) if len(params) > 1
                     else params[0])
    if isinstance(size, TensorVariable) and size.ndim == 1 and size.type.shape[0] is None:
        if ndim is None:
            raise ExprcTypeError(f"RandomStreams: size {size} has an unknown length; give ndim")
        return stack([size[i] for i in range(ndim)])
    return size
