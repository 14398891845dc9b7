"""Standalone C of the extra_ops family."""
