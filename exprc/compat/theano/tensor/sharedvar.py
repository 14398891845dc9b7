"""``theano.tensor.sharedvar``: the class of tensor shared variables and its constructors."""

from exprc.tensor.sharedvar import SharedVariable as TensorSharedVariable
from exprc.tensor.sharedvar import shared as tensor_constructor

__all__ = ["TensorSharedVariable", "scalar_constructor", "tensor_constructor"]

#: Theano kept separate constructors for 0-d and n-d values; exprc's ``shared`` makes both.
scalar_constructor = tensor_constructor
