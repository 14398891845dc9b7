"""Standalone C of the opfromgraph family: none; each op says why."""

from __future__ import annotations

from exprc.export.c.program import EXPORT_C
from exprc.graph.ir import Op
from exprc.tensor.families import family_of

REASON = ('graphs inside an op are not exported to standalone C (build it with inline=True)')

for _cls in sorted(Op.ALL_OPS, key=lambda c: c.__name__):
    if family_of(_cls) == "opfromgraph":
        EXPORT_C.exempt(_cls, REASON)
