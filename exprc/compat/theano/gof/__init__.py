"""``theano.gof``: the graph classes (exprc's IR, :mod:`exprc.graph`)."""

from exprc.compat.theano.gof import graph, op
from exprc.compat.theano.gof.graph import Apply, Constant, Variable
from exprc.compat.theano.gof.op import Op

__all__ = ["Apply", "Constant", "Op", "Variable", "graph", "op"]
