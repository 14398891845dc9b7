"""Standalone C of the basic family."""
