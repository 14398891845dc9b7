"""Standalone C of the sort family."""
