"""``theano.ifelse``: the lazy conditional."""

from exprc.ifelse import IfElse, ifelse

__all__ = ["IfElse", "ifelse"]
