"""Executors ("linkers") that run a graph: the NumPy reference, and compiled backends."""
