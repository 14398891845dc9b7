"""Gradient rules, one module per op family; importing this package fills ``GRAD``."""

from exprc.tensor.families import load_rules

load_rules(__name__)
