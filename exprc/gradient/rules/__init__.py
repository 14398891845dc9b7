"""Gradient rules, one module per op family; importing this package fills ``GRAD``."""

from exprc.gradient.rules import elemwise  # noqa: F401
