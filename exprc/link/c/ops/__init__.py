"""C rules (the ``C_CODE`` table), one module per op family; importing this package fills the
table, and its fallback for ops written in Python (:mod:`exprc.link.c.ops.python_op`)."""

from exprc.link.c.ops import python_op  # noqa: F401
from exprc.tensor.families import load_rules

load_rules(__name__)
