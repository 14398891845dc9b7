"""Standalone C of the slinalg family: none; each op says why."""

from __future__ import annotations

from exprc.export.c.program import EXPORT_C
from exprc.graph.ir import Op
from exprc.tensor.families import family_of

REASON = ('matrix decompositions and solvers need LAPACK, which the standalone C does not carry')

for _cls in sorted(Op.ALL_OPS, key=lambda c: c.__name__):
    if family_of(_cls) == "slinalg":
        EXPORT_C.exempt(_cls, REASON)
