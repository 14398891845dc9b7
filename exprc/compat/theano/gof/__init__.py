"""``theano.gof``: the graph classes (exprc's IR, :mod:`exprc.graph`)."""

from exprc.compat.theano.gof import graph
from exprc.compat.theano.gof.graph import Apply, Constant, Variable

__all__ = ["Apply", "Constant", "Variable", "graph"]
