"""Shape rules of the gradient filters: identities forward, so the input's shape."""

from exprc.rewriting.shape_rules import SHAPE
from exprc.tensor.gradient_filters import GradientFilter


@SHAPE.register(GradientFilter)
def gradient_filter(node, input_shapes):
    return [input_shapes[0]]
