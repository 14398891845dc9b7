"""Shape rules of convolution (conv2d and its gradients): along each spatial axis the output
has ``(size + 2 * pad - dilated_filter) // stride + 1`` entries; the gradients have the shape
of the operand they are the gradient of."""

from exprc.rewriting.shape_rules import SHAPE
from exprc.rewriting.shape_rules import sizes as S
from exprc.tensor.nnet.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights


def _output_size(op, axis: int, size, k):
    """The forward convolution's output size along spatial ``axis`` as an int64 scalar."""
    dil, stride = op.filter_dilation[axis], op.subsample[axis]
    span = S.add(S.mul(S.sub(k, S.const(1)), S.const(dil)), S.const(1))
    mode = op.axis_pad(axis)
    if mode == "valid":
        padded = size
    elif mode == "full":
        padded = S.add(size, S.mul(S.sub(span, S.const(1)), S.const(2)))
    elif mode == "half":
        padded = S.add(size, S.mul(S.floordiv(span, S.const(2)), S.const(2)))
    else:
        padded = S.add(size, S.const(2 * mode))
    return S.add(S.floordiv(S.sub(padded, span), S.const(stride)), S.const(1))


@SHAPE.register(Conv2d)
def conv2d(node, input_shapes):
    x, w = input_shapes
    return [(x[0], w[0], *(_output_size(node.op, a, x[2 + a], w[2 + a]) for a in range(2)))]


@SHAPE.register(Conv2dGradInputs)
def conv2d_grad_inputs(node, input_shapes):
    w, gy, _ = input_shapes
    rows, cols = input_shapes.values(node.inputs[2])
    return [(gy[0], S.mul(w[1], S.const(node.op.num_groups)), rows, cols)]


@SHAPE.register(Conv2dGradWeights)
def conv2d_grad_weights(node, input_shapes):
    x, gy, _ = input_shapes
    rows, cols = input_shapes.values(node.inputs[2])
    return [(gy[1], S.floordiv(x[1], S.const(node.op.num_groups)), rows, cols)]
