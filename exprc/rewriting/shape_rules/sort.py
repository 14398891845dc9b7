"""Shape rules of the sorting family: every op keeps the shape of the sorted tensor."""

from exprc.rewriting.shape_rules import SHAPE
from exprc.tensor.sort import ArgSort, Permute, Sort


@SHAPE.register(Sort, ArgSort, Permute)
def same_as_input(node, input_shapes):
    return [input_shapes[0]]
