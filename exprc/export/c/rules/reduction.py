"""Standalone C of the reduction family."""
