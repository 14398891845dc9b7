"""Neural-network functions (``T.nnet``)."""

from exprc.tensor.math import sigmoid, softplus  # noqa: F401
from exprc.tensor.nnet import bn  # noqa: F401
from exprc.tensor.nnet.activations import *
from exprc.tensor.nnet.conv import *
from exprc.tensor.nnet.softmax import (  # noqa: F401
    CrossentropySoftmaxIntLabels,
    LogSoftmax,
    Softmax,
    categorical_crossentropy,
    crossentropy_softmax_int_labels,
    logsoftmax,
    softmax,
)
