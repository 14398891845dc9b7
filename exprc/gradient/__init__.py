"""Symbolic differentiation (being written)."""
from exprc.gradient.table import BROADCASTING_OPS, DISCONNECTED, GRAD, NullGrad  # noqa: F401
from exprc.gradient import rules  # noqa: F401,E402
