"""Shape rules of the ``sparse`` family.

The shape of a sparse graph input is read from it (``csm_shape``, through ``x.shape``); the
rules here carry it through conversions, transposes and stacking. The lengths of ``data`` and
``indices`` depend on the values (the number of stored entries) and are measured.
"""

from exprc.rewriting.shape_rules import SHAPE
from exprc.rewriting.shape_rules.sizes import add, const
from exprc.tensor.sparse import (
    CSM,
    Cast,
    CSMGrad,
    CSMProperties,
    DenseFromSparse,
    EnsureSortedIndices,
    HStack,
    Neg,
    Remove0,
    SparseFromDense,
    Transpose,
    VStack,
)


@SHAPE.register(DenseFromSparse, SparseFromDense, Cast, Neg, Remove0, EnsureSortedIndices)
def same_as_input(node, input_shapes):
    return [input_shapes[0]]


@SHAPE.register(Transpose)
def transpose(node, input_shapes):
    rows, cols = input_shapes[0]
    return [(cols, rows)]


@SHAPE.register(CSMProperties)
def csm_properties(node, input_shapes):
    # indptr has one entry per row (csr) or column (csc), plus one.
    rows, cols = input_shapes[0]
    major = rows if node.inputs[0].format == "csr" else cols
    return [None, None, (add(major, const(1)),), None]


@SHAPE.register(CSM)
def csm(node, input_shapes):
    shape = node.inputs[3]
    if shape.type.shape[0] != 2:
        return [None]  # a shape vector of unknown length: measured
    return [tuple(input_shapes.values(shape))]


@SHAPE.register(CSMGrad)
def csm_grad(node, input_shapes):
    return [input_shapes[0]]  # one value per stored entry, as indices


@SHAPE.register(HStack)
def hstack(node, input_shapes):
    rows = input_shapes[0][0]
    cols = input_shapes[0][1]
    for shape in input_shapes[1:]:
        cols = add(cols, shape[1])
    return [(rows, cols)]


@SHAPE.register(VStack)
def vstack(node, input_shapes):
    rows = input_shapes[0][0]
    for shape in input_shapes[1:]:
        rows = add(rows, shape[0])
    return [(rows, input_shapes[0][1])]
