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
from exprc.compat.theano.compile import ProfileStats
from exprc.compat.theano.compile.mode import predefined_modes
from exprc.compat.theano.compile.ops import as_op
from exprc.compat.theano.gof.graph import Apply, Constant, Variable
from exprc.compat.theano.gof.op import Op
from exprc.compat.theano.gradient import Lop, Rop, grad
from exprc.compat.theano.printing import pp, pprint
from exprc.compat.theano.tensor.basic import get_scalar_constant_value
from exprc.graph.fgraph import FunctionGraph
from exprc.graph.ir import Type
from exprc.compat.theano.scan_module import foldl, foldr, map, reduce, scan
from exprc.compat.theano.updates import OrderedUpdates
from exprc.graph.ir import Variable as _Variable
from exprc.graph.traversal import clone_replace as _clone_replace
from exprc.tensor.opfromgraph import OpFromGraph

__version__ = "1.0.0+exprc"

# Theano programs test variables for truth (`if not W:`); Theano allowed it for every variable
# but a comparison result. exprc itself refuses, unless told otherwise.
from exprc.configuration import config as _exprc_config

_exprc_config.variable_truth = "theano"


#: Theano's top-level ``theano.dot`` (``T.dot``).
dot = tensor.dot


def function_dump(filename, inputs, outputs=None, mode=None, updates=None, givens=None,
                  no_default_updates=False, accept_inplace=False, name=None,
                  rebuild_strict=True, allow_input_downcast=None, profile=None,
                  on_unused_input=None, extra_tag_to_remove=None):
    """Pickle the arguments of a ``theano.function`` call into ``filename`` instead of
    compiling (Theano's way of sending a failing function in a bug report); reload with
    ``theano.function(**pickle.load(open(filename, 'rb')))``. ``extra_tag_to_remove`` is
    accepted for Theano's signature (exprc's tags pickle as they are)."""
    import pickle

    arguments = dict(inputs=inputs, outputs=outputs, mode=mode, updates=updates, givens=givens,
                     no_default_updates=no_default_updates, accept_inplace=accept_inplace,
                     name=name, rebuild_strict=rebuild_strict,
                     allow_input_downcast=allow_input_downcast, profile=profile,
                     on_unused_input=on_unused_input)
    with open(filename, "wb") as file:
        pickle.dump(arguments, file, protocol=pickle.HIGHEST_PROTOCOL)


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
    "Apply", "Constant", "FunctionGraph", "In", "Lop", "Mode", "Op", "OpFromGraph",
    "OrderedUpdates", "Out", "Param", "ProfileStats", "Rop", "SharedVariable", "Type",
    "Variable", "as_op", "change_flags", "clone", "compile", "config",
    "dot", "foldl", "foldr", "function", "function_dump", "gof", "grad", "gradient", "ifelse",
    "get_scalar_constant_value", "map", "pp", "pprint", "predefined_modes", "printing", "reduce",
    "sandbox", "scan", "scan_module", "shared", "tensor", "updates",
]
