"""``theano.scan_module``: scan and its relatives, ``until``, ``scan_utils``.

One difference from ``exprc.scan`` is Theano's: without ``n_steps``, sequences of different
lengths run as many steps as the shortest has (Theano's tutorial evaluates a polynomial by
scanning its coefficients beside ``arange(10000)``), where ``exprc.scan`` refuses them.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

from exprc.compat.theano.scan_module import scan_utils
from exprc.scan_module import Scan, until
from exprc.scan_module import scan as _scan
from exprc.tensor.math import minimum
from exprc.tensor.scan_builder import loops_on
from exprc.tensor.variable import as_tensor_variable

__all__ = ["Scan", "foldl", "foldr", "map", "reduce", "scan", "scan_utils", "until"]


def _steps_of_shortest(sequences: Any):
    """The number of steps the shortest of ``sequences`` allows, or None for fewer than two
    sequences (where exprc's own rule is Theano's)."""
    entries = sequences if isinstance(sequences, (list, tuple)) else [sequences]
    if len(entries) < 2:
        return None
    steps = None
    for entry in entries:
        x = entry["input"] if isinstance(entry, Mapping) else entry
        taps = (entry.get("taps", [0]) or [0]) if isinstance(entry, Mapping) else [0]
        if not all(isinstance(t, numbers.Integral) for t in taps):
            return None  # exprc.scan reports the malformed taps
        length = as_tensor_variable(x).shape[0] - (max(taps) - min(taps))
        steps = length if steps is None else minimum(steps, length)
    return steps


def scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None,
         truncate_gradient=-1, go_backwards=False, mode=None, name=None, profile=False,
         allow_gc=None, strict=False, return_list=False):
    """Theano's ``scan`` (see :func:`exprc.scan`), with Theano's rule for sequences of
    different lengths: as many steps as the shortest has."""
    if n_steps is None and sequences is not None:
        n_steps = _steps_of_shortest(sequences)
    return _scan(fn, sequences=sequences, outputs_info=outputs_info,
                 non_sequences=non_sequences, n_steps=n_steps,
                 truncate_gradient=truncate_gradient, go_backwards=go_backwards, mode=mode,
                 name=name, profile=profile, allow_gc=allow_gc, strict=strict,
                 return_list=return_list)


map, reduce, foldl, foldr = loops_on(scan)
