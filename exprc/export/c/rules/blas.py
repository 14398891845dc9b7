"""Standalone C of the blas family."""
