"""``theano.tensor.nnet``: exprc's :mod:`exprc.tensor.nnet`, with Theano 1.0's ``conv2d``
signature and the ``conv`` (old ``conv2d``) and ``bn`` submodules."""

# ruff: noqa: F401, I001
from exprc.tensor.nnet import *
from exprc.compat.theano.tensor.nnet import abstract_conv, bn, conv
from exprc.compat.theano.tensor.nnet.abstract_conv import conv2d

__all__ = [name for name in dir() if not name.startswith("_")]
