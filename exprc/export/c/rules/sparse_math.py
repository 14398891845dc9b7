"""Standalone C of the sparse_math family: none; each op says why."""

from __future__ import annotations

from exprc.export.c.program import EXPORT_C
from exprc.graph.ir import Op
from exprc.tensor.families import family_of

REASON = ('sparse values are not exported to standalone C')

for _cls in sorted(Op.ALL_OPS, key=lambda c: c.__name__):
    if family_of(_cls) == "sparse_math":
        EXPORT_C.exempt(_cls, REASON)
