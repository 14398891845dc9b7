"""Registry cases (being written)."""
