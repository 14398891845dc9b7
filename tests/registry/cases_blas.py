"""Registry cases of the BLAS ops (``Gemm``, ``Gemv``, ``Ger``).

The in-place variants are built on graph inputs here: the executor copies an input before an
op may overwrite it, so these cases check values, not memory reuse (tests/test_inplace.py
does that).
"""

import numpy as np

from exprc.gradient.table import INPLACE_REASON
from exprc.tensor.blas import Gemm, Gemv, Ger
from tests.registry import Arg, Case, add

NO_INPLACE_GRAD = INPLACE_REASON
_PRODUCT = {"gemm": np.dot, "gemv": np.dot, "ger": np.outer}
_OPS = {"gemm": Gemm, "gemv": Gemv, "ger": Ger}


def _case(kind, label, z, x, y, dtype="float64", inplace=False, **kw):
    """``beta * z + alpha * product(x, y)`` with shapes ``z``, ``x``, ``y`` (``Arg``s or
    shapes); alpha and beta are drawn as 0-d inputs."""
    op = _OPS[kind](inplace=inplace)
    args = [a if isinstance(a, Arg) else Arg(a, dtype) for a in (z, (), x, y, ())]

    def reference(z, alpha, x, y, beta):
        return beta * z + alpha * _PRODUCT[kind](x, y)

    settings = {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {}
    settings["grad"] = True if dtype == "float64" else "float32 forward case"
    if inplace:
        settings["grad"] = NO_INPLACE_GRAD
    return Case(f"{kind}/{label}", op, reference, args, **{**settings, **kw})


add(
    _case("gemm", "square", (3, 3), (3, 3), (3, 3)),
    _case("gemm", "rect", (2, 4), (2, 3), (3, 4)),
    _case("gemm", "float32", (2, 4), (2, 3), (3, 4), dtype="float32"),
    _case("gemm", "bias_row", (1, 4), (2, 3), (3, 4)),
    _case("gemm", "bias_col_static", Arg((2, 1), static=(None, 1)), (2, 3), (3, 4)),
    _case("gemm", "z_enlarges", (3, 4), (1, 2), (2, 4)),
    _case("gemm", "static", Arg((2, 4), static=(2, 4)), Arg((2, 3), static=(2, 3)),
          Arg((3, 4), static=(3, 4))),
    _case("gemm", "empty_inner", (2, 4), (2, 0), (0, 4), grad="empty input"),
    _case("gemm", "inplace", (2, 4), (2, 3), (3, 4), inplace=True),
    _case("gemm", "inplace_bias", (1, 4), (2, 3), (3, 4), inplace=True),
    _case("gemv", "basic", (3,), (3, 4), (4,)),
    _case("gemv", "float32", (3,), (3, 4), (4,), dtype="float32"),
    _case("gemv", "scalar_y", (1,), (3, 4), (4,)),
    _case("gemv", "inplace", (3,), (3, 4), (4,), inplace=True),
    _case("ger", "basic", (3, 4), (3,), (4,)),
    _case("ger", "float32", (3, 4), (3,), (4,), dtype="float32"),
    _case("ger", "bias_row", (1, 4), (3,), (4,)),
    _case("ger", "inplace", (3, 4), (3,), (4,), inplace=True),
)
