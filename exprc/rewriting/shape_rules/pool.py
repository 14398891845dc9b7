"""Shape rules of pooling: the gradients have the input's shape, pooling and
:class:`MaxPoolGradGrad` the pooled shape, from the op's ``output_sizes`` (Theano's rule,
:func:`exprc.tensor.signal.pool.pooled_size`, the formula ``make_node`` uses for the static
shape) applied to size expressions."""

from exprc.rewriting.shape_rules import SHAPE
from exprc.tensor.signal.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool


@SHAPE.register(Pool, MaxPoolGradGrad)
def pool(node, input_shapes):
    shape = input_shapes[0]
    return [tuple(shape[:-2]) + node.op.output_sizes(*shape[-2:])]


@SHAPE.register(MaxPoolGrad, AveragePoolGrad)
def pool_grad(node, input_shapes):
    return [input_shapes[0]]
