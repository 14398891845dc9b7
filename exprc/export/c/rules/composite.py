"""Standalone C of fused elementwise programs: the elementwise rule serves them."""

from __future__ import annotations

from exprc.export.c.program import EXPORT_C
from exprc.export.c.rules.elemwise import elementwise
from exprc.tensor.composite import Composite

EXPORT_C.register(Composite)(elementwise)
