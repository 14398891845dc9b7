"""C rules (the ``C_CODE`` table), one module per op family; importing this fills the table."""

from exprc.link.c.ops import basic, blas, elemwise, nnet, reduction, shape, subtensor  # noqa: F401
