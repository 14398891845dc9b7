"""Rewrite rules (being written)."""
