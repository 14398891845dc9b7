"""``theano.scan_module.scan_utils``: the graph helpers Theano programs import from it."""

from exprc.graph.traversal import clone_replace, equal_computations

__all__ = ["clone_replace", "equal_computations"]
