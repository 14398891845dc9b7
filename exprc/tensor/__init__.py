"""The tensor API, conventionally imported as ``T``: Theano's names with NumPy's semantics.

>>> import exprc.tensor as T
>>> x = T.matrix('x')
>>> (x * 2).sum(axis=1).type
TensorType(float64, (?,))
"""

# A re-exporting module whose import order matters (see the constructors below): ruff's
# unused-import and import-sorting checks do not apply.
# ruff: noqa: F401, I001
from exprc.tensor.type import TensorType, tensor
from exprc.tensor.variable import TensorConstant, TensorVariable, as_tensor_variable, constant
from exprc.tensor.elemwise import DimShuffle, Elemwise
from exprc.tensor.math import *
from exprc.tensor.math import abs, pow, round  # shadow the builtins on purpose
from exprc.tensor.shape import *
from exprc.tensor.basic import *
from exprc.tensor.reduction import *
from exprc.tensor.linalg import *
from exprc.tensor.subtensor import *
from exprc.tensor.sort import *
from exprc.tensor.extra_ops import *
from exprc.tensor.arraytools import *
from exprc.tensor.selection import *
from exprc.tensor import extra_ops, nnet, shared_randomstreams, signal, subtensor
from exprc.tensor import nlinalg, slinalg

# The constructors come last: ``T.scalar`` must be the constructor, not the submodule
# exprc.tensor.scalar that the imports above bind to the same name.
from exprc.tensor.type import (  # the constructors: T.matrix, T.fvector, ...
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

__all__ = [name for name in dir() if not name.startswith("_")]
