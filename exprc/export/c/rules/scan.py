"""Standalone C of the scan family: none; each op says why."""

from __future__ import annotations

from exprc.export.c.program import EXPORT_C
from exprc.graph.ir import Op
from exprc.tensor.families import family_of

REASON = ('loops are not exported to standalone C (unroll the loop, or run the function in exprc)')

for _cls in sorted(Op.ALL_OPS, key=lambda c: c.__name__):
    if family_of(_cls) == "scan":
        EXPORT_C.exempt(_cls, REASON)
