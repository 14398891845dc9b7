"""The tensor API, conventionally imported as ``T``: Theano's names with NumPy's semantics.

>>> import exprc.tensor as T
>>> x = T.matrix('x')
>>> (x * 2).sum(axis=1).type
TensorType(float64, (?,))
"""

from exprc.tensor.type import TensorType, tensor  # noqa: F401
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
from exprc.tensor import extra_ops, nnet, shared_randomstreams, signal, subtensor  # noqa: F401

# The constructors come last: ``T.scalar`` must be the constructor, not the submodule
# exprc.tensor.scalar that the imports above bind to the same name.
from exprc.tensor.type import (  # noqa: F401  (the constructors: T.matrix, T.fvector, ...)
    bcol,
    bmatrix,
    brow,
    bscalar,
    btensor3,
    btensor4,
    btensor5,
    bvector,
    col,
    dcol,
    dmatrix,
    drow,
    dscalar,
    dtensor3,
    dtensor4,
    dtensor5,
    dvector,
    fcol,
    fmatrix,
    frow,
    fscalar,
    ftensor3,
    ftensor4,
    ftensor5,
    fvector,
    icol,
    imatrix,
    irow,
    iscalar,
    itensor3,
    itensor4,
    itensor5,
    ivector,
    lcol,
    lmatrix,
    lrow,
    lscalar,
    ltensor3,
    ltensor4,
    ltensor5,
    lvector,
    matrix,
    row,
    scalar,
    tensor3,
    tensor4,
    tensor5,
    vector,
    wcol,
    wmatrix,
    wrow,
    wscalar,
    wtensor3,
    wtensor4,
    wtensor5,
    wvector,
)
