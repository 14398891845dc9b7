"""Standalone C of the conv family."""
