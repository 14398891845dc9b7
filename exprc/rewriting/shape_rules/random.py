"""Shape rules of random number generation (RandomStreams' counter-based generator): the new
state has the state's shape, the sample the shape given by the size input (and, for
permutations, one more axis of the permutations' length)."""

from exprc.rewriting.shape_rules import SHAPE
from exprc.tensor.random import (
    RandomBinomial,
    RandomChoice,
    RandomIntegers,
    RandomNormal,
    RandomPermutation,
    RandomUniform,
)


@SHAPE.register(RandomUniform, RandomNormal, RandomBinomial, RandomChoice, RandomIntegers)
def sample(node, input_shapes):
    return [input_shapes[0], tuple(input_shapes.values(node.inputs[1]))]


@SHAPE.register(RandomPermutation)
def permutation(node, input_shapes):
    size = tuple(input_shapes.values(node.inputs[1]))
    return [input_shapes[0], size + tuple(input_shapes.values(node.inputs[2]))]
