"""Imports every family's registry cases (``cases_<family>``), and the cases of graphs that are
not one op (``cases_activations``)."""

from exprc.tensor.families import load_rules

load_rules("tests.registry", prefix="cases_")

from tests.registry import cases_activations  # noqa: E402,F401
