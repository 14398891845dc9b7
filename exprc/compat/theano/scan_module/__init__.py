"""``theano.scan_module``: scan and its relatives, ``until``, ``scan_utils``."""

from exprc.compat.theano.scan_module import scan_utils
from exprc.scan_module import Scan, foldl, foldr, map, reduce, scan, until

__all__ = ["Scan", "foldl", "foldr", "map", "reduce", "scan", "scan_utils", "until"]
