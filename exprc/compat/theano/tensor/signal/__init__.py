"""``theano.tensor.signal``: ``pool`` (and the old ``downsample``)."""

from exprc.compat.theano.tensor.signal import downsample, pool

__all__ = ["downsample", "pool"]
