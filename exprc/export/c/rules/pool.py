"""Standalone C of the pool family."""
