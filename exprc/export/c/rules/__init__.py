"""The standalone-C rules of :data:`~exprc.export.c.program.EXPORT_C`, one module per op
family (see :mod:`exprc.tensor.families`). Importing this package fills the table."""

from exprc.export.c.program import EXPORT_C
from exprc.tensor.families import load_rules

load_rules(__name__)

__all__ = ["EXPORT_C"]
