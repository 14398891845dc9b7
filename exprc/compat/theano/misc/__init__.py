"""``theano.misc``: ``pkl_utils`` (saving and loading objects, compiled functions included)."""

from exprc.compat.theano.misc import pkl_utils

__all__ = ["pkl_utils"]
