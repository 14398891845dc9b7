"""C rules (the ``C_CODE`` table), one module per op family; importing this package fills the
table."""

from exprc.tensor.families import load_rules

load_rules(__name__)
