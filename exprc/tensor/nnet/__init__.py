"""Neural-network functions (``T.nnet``)."""

from exprc.tensor.math import sigmoid, softplus  # noqa: F401
from exprc.tensor.nnet import bn, neighbours  # noqa: F401
from exprc.tensor.nnet.activations import *
from exprc.tensor.nnet.conv import *
from exprc.tensor.nnet.conv3d import conv3d  # noqa: F401
from exprc.tensor.nnet.hsoftmax import h_softmax  # noqa: F401
from exprc.tensor.nnet.neighbours import images2neibs, neibs2images  # noqa: F401
from exprc.tensor.nnet.softmax import (  # noqa: F401
    CrossentropySoftmaxIntLabels,
    LogSoftmax,
    Softmax,
    categorical_crossentropy,
    crossentropy_softmax_1hot,
    crossentropy_softmax_1hot_with_bias,
    crossentropy_softmax_argmax_1hot_with_bias,
    crossentropy_softmax_int_labels,
    logsoftmax,
    softmax,
    softmax_with_bias,
)
