"""The ``sparse_math`` family has no C code, for the reason of :mod:`exprc.link.c.ops.sparse`."""

from exprc.link.c.ops.sparse import REASON
from exprc.link.c.program import C_CODE
from exprc.tensor import sparse_math

for _op in (sparse_math.AddSS, sparse_math.AddSD, sparse_math.MulSS, sparse_math.MulSD,
            sparse_math.Dot, sparse_math.StructuredDot, sparse_math.StructuredDotGrad,
            sparse_math.TrueDot, sparse_math.SpSum, sparse_math.Scale):
    C_CODE.exempt(_op, REASON)
