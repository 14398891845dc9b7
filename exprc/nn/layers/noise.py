"""Layers that add noise during training: :class:`DropoutLayer` (with the shortcuts
:func:`dropout_channels`, :func:`spatial_dropout` and :func:`dropout_locations`) and
:class:`GaussianNoiseLayer`.

Both are the identity with ``get_output(..., deterministic=True)`` (for evaluation).
Their random streams are seeded from :func:`exprc.nn.random.get_rng`, so
``exprc.nn.random.set_rng(np.random.RandomState(seed))`` before building a network makes the
noise reproducible.
"""

from __future__ import annotations

from typing import Any

from exprc.nn.layers.base import Layer
from exprc.nn.random import get_rng

__all__ = [
    "DropoutLayer",
    "GaussianNoiseLayer",
    "dropout",
    "dropout_channels",
    "dropout_locations",
    "spatial_dropout",
]


def _random_streams():
    """New symbolic random streams seeded from the layer library's generator."""
    from exprc.tensor.shared_randomstreams import RandomStreams

    return RandomStreams(get_rng().randint(1, 2147462579))


class DropoutLayer(Layer):
    """Sets each input to zero with probability ``p`` during training.

    Parameters
    ----------
    incoming : Layer or tuple
    p : float or symbolic scalar
        The probability of dropping an input.
    rescale : bool
        Divide the kept inputs by ``1 - p`` so that the expected output equals the input
        (then nothing needs to change at evaluation).
    shared_axes : tuple of int
        Axes along which one mask value is shared (e.g. ``(2, 3)`` drops whole feature maps).
    """

    def __init__(self, incoming: Any, p: Any = 0.5, rescale: bool = True,
                 shared_axes: tuple = (), **kwargs):
        super().__init__(incoming, **kwargs)
        self._srng = _random_streams()
        self.p = p
        self.rescale = rescale
        self.shared_axes = tuple(shared_axes)

    def get_output_for(self, input, deterministic=False, **kwargs):
        if deterministic or (isinstance(self.p, (int, float)) and self.p == 0):
            return input
        # A Python number stays weak, so a float32 input is not promoted to float64.
        retain_prob = 1 - self.p
        if self.rescale:
            input = input / retain_prob
        mask_shape = self.input_shape
        if any(s is None for s in mask_shape):
            mask_shape = input.shape
        if self.shared_axes:
            shared = {a if a >= 0 else a + input.ndim for a in self.shared_axes}
            mask_shape = tuple(1 if a in shared else mask_shape[a] for a in range(input.ndim))
        mask = self._srng.binomial(mask_shape, p=retain_prob, dtype=input.dtype)
        return input * mask


dropout = DropoutLayer


def _without_shared_axes(kwargs: dict, who: str) -> None:
    if "shared_axes" in kwargs:
        raise TypeError(f"{who}() sets shared_axes itself; use DropoutLayer to choose them")


def dropout_channels(incoming: Any, *args, **kwargs) -> DropoutLayer:
    """A :class:`DropoutLayer` that drops whole channels: one mask value per example and
    channel, shared over all axes after 1 (Tompson et al., 2014).

    The other arguments (``p``, ``rescale``, ``name``) go to :class:`DropoutLayer`.

    Examples
    --------
    >>> from exprc.nn.layers import InputLayer, dropout_channels
    >>> dropout_channels(InputLayer((None, 8, 5, 5)), p=0.2).shared_axes
    (2, 3)
    """
    _without_shared_axes(kwargs, "dropout_channels")
    ndim = len(getattr(incoming, "output_shape", incoming))
    return DropoutLayer(incoming, *args, shared_axes=tuple(range(2, ndim)), **kwargs)


spatial_dropout = dropout_channels


def dropout_locations(incoming: Any, *args, **kwargs) -> DropoutLayer:
    """A :class:`DropoutLayer` that drops whole locations (pixels, voxels): one mask value per
    example and position, shared over the channels (axis 1).

    The other arguments go to :class:`DropoutLayer`.
    """
    _without_shared_axes(kwargs, "dropout_locations")
    return DropoutLayer(incoming, *args, shared_axes=(1,), **kwargs)


class GaussianNoiseLayer(Layer):
    """Adds zero-mean Gaussian noise of standard deviation ``sigma`` during training."""

    def __init__(self, incoming: Any, sigma: Any = 0.1, **kwargs):
        super().__init__(incoming, **kwargs)
        self._srng = _random_streams()
        self.sigma = sigma

    def get_output_for(self, input, deterministic=False, **kwargs):
        if deterministic or (isinstance(self.sigma, (int, float)) and self.sigma == 0):
            return input
        return input + self._srng.normal(input.shape, avg=0.0, std=self.sigma,
                                         dtype=input.dtype)
