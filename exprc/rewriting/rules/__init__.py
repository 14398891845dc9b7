"""Rule modules; importing this package registers every rule in ``RULE_SETS``."""

from exprc.rewriting.rules import (  # noqa: F401
    blas,
    canonicalize,
    cleanup,
    fusion,
    inplace,
    loops,
    movement,
    shape_pass,
    specialize,
    stability,
)
