"""Neural-network functions (``T.nnet``)."""

from exprc.tensor.math import sigmoid, softplus  # noqa: F401
