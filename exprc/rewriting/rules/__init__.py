"""Rule modules; importing this package registers every rule in ``RULE_SETS``."""

from exprc.rewriting import basic  # noqa: F401
from exprc.rewriting.rules import (
    blas,  # noqa: F401
    canonicalize,  # noqa: F401
    fusion,  # noqa: F401
    inplace,  # noqa: F401
    movement,  # noqa: F401
    shape,  # noqa: F401
    specialize,  # noqa: F401
    stability,  # noqa: F401
)
