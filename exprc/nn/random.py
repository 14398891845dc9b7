"""The random number generator used by the layer library (Lasagne's ``lasagne.random``).

Initializers draw their samples from :func:`get_rng`, and layers with randomness (dropout)
seed their symbolic random streams from it, so one call to :func:`set_rng` makes a whole
network reproducible:

>>> import numpy as np
>>> from exprc.nn.random import get_rng, set_rng
>>> set_rng(np.random.RandomState(42))
>>> float(get_rng().uniform()) == float(np.random.RandomState(42).uniform())
True
>>> set_rng(np.random)   # back to NumPy's global generator
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["get_rng", "set_rng"]

# NumPy's module-level generator by default, as in Lasagne, so np.random.seed() also works.
_rng: Any = np.random


def get_rng() -> Any:
    """The current generator (a ``numpy.random.RandomState`` or the ``numpy.random`` module)."""
    return _rng


def set_rng(new_rng: Any) -> None:
    """Use ``new_rng`` (e.g. ``numpy.random.RandomState(seed)``) from now on."""
    global _rng
    _rng = new_rng
