"""Theano's ``scan_module`` path: ``from exprc.scan_module import scan, until``.

The loop builder lives in :mod:`exprc.tensor.scan_builder` and the op in
:mod:`exprc.tensor.scan`; this package only gives them the names Theano programs import.
"""

from exprc.tensor.scan import Scan
from exprc.tensor.scan_builder import ScanUpdates, foldl, foldr, map, reduce, scan, until

__all__ = ["Scan", "ScanUpdates", "foldl", "foldr", "map", "reduce", "scan", "until"]
