"""Standalone C of the subtensor family."""
