"""``theano.tensor.nnet.neighbours``: ``images2neibs`` and ``neibs2images`` (exprc's own)."""

from exprc.tensor.nnet.neighbours import images2neibs, neibs2images

__all__ = ["images2neibs", "neibs2images"]
