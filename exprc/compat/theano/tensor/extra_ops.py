"""``theano.tensor.extra_ops``: cumsum, repeat, to_one_hot, ... (exprc's own)."""

from exprc.tensor.extra_ops import *
