"""C rule of ``Composite``: the elementwise loop of :mod:`exprc.link.c.ops.elemwise`, running the
composite's scalar program (one loop for a whole fused subgraph)."""

from __future__ import annotations

from exprc.link.c.ops.elemwise import elemwise
from exprc.link.c.program import C_CODE
from exprc.tensor.composite import Composite

C_CODE.register(Composite)(elemwise)
