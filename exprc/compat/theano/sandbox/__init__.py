"""``theano.sandbox``: only ``rng_mrg`` (``MRG_RandomStreams``). The GPU back ends
(``theano.sandbox.cuda``, ``theano.sandbox.gpuarray``) are absent: importing them raises
``ImportError`` as on a Theano without a GPU."""

from exprc.compat.theano.sandbox import rng_mrg

__all__ = ["rng_mrg"]
