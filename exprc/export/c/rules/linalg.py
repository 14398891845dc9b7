"""Standalone C of the linalg family."""
