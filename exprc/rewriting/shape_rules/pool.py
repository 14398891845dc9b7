"""Shape rules of pooling: the gradients have the input's shape, pooling and
:class:`MaxPoolGradGrad` the pooled shape (Theano's rule, see
:func:`exprc.tensor.signal.pool.pooled_size`)."""

from exprc.rewriting.shape_rules import SHAPE
from exprc.rewriting.shape_rules.sizes import add, const, floordiv, maximum
from exprc.tensor.signal.pool import AveragePoolGrad, MaxPoolGrad, MaxPoolGradGrad, Pool


def _pooled(n, ws: int, stride: int, pad: int, ignore_border: bool):
    """The windows along an axis of ``n`` elements, as a size expression."""
    if ignore_border:
        # (n + 2p - w) // s + 1, which is negative (so clipped to 0) only when n + 2p < w - s.
        count = floordiv(add(n, const(2 * pad - ws + stride)), const(stride))
        return count if 2 * pad - ws + stride >= 0 else maximum(count, const(0))
    if stride >= ws:
        return floordiv(add(n, const(stride - 1)), const(stride))
    inner = floordiv(add(n, const(stride - 1 - ws)), const(stride))
    return add(maximum(inner, const(0)), const(1))


@SHAPE.register(Pool, MaxPoolGradGrad)
def pool(node, input_shapes):
    op = node.op
    shape = input_shapes[0]
    pooled = tuple(_pooled(n, w, s, p, op.ignore_border)
                   for n, w, s, p in zip(shape[-2:], op.ws, op.stride, op.pad))
    return [tuple(shape[:-2]) + pooled]


@SHAPE.register(MaxPoolGrad, AveragePoolGrad)
def pool_grad(node, input_shapes):
    return [input_shapes[0]]
