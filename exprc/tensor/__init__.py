"""The tensor API, conventionally imported as ``T``: Theano's names with NumPy's semantics.

>>> import exprc.tensor as T
>>> x = T.matrix('x')
>>> (x * 2).sum(axis=1).type
TensorType(float64, (?,))
"""

from exprc.tensor.type import (  # noqa: F401
    CONSTRUCTORS as _CONSTRUCTORS,
    TensorType,
    tensor,
)
from exprc.tensor.variable import TensorConstant, TensorVariable, as_tensor_variable, constant
from exprc.tensor.elemwise import DimShuffle, Elemwise
from exprc.tensor.math import *  # noqa: F401,F403
from exprc.tensor.math import abs, pow, round  # noqa: F401  (shadow builtins on purpose)
from exprc.tensor.shape import *  # noqa: F401,F403
from exprc.tensor.basic import *  # noqa: F401,F403
from exprc.tensor.reduction import *  # noqa: F401,F403
from exprc.tensor.linalg import *  # noqa: F401,F403
from exprc.tensor.subtensor import *  # noqa: F401,F403
from exprc.tensor.sort import *  # noqa: F401,F403
from exprc.tensor.extra_ops import *  # noqa: F401,F403
from exprc.tensor import subtensor, nnet, extra_ops, signal  # noqa: F401

globals().update(_CONSTRUCTORS)
