"""``theano.tensor.nnet``: exprc's :mod:`exprc.tensor.nnet`, with Theano 1.0's ``conv2d``
signature, the ``conv`` (old ``conv2d``), ``bn``, ``abstract_conv``, ``neighbours`` and
``nnet`` submodules, and Theano's names ``crossentropy_categorical_1hot`` and
``confusion_matrix``."""

# ruff: noqa: F401, I001
from exprc.tensor.nnet import *
from exprc.compat.theano.tensor.nnet import abstract_conv, bn, conv, neighbours, nnet
from exprc.compat.theano.tensor.nnet.abstract_conv import conv2d
from exprc.compat.theano.tensor.nnet.nnet import confusion_matrix, crossentropy_categorical_1hot

__all__ = [name for name in dir() if not name.startswith("_")]
