"""``theano.compile.sharedvalue``: shared variables."""

from exprc.tensor.sharedvar import SharedVariable, shared

__all__ = ["SharedVariable", "shared"]
