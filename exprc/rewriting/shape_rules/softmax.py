"""Shape rules of the neural-network ops: softmax-like ops keep their input's shape, the
crossentropy gives one loss per row."""

from exprc.rewriting.shape_rules import SHAPE
from exprc.tensor.nnet.softmax import CrossentropySoftmaxIntLabels, LogSoftmax, Softmax


@SHAPE.register(Softmax, LogSoftmax)
def softmax(node, input_shapes):
    return [input_shapes[0]]


@SHAPE.register(CrossentropySoftmaxIntLabels)
def crossentropy_softmax_int_labels(node, input_shapes):
    return [(input_shapes[0][0],)]
