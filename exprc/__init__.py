"""exprc: a symbolic expression compiler for neural networks.

Build numpy-style expressions over symbolic tensors (:mod:`exprc.tensor`), differentiate them
(:func:`exprc.grad`), and compile them into fast callables (:func:`exprc.function`).
"""

from exprc import (
           gradient,
           printing,  # noqa: F401
           tensor,
)
from exprc._version import __version__
from exprc.compile.function import Function, function
from exprc.compile.io import In, Out
from exprc.compile.mode import Mode
from exprc.compile.ops import as_op
from exprc.configuration import config
from exprc.gradient import grad
from exprc.graph.ir import Apply, Op
from exprc.scan_module import foldl, foldr, map, reduce, scan
from exprc.tensor.opfromgraph import OpFromGraph
from exprc.tensor.sharedvar import SharedVariable, shared

__all__ = ["config", "function", "grad", "Function", "In", "Out", "Mode", "shared",
           "SharedVariable", "tensor", "gradient", "__version__", "scan", "map", "reduce",
           "foldl", "foldr", "OpFromGraph", "Op", "Apply", "as_op"]
