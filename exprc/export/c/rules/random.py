"""Standalone C of the random family: none; each op says why."""

from __future__ import annotations

from exprc.export.c.program import EXPORT_C
from exprc.graph.ir import Op
from exprc.tensor.families import family_of

REASON = ('draws random numbers, and an exported function must be deterministic (build the '
          'output with deterministic=True, without dropout or noise)')

for _cls in sorted(Op.ALL_OPS, key=lambda c: c.__name__):
    if family_of(_cls) == "random":
        EXPORT_C.exempt(_cls, REASON)
