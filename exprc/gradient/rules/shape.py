"""Gradient rules (being written)."""
