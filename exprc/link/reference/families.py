"""Imports every family's reference rules so that the table is complete."""

from exprc.link.reference import shape  # noqa: F401
