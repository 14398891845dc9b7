"""Initializers for parameters (Lasagne's ``lasagne.init``).

An initializer is called with a shape and returns a NumPy array of dtype ``floatX``, drawn
from :func:`exprc.nn.random.get_rng`. Layers accept one wherever they take a parameter:

>>> import numpy as np
>>> from exprc.nn.init import GlorotUniform, Constant
>>> GlorotUniform()((20, 50)).shape
(20, 50)
>>> float(Constant(0.5)((2, 3)).sum())
3.0

Fan-in and fan-out follow Lasagne: a weight of shape ``(n1, n2, *receptive_field)`` has
``fan_in = n1 * prod(receptive_field)`` for a dense layer's ``(num_inputs, num_units)``
matrix, and for a convolution filter ``(num_filters, num_channels, *filter_size)`` Glorot
uses ``(n1 + n2) * prod(filter_size)`` and He uses ``prod(shape[1:])``.

Initializers keep no state between calls, so layers use instances as default arguments
(``W=GlorotUniform()``), as Lasagne does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exprc.nn.random import get_rng
from exprc.nn.utils import floatX

__all__ = [
    "Constant",
    "Glorot",
    "GlorotNormal",
    "GlorotUniform",
    "He",
    "HeNormal",
    "HeUniform",
    "Initializer",
    "Normal",
    "Orthogonal",
    "Sparse",
    "Uniform",
]


def _gain(gain: float | str) -> float:
    return np.sqrt(2) if gain == "relu" else gain


class Initializer:
    """Base class of initializers: ``init(shape)`` is ``init.sample(shape)``."""

    def __call__(self, shape: tuple) -> np.ndarray:
        return self.sample(shape)

    def sample(self, shape: tuple) -> np.ndarray:
        """An array of ``shape`` and dtype ``floatX``."""
        raise NotImplementedError()


class Normal(Initializer):
    """Samples from the normal distribution N(mean, std)."""

    def __init__(self, std: float = 0.01, mean: float = 0.0):
        self.std = std
        self.mean = mean

    def sample(self, shape):
        return floatX(get_rng().normal(self.mean, self.std, size=shape))


class Uniform(Initializer):
    """Samples from a uniform distribution.

    Parameters
    ----------
    range : float or (float, float)
        U(-range, range) for a number, U(range[0], range[1]) for a pair. Ignored when
        ``std`` is given.
    std : float, optional
        Sample from U(mean - sqrt(3) std, mean + sqrt(3) std), which has this standard
        deviation.
    mean : float
        The centre of the interval when ``std`` is given.
    """

    def __init__(self, range: float | tuple = 0.01, std: float | None = None,
                 mean: float = 0.0):
        if std is not None:
            a, b = mean - np.sqrt(3) * std, mean + np.sqrt(3) * std
        elif np.ndim(range) == 0:
            a, b = -range, range
        else:
            a, b = range
        self.range = (a, b)

    def sample(self, shape):
        return floatX(get_rng().uniform(low=self.range[0], high=self.range[1], size=shape))


class _FanScaled(Initializer):
    """An initializer of standard deviation ``gain * sqrt(variance(shape))``, drawn by
    ``initializer(std=...)``: the part Glorot and He share."""

    def __init__(self, initializer: type, gain: float | str = 1.0, c01b: bool = False):
        self.initializer = initializer
        self.gain = _gain(gain)
        self.c01b = c01b

    def variance(self, shape: tuple) -> float:
        """The variance before the gain, from the fans of ``shape``."""
        raise NotImplementedError()

    def sample(self, shape):
        if self.c01b and len(shape) != 4:
            raise RuntimeError("If c01b is True, only shapes of length 4 are accepted")
        if len(shape) < 2:
            raise RuntimeError("This initializer only works with shapes of length >= 2")
        std = self.gain * np.sqrt(self.variance(shape))
        return self.initializer(std=std).sample(shape)


class Glorot(_FanScaled):
    """Glorot (Xavier) initialization: std = gain * sqrt(2 / ((n1 + n2) * receptive_field)).

    Parameters
    ----------
    initializer : class
        An initializer taking ``std`` in its constructor (:class:`Normal`, :class:`Uniform`).
    gain : float or 'relu'
        Scale factor; 'relu' means sqrt(2).
    c01b : bool
        The shape is (channels, rows, columns, filters) rather than (filters, channels, ...).
    """

    def variance(self, shape):
        if self.c01b:
            n1, n2 = shape[0], shape[3]
            receptive_field_size = shape[1] * shape[2]
        else:
            n1, n2 = shape[:2]
            receptive_field_size = np.prod(shape[2:])
        return 2.0 / ((n1 + n2) * receptive_field_size)


class GlorotNormal(Glorot):
    """:class:`Glorot` with normally distributed samples."""

    def __init__(self, gain: float | str = 1.0, c01b: bool = False):
        super().__init__(Normal, gain, c01b)


class GlorotUniform(Glorot):
    """:class:`Glorot` with uniformly distributed samples (the default for weights)."""

    def __init__(self, gain: float | str = 1.0, c01b: bool = False):
        super().__init__(Uniform, gain, c01b)


class He(_FanScaled):
    """He initialization: std = gain * sqrt(1 / fan_in).

    ``fan_in`` is ``shape[0]`` for a matrix and ``prod(shape[1:])`` for a convolution filter
    (``prod(shape[:3])`` with ``c01b``). Parameters are those of :class:`Glorot`.
    """

    def variance(self, shape):
        if self.c01b:
            fan_in = np.prod(shape[:3])
        elif len(shape) == 2:
            fan_in = shape[0]
        else:
            fan_in = np.prod(shape[1:])
        return 1.0 / fan_in


class HeNormal(He):
    """:class:`He` with normally distributed samples."""

    def __init__(self, gain: float | str = 1.0, c01b: bool = False):
        super().__init__(Normal, gain, c01b)


class HeUniform(He):
    """:class:`He` with uniformly distributed samples."""

    def __init__(self, gain: float | str = 1.0, c01b: bool = False):
        super().__init__(Uniform, gain, c01b)


class Constant(Initializer):
    """Every entry equal to ``val``."""

    def __init__(self, val: float = 0.0):
        self.val = val

    def sample(self, shape):
        return floatX(np.ones(shape) * self.val)


class Sparse(Initializer):
    """A matrix with exactly ``int(sparsity * rows)`` nonzeros N(0, std) in each column."""

    def __init__(self, sparsity: float = 0.1, std: float = 0.01):
        self.sparsity = sparsity
        self.std = std

    def sample(self, shape):
        if len(shape) != 2:
            raise RuntimeError("sparse initializer only works with shapes of length 2")
        w = floatX(np.zeros(shape))
        n_inputs, n_outputs = shape
        size = int(self.sparsity * n_inputs)
        for k in range(n_outputs):
            indices = np.arange(n_inputs)
            get_rng().shuffle(indices)
            w[indices[:size], k] = floatX(get_rng().normal(0.0, self.std, size=size))
        return w


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain``.

    For a shape of rank above 2 the trailing axes are flattened first (the fan-in of a
    convolution filter), so the rows ``w.reshape(shape[0], -1)`` are orthonormal when
    ``shape[0] <= prod(shape[1:])`` and the columns otherwise.

    Parameters
    ----------
    gain : float or 'relu'
        Scale factor; 'relu' means sqrt(2).
    """

    def __init__(self, gain: Any = 1.0):
        self.gain = _gain(gain)

    def sample(self, shape):
        if len(shape) < 2:
            raise RuntimeError("Only shapes of length 2 or more are supported.")
        flat_shape = (shape[0], int(np.prod(shape[1:])))
        a = get_rng().normal(0.0, 1.0, flat_shape)
        u, _, v = np.linalg.svd(a, full_matrices=False)
        q = u if u.shape == flat_shape else v
        return floatX(self.gain * q.reshape(shape))
