"""``theano.tensor.slinalg``: ``cholesky``, ``solve`` (and its triangular and symmetric
forms), ``eigvalsh``, ``expm``, ``kron`` and their op classes (exprc's own
:mod:`exprc.tensor.slinalg`, which adds ``solve_triangular`` and ``cho_solve``).

Differences from Theano 1.0 (see ``docs/compat.md``): ``Solve`` takes ``A_structure`` and
``lower`` but not ``overwrite_A``/``overwrite_b``, and its structures are the four it
distinguishes (``'general'``, ``'symmetric'``, ``'lower_triangular'``,
``'upper_triangular'``); a ``'symmetric'`` solve reads one triangle of ``A`` only;
``eigvalsh(a, b=None)`` also solves the standard problem; ``kron`` is NumPy's for every rank.
"""

# ruff: noqa: F401
from exprc.tensor.slinalg import *
from exprc.tensor.slinalg import MATRIX_STRUCTURES
