"""``theano.tensor`` (conventionally ``T``): everything of :mod:`exprc.tensor` plus Theano's
extra names (``T.grad``, ``T.dmatrices``, ``T.tensor6``, ``T.stacklists``, ...; see
:mod:`exprc.compat.theano.tensor.basic`) and Theano's submodules ``nnet``, ``signal``,
``shared_randomstreams`` and ``extra_ops``."""

# A re-exporting module whose import order matters: the compat submodules must replace the
# exprc ones of the same name that the star import binds.
# ruff: noqa: F401, I001
from exprc.tensor import *
from exprc.tensor import abs, pow, round
from exprc.compat.theano.tensor.basic import *
from exprc.compat.theano.tensor.aliases import *
from exprc.compat.theano.tensor import basic, extra_ops, nnet, shared_randomstreams, signal
import exprc.compat.theano.tensor.nlinalg  # rebinds the star import's exprc.tensor.nlinalg
import exprc.compat.theano.tensor.slinalg
# The star import bound exprc's own ``sharedvar`` module here, and ``from package import
# name`` would return that attribute; a plain import of the submodule rebinds it.
import exprc.compat.theano.tensor.sharedvar

__all__ = [name for name in dir() if not name.startswith("_")]
