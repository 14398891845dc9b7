"""Shape rules of the slinalg family: a factor or an exponential has its matrix's shape, a
solution its right-hand side's, and eigenvalues one entry per row."""

from exprc.rewriting.shape_rules import SHAPE
from exprc.tensor.slinalg import Cholesky, CholeskySolve, Eigvalsh, Expm, Solve, SolveTriangular


@SHAPE.register(Cholesky, Expm)
def same_as_matrix(node, input_shapes):
    return [input_shapes[0]]


@SHAPE.register(Solve, SolveTriangular, CholeskySolve)
def solution(node, input_shapes):
    return [input_shapes[1]]


@SHAPE.register(Eigvalsh)
def eigvalsh(node, input_shapes):
    return [(input_shapes[0][0],)]
