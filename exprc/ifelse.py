"""Theano's ``ifelse`` module: ``from exprc.ifelse import ifelse``.

The op and its builder live in :mod:`exprc.tensor.ifelse`; this module only gives them the
names Theano programs import.
"""

from exprc.tensor.ifelse import IfElse, ifelse

__all__ = ["IfElse", "ifelse"]
