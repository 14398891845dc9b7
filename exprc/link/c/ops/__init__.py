"""C rules (the ``C_CODE`` table), one module per op family; importing this fills the table."""

from exprc.link.c.ops import (  # noqa: F401
    advanced,
    basic,
    blas,
    conv,
    elemwise,
    more,
    nnet,
    pool,
    random,
    reduction,
    sequence,
    shape,
    subtensor,
)
