"""``theano.tensor.nnet.bn``: batch normalisation (exprc's own)."""

from exprc.tensor.nnet.bn import (
    batch_normalization,
    batch_normalization_test,
    batch_normalization_train,
)

__all__ = ["batch_normalization", "batch_normalization_test", "batch_normalization_train"]
