"""Reference implementation of the gradient filters (identity forward)."""

from exprc.tensor.gradient_filters import GradientFilter
from exprc.link.reference.table import REFERENCE


@REFERENCE.register(GradientFilter)
def gradient_filter(node, x):
    return [x]
