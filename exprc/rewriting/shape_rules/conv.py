"""Shape rules of convolution (conv2d and its gradients): the forward output's sizes are
:meth:`exprc.tensor.nnet.conv.Conv2d.output_sizes`, the formula ``make_node`` uses for the
static shape, applied to size expressions; the gradients have the shape of the operand they
are the gradient of."""

from exprc.rewriting.shape_rules import SHAPE
from exprc.tensor.nnet.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights


@SHAPE.register(Conv2d)
def conv2d(node, input_shapes):
    x, w = input_shapes
    return [(x[0], w[0], *node.op.output_sizes(x[2:], w[2:]))]


@SHAPE.register(Conv2dGradInputs)
def conv2d_grad_inputs(node, input_shapes):
    w, gy, _ = input_shapes
    rows, cols = input_shapes.values(node.inputs[2])
    return [(gy[0], node.op.input_channels(w[1]), rows, cols)]


@SHAPE.register(Conv2dGradWeights)
def conv2d_grad_weights(node, input_shapes):
    x, gy, _ = input_shapes
    rows, cols = input_shapes.values(node.inputs[2])
    return [(gy[1], node.op.group_channels(x[1]), rows, cols)]
