"""Theano 1.0's top-level ``theano`` namespace, mapped onto exprc.

>>> import exprc.compat.theano as theano
>>> x = theano.tensor.dscalar('x')
>>> theano.function([x], theano.grad(x ** 2, x))(3.0)
array(6.)

Every name is exprc's own object or a thin adapter giving it Theano's signature; nothing of
the engine is duplicated. :func:`exprc.compat.install_theano` makes ``import theano`` find
this package.
"""

# ruff: noqa: I001
from exprc.compat.theano.configparser import change_flags, config
from exprc.compat.theano import compile, gof, gradient, printing, tensor
from exprc.compat.theano import ifelse, sandbox, scan_module, updates
from exprc.compat.theano.compile import In, Mode, Out, Param, SharedVariable, function, shared
from exprc.compat.theano.gof.graph import Apply, Constant, Variable
from exprc.compat.theano.gradient import Lop, Rop, grad
from exprc.compat.theano.printing import pp
from exprc.compat.theano.scan_module import foldl, foldr, map, reduce, scan
from exprc.compat.theano.updates import OrderedUpdates
from exprc.graph.ir import Variable as _Variable
from exprc.graph.traversal import clone_replace as _clone_replace
from exprc.tensor.opfromgraph import OpFromGraph

__version__ = "1.0.0+exprc"


def clone(output, replace=None, strict=True, share_inputs=True):
    """Copy the graph of ``output`` (a variable or a list of them) with the variables of
    ``replace`` (a dict or a list of pairs) substituted; graph inputs are shared.

    ``strict`` is accepted for Theano's signature: a replacement of a different type is
    re-checked by the ops that consume it. ``share_inputs=False`` is not supported.
    """
    if not share_inputs:
        raise NotImplementedError("theano.clone(share_inputs=False) is not supported by exprc")
    if replace is None:
        replace = {}
    elif not hasattr(replace, "items"):
        replace = dict(replace)
    else:
        replace = dict(replace.items())
    single = isinstance(output, _Variable)
    outputs = [output] if single else list(output)
    cloned = _clone_replace(outputs, replace)
    if single:
        return cloned[0]
    return tuple(cloned) if isinstance(output, tuple) else cloned


__all__ = [
    "Apply", "Constant", "In", "Lop", "Mode", "OpFromGraph", "OrderedUpdates", "Out", "Param",
    "Rop", "SharedVariable", "Variable", "change_flags", "clone", "compile", "config", "foldl",
    "foldr", "function", "gof", "grad", "gradient", "ifelse", "map", "pp", "printing",
    "reduce", "sandbox", "scan", "scan_module", "shared", "tensor", "updates",
]
