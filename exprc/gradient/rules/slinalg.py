"""Gradient rules of the slinalg family, each a graph of exprc ops.

With ``G`` the gradient of the output:

- ``x = A^-1 b`` (any structure): ``Gb = A^-T G`` and ``GA = -Gb x^T``, kept on the triangle
  a triangular solve reads (and off the diagonal it takes as ones), folded onto the one a
  symmetric solve reads; a transposed triangular solve swaps the roles: ``GA = -x Gb^T``;
- ``cho_solve`` with ``A = L L^T``: ``Gb = A^-1 G``, ``GA = -Gb x^T`` and
  ``GL = (GA + GA^T) L`` on ``L``'s triangle (``U (GA + GA^T)`` for ``A = U^T U``);
- Cholesky (Murray, 2016): ``S = L^-T Phi(L^T G) L^-1`` with ``Phi`` the lower triangle with
  its diagonal halved, folded onto the triangle read (for ``U = L^T``, with ``G^T``);
- ``eigvalsh``: ``V diag(Gw) V^T`` for the matrix, ``-V diag(Gw w) V^T`` for ``b``, with ``V``
  the (``b``-orthonormal) eigenvectors, folded;
- ``expm`` (Najfeld and Havel, 1995): the upper right block of
  ``expm([[A^T, G], [0, A^T]])``, the adjoint of the Fréchet derivative.

A routine that reads one triangle of a matrix computes a function of that triangle alone, so
each gradient is zero on the other triangle and an entry off the diagonal counts for its
mirror too (see :func:`~exprc.gradient.rules.nlinalg.fold`).
"""

from __future__ import annotations

import exprc.tensor.math as tm
from exprc.gradient.rules.nlinalg import fold, triangle
from exprc.gradient.table import GRAD
from exprc.tensor.basic import concatenate, zeros_like
from exprc.tensor.elemwise import DimShuffle
from exprc.tensor.linalg import dot
from exprc.tensor.nlinalg import Eigh, alloc_diag, extract_diag, matrix_dot
from exprc.tensor.slinalg import (
    Cholesky,
    CholeskySolve,
    Eigvalsh,
    Expm,
    Solve,
    SolveTriangular,
    cholesky,
    expm,
    solve_triangular,
)

_T = DimShuffle((1, 0))


def _outer(x, y):
    """``x y^T`` for the solutions and gradients of a system: vectors or matrices."""
    if x.ndim == 1:
        return tm.mul(DimShuffle((0, "x"))(x), DimShuffle(("x", 0))(y))
    return dot(x, _T(y))


@GRAD.register(Solve)
def solve(node, output_grads):
    (a, _), (gx,), x = node.inputs, output_grads, node.outputs[0]
    structure = node.op.A_structure
    if structure == "general":
        gb = Solve("general")(_T(a), gx)
    elif structure == "symmetric":
        gb = node.op(a, gx)  # the symmetric matrix is its own transpose
    else:
        gb = solve_triangular(a, gx, trans="T", lower=structure == "lower_triangular")
    ga = tm.neg(_outer(gb, x))
    if structure == "symmetric":
        ga = fold(ga, node.op.lower)
    elif structure != "general":
        ga = triangle(ga, structure == "lower_triangular")
    return [ga, gb]


@GRAD.register(SolveTriangular)
def solve_triangular_grad(node, output_grads):
    (a, _), (gx,), x, op = node.inputs, output_grads, node.outputs[0], node.op
    flipped = "N" if op.trans == "T" else "T"
    gb = SolveTriangular(op.lower, flipped, op.unit_diagonal)(a, gx)
    ga = tm.neg(_outer(gb, x) if op.trans == "N" else _outer(x, gb))
    return [triangle(ga, op.lower, diagonal=not op.unit_diagonal), gb]


@GRAD.register(CholeskySolve)
def cho_solve(node, output_grads):
    (c, _), (gx,), x, op = node.inputs, output_grads, node.outputs[0], node.op
    gb = op(c, gx)
    ga = tm.neg(_outer(gb, x))
    sym, factor = ga + _T(ga), triangle(c, op.lower)  # potrs reads only that triangle
    gc = dot(sym, factor) if op.lower else dot(factor, sym)
    return [triangle(gc, op.lower), gb]


def _murray(factor, g_factor):
    """``L^-T Phi(L^T G) L^-1`` for the lower triangular factor ``L`` and its gradient ``G``
    (``Phi``: the lower triangle with the diagonal halved)."""
    inner = dot(_T(factor), g_factor)
    phi = triangle(inner, True) - tm.mul(0.5, alloc_diag(extract_diag(inner)))
    left = solve_triangular(factor, phi, lower=True, trans="T")  # L^-T Phi
    return _T(solve_triangular(factor, _T(left), lower=True, trans="T"))


@GRAD.register(Cholesky)
def cholesky_grad(node, output_grads):
    (gz,), z, op = output_grads, node.outputs[0], node.op
    # A failed factorisation (on_error='nan') is all NaNs, and so is its gradient.
    if op.lower:
        return [fold(_murray(z, gz), True)]
    return [fold(_murray(_T(z), _T(gz)), False)]


def _symmetric(x, lower: bool):
    """The symmetric matrix that the lower (or upper) triangle of ``x`` defines."""
    return triangle(x, lower) + _T(triangle(x, lower, diagonal=False))


@GRAD.register(Eigvalsh)
def eigvalsh(node, output_grads):
    (gw,), w, lower = output_grads, node.outputs[0], node.op.lower
    a = node.inputs[0]
    if len(node.inputs) == 1:
        v = Eigh("L" if lower else "U")(a)[1]
        return [fold(matrix_dot(v, alloc_diag(gw), _T(v)), lower)]
    # The b-orthonormal eigenvectors, through b = L L^T: V = L^-T (eigenvectors of
    # L^-1 a L^-T).
    factor = cholesky(node.inputs[1], lower=lower)
    factor = factor if lower else _T(factor)
    left = solve_triangular(factor, _symmetric(a, lower), lower=True)  # L^-1 a
    reduced = solve_triangular(factor, _T(left), lower=True)  # L^-1 a L^-T
    v = solve_triangular(factor, Eigh("L")(reduced)[1], lower=True, trans="T")
    return [fold(matrix_dot(v, alloc_diag(gw), _T(v)), lower),
            fold(tm.neg(matrix_dot(v, alloc_diag(gw * w), _T(v))), lower)]


@GRAD.register(Expm)
def expm_grad(node, output_grads):
    (a,), (gz,) = node.inputs, output_grads
    at = _T(a)
    block = concatenate([concatenate([at, gz], axis=1),
                         concatenate([zeros_like(a), at], axis=1)], axis=0)
    n = a.shape[0]
    return [expm(block)[:n, n:]]
