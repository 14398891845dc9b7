"""exprc: a symbolic expression compiler for neural networks.

Build numpy-style expressions over symbolic tensors (:mod:`exprc.tensor`), differentiate them
(:func:`exprc.grad`), and compile them into fast callables (:func:`exprc.function`).
"""

from exprc.configuration import config
from exprc.compile.function import Function, function
from exprc.compile.io import In, Out
from exprc.compile.mode import Mode
from exprc.tensor.sharedvar import SharedVariable, shared
from exprc import tensor  # noqa: F401
from exprc import gradient  # noqa: F401
from exprc import printing  # noqa: F401
from exprc.gradient import grad

__version__ = "0.1.0"
__all__ = ["config", "function", "grad", "Function", "In", "Out", "Mode", "shared", "SharedVariable",
           "tensor", "gradient", "__version__"]
