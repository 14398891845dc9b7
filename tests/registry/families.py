"""Imports every family's registry cases."""

from tests.registry import cases_elemwise  # noqa: F401
